// `ocop follow`: a read-only replica of a primary over HTTP, as a province's
// ledger is mirrored for the national level. Runs the real binary: a primary
// `ocop serve` on loopback, a replica following it with --once.
//  * The replica's events are the primary's bytes: same tree head, verify ok.
//  * Following again picks up only what is new, and --once returns promptly.
//  * A primary that answers with another signing key (history rewritten, or
//    another ledger behind the same address) is refused loudly, exit 1, and
//    the replica keeps what it had verified.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "cli_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ocop::testing::Run;

namespace {

Run Ocop(const std::string& args, const std::string& input = "") {
  return ocop::testing::Ocop("follow", args, input);
}

// `ocop serve` on `port` until destroyed (SIGTERM, then reaped).
struct Server {
  pid_t pid = -1;
  Server(const std::string& data, int port) {
    pid = fork();
    if (pid == 0) {
      std::string listen = "127.0.0.1:" + std::to_string(port);
      execl(OCOP_BINARY, OCOP_BINARY, "--data", data.c_str(), "serve", "--listen", listen.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // Ready when a request is answered.
    std::string probe =
        "curl -s -o /dev/null http://127.0.0.1:" + std::to_string(port) + "/healthz";
    for (int i = 0; i < 200 && std::system(probe.c_str()) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Server() {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
};

std::string Token(const std::string& data, const std::string& principal) {
  Run r = Ocop("--data " + data + " token add " + principal);
  REQUIRE(r.code == 0);
  std::string t = r.out;
  t.erase(t.find_last_not_of("\n") + 1);
  return t;
}

const char* kEvents =
    R"({"type":"DefineUnit","effective":"2022-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"RegisterSubject","effective":"2022-03-01","subject":"S1","name":"HTX","legal_form":"HTX","unit":"CM"}
{"type":"RegisterIdea","effective":"2022-03-02","product":"P1","subject":"S1","name":"Mật ong","group":1,"unit":"CM","cycle_year":2022}
)";

}  // namespace

TEST_CASE("a replica follows the primary byte for byte and refuses a primary with another key") {
  ocop::testing::DataDir primary("follow-primary"), replica("follow-replica"),
      impostor("follow-impostor");
  REQUIRE(Ocop(primary.flag() + " submit", kEvents).code == 0);
  std::string token = Token(primary.path.string(), "national.mirror");
  const int port = ocop::testing::FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);

  {
    Server s(primary.path.string(), port);
    auto start = std::chrono::steady_clock::now();
    Run f = Ocop(replica.flag() + " follow " + url + " --once --token " + token);
    REQUIRE(f.code == 0);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(8));  // no idle wait
  }
  json head = json::parse(Ocop(primary.flag() + " tree-head").out);
  json mirrored = json::parse(Ocop(replica.flag() + " tree-head").out);
  CHECK(head["size"] == 4);  // the schema (event 1) and three
  CHECK(mirrored["root"] == head["root"]);
  CHECK(mirrored["size"] == head["size"]);
  CHECK(Ocop(replica.flag() + " verify").code == 0);
  CHECK(json::parse(Ocop(replica.flag() + " status P1").out)["name"] == "Mật ong");

  // New events on the primary: the replica takes only those.
  REQUIRE(
      Ocop(primary.flag() + " submit",
           R"({"type":"ReviewIdea","effective":"2022-03-10","product":"P1","outcome":"selected"})")
          .code == 0);
  {
    Server s(primary.path.string(), port);
    REQUIRE(Ocop(replica.flag() + " follow " + url + " --once --token " + token).code == 0);
  }
  CHECK(json::parse(Ocop(replica.flag() + " tree-head").out)["root"] ==
        json::parse(Ocop(primary.flag() + " tree-head").out)["root"]);

  // Another ledger at the same address: the same kind of events, but signed
  // with another key. The replica stops, names why, and keeps its 4 events.
  REQUIRE(Ocop(impostor.flag() + " submit", kEvents).code == 0);
  REQUIRE(
      Ocop(
          impostor.flag() + " submit",
          R"({"type":"ReviewIdea","effective":"2022-03-10","product":"P1","outcome":"rejected","reason":"x"})")
          .code == 0);
  REQUIRE(
      Ocop(
          impostor.flag() + " submit",
          R"({"type":"RegisterIdea","effective":"2022-04-01","product":"P2","subject":"S1","name":"Khô cá","group":1,"unit":"CM","cycle_year":2022})")
          .code == 0);
  std::string impostor_token = Token(impostor.path.string(), "national.mirror");
  {
    Server s(impostor.path.string(), port);
    Run f = Ocop(replica.flag() + " follow " + url + " --once --token " + impostor_token);
    CHECK(f.code == 1);
  }
  CHECK(json::parse(Ocop(replica.flag() + " tree-head").out)["size"] == 5);
  CHECK(Ocop(replica.flag() + " verify").code == 0);
}
