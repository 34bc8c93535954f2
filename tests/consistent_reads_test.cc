// Reads under writes, from the outside: a real `ocop serve`, 8 connections
// posting commands while 4 fetch signed reports and statuses. Every report is
// counted and signed at one point of the log (checked by `ocop verify-report`,
// which recomputes it at the size it names), and every status names the one
// checkpoint it was read at (and is what the ledger said at that point).

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
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

namespace {

using nlohmann::json;

// GET or POST over one connection; the status code and the body.
int Http(int port, const std::string& method, const std::string& target, const std::string& token,
         const std::string& body, std::string* out) {
  std::string reply;
  int status = ocop::testing::Exchange(
      port,
      method + " " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body,
      &reply);
  size_t at = reply.find("\r\n\r\n");
  *out = at == std::string::npos ? "" : reply.substr(at + 4);
  return status;
}

std::string Import(const std::string& id, int stars) {
  return R"({"type":"ImportCertificate","effective":"2024-03-01","product":")" + id +
         R"(","subject":"S1","name":"Sản phẩm )" + id + R"(","group":1,"unit":"CM","stars":)" +
         std::to_string(stars) + R"(,"certificate":"CN-)" + id +
         R"(","decision":{"no":"7/QĐ-UBND","date":"2024-03-01","issuer":"CM"},"id":"imp-)" + id +
         "\"}";
}

}  // namespace

TEST_CASE("8 writers and 4 readers: signed reports verify, statuses name one checkpoint") {
  ocop::testing::DataDir dir("consistent");
  const std::string data = dir.path.string();
  constexpr int kWriters = 8, kReaders = 4, kPosts = 25, kReads = 12;
  std::string setup =
      R"({"type":"DefineUnit","effective":"2024-01-02","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"RegisterSubject","effective":"2024-01-02","subject":"S1","name":"HTX","legal_form":"HTX","unit":"CM"}
{"type":"GrantRole","effective":"2024-01-02","principal":"ubnd.cm","role":"authority","unit":"CM"}
)";
  setup += Import("P0", 4) + "\n";
  REQUIRE(ocop::testing::Ocop("consistent", "--data " + data + " submit --atomic", setup).code ==
          0);
  auto token_run = ocop::testing::Ocop("consistent", "--data " + data + " token add ubnd.cm", "");
  REQUIRE(token_run.code == 0);
  const std::string token = token_run.out.substr(0, token_run.out.find_last_not_of("\n") + 1);

  const int port = ocop::testing::FreePort();
  const pid_t server = ocop::testing::StartServer(OCOP_BINARY, data, port);
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);

  std::mutex mu;
  std::vector<std::string> problems, reports;
  std::vector<json> statuses;
  auto problem = [&](const std::string& what) {
    std::lock_guard<std::mutex> l(mu);
    problems.push_back(what);
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 0; n < kPosts; ++n) {
        std::string body;
        const std::string id = "W" + std::to_string(w) + "-" + std::to_string(n);
        int status = Http(port, "POST", "/v1/commands", token, Import(id, 3 + (w + n) % 3), &body);
        if (status != 200) problem("POST " + id + ": " + std::to_string(status) + " " + body);
      }
    });
  }
  for (int reader = 0; reader < kReaders; ++reader) {
    threads.emplace_back([&] {
      uint64_t last_report = 0, last_status = 0;
      for (int n = 0; n < kReads; ++n) {
        std::string body;
        int status = Http(port, "GET", "/v1/reports?period=2024", token, "", &body);
        if (status != 200) {
          problem("report: " + std::to_string(status) + " " + body);
          continue;
        }
        const std::string report_body = body;
        json report = json::parse(body);
        uint64_t size = report["ledger"]["size"].get<uint64_t>();
        // Projections only move forward: a later answer stands on a later point.
        if (size < last_report)
          problem("report at " + std::to_string(size) + " after one at " +
                  std::to_string(last_report));
        last_report = size;
        status = Http(port, "GET", "/v1/products/P0?as_of=2024-06-01", token, "", &body);
        json st = status == 200 ? json::parse(body) : json();
        if (status != 200 || !st.contains("checkpoint") || !st["checkpoint"].is_number_unsigned()) {
          problem("status without a checkpoint: " + std::to_string(status) + " " + body);
          continue;
        }
        uint64_t checkpoint = st["checkpoint"].get<uint64_t>();
        if (checkpoint < last_status)
          problem("status at " + std::to_string(checkpoint) + " after one at " +
                  std::to_string(last_status));
        last_status = checkpoint;
        std::lock_guard<std::mutex> l(mu);
        reports.push_back(report_body);
        statuses.push_back(st);
      }
    });
  }
  for (auto& t : threads) t.join();
  kill(server, SIGTERM);
  int wstatus = 0;
  waitpid(server, &wstatus, 0);
  guard.release();
  for (const std::string& p : problems) FAIL_CHECK(p);
  REQUIRE(reports.size() == static_cast<size_t>(kReaders * kReads));

  // Every signed report is the report of the log at the size it names.
  std::set<uint64_t> sizes;
  for (size_t i = 0; i < reports.size(); ++i) {
    const std::string file = dir.File("report-" + std::to_string(i) + ".json");
    std::ofstream(file) << reports[i] << "\n";
    auto v = ocop::testing::Ocop("consistent", "--data " + data + " verify-report " + file, "");
    INFO(reports[i] << "\n-> " << v.out);
    CHECK(v.code == 0);
    sizes.insert(json::parse(reports[i])["ledger"]["size"].get<uint64_t>());
  }
  // Reads went on while the log grew: reports of several points were checked.
  CHECK(sizes.size() > 1);

  // Every status is the status the ledger gave at the checkpoint it names.
  for (const json& st : statuses) {
    const uint64_t checkpoint = st["checkpoint"].get<uint64_t>();
    auto then = ocop::testing::Ocop(
        "consistent",
        "--data " + data + " status P0 --as-of 2024-06-01 --known-at " + std::to_string(checkpoint),
        "");
    REQUIRE(then.code == 0);
    json expected = json::parse(then.out), got = st;
    for (json* j : {&expected, &got}) {
      j->erase("checkpoint");
      j->erase("known_at");
    }
    CHECK(got == expected);
  }
}
