// HTTP conventions of `ocop serve` (issue 16, item 8), byte for byte over a
// real socket: HEAD, CORS preflight without a token (allowed origins only,
// none by default), ETag and If-None-Match on reads and the dashboard's
// files, gzip for clients that accept it, totals on lists, /v1/events with a
// next cursor and its limit stated. And `ocop smoke`,
// which refuses a data directory holding anything but its own sample.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_support.h"
#include "http_support.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

Reply Send(int port, const std::string& method, const std::string& target,
           const std::string& headers = "") {
  std::string raw;
  Reply r;
  r.status = ocop::testing::Exchange(
      port,
      method + " " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + headers + "\r\n",
      &raw);
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  size_t at = raw.find("\r\n") + 2;
  while (at < end) {
    size_t eol = raw.find("\r\n", at);
    std::string line = raw.substr(at, eol - at);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    at = eol + 2;
  }
  r.body = raw.substr(end + 4);
  return r;
}

std::string Gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(in.size() * 20 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int r = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return r == Z_STREAM_END ? out : "";
}

pid_t Serve(const std::string& data, int port, const std::string& cors) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string listen = "127.0.0.1:" + std::to_string(port);
    if (cors.empty()) {
      execl(OCOP_BINARY, OCOP_BINARY, "--data", data.c_str(), "serve", "--listen", listen.c_str(),
            nullptr);
    } else {
      execl(OCOP_BINARY, OCOP_BINARY, "--data", data.c_str(), "serve", "--listen", listen.c_str(),
            "--cors", cors.c_str(), nullptr);
    }
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
  return pid;
}

void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

}  // namespace

TEST_CASE("ocop serve: HEAD, CORS, ETag, gzip and totals") {
  std::string data =
      (fs::temp_directory_path() / ("ocop-conv-" + std::to_string(getpid()))).string();
  fs::remove_all(data);
  const std::string setup =
      R"({"type":"DefineUnit","effective":"2024-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"})"
      "\n"
      R"({"type":"GrantRole","effective":"2024-01-01","principal":"kiem.tra","role":"auditor","unit":"CM"})"
      "\n";
  REQUIRE(ocop::testing::Ocop("conv", "--data " + data + " submit --atomic", setup).code == 0);
  auto token_run = ocop::testing::Ocop("conv", "--data " + data + " token add kiem.tra", "");
  REQUIRE(token_run.code == 0);
  const std::string token = token_run.out.substr(0, 64);
  const std::string auth = "Authorization: Bearer " + token + "\r\n";

  int port = ocop::testing::FreePort();
  ocop::testing::ChildGuard server(Serve(data, port, "https://ocop.camau.gov.vn"));

  SECTION("HEAD is GET without the body") {
    Reply get = Send(port, "GET", "/v1/units", auth);
    Reply head = Send(port, "HEAD", "/v1/units", auth);
    REQUIRE(get.status == 200);
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.headers["content-length"] == std::to_string(get.body.size()));
    CHECK(head.headers["etag"] == get.headers["etag"]);
    CHECK(Send(port, "HEAD", "/").status == 200);
    CHECK(Send(port, "HEAD", "/v1/units").status == 401);  // still needs a token
  }
  SECTION("a preflight is answered without a token, for allowed origins only") {
    Reply ok = Send(port, "OPTIONS", "/v1/products",
                    "Origin: https://ocop.camau.gov.vn\r\nAccess-Control-Request-Method: GET\r\n"
                    "Access-Control-Request-Headers: authorization\r\n");
    CHECK(ok.status == 204);
    CHECK(ok.headers["access-control-allow-origin"] == "https://ocop.camau.gov.vn");
    CHECK(ok.headers["access-control-allow-headers"].find("Authorization") != std::string::npos);
    Reply other = Send(port, "OPTIONS", "/v1/products", "Origin: https://elsewhere.example\r\n");
    CHECK(other.status == 204);
    CHECK(other.headers.count("access-control-allow-origin") == 0);
    Reply get = Send(port, "GET", "/v1/units", auth + "Origin: https://ocop.camau.gov.vn\r\n");
    CHECK(get.headers["access-control-allow-origin"] == "https://ocop.camau.gov.vn");
  }
  SECTION("ETag and If-None-Match, on reads and on the dashboard's files") {
    for (std::string target : {"/v1/units", "/v1/whoami", "/app.js", "/"}) {
      Reply first = Send(port, "GET", target, auth);
      REQUIRE(first.status == 200);
      const std::string tag = first.headers["etag"];
      REQUIRE(tag.size() == 34);
      Reply again = Send(port, "GET", target, auth + "If-None-Match: " + tag + "\r\n");
      CHECK(again.status == 304);
      CHECK(again.body.empty());
      Reply other = Send(port, "GET", target, auth + "If-None-Match: \"0000\"\r\n");
      CHECK(other.status == 200);
    }
  }
  SECTION("gzip for clients that accept it") {
    Reply plain = Send(port, "GET", "/app.js");
    Reply zipped = Send(port, "GET", "/app.js", "Accept-Encoding: gzip, deflate\r\n");
    REQUIRE(plain.status == 200);
    CHECK(plain.headers.count("content-encoding") == 0);
    CHECK(zipped.headers["content-encoding"] == "gzip");
    CHECK(zipped.headers["vary"].find("Accept-Encoding") != std::string::npos);
    CHECK(zipped.body.size() * 2 < plain.body.size());
    CHECK(Gunzip(zipped.body) == plain.body);
    CHECK(zipped.headers["etag"] != plain.headers["etag"]);
    Reply refused = Send(port, "GET", "/app.js", "Accept-Encoding: gzip;q=0\r\n");
    CHECK(refused.headers.count("content-encoding") == 0);
  }
  SECTION("/v1/events pages with a next cursor and says its limit") {
    json page = json::parse(Send(port, "GET", "/v1/events?from=1&limit=1", auth).body);
    CHECK(page["limit"] == 1);
    CHECK(page["events"].size() == 1);
    CHECK(page["next"] == 2);
    json rest = json::parse(Send(port, "GET", "/v1/events?from=2&limit=5000", auth).body);
    CHECK(rest["limit"] == 1000);  // capped, and said so
    CHECK(rest["max_limit"] == 1000);
    CHECK(rest["events"].size() == rest["size"].get<size_t>() - 1);
    CHECK(rest["next"].is_null());  // the end of the log
  }
  SECTION("lists say their total") {
    json units = json::parse(Send(port, "GET", "/v1/units", auth).body);
    CHECK(units["total"] == 1);
    json products = json::parse(Send(port, "GET", "/v1/products?q=", auth).body);
    CHECK(products["total"] == 0);
    CHECK(Send(port, "GET", "/v1/products?limit=x", auth).status == 400);
  }
  Stop(server.pid);
  server.release();

  SECTION("CORS is off by default") {
    ocop::testing::ChildGuard plain(Serve(data, port, ""));
    Reply pre = Send(port, "OPTIONS", "/v1/units", "Origin: https://ocop.camau.gov.vn\r\n");
    CHECK(pre.status == 204);
    CHECK(pre.headers.count("access-control-allow-origin") == 0);
    Stop(plain.pid);
    plain.release();
  }
  fs::remove_all(data);
}

TEST_CASE("ocop smoke refuses a data directory holding anything but its own sample") {
  fs::path dir = fs::temp_directory_path() / ("ocop-smoke-" + std::to_string(getpid()));
  fs::remove_all(dir);
  const std::string real = (dir / "real").string(), own = (dir / "own").string();
  REQUIRE(
      ocop::testing::Ocop(
          "smoke", "--data " + real + " submit",
          R"({"type":"DefineUnit","effective":"2024-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"})"
          "\n")
          .code == 0);
  auto refused = ocop::testing::Ocop("smoke", "--data " + real + " smoke --events 5 2>&1", "");
  CHECK(refused.code == 1);
  CHECK(refused.out.find("not smoke's own sample") != std::string::npos);
  auto head = json::parse(ocop::testing::Ocop("smoke", "--data " + real + " tree-head", "").out);
  CHECK(head["size"] == 2);  // the schema event and the unit: nothing appended by smoke

  CHECK(ocop::testing::Ocop("smoke", "--data " + own + " smoke --events 5", "").code == 0);
  CHECK(ocop::testing::Ocop("smoke", "--data " + own + " smoke --events 5", "").code == 0);
  head = json::parse(ocop::testing::Ocop("smoke", "--data " + own + " tree-head", "").out);
  CHECK(head["size"] == 10);
  fs::remove_all(dir);
}
