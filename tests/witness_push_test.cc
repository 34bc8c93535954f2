// Witnesses over HTTP (c2sp.org/tlog-witness; issue 14 item 4): one `ocop
// serve` witnesses another's log (POST /add-checkpoint), the log pushes each
// new checkpoint to it and GET /checkpoint shows the cosignature, which
// `ocop witness verify` accepts; the witness refuses a forked log (the same
// key and origin, another history) at the same size and with a proof,
// answers 409 with its size to a log that is behind, and 404 to another log.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "http_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace ocop::testing;

namespace {

Run Ocop(const std::string& args, const std::string& input = "") {
  return ocop::testing::Ocop("wpush", args, input);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

pid_t Start(const std::vector<std::string>& args, int port) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(OCOP_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(OCOP_BINARY, argv.data());
    _exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int fd = Connect(port);
    if (fd >= 0) {
      close(fd);
      return pid;
    }
  }
  return -1;
}

int Request(int port, const std::string& method, const std::string& path, const std::string& body,
            std::string* answer) {
  std::string reply;
  int code = Exchange(port,
                      method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
                      &reply);
  *answer = reply.substr(reply.find("\r\n\r\n") + 4);
  return code;
}

std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = uint8_t(in[i]) << 16 | (i + 1 < in.size() ? uint8_t(in[i + 1]) << 8 : 0) |
                 (i + 2 < in.size() ? uint8_t(in[i + 2]) : 0);
    out += k[v >> 18 & 63];
    out += k[v >> 12 & 63];
    out += i + 1 < in.size() ? k[v >> 6 & 63] : '=';
    out += i + 2 < in.size() ? k[v & 63] : '=';
  }
  return out;
}

// `ocop consistency`'s hex path as the base64 lines of an add-checkpoint body.
std::string ProofLines(const json& proof) {
  std::string out;
  for (const auto& h : proof["path"]) {
    std::string hex = h, bytes;
    for (size_t i = 0; i < hex.size(); i += 2)
      bytes += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    out += Base64(bytes) + "\n";
  }
  return out;
}

const char* kUnit =
    R"({"type":"DefineUnit","effective":"2022-01-01","unit":"CM","name":"Cà Mau","level":"province"})";
const char* kA =
    R"({"type":"DefineUnit","effective":"2022-01-02","unit":"BL","name":"Bạc Liêu","level":"province"})";
const char* kB =
    R"({"type":"DefineUnit","effective":"2022-01-02","unit":"KG","name":"Kiên Giang","level":"province"})";
const char* kC =
    R"({"type":"DefineUnit","effective":"2022-01-03","unit":"ST","name":"Sóc Trăng","level":"province"})";

}  // namespace

TEST_CASE("a log pushes its checkpoints to a witness, which cosigns and refuses a fork") {
  DataDir p("wpush-log"), f("wpush-fork"), w("wpush-witness"), other("wpush-other");
  REQUIRE(Ocop(p.flag() + " --origin ocop.test/push submit", kUnit).code == 0);
  // The fork: the same directory (key, origin, events), then another history.
  fs::copy(p.path, f.path, fs::copy_options::recursive);
  REQUIRE(Ocop(p.flag() + " submit", kA).code == 0);
  REQUIRE(Ocop(f.flag() + " submit", kB).code == 0);
  const std::string vkey = Trim(Ocop(p.flag() + " public-key --vkey").out);
  REQUIRE(Trim(Ocop(f.flag() + " public-key --vkey").out) == vkey);
  const std::string wkey = w.File("w.key");
  const std::string wvkey = Trim(Ocop("witness key --out " + wkey + " --name w.test/push").out);
  REQUIRE(Ocop(other.flag() + " --origin ocop.test/other submit", kUnit).code == 0);

  const int wport = FreePort();
  pid_t witness =
      Start({"--data", w.path.string(), "serve", "--listen", "127.0.0.1:" + std::to_string(wport),
             "--witness-key", wkey, "--witness-state", w.File("state"), "--witness-log", vkey},
            wport);
  ChildGuard wguard(witness);
  REQUIRE(witness > 0);
  const int port = FreePort();
  pid_t log =
      Start({"--data", p.path.string(), "serve", "--listen", "127.0.0.1:" + std::to_string(port),
             "--witness", "http://127.0.0.1:" + std::to_string(wport) + "=" + wvkey},
            port);
  ChildGuard lguard(log);
  REQUIRE(log > 0);

  // The log's checkpoint, once pushed, carries the witness's cosignature.
  std::string cp;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(Request(port, "GET", "/checkpoint", "", &cp) == 200);
    if (cp.find("\xE2\x80\x94 w.test/push ") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(cp);
  REQUIRE(cp.find("\xE2\x80\x94 w.test/push ") != std::string::npos);
  std::ofstream(p.File("cp")) << cp;
  Run v = Ocop("witness verify --log-vkey '" + vkey + "' --witness-vkey '" + wvkey +
               "' --checkpoint " + p.File("cp"));
  INFO(v.out);
  REQUIRE(v.code == 0);
  json verified = json::parse(v.out);
  CHECK(verified["cosigned_by"][0]["name"] == "w.test/push");
  const uint64_t size = verified["size"];

  // The fork at the same size: refused (422), naming it.
  const std::string fcp = Ocop(f.flag() + " checkpoint").out;
  std::string answer;
  CHECK(Request(wport, "POST", "/add-checkpoint", "old " + std::to_string(size) + "\n\n" + fcp,
                &answer) == 422);
  CHECK(answer.find("fork") != std::string::npos);
  // The fork grown by one, with its own consistency proof: refused too.
  REQUIRE(Ocop(f.flag() + " submit", kC).code == 0);
  const std::string fcp2 = Ocop(f.flag() + " checkpoint").out;
  const json fproof = json::parse(Ocop(f.flag() + " consistency --from " + std::to_string(size) +
                                       " --to " + std::to_string(size + 1))
                                      .out);
  CHECK(Request(wport, "POST", "/add-checkpoint",
                "old " + std::to_string(size) + "\n" + ProofLines(fproof) + "\n" + fcp2,
                &answer) == 422);
  INFO(answer);
  CHECK(answer.find("fork") != std::string::npos);
  // A log that is behind is told the witness's size; another log is unknown.
  CHECK(Request(wport, "POST", "/add-checkpoint", "old 1\n\n" + fcp, &answer) == 409);
  CHECK(Trim(answer) == std::to_string(size));
  const std::string ocp = Ocop(other.flag() + " checkpoint").out;
  CHECK(Request(wport, "POST", "/add-checkpoint", "old 0\n\n" + ocp, &answer) == 404);
  // The witness did not move: the true log's checkpoint is still its last.
  std::string again;
  REQUIRE(Request(port, "GET", "/checkpoint", "", &again) == 200);
  CHECK(again == cp);

  for (pid_t pid : {log, witness}) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  lguard.release();
  wguard.release();
}

TEST_CASE("ocop follow cosigns its primary's checkpoint as a witness, once it verified that tree") {
  DataDir p("wpush-primary"), r("wpush-replica");
  REQUIRE(Ocop(p.flag() + " --origin ocop.test/follow submit", kUnit).code == 0);
  Run t = Ocop(p.flag() + " token add national.mirror");
  REQUIRE(t.code == 0);
  const std::string token = Trim(t.out);
  const std::string vkey = Trim(Ocop(p.flag() + " public-key --vkey").out);
  const std::string wkey = r.File("w.key");
  const std::string wvkey = Trim(Ocop("witness key --out " + wkey + " --name w.test/follow").out);
  const int port = FreePort();
  pid_t log = Start(
      {"--data", p.path.string(), "serve", "--listen", "127.0.0.1:" + std::to_string(port)}, port);
  ChildGuard guard(log);
  REQUIRE(log > 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  Run f = Ocop(r.flag() + " follow " + url + " --once --token " + token + " --witness-key " + wkey);
  REQUIRE(f.code == 0);
  const fs::path cosigned = r.path / "COSIGNED_CHECKPOINT";
  REQUIRE(fs::exists(cosigned));
  Run v = Ocop("witness verify --log-vkey '" + vkey + "' --witness-vkey '" + wvkey +
               "' --checkpoint " + cosigned.string());
  INFO(v.out);
  CHECK(v.code == 0);
  CHECK(json::parse(v.out)["cosigned_by"][0]["name"] == "w.test/follow");
  kill(log, SIGTERM);
  waitpid(log, nullptr, 0);
  guard.release();
}
