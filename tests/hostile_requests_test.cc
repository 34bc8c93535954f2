// Hostile requests against a running `ocop serve`, byte for byte over a
// socket: the handcrafted ones in tests/hostile/ and every input the fuzzers
// kept in fuzz/corpus/http/. Each must get an answer (or a closed connection)
// without crashing the server or changing the ledger, and malformed or
// unauthorised ones must never be answered 2xx.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "http_support.h"

namespace fs = std::filesystem;

namespace {

using ocop::testing::Connect;

int Exchange(int port, const std::string& bytes, std::string* reply) {
  int status = ocop::testing::Exchange(port, bytes, reply);
  REQUIRE(status >= 0);
  return status;
}

std::string Get(int port, const std::string& path) {
  std::string reply;
  Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &reply);
  size_t body = reply.find("\r\n\r\n");
  return body == std::string::npos ? "" : reply.substr(body + 4);
}

uint64_t Events(int port) {
  auto j = nlohmann::json::parse(Get(port, "/healthz"), nullptr, false);
  REQUIRE(j.is_object());
  return j["events"].get<uint64_t>();
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("hostile and fuzzed requests neither crash the server nor change the ledger") {
  fs::path dir = fs::temp_directory_path() / ("ocop-hostile-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string data = (dir / "data").string();

  // A ledger with one product, so reads have something to find.
  std::string setup =
      std::string(OCOP_BINARY) + " --data " + data + " submit > /dev/null <<'EOF'\n" +
      R"({"type":"DefineUnit","effective":"2022-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"RegisterSubject","effective":"2022-03-01","subject":"S1","name":"HTX","legal_form":"HTX","unit":"CM"}
{"type":"RegisterIdea","effective":"2022-03-02","product":"P1","subject":"S1","name":"Mật ong","group":1,"unit":"CM","cycle_year":2022}
EOF)";
  REQUIRE(std::system(setup.c_str()) == 0);
  // Tokens: a real one for an admin, and the fuzzers' "fuzz" for a principal without roles.
  std::string token_cmd = std::string(OCOP_BINARY) + " --data " + data + " token add admin.cm > " +
                          (dir / "token").string();
  REQUIRE(std::system(token_cmd.c_str()) == 0);
  std::string token = ReadFile(dir / "token");
  token.erase(token.find_last_not_of("\n") + 1);
  std::ofstream(fs::path(data) / "tokens", std::ios::app)
      << "fuzzer 93850b707585e404e4951a3ddc1f05a34b3d4f5fc081d616f46d8a2e8f1c8e68\n";

  int port = ocop::testing::FreePort();
  const pid_t server = ocop::testing::StartServer(OCOP_BINARY, data, port);
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);
  const uint64_t before = Events(port);
  REQUIRE(before == 4);  // the schema (event 1) and the three above

  size_t replayed = 0;
  for (const char* corpus : {HOSTILE_DIR, FUZZ_HTTP_DIR}) {
    if (!fs::exists(corpus)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(corpus)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string bytes = ReadFile(f);
      for (size_t at; (at = bytes.find("TOKEN")) != std::string::npos;) bytes.replace(at, 5, token);
      std::string reply;
      int status = Exchange(port, bytes, &reply);
      INFO(f.filename().string() << " -> " << reply.substr(0, 200));
      if (std::string(corpus) == HOSTILE_DIR) {
        // Handcrafted hostility: an error, or no answer at all; never success.
        CHECK((status == 0 || status >= 400));
      }
      // Whatever came, the server is alive and the ledger unchanged.
      REQUIRE(Events(port) == before);
      ++replayed;
    }
  }
  CHECK(replayed >= 20);

  // A request that is fine still works afterwards.
  std::string reply;
  int ok = Exchange(port,
                    "GET /v1/products/P1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                        "\r\nConnection: close\r\n\r\n",
                    &reply);
  CHECK(ok == 200);
  CHECK(reply.find("Mật ong") != std::string::npos);

  // A token added while the server runs works at once; removing its line
  // withdraws it, also without a restart.
  auto get_as = [&](const std::string& t) {
    std::string r;
    return Exchange(port,
                    "GET /v1/products/P1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t +
                        "\r\nConnection: close\r\n\r\n",
                    &r);
  };
  std::string add = std::string(OCOP_BINARY) + " --data " + data + " token add kiem.toan > " +
                    (dir / "token2").string();
  REQUIRE(std::system(add.c_str()) == 0);
  std::string token2 = ReadFile(dir / "token2");
  token2.erase(token2.find_last_not_of("\n") + 1);
  CHECK(get_as(token2) == 200);
  std::string kept;
  {
    std::istringstream lines(ReadFile(fs::path(data) / "tokens"));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("kiem.toan ", 0) != 0) kept += line + "\n";
    }
  }
  std::ofstream(fs::path(data) / "tokens", std::ios::trunc) << kept;
  CHECK(get_as(token2) == 401);
  CHECK(get_as(token) == 200);

  // Long polls spelt with escapes (/%761/events is /v1/events, w%61it is
  // wait), more of them than the server has I/O threads, leave liveness
  // answered at once: a request is routed on its decoded path everywhere.
  std::vector<int> polls;
  for (int i = 0; i < 4; ++i) {
    int fd = Connect(port);
    REQUIRE(fd >= 0);
    std::string poll =
        "GET /%761/events?from=999999&w%61it=8 HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer " +
        token + "\r\n\r\n";
    REQUIRE(send(fd, poll.data(), poll.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(poll.size()));
    polls.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the polls are read and waiting
  auto asked = std::chrono::steady_clock::now();
  CHECK(Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &reply) ==
        200);
  CHECK(std::chrono::steady_clock::now() - asked < std::chrono::seconds(3));
  for (int fd : polls) close(fd);

  kill(server, SIGTERM);
  int status = 0;
  waitpid(server, &status, 0);
  guard.release();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // SIGTERM drains and exits 0
  fs::remove_all(dir);
}
