// Faults and attacks on a running `ocop serve`: no request crashes or wedges
// it, one client cannot lock others out, running out of descriptors or disk
// is survived and recovered from, and the tokens file fails closed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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
using ocop::testing::DataDir;
using ocop::testing::Shell;

namespace {

const char* kSetup =
    R"({"type":"DefineUnit","effective":"2022-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"RegisterSubject","effective":"2022-03-01","subject":"S1","name":"HTX","legal_form":"HTX","unit":"CM"}
{"type":"RegisterIdea","effective":"2022-03-02","product":"P1","subject":"S1","name":"Mật ong","group":1,"unit":"CM","cycle_year":2022}
{"type":"GrantRole","effective":"2022-01-02","principal":"admin.cm","role":"officer","unit":"CM"}
)";

std::string ReadFile(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A ledger with one product and an admin's token.
std::string Prepare(const DataDir& d, const std::string& extra_flags = "") {
  auto r = ocop::testing::Ocop("faults", d.flag() + " " + extra_flags + " submit", kSetup);
  REQUIRE(r.code == 0);
  auto t = Shell(std::string(OCOP_BINARY) + " " + d.flag() + " token add admin.cm");
  REQUIRE(t.code == 0);
  std::string token = t.out;
  token.erase(token.find_last_not_of("\n") + 1);
  return token;
}

// `ocop --data DIR [flags] serve` with stderr to `log`, at most `max_files`
// descriptors if given. Waits until it accepts; returns its pid or -1.
pid_t StartServer(const DataDir& d, int port, const std::string& log,
                  const std::vector<std::string>& flags = {}, rlim_t max_files = 0) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    if (max_files) {
      rlimit rl{max_files, max_files};
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::vector<std::string> args = {OCOP_BINARY, "--data", d.path.string()};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"serve", "--listen", "127.0.0.1:" + std::to_string(port)});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(OCOP_BINARY, argv.data());
    _exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int fd = ocop::testing::Connect(port);
    if (fd >= 0) {
      close(fd);
      return pid;
    }
  }
  return -1;
}

void Stop(pid_t pid, ocop::testing::ChildGuard& guard) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  guard.release();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

int Request(int port, const std::string& method, const std::string& path, const std::string& token,
            const std::string& body = "", std::string* reply = nullptr) {
  std::string r;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  int status = ocop::testing::Exchange(port, req, &r);
  if (reply) *reply = r;
  return status;
}

void RaiseDescriptorLimit() {
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

// A command the token's principal (an officer of CM) may give, for a new
// producer each time.
std::string Command(int n) {
  return R"({"type":"RegisterSubject","effective":"2022-04-01","subject":"N)" + std::to_string(n) +
         R"(","name":"Hộ sản xuất","legal_form":"HKD","unit":"CM"})";
}
const std::string kCommand = Command(1);

}  // namespace

TEST_CASE("a body nested 1,000,000 deep is answered 400 and the server lives on") {
  DataDir d("deep");
  std::string token = Prepare(d);
  int port = ocop::testing::FreePort();
  pid_t server = StartServer(d, port, d.File("log"));
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);
  std::string reply;
  for (const std::string& deep :
       {std::string(1000000, '['), std::string(500000, '[') + std::string(500000, ']'), [] {
          std::string s;
          for (int i = 0; i < 100000; ++i) s += "{\"a\":";
          return s;
        }()}) {
    int status = Request(port, "POST", "/v1/commands", token, deep, &reply);
    INFO(reply.substr(0, 300));
    CHECK(status == 400);
    CHECK(reply.find("nested deeper than 64") != std::string::npos);
  }
  // Smaller hostilities of the same parser: a key twice, a NUL in a string,
  // an integer past 2^53, a negative expected version.
  auto post = [&](const std::string& body) {
    int status = Request(port, "POST", "/v1/commands", token, body, &reply);
    INFO(body << " -> " << reply);
    return status;
  };
  CHECK(
      post(
          R"({"type":"RecordPromotion","effective":"2022-04-01","product":"P1","product":"P2","channel":"x"})") ==
      400);
  CHECK(reply.find("appears twice") != std::string::npos);
  CHECK(
      post(
          R"({"type":"RecordPromotion","effective":"2022-04-01","product":"P1\u0000X","channel":"x"})") ==
      400);
  CHECK(reply.find("NUL") != std::string::npos);
  CHECK(
      post(
          R"({"type":"RecordPromotion","effective":"2022-04-01","product":"P1","channel":"x","expected_version":-5})") ==
      400);
  CHECK(reply.find("expected_version") != std::string::npos);
  CHECK(Request(port, "GET", "/v1/products/P1%00X", token, "", &reply) == 400);
  CHECK(Request(port, "GET", "/healthz", "") == 200);
  CHECK(post(kCommand) == 200);
  Stop(server, guard);
  auto history = Shell(std::string(OCOP_BINARY) + " " + d.flag() + " history P1");
  REQUIRE(history.code == 0);
  // Every recorded_at is printed as an integer, never as 1.79e+15.
  CHECK(history.out.find("\"recorded_at\":") != std::string::npos);
  CHECK(history.out.find("e+15") == std::string::npos);
}

TEST_CASE("512 slowloris connections from one client leave another client answered") {
  RaiseDescriptorLimit();
  DataDir d("slowloris");
  std::string token = Prepare(d);
  int port = ocop::testing::FreePort();
  pid_t server = StartServer(d, port, d.File("log"));
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);
  std::vector<int> attackers;
  for (int i = 0; i < 512; ++i) {
    int fd = ocop::testing::Connect(port, "127.0.0.2");
    REQUIRE(fd >= 0);
    // Half a request line; the rest never comes (or a byte now and then).
    send(fd, "GET /v1/products/P1 HTTP/1.1\r\nHost: x\r\n", 39, MSG_NOSIGNAL);
    attackers.push_back(fd);
  }
  int ok = 0, busy = 0, other = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (std::chrono::steady_clock::now() < until) {
    for (int fd : attackers) send(fd, "X", 1, MSG_NOSIGNAL);  // trickle
    int status = Request(port, "GET", "/v1/products/P1", token);
    (status == 200 ? ok : status == 503 ? busy : other)++;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO("normal client: " << ok << " answered, " << busy << " 503, " << other << " other");
  CHECK(ok >= 20);
  CHECK(busy == 0);
  CHECK(other == 0);
  // The attacker got its share (64 at most) and 503s for the rest.
  int refused = 0;
  for (int fd : attackers) {
    timeval tv{0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 12 && std::string(buf, 12) == "HTTP/1.1 503") ++refused;
    close(fd);
  }
  CHECK(refused >= 512 - 64);
  Stop(server, guard);
}

TEST_CASE("out of descriptors, the server logs, keeps trying, and accepts again") {
  RaiseDescriptorLimit();
  DataDir d("emfile");
  std::string token = Prepare(d);
  int port = ocop::testing::FreePort();
  const std::string log = d.File("log");
  pid_t server = StartServer(d, port, log, {}, 96);
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);
  // More connections than descriptors, from several addresses (each within
  // its own share): accept() fails with EMFILE.
  std::vector<int> held;
  for (int i = 0; i < 200; ++i) {
    int fd = ocop::testing::Connect(port, "127.0.0." + std::to_string(10 + i / 50));
    if (fd >= 0) held.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(ReadFile(log).find("accept_failed") != std::string::npos);
  for (int fd : held) close(fd);
  // Recovered: answered again without a restart.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = Request(port, "GET", "/v1/products/P1", token);
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status == 200);
  CHECK(Request(port, "POST", "/v1/commands", token, kCommand) == 200);
  Stop(server, guard);
}

TEST_CASE("a tokens file writable by others, or with a bad line, is refused") {
  DataDir d("tokens");
  std::string token = Prepare(d);
  const std::string tokens = (d.path / "tokens").string();
  // At start: the server refuses to run.
  REQUIRE(chmod(tokens.c_str(), 0666) == 0);
  auto r = Shell("timeout 30 " + std::string(OCOP_BINARY) + " " + d.flag() +
                 " serve --listen 127.0.0.1:" + std::to_string(ocop::testing::FreePort()) + " 2> " +
                 d.File("start"));
  CHECK(r.code == 2);
  CHECK(ReadFile(d.File("start")).find("mode 0666") != std::string::npos);
  REQUIRE(chmod(tokens.c_str(), 0600) == 0);
  std::string good = ReadFile(tokens);
  std::ofstream(tokens, std::ios::app) << "not a token line\n";
  r = Shell("timeout 30 " + std::string(OCOP_BINARY) + " " + d.flag() +
            " serve --listen 127.0.0.1:" + std::to_string(ocop::testing::FreePort()) + " 2> " +
            d.File("start"));
  CHECK(r.code == 2);
  CHECK(ReadFile(d.File("start")).find("tokens:2") != std::string::npos);
  std::ofstream(tokens, std::ios::trunc) << good;

  // While running: each refusal serves no token of the file, and says so.
  int port = ocop::testing::FreePort();
  const std::string log = d.File("log");
  pid_t server = StartServer(d, port, log);
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);
  CHECK(Request(port, "GET", "/v1/products/P1", token) == 200);
  REQUIRE(chmod(tokens.c_str(), 0602) == 0);
  CHECK(Request(port, "GET", "/v1/products/P1", token) == 401);
  CHECK(ReadFile(log).find("tokens_refused") != std::string::npos);
  REQUIRE(chmod(tokens.c_str(), 0600) == 0);
  CHECK(Request(port, "GET", "/v1/products/P1", token) == 200);
  // A removed token with a bad line added at once: neither works.
  std::string other = Shell(std::string(OCOP_BINARY) + " " + d.flag() + " token add kt").out;
  other.erase(other.find_last_not_of("\n") + 1);
  CHECK(Request(port, "GET", "/v1/products/P1", other) == 200);
  std::ofstream(tokens, std::ios::trunc) << good << "bad line here\n";
  CHECK(Request(port, "GET", "/v1/products/P1", other) == 401);
  CHECK(Request(port, "GET", "/v1/products/P1", token) == 401);
  std::ofstream(tokens, std::ios::trunc) << good;
  CHECK(Request(port, "GET", "/v1/products/P1", token) == 200);
  CHECK(Request(port, "GET", "/v1/products/P1", other) == 401);
  Stop(server, guard);
}

TEST_CASE("an expired token is refused, one expiring later works") {
  DataDir d("expiry");
  Prepare(d);
  auto add = [&](const std::string& expires) {
    auto t =
        Shell(std::string(OCOP_BINARY) + " " + d.flag() + " token add kt --expires " + expires);
    REQUIRE(t.code == 0);
    return t.out.substr(0, t.out.find_last_not_of("\n") + 1);
  };
  std::string expired = add("2020-12-31"), valid = add("2999-12-31");
  CHECK(ReadFile((d.path / "tokens").string()).find("expires=2020-12-31") != std::string::npos);
  CHECK(Shell(std::string(OCOP_BINARY) + " " + d.flag() + " token add kt --expires 2020-13-01")
            .code == 2);
  int port = ocop::testing::FreePort();
  pid_t server = StartServer(d, port, d.File("log"));
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);
  CHECK(Request(port, "GET", "/v1/products/P1", expired) == 401);
  CHECK(Request(port, "GET", "/v1/products/P1", valid) == 200);
  Stop(server, guard);
}

TEST_CASE("a full disk refuses writes (exit 3, HTTP 507), reads go on, writes resume") {
  DataDir d("full");
  fs::create_directories(d.path);
  const std::string mnt = d.path.string();
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=48m") != 0) {
    WARN("skipped: cannot mount a tmpfs here (" << std::strerror(errno) << "); needs root");
    return;
  }
  struct Unmount {
    std::string at;
    ~Unmount() { umount2(at.c_str(), MNT_DETACH); }
  } unmount{mnt};
  // The ledger inside the tmpfs.
  struct In {
    std::string dir;
    std::string flag() const { return "--data " + dir; }
  } in{mnt + "/data"};
  auto submit = [&](const std::string& input) {
    return ocop::testing::Ocop("full", in.flag() + " --reserve-mb 8 submit", input);
  };
  REQUIRE(submit(kSetup).code == 0);
  auto t = Shell(std::string(OCOP_BINARY) + " " + in.flag() + " token add admin.cm");
  std::string token = t.out.substr(0, t.out.find_last_not_of("\n") + 1);

  // Fill it to 4 MiB free: below the 8 MiB reserve, room left for RocksDB.
  auto fill = [&] {
    struct statvfs st;
    REQUIRE(statvfs(mnt.c_str(), &st) == 0);
    uint64_t free_mb = static_cast<uint64_t>(st.f_bavail) * st.f_frsize >> 20;
    REQUIRE(free_mb > 4);
    REQUIRE(Shell("dd if=/dev/zero of=" + mnt + "/fill bs=1M count=" + std::to_string(free_mb - 4) +
                  " 2>/dev/null")
                .code == 0);
  };
  fill();
  const std::string err = d.File("err");
  auto r = Shell("printf '%s\\n' '" + kCommand + "' | " + OCOP_BINARY + " " + in.flag() +
                 " --reserve-mb 8 submit 2> " + err);
  INFO(r.out << ReadFile(err));
  CHECK(r.code == 3);
  CHECK(r.out.find("no_space") != std::string::npos);
  CHECK(r.out.find("full") != std::string::npos);

  int port = ocop::testing::FreePort();
  pid_t server = -1;
  {
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(d.File("log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 2);
      std::string listen = "127.0.0.1:" + std::to_string(port);
      execl(OCOP_BINARY, OCOP_BINARY, "--data", in.dir.c_str(), "--reserve-mb", "8", "serve",
            "--listen", listen.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 200 && server < 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      int fd = ocop::testing::Connect(port);
      if (fd >= 0) {
        close(fd);
        server = pid;
      }
    }
    if (server < 0) kill(pid, SIGKILL), waitpid(pid, nullptr, 0);
  }
  ocop::testing::ChildGuard guard(server);
  REQUIRE(server > 0);
  std::string reply;
  CHECK(Request(port, "POST", "/v1/commands", token, kCommand, &reply) == 507);
  CHECK(reply.find("full") != std::string::npos);
  CHECK(Request(port, "GET", "/v1/products/P1", token) == 200);
  fs::remove(mnt + "/fill");
  CHECK(Request(port, "POST", "/v1/commands", token, kCommand, &reply) == 200);
  // And again: full, refused, freed, resumed.
  fill();
  CHECK(Request(port, "POST", "/v1/commands", token, Command(2)) == 507);
  fs::remove(mnt + "/fill");
  CHECK(Request(port, "POST", "/v1/commands", token, Command(2)) == 200);
  Stop(server, guard);
  CHECK(Shell(std::string(OCOP_BINARY) + " " + in.flag() + " verify > /dev/null 2>&1").code == 0);
}
