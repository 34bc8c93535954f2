// Reads while serving (issue 17, item 1): with a real `ocop serve` (the demo)
// holding the data directory, every read subcommand answers, and answers
// what it answers once the server has stopped; writes the server takes are
// seen by the next read; what would drop the server's projections is refused.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "http_support.h"

using nlohmann::json;
using ocop::testing::Run;

namespace {

Run Ocop(const std::string& args) { return ocop::testing::Ocop("serving-reads", args, ""); }

// `ocop demo` (the sample data loaded, then served) on `port`.
pid_t StartDemo(const std::string& data, int port) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string listen = "127.0.0.1:" + std::to_string(port);
    execl(OCOP_BINARY, OCOP_BINARY, "--data", data.c_str(), "demo", "--listen", listen.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 600; ++i) {  // loading the demo takes a few seconds
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::string reply;
    if (ocop::testing::Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &reply) == 200)
      return pid;
  }
  return -1;
}

std::string Post(int port, const std::string& token, const std::string& body) {
  std::string reply;
  int code = ocop::testing::Exchange(
      port,
      "POST /v1/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body,
      &reply);
  INFO(reply);
  REQUIRE(code == 200);
  return reply;
}

}  // namespace

TEST_CASE("every read answers while ocop serve holds the directory, as it does without it") {
  ocop::testing::DataDir d("serving-reads");
  const std::string data = d.flag();
  const int port = ocop::testing::FreePort();
  pid_t server = StartDemo(d.path.string(), port);
  REQUIRE(server > 0);
  ocop::testing::ChildGuard guard(server);

  // The directory is held: a primary open would be refused.
  Run head = Ocop(data + " tree-head");
  REQUIRE(head.code == 0);
  const uint64_t n = json::parse(head.out)["size"].get<uint64_t>();
  REQUIRE(n > 1000);
  Run due = Ocop(data + " deadlines --as-of 2026-01-01 --within-days 3650");
  REQUIRE(due.code == 0);
  const std::string product = json::parse(due.out)["rows"][0]["product"].get<std::string>();
  const std::string size = std::to_string(n);

  const std::vector<std::string> reads = {
      "status " + product,
      "status " + product + " --as-of 2023-06-30",
      "status " + product + " --known-at " + size,
      "history " + product + " --proofs",
      "deadlines --as-of 2026-01-01 --within-days 365",
      "report --period 2024",
      "report --period 2024-H1 --format csv",
      "report --period 2023 --known-at " + size,
      "changes --from 2024-01-01 --to 2024-12-31",
      "tree-head --size " + size,
      "checkpoint --size " + size,
      "proof --seq 7 --size " + size,
      "consistency --from 5 --to " + size,
      "public-key --vkey",
  };
  CHECK(Ocop(data + " verify").code == 0);
  std::vector<Run> serving;
  for (const auto& r : reads) {
    serving.push_back(Ocop(data + " " + r));
    INFO(r);
    REQUIRE(serving.back().code == 0);
    REQUIRE(!serving.back().out.empty());
  }

  kill(server, SIGTERM);
  int status = 0;
  REQUIRE(waitpid(server, &status, 0) == server);
  guard.release();

  for (size_t i = 0; i < reads.size(); ++i) {
    INFO(reads[i]);
    Run alone = Ocop(data + " " + reads[i]);
    REQUIRE(alone.code == 0);
    CHECK(alone.out == serving[i].out);
  }

  // Served again: a write the server takes is seen by the next read.
  server = StartDemo(d.path.string(), port);
  REQUIRE(server > 0);
  ocop::testing::ChildGuard again(server);
  std::string token = Ocop(data + " token add vpdp.camau").out;
  token.erase(token.find_last_not_of('\n') + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the server rereads its tokens
  Post(port, token,
       R"([{"type":"RegisterSubject","effective":"2026-06-01","subject":"SNEW","name":"HTX Mới",)"
       R"("legal_form":"HTX","unit":"CM"},{"type":"RegisterIdea","effective":"2026-06-02",)"
       R"("product":"NEW1","subject":"SNEW","name":"Mật ong U Minh","group":1,"unit":"CM",)"
       R"("cycle_year":2026}])");
  Run fresh = Ocop(data + " status NEW1");
  REQUIRE(fresh.code == 0);
  CHECK(json::parse(fresh.out)["stage"] == "idea_registered");
  CHECK(json::parse(Ocop(data + " tree-head").out)["size"] == n + 2);

  // One command (the committer's path, its reply written without a JSON
  // object): the same bytes as before, and the same again, marked a
  // duplicate, for the same id, with nothing appended.
  const std::string one =
      R"({"type":"ReviewIdea","effective":"2026-06-03","id":"review-new1","product":"NEW1",)"
      R"("outcome":"selected"})";
  const std::string first = Post(port, token, one);
  CHECK(first.substr(first.find("\r\n\r\n") + 4) ==
        R"({"ok":true,"seqs":[)" + std::to_string(n + 3) + "]}\n");
  const std::string again_reply = Post(port, token, one);
  CHECK(again_reply.substr(again_reply.find("\r\n\r\n") + 4) ==
        R"({"ok":true,"seqs":[)" + std::to_string(n + 3) + R"(],"duplicate":true})" + "\n");
  CHECK(json::parse(Ocop(data + " tree-head").out)["size"] == n + 3);
  fresh = Ocop(data + " status NEW1");
  REQUIRE(fresh.code == 0);
  CHECK(Ocop(data + " verify").code == 0);

  // Dropping the projections the server folds into is refused.
  CHECK(Ocop(data + " rebuild").code != 0);

  kill(server, SIGTERM);
  REQUIRE(waitpid(server, &status, 0) == server);
  again.release();
  CHECK(Ocop(data + " status NEW1").out == fresh.out);
}
