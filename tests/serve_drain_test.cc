// SIGTERM while connections post commands: `ocop serve` answers every command
// it has read, appends nothing it has not answered, and exits 0. Checked from
// the outside: the commands answered 200 are exactly the events the ledger
// gained.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "http_support.h"

namespace fs = std::filesystem;

namespace {

// Events in the ledger at `data`, read by the CLI once the server is gone.
uint64_t LedgerSize(const std::string& data) {
  auto r = ocop::testing::Ocop("drain", "--data " + data + " tree-head", "");
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out)["size"].get<uint64_t>();
}

}  // namespace

TEST_CASE("SIGTERM while 16 connections post: every command read is answered, then exit 0") {
  ocop::testing::DataDir dir("drain");
  const std::string data = dir.path.string();
  constexpr int kWriters = 16;
  std::string setup =
      R"({"type":"DefineUnit","effective":"2024-01-02","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"RegisterSubject","effective":"2024-01-02","subject":"S1","name":"HTX","legal_form":"HTX","unit":"CM"}
{"type":"GrantRole","effective":"2024-01-02","principal":"kiem.tra","role":"inspector","unit":"CM"}
)";
  for (int i = 0; i < kWriters; ++i) {
    std::string id = "P";  // (not "P" + to_string: GCC 12 warns of a false overlap)
    id += std::to_string(i);
    setup += R"({"type":"ImportCertificate","effective":"2024-01-10","product":")" + id +
             R"(","subject":"S1","name":"Sản phẩm )" + id +
             R"(","group":1,"unit":"CM","stars":3,"certificate":"CN-)" + id +
             R"(","decision":{"no":"1/QĐ-UBND","date":"2024-01-10","issuer":"CM"}})" + "\n";
  }
  REQUIRE(ocop::testing::Ocop("drain", "--data " + data + " submit --atomic", setup).code == 0);
  auto token_run = ocop::testing::Ocop("drain", "--data " + data + " token add kiem.tra", "");
  REQUIRE(token_run.code == 0);
  std::string token = token_run.out.substr(0, token_run.out.find_last_not_of("\n") + 1);
  const uint64_t before = LedgerSize(data);

  const int port = ocop::testing::FreePort();
  const pid_t server = ocop::testing::StartServer(OCOP_BINARY, data, port);
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);

  // Each writer posts inspections of its own product, one connection per
  // request, until the server no longer takes connections.
  std::atomic<int> answered{0}, finished{0};
  std::mutex mu;
  std::vector<uint64_t> seqs;
  std::vector<std::string> unexpected;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      struct Done {
        std::atomic<int>& n;
        ~Done() { ++n; }
      } done{finished};
      for (int n = 0;; ++n) {
        std::string body = R"({"type":"RecordInspection","effective":"2024-06-12","product":"P)" +
                           std::to_string(w) + R"(","compliant":true,"id":"drain-)" +
                           std::to_string(w) + "-" + std::to_string(n) + "\"}";
        std::string reply;
        int status = ocop::testing::Exchange(
            port,
            "POST /v1/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                "\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body,
            &reply);
        // Refused, closed unread, or turned away with 503 while stopping:
        // not taken, and so (checked below) not appended.
        if (status <= 0 || status == 503) return;
        std::lock_guard<std::mutex> l(mu);
        if (status != 200) {
          unexpected.push_back(reply);
          return;
        }
        auto j = nlohmann::json::parse(reply.substr(reply.find("\r\n\r\n") + 4));
        for (const auto& s : j["seqs"]) seqs.push_back(s.get<uint64_t>());
        ++answered;
      }
    });
  }
  // Until 200 are answered, or every writer has stopped (the server died or
  // refused them: reported below), or a minute has passed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (answered < 200 && finished < kWriters && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(server, SIGTERM);
  for (auto& t : writers) t.join();
  int status = 0;
  waitpid(server, &status, 0);
  guard.release();
  CHECK(answered >= 200);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (const std::string& reply : unexpected) FAIL_CHECK("answered other than 200:\n" << reply);

  // Exactly the answered commands were appended, each once.
  const uint64_t after = LedgerSize(data);
  std::set<uint64_t> distinct(seqs.begin(), seqs.end());
  CHECK(distinct.size() == seqs.size());
  CHECK(after - before == seqs.size());
  CHECK(*distinct.begin() == before + 1);
  CHECK(*distinct.rbegin() == after);
  for (uint64_t q = before + 1; q <= after; ++q) {
    if (!distinct.count(q)) FAIL_CHECK("event " << q << " was appended but never answered");
  }
}
