// GET /checkpoint and the tiles of c2sp.org/tlog-tiles under /tile/, read by
// an independent client: tests/go/tile_check.go, built here with Go's
// golang.org/x/mod/sumdb/{note,tlog}, which checks every tile it reads
// against the served checkpoint's root. Also: the checkpoint served is
// recorded in signed-heads, carries the stream-heads line, and malformed or
// absent tiles are 400 and 404.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_support.h"
#include "http_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace ocop::testing;

namespace {

Run Ocop(const std::string& args) { return ocop::testing::Ocop("tiles", args, ""); }

std::string Body(const std::string& reply) { return reply.substr(reply.find("\r\n\r\n") + 4); }

int Get(int port, const std::string& path, std::string* body) {
  std::string reply;
  int code =
      Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &reply);
  *body = Body(reply);
  return code;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("tiles and the checkpoint are served and Go's tlog client checks them") {
  DataDir d("tiles");
  // 600 events: two full level-0 tiles and a partial one; a partial level-1
  // tile of two entries.
  REQUIRE(Ocop(d.flag() + " --origin ocop.test/tiles smoke --events 600").code == 0);
  const std::string vkey = Trim(Ocop(d.flag() + " public-key --vkey").out);
  const int port = FreePort();
  pid_t server = StartServer(OCOP_BINARY, d.path.string(), port);
  ChildGuard guard(server);
  REQUIRE(server > 0);

  std::string body;
  REQUIRE(Get(port, "/checkpoint", &body) == 200);
  CHECK(body.rfind("ocop.test/tiles\n", 0) == 0);
  CHECK(body.find("\nocop-stream-heads ") != std::string::npos);
  const uint64_t size = std::stoull(body.substr(body.find('\n') + 1));
  CHECK(size >= 600);
  // Served means recorded.
  std::ifstream heads((d.path / "signed-heads").string());
  std::stringstream ss;
  ss << heads.rdbuf();
  CHECK(ss.str().find("checkpoint " + std::to_string(size) + " ") != std::string::npos);

  CHECK(Get(port, "/tile/0/000", &body) == 200);
  CHECK(body.size() == 256 * 32);
  CHECK(Get(port, "/tile/0/x001/000", &body) == 404);   // tile 1000 does not exist yet
  CHECK(Get(port, "/tile/0/0", &body) == 400);          // not three digits
  CHECK(Get(port, "/tile/0/000.p/256", &body) == 400);  // a partial tile is narrower than 256
  CHECK(Get(port, "/tile/1/000.p/2", &body) == 200);
  CHECK(body.size() == 2 * 32);
  CHECK(Get(port, "/tile/1/000", &body) == 404);

  const std::string checker = d.File("tile_check");
  const std::string env =
      "GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE=" + d.File("gocache") +
      " HOME=" + d.File("home");
  auto built = Shell(env + " go build -o " + checker + " " + TILE_CHECK_GO + " 2>&1");
  INFO(built.out);
  REQUIRE(built.code == 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto ok = Shell(checker + " " + url + " '" + vkey + "'");
  INFO(ok.out);
  CHECK(ok.code == 0);
  CHECK(ok.out.rfind("ok ", 0) == 0);
  auto flipped = Shell(checker + " " + url + " '" + vkey + "' flip");
  INFO(flipped.out);
  CHECK(flipped.code == 1);

  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  guard.release();
}
