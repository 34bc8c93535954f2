// Reads under writes, from the outside: a real `ocop serve`, 8 connections
// posting commands while 4 fetch signed reports and statuses. Every report is
// counted and signed at one point of the log (checked by `ocop verify-report`,
// which recomputes it at the size it names), and every status names the one
// checkpoint it was read at (and is what the ledger said at that point).

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
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

// A data directory with a province, a producer, a principal who may import
// and record (ubnd.cm, with `token`), product P0, and `ocop serve` on `port`.
struct Served {
  ocop::testing::DataDir dir{"consistent"};
  std::string data = dir.path.string();
  std::string token;
  int port = 0;
  pid_t server = -1;

  Served() {
    std::string setup =
        R"({"type":"DefineUnit","effective":"2024-01-02","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"RegisterSubject","effective":"2024-01-02","subject":"S1","name":"HTX","legal_form":"HTX","unit":"CM"}
{"type":"GrantRole","effective":"2024-01-02","principal":"ubnd.cm","role":"authority","unit":"CM"}
{"type":"GrantRole","effective":"2024-01-02","principal":"ubnd.cm","role":"officer","unit":"CM"}
)";
    setup += Import("P0", 4) + "\n";
    REQUIRE(Ocop("--data " + data + " submit --atomic", setup).code == 0);
    auto token_run = Ocop("--data " + data + " token add ubnd.cm");
    REQUIRE(token_run.code == 0);
    token = token_run.out.substr(0, token_run.out.find_last_not_of("\n") + 1);
    port = ocop::testing::FreePort();
    server = ocop::testing::StartServer(OCOP_BINARY, data, port);
  }
  static ocop::testing::Run Ocop(const std::string& args, const std::string& input = "") {
    return ocop::testing::Ocop("consistent", args, input);
  }
  // Stops the server (SIGTERM: it drains) and waits for it.
  void Stop() {
    kill(server, SIGTERM);
    int wstatus = 0;
    waitpid(server, &wstatus, 0);
    server = -1;
  }
};

}  // namespace

TEST_CASE("8 writers and 4 readers: signed reports verify, statuses name one checkpoint") {
  Served served;
  const std::string& data = served.data;
  const std::string& token = served.token;
  const int port = served.port;
  constexpr int kWriters = 8, kReaders = 4, kPosts = 25, kReads = 12;
  ocop::testing::ChildGuard guard(served.server);
  REQUIRE(served.server > 0);

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
  served.Stop();
  guard.release();
  for (const std::string& p : problems) FAIL_CHECK(p);
  REQUIRE(reports.size() == static_cast<size_t>(kReaders * kReads));

  // Every signed report is the report of the log at the size it names.
  std::set<uint64_t> sizes;
  for (size_t i = 0; i < reports.size(); ++i) {
    const std::string file = served.dir.File("report-" + std::to_string(i) + ".json");
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

namespace {

// A signed answer fetched under writes, and how to get it again from the
// command line at the size it names.
struct Signed {
  std::string kind;   // one key per kind of answer
  std::string query;  // GET /v1/reports?QUERY
  std::string args;   // `ocop report ARGS --known-at N`
  std::string format;
};

const std::vector<Signed> kReports = {
    {"report", "period=2024", "--period 2024", "json"},
    {"report-csv", "period=2024&format=csv&lang=en", "--period 2024 --format csv --lang en", "csv"},
    {"report-md", "period=2024&format=md", "--period 2024 --format md", "md"},
    {"report-xlsx", "period=2024&format=xlsx", "--period 2024 --format xlsx", "xlsx"},
    {"cohort", "cohort=2024&as_of=2024-06-01", "--cohort 2024 --as-of 2024-06-01", "json"},
    {"annex-recognised", "period=2024&list=recognised", "--period 2024 --list recognised", "json"},
    {"annex-revoked", "period=2024&list=revoked", "--period 2024 --list revoked", "json"},
    {"annex-active", "period=2024&list=active", "--period 2024 --list active", "json"},
    {"annex-expiring", "period=2024&list=expiring", "--period 2024 --list expiring", "json"},
    // The annex's md and xlsx name the head's size and root (its csv is a
    // bare table, for import elsewhere, and names none).
    {"annex-md", "period=2024&list=recognised&format=md",
     "--period 2024 --list recognised --format md", "md"},
};

// Every run of exactly 64 lowercase hexadecimal digits in `text`.
std::vector<std::string> Hashes(const std::string& text) {
  std::vector<std::string> out;
  size_t run = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const bool hex = i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])) &&
                     !std::isupper(static_cast<unsigned char>(text[i]));
    if (hex) {
      ++run;
      continue;
    }
    if (run == 64) out.push_back(text.substr(i - 64, 64));
    run = 0;
  }
  return out;
}

// The sheets and strings of a workbook (what it says, without the times
// libxlsxwriter stamps it with).
std::string WorkbookText(const std::string& file) {
  return ocop::testing::Shell("unzip -p " + file + " 'xl/worksheets/*.xml' xl/sharedStrings.xml")
      .out;
}

}  // namespace

TEST_CASE("posting while every signed report, annex, bundle, receipt and checkpoint is read") {
  Served served;
  ocop::testing::ChildGuard guard(served.server);
  REQUIRE(served.server > 0);
  const int port = served.port;
  const std::string& token = served.token;
  constexpr int kWriters = 4, kReaders = 3, kRounds = 3, kMaxPosts = 150;

  std::mutex mu;
  std::vector<std::string> problems;
  // (kind, body) in the order fetched.
  std::vector<std::pair<std::string, std::string>> fetched;
  auto problem = [&](const std::string& what) {
    std::lock_guard<std::mutex> l(mu);
    problems.push_back(what);
  };
  std::atomic<int> readers_left{kReaders};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    // Until the readers are done: new products, promotions of P0 (whose
    // bundle and receipt are read meanwhile) and revocations.
    threads.emplace_back([&, w] {
      for (int n = 0; readers_left > 0 && n < kMaxPosts; ++n) {
        const std::string id = "W" + std::to_string(w) + "-" + std::to_string(n);
        std::string command;
        if (n % 3 == 0) {
          command = Import(id, 3 + (w + n) % 3);
        } else if (n % 3 == 1) {
          command = R"({"type":"RecordPromotion","effective":"2024-04-0)" +
                    std::to_string(1 + n % 9) + R"(","product":"P0","channel":"hội chợ )" + id +
                    "\"}";
        } else {
          command = R"({"type":"RevokeRating","effective":"2024-05-02","decision":{"no":"R-)" + id +
                    R"(","date":"2024-05-02","issuer":"CM"},"items":[{"product":"W)" +
                    std::to_string(w) + "-" + std::to_string(n - 2) +
                    R"(","reason":"violation"}]})";
        }
        std::string body;
        int status = Http(port, "POST", "/v1/commands", token, command, &body);
        if (status != 200) problem("POST " + command + ": " + std::to_string(status) + " " + body);
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      for (int round = 0; round < kRounds; ++round) {
        std::vector<std::pair<std::string, std::string>> targets;
        for (const Signed& s : kReports) targets.push_back({s.kind, "/v1/reports?" + s.query});
        targets.push_back({"bundle", "/v1/products/P0/bundle"});
        targets.push_back({"receipt", "/v1/products/P0/receipt"});
        targets.push_back({"checkpoint", "/checkpoint"});
        for (const auto& [kind, target] : targets) {
          std::string body;
          int status = Http(port, "GET", target, token, "", &body);
          if (status != 200) {
            problem("GET " + target + ": " + std::to_string(status) + " " + body);
            continue;
          }
          std::lock_guard<std::mutex> l(mu);
          fetched.push_back({kind, body});
        }
      }
      --readers_left;
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& p : problems) FAIL_CHECK(p);

  // Every root of the log, by size, while the server is up (the tree heads
  // of sizes already passed).
  std::string body;
  REQUIRE(Http(port, "GET", "/healthz", token, "", &body) == 200);
  const uint64_t log_size = json::parse(body)["events"].get<uint64_t>();
  std::map<std::string, uint64_t> size_of_root;
  for (uint64_t n = 1; n <= log_size; ++n) {
    REQUIRE(Http(port, "GET", "/v1/tree-head?size=" + std::to_string(n), token, "", &body) == 200);
    size_of_root[json::parse(body)["root"].get<std::string>()] = n;
  }
  served.Stop();
  guard.release();
  REQUIRE(fetched.size() > 0);

  const std::string flag = "--data " + served.data;
  const std::string vkey = Served::Ocop(flag + " public-key --vkey").out;
  // The size a rendered report names: its head's root, looked up.
  auto named_size = [&](const std::string& text) -> uint64_t {
    for (const std::string& h : Hashes(text)) {
      auto it = size_of_root.find(h);
      if (it != size_of_root.end()) return it->second;
    }
    return 0;
  };
  std::map<std::pair<std::string, uint64_t>, std::string> checked;  // (kind, size) -> body
  std::set<uint64_t> sizes;
  int n = 0;
  for (const auto& [kind, got] : fetched) {
    const std::string file = served.dir.File("answer-" + std::to_string(++n));
    std::ofstream(file, std::ios::binary) << got;
    const bool xlsx = kind == "report-xlsx";
    const std::string text = xlsx ? WorkbookText(file) : got;
    // The size it names: a note's second line, a JSON answer's head, a
    // rendered report's root (looked up).
    auto note_size = [](const std::string& note) -> uint64_t {
      const size_t a = note.find('\n') + 1;
      return std::stoull(note.substr(a, note.find('\n', a) - a));
    };
    uint64_t size = 0;
    if (kind == "checkpoint") {
      size = note_size(got);
    } else if (kind == "receipt") {
      size = note_size(json::parse(got)["checkpoint"].get<std::string>());
    } else if (kind == "bundle") {
      size = json::parse(got)["tree_head"]["size"].get<uint64_t>();
    } else if (got.starts_with("{")) {
      size = json::parse(got)["ledger"]["size"].get<uint64_t>();
    } else {
      size = named_size(text);
    }
    INFO(kind << " at " << size << ":\n" << got.substr(0, 2000));
    // Each names a size of this log, no larger than it.
    REQUIRE(size > 0);
    CHECK(size <= log_size);
    sizes.insert(size);
    // Answers of one kind at one size are one answer.
    auto [it, fresh] = checked.insert({{kind, size}, text});
    if (!fresh) {
      CHECK(it->second == text);
      continue;
    }
    ocop::testing::Run v;
    if (kind == "bundle") {
      v = Served::Ocop("verify-bundle " + file);
    } else if (kind == "receipt") {
      v = Served::Ocop("verify-receipt " + file + " --vkey " + vkey);
    } else if (kind == "checkpoint") {
      // Signed again at that size: the same note, byte for byte (Ed25519
      // signatures are deterministic), stream-heads line included.
      v = Served::Ocop(flag + " checkpoint --size " + std::to_string(size));
      CHECK(v.out == got);
    } else {
      const Signed& s = *std::find_if(kReports.begin(), kReports.end(),
                                      [&](const Signed& r) { return r.kind == kind; });
      if (s.format == "json") {
        v = Served::Ocop(flag + " verify-report " + file);
      } else {
        // The same report as the ledger knew it at that size, and so signed
        // at it: the same bytes (the same sheets for a workbook).
        const std::string again = file + "-again";
        v = Served::Ocop(flag + " report " + s.args + " --known-at " + std::to_string(size) +
                         " --out " + again);
        std::ifstream f(again, std::ios::binary);
        std::string mine((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        CHECK((xlsx ? WorkbookText(again) : mine) == text);
      }
    }
    INFO(v.out);
    CHECK(v.code == 0);
  }
  // Reads went on while the log grew.
  CHECK(sizes.size() > 1);
  // And the data directory as the server left it verifies, the stream-heads
  // map and the latest checkpoint included.
  auto verified = Served::Ocop(flag + " verify");
  INFO(verified.out);
  CHECK(verified.code == 0);
}
