// Issue 15, item 7: `ocop notices`, `ocop reports-due`, and the server
// delivering notices to a webhook (a receiver in this test on loopback that
// fails at first): retried with back-off, each delivered once, recorded, and
// not sent again after a restart. Runs the real build/bin/ocop.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "camau_cli.h"
#include "cli_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ocop::testing::Run;

namespace {

Run Ocop(const std::string& args, const std::string& input = "") {
  return ocop::testing::Ocop("notices", args, input);
}

// Cà Mau (CM), U Minh (UM), Khánh An (KA), producers S1 and S2 (camau_cli.h):
//   P1 S1 KA 4★ from 2021-03-01, last valid day 2024-03-01
//   P2 S2 UM 3★ from 2021-03-01, last valid day 2024-03-01; re-recognised 4★ 2024-02-10
//   P3 S2 UM 3★ from 2021-04-15, last valid day 2024-04-15
// Notices of P1: 90 days 2023-12-02, 30 days 2024-01-31, 7 days 2024-02-23,
// lapse 2024-03-02. P2 had those of 2023-12-02 and 2024-01-31 before its
// renewal; none after. P3: 90 days 2024-01-16, 30 days 2024-03-16.
const char* kCommands = R"(
{"type":"ConstituteCouncil","effective":"2019-02-01","council":"HD-CM","level":"province","unit":"CM","decision":{"no":"1/QĐ-UBND","date":"2019-02-01","issuer":"CM"}}
{"type":"ImportCertificate","effective":"2021-03-01","product":"P1","subject":"S1","name":"Mật ong rừng U Minh","group":1,"unit":"KA","stars":4,"certificate":"GCN-01","decision":{"no":"312/QĐ-UBND","date":"2021-03-01","issuer":"CM"}}
{"type":"ImportCertificate","effective":"2021-03-01","product":"P2","subject":"S2","name":"Túi xách bồn bồn","group":4,"group_list":"QD919","unit":"UM","stars":3,"certificate":"GCN-02","decision":{"no":"312/QĐ-UBND","date":"2021-03-01","issuer":"CM"}}
{"type":"ImportCertificate","effective":"2021-04-15","product":"P3","subject":"S2","name":"Mắm tôm chà","group":1,"unit":"UM","stars":3,"certificate":"GCN-03","decision":{"no":"401/QĐ-UBND","date":"2021-04-15","issuer":"CM"}}
{"type":"SubmitDossier","effective":"2024-01-05","product":"P2","cycle_year":2024,"entry":"renewal"}
{"type":"RecordScore","effective":"2024-01-20","product":"P2","council":"HD-CM","parts":{"A":30,"B":20,"C":25}}
{"type":"ApproveResults","effective":"2024-02-10","decision":{"no":"150/QĐ-UBND","date":"2024-02-10","issuer":"CM"},"level":"province","items":[{"product":"P2","stars":4,"certificate":"GCN-02B"}]}
)";

struct Data : ocop::testing::CaMauData {
  Data() : CaMauData("notices", kCommands) {}
};

using ocop::testing::AnnexProducts;

std::vector<std::string> Ids(const json& j) {
  std::vector<std::string> out;
  for (const auto& n : j["notices"]) out.push_back(n["id"]);
  return out;
}

// A webhook receiver on loopback: answers 503 to the first `failures`
// requests, then 200; keeps the Idempotency-Key and body of each.
class Receiver {
 public:
  explicit Receiver(int failures) : failures_(failures) {
    port_ = ocop::testing::FreePort();
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  // (status answered, idempotency key, body)
  struct Hit {
    int status;
    std::string key, body;
  };
  std::vector<Hit> hits() {
    std::lock_guard<std::mutex> l(mu_);
    return hits_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      size_t need = std::string::npos;
      while (need == std::string::npos || req.size() < need) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        size_t end = req.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          size_t cl = req.find("Content-Length: ");
          size_t len = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
          need = end + 4 + len;
        }
      }
      Hit h;
      size_t k = req.find("Idempotency-Key: ");
      if (k != std::string::npos) h.key = req.substr(k + 17, req.find("\r\n", k) - k - 17);
      size_t end = req.find("\r\n\r\n");
      if (end != std::string::npos) h.body = req.substr(end + 4);
      {
        std::lock_guard<std::mutex> l(mu_);
        h.status = static_cast<int>(hits_.size()) < failures_ ? 503 : 200;
        hits_.push_back(h);
      }
      std::string answer = "HTTP/1.1 " + std::to_string(h.status) +
                           (h.status == 200 ? " OK" : " Service Unavailable") +
                           "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!write(c, answer.data(), answer.size());
      close(c);
    }
  }

  int failures_, port_ = 0, fd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Hit> hits_;
  std::thread thread_;
};

// `ocop serve` delivering notices as if today were `as_of` (no webhook when
// `webhook_port` is 0), listening on `port` (any when 0); stop it with Stop.
pid_t Serve(const Data& d, int webhook_port, const std::string& as_of, int port = 0) {
  if (port == 0) port = ocop::testing::FreePort();
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string data = d.path.string(), listen = "127.0.0.1:" + std::to_string(port),
                hook = "http://127.0.0.1:" + std::to_string(webhook_port) + "/ocop/notices";
    if (webhook_port == 0) {
      execl(OCOP_BINARY, OCOP_BINARY, "--data", data.c_str(), "serve", "--listen", listen.c_str(),
            static_cast<char*>(nullptr));
    }
    execl(OCOP_BINARY, OCOP_BINARY, "--data", data.c_str(), "serve", "--listen", listen.c_str(),
          "--notices-webhook", hook.c_str(), "--notices-as-of", as_of.c_str(), "--notices-every",
          "0.3", "--notices-lookback-days", "60", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace

TEST_CASE("ocop notices names what falls due, to whom, and reports-due the calendar's reports") {
  Data d;
  auto notices = [&](const std::string& args) {
    Run r = Ocop(d.D() + "notices " + args);
    INFO(r.out);
    REQUIRE(r.code == 0);
    return json::parse(r.out);
  };
  // On its day only, by default.
  json on = notices("--as-of 2024-01-31");
  CHECK(Ids(on) == std::vector<std::string>{"P1/GCN-01/30_days"});  // P2 renewed by then
  CHECK(on["notices"][0]["tell"] == json{"KA", "UM", "CM"});
  CHECK(on["notices"][0]["producer_name"] == "HTX Thành Công");
  CHECK(on["notices"][0]["days_left"] == 30);
  // A window: everything that fell due from 2024-01-01 to 2024-03-31.
  CHECK(Ids(notices("--since 2024-01-01 --as-of 2024-03-31")) ==
        std::vector<std::string>{"P3/GCN-03/90_days", "P1/GCN-01/30_days", "P1/GCN-01/7_days",
                                 "P1/GCN-01/lapsed", "P3/GCN-03/30_days"});
  json lapsed = notices("--as-of 2024-03-02");
  CHECK(lapsed["notices"][0]["notice"] == "lapsed");
  CHECK(lapsed["notices"][0]["days_left"] == -1);
  // By unit: Khánh An sees only P1's.
  CHECK(Ids(notices("--since 2024-01-01 --as-of 2024-03-31 --unit KA")) ==
        std::vector<std::string>{"P1/GCN-01/30_days", "P1/GCN-01/7_days", "P1/GCN-01/lapsed"});
  CHECK(Ocop(d.D() + "notices --as-of 2024-13-01").code == 2);

  Run due = Ocop(d.D() + "reports-due --from 2022-05-20 --within-days 40");
  REQUIRE(due.code == 0);
  json j = json::parse(due.out);
  REQUIRE(j["reports"].size() == 3);
  CHECK(j["reports"][0] == json{{"period", "2022-H1"},
                                {"kind", "half"},
                                {"from", "2021-12-15"},
                                {"to", "2022-06-14"},
                                {"due", "2022-06-15"},
                                {"days_left", 26}});
  CHECK(j["reports"][1]["period"] == "2022-Q2");
  CHECK(j["reports"][2]["period"] == "2022-06");
}

TEST_CASE("the server delivers each notice once to a webhook, retrying while it fails") {
  Data d;
  // As of 2024-02-25, looking back 60 days (from 2023-12-27): P3's 90 days
  // (2024-01-16), P1's 30 days (2024-01-31) and 7 days (2024-02-23).
  const std::vector<std::string> expected = {"P3/GCN-03/90_days", "P1/GCN-01/30_days",
                                             "P1/GCN-01/7_days"};
  Receiver hook(2);  // the first two requests fail
  pid_t server = Serve(d, hook.port(), "2024-02-25");
  auto delivered = [&] {
    std::vector<std::string> ok;
    for (const auto& h : hook.hits())
      if (h.status == 200) ok.push_back(h.key);
    return ok;
  };
  for (int i = 0; i < 100 && delivered().size() < expected.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Several more passes (every 0.3 s): nothing is sent again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  Stop(server);
  CHECK(delivered() == expected);
  auto hits = hook.hits();
  REQUIRE(hits.size() == expected.size() + 2);
  CHECK(hits[0].key == expected[0]);  // retried after 503, 503
  CHECK(hits[1].key == expected[0]);
  json body = json::parse(hits[2].body);
  CHECK(body["notice"]["id"] == expected[0]);
  CHECK(body["notice"]["unit"] == "UM");
  // Recorded, one line each, with the attempts it took.
  std::ifstream f(d.path / "notices-delivered");
  std::vector<json> records;
  for (std::string line; std::getline(f, line);) records.push_back(json::parse(line));
  REQUIRE(records.size() == 3);
  CHECK(records[0]["id"] == expected[0]);
  CHECK(records[0]["attempts"] == 3);
  CHECK(records[1]["attempts"] == 1);

  // Restarted a week later: only P1's lapse (2024-03-02) is new.
  Receiver again(0);
  server = Serve(d, again.port(), "2024-03-03");
  for (int i = 0; i < 50 && again.hits().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  Stop(server);
  REQUIRE(again.hits().size() == 1);
  CHECK(again.hits()[0].key == "P1/GCN-01/lapsed");
}

TEST_CASE("GET /v1/notices, /v1/reports-due and /v1/reports?list= answer as the command line") {
  Data d;
  Run token = Ocop(d.D() + "token add kt.vien --tokens " + (d.path / "tokens").string());
  REQUIRE(token.code == 0);
  std::string t = token.out.substr(0, token.out.find_first_of("\r\n"));
  // The command line's answer, before the server holds the directory.
  json cli =
      json::parse(Ocop(d.D() + "notices --as-of 2024-03-31 --since 2024-01-01 --unit KA").out);
  int port = ocop::testing::FreePort();
  pid_t server = Serve(d, 0, "", port);
  struct Stopper {
    pid_t pid;
    ~Stopper() { Stop(pid); }
  } stopper{server};
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto get = [&](const std::string& path) {
    return ocop::testing::Shell("curl -s -H 'Authorization: Bearer " + t + "' '" + base + path +
                                "'");
  };
  for (int i = 0; i < 100 && get("/healthz").out.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  json notices = json::parse(get("/v1/notices?as_of=2024-03-31&since=2024-01-01&unit=KA").out);
  CHECK(Ids(notices) ==
        std::vector<std::string>{"P1/GCN-01/30_days", "P1/GCN-01/7_days", "P1/GCN-01/lapsed"});
  CHECK(notices == cli);
  json due = json::parse(get("/v1/reports-due?from=2022-12-01&within_days=20").out);
  CHECK(due["reports"][0]["period"] == "2022");  // due 15/12/2022, the year before the half
  CHECK(due["reports"][0]["due"] == "2022-12-15");
  json annex = json::parse(get("/v1/reports?period=2022&unit=CM&list=active").out);
  CHECK(AnnexProducts(annex) == std::vector<std::string>{"P1", "P2", "P3"});
  json reporting = json::parse(get("/v1/reports?period=2022-H1&calendar=reporting&unit=CM").out);
  CHECK(reporting["period"]["from"] == "2021-12-15");
  // The dashboard's own page for these.
  Run page = ocop::testing::Shell("curl -s " + base + "/reports.html");
  CHECK(page.out.find("/reports.js") != std::string::npos);
}
