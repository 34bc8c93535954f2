#include "server/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ocop::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Status ParseUrl(const std::string& url, const std::string& what, Url* out) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0)
    return Status::InvalidArgument(what + "'s URL must start with http://");
  std::string rest = url.substr(prefix.size());
  size_t slash = rest.find('/');
  out->path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out->path.empty() && out->path.back() == '/') out->path.pop_back();
  rest = rest.substr(0, slash);
  size_t colon = rest.rfind(':');
  out->host = colon == std::string::npos ? rest : rest.substr(0, colon);
  out->port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (out->host.empty()) return Status::InvalidArgument(what + "'s URL has no host");
  return Status::OK();
}

namespace {

Status Exchange(const Url& u, http::verb method, const std::string& target, const std::string& body,
                const std::string& content_type, int timeout_s, int* status, std::string* answer) {
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(timeout_s));
    stream.connect(resolver.resolve(u.host, u.port));
    http::request<http::string_body> req{method, u.path + target, 11};
    req.set(http::field::host, u.host);
    if (method == http::verb::post) {
      req.set(http::field::content_type, content_type);
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    http::read(stream, buffer, parser);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    *status = static_cast<int>(parser.get().result_int());
    *answer = parser.get().body();
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::IOError("cannot reach " + u.host + ":" + u.port + " for " + target + ": " +
                           e.what());
  }
}

}  // namespace

Status Post(const Url& u, const std::string& target, const std::string& body,
            const std::string& content_type, int timeout_s, int* status, std::string* answer) {
  return Exchange(u, http::verb::post, target, body, content_type, timeout_s, status, answer);
}

Status Fetch(const Url& u, const std::string& target, int timeout_s, int* status,
             std::string* answer) {
  return Exchange(u, http::verb::get, target, "", "", timeout_s, status, answer);
}

}  // namespace ocop::server
