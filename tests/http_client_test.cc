// The client the server uses for its own requests (server/http_client.h):
// URLs, how a target joins the URL's path, what a request carries, and that a
// peer answering too much, too late or not at all is an IOError, never a
// crash. Against a one-request Beast server on loopback in this process.
#include "server/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ocop::server::ParseUrl;
using ocop::server::PeerAnswer;
using ocop::server::PeerRequest;
using ocop::server::Send;
using ocop::server::Url;

// Accepts one connection, keeps what it was asked, answers `status` with
// `body`.
struct OneShotServer {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  http::request<http::string_body> seen;
  std::thread thread;

  OneShotServer(int status, std::string body) {
    thread = std::thread([this, status, body] {
      tcp::socket socket(ioc);
      acceptor.accept(socket);
      beast::flat_buffer buffer;
      beast::error_code ec;
      http::read(socket, buffer, seen, ec);
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.body() = body;
      res.prepare_payload();
      http::write(socket, res, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    });
  }
  ~OneShotServer() { Join(); }
  // Waits for the exchange to end; `seen` may be read after.
  void Join() {
    if (thread.joinable()) thread.join();
  }
  std::string Base(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + path;
  }
};

}  // namespace

TEST_CASE("a URL must be http:// and name a host", "[http_client]") {
  Url u;
  REQUIRE(ParseUrl("http://witness.example:8080/prefix/", "the witness", &u).ok());
  CHECK(u.host == "witness.example");
  CHECK(u.port == "8080");
  CHECK(u.path == "/prefix/");
  REQUIRE(ParseUrl("http://h", "x", &u).ok());
  CHECK(u.port == "80");
  CHECK(u.path.empty());
  ocop::Status s = ParseUrl("https://h/", "the notices webhook", &u);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("the notices webhook's URL 'https://h/' must start with http://") !=
        std::string::npos);
  CHECK(ParseUrl("http://:80/x", "x", &u).message().find("has no host") != std::string::npos);
}

TEST_CASE("a target joins the URL's path with one slash", "[http_client]") {
  struct Case {
    std::string path, target, want;
  };
  for (const Case& c : {Case{"/prefix/", "/add-checkpoint", "/prefix/add-checkpoint"},
                        Case{"/prefix", "/add-checkpoint", "/prefix/add-checkpoint"},
                        Case{"", "/checkpoint", "/checkpoint"},
                        Case{"/hook/", "", "/hook/"},  // a webhook's path as written
                        Case{"", "", "/"}}) {
    OneShotServer server(200, "ok");
    Url u;
    REQUIRE(ParseUrl(server.Base(c.path), "peer", &u).ok());
    PeerRequest r;
    r.target = c.target;
    PeerAnswer a;
    REQUIRE(Send(u, r, &a).ok());
    server.Join();
    CHECK(std::string(server.seen.target()) == c.want);
    CHECK(a.status == 200);
    CHECK(a.body == "ok");
  }
}

TEST_CASE("a POST carries its body, type, token and headers", "[http_client]") {
  OneShotServer server(409, "7");
  Url u;
  REQUIRE(ParseUrl(server.Base(), "peer", &u).ok());
  PeerRequest r;
  r.post = true;
  r.target = "/add-checkpoint";
  r.body = "old 0\n";
  r.content_type = "text/plain";
  r.bearer = "secret";
  r.headers = {{"Idempotency-Key", "n-1"}};
  PeerAnswer a;
  REQUIRE(Send(u, r, &a).ok());  // any status is an answer
  server.Join();
  CHECK(server.seen.method() == http::verb::post);
  CHECK(server.seen.body() == "old 0\n");
  CHECK(std::string(server.seen[http::field::content_type]) == "text/plain");
  CHECK(std::string(server.seen[http::field::authorization]) == "Bearer secret");
  CHECK(std::string(server.seen["Idempotency-Key"]) == "n-1");
  CHECK(a.status == 409);
  CHECK(a.body == "7");
}

TEST_CASE("too large an answer, or no peer, is an IOError", "[http_client]") {
  {
    OneShotServer server(200, std::string(5000, 'x'));
    Url u;
    REQUIRE(ParseUrl(server.Base(), "peer", &u).ok());
    PeerRequest r;
    r.target = "/big";
    r.answer_limit = 1000;
    PeerAnswer a;
    ocop::Status s = Send(u, r, &a);
    CHECK(s.code() == ocop::Status::Code::kIOError);
    CHECK(s.message().find("answered /big with more than the 1000 bytes accepted") !=
          std::string::npos);
  }
  // A port nobody listens on: taken, then released.
  uint16_t port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  Url u;
  REQUIRE(ParseUrl("http://127.0.0.1:" + std::to_string(port), "peer", &u).ok());
  PeerAnswer a;
  CHECK(Send(u, PeerRequest{}, &a).code() == ocop::Status::Code::kIOError);
}
