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
  if (url.rfind(prefix, 0) != 0) {
    return Status::InvalidArgument(what + "'s URL '" + url +
                                   "' must start with http:// (for https, put a local proxy "
                                   "before it)");
  }
  std::string rest = url.substr(prefix.size());
  size_t slash = rest.find('/');
  out->path = slash == std::string::npos ? "" : rest.substr(slash);
  rest = rest.substr(0, slash);
  size_t colon = rest.rfind(':');
  out->host = colon == std::string::npos ? rest : rest.substr(0, colon);
  out->port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (out->host.empty()) return Status::InvalidArgument(what + "'s URL '" + url + "' has no host");
  return Status::OK();
}

namespace {

std::string JoinTarget(std::string path, const std::string& target) {
  if (!target.empty() && target.front() == '/') {
    while (!path.empty() && path.back() == '/') path.pop_back();
  }
  path += target;
  return path.empty() ? "/" : path;
}

}  // namespace

Status Send(const Url& u, const PeerRequest& r, PeerAnswer* out) {
  const std::string target = JoinTarget(u.path, r.target);
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(r.timeout_s));
    stream.connect(resolver.resolve(u.host, u.port));
    http::request<http::string_body> req{r.post ? http::verb::post : http::verb::get, target, 11};
    req.set(http::field::host, u.host);
    if (!r.bearer.empty()) req.set(http::field::authorization, "Bearer " + r.bearer);
    for (const auto& [name, value] : r.headers) req.set(name, value);
    if (r.post) {
      req.set(http::field::content_type, r.content_type);
      req.body() = r.body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(r.answer_limit);
    // The header first: a body of known length over the limit is refused
    // before any of it is read (Boost 1.74 checks a known length only when
    // the header is parsed on its own).
    http::read_header(stream, buffer, parser);
    http::read(stream, buffer, parser);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    out->status = static_cast<int>(parser.get().result_int());
    out->body = std::move(parser.get().body());
    return Status::OK();
  } catch (const beast::system_error& e) {
    if (e.code() == http::error::body_limit) {
      return Status::IOError(u.host + ":" + u.port + " answered " + target +
                             " with more than the " + std::to_string(r.answer_limit) +
                             " bytes accepted");
    }
    return Status::IOError("cannot reach " + u.host + ":" + u.port + " for " + target + ": " +
                           e.what());
  } catch (const std::exception& e) {
    return Status::IOError("cannot reach " + u.host + ":" + u.port + " for " + target + ": " +
                           e.what());
  }
}

Status Post(const Url& u, const std::string& target, const std::string& body,
            const std::string& content_type, int timeout_s, int* status, std::string* answer) {
  PeerRequest r;
  r.post = true;
  r.target = target;
  r.body = body;
  r.content_type = content_type;
  r.timeout_s = timeout_s;
  PeerAnswer a;
  Status s = Send(u, r, &a);
  *status = a.status;
  *answer = std::move(a.body);
  return s;
}

Status Fetch(const Url& u, const std::string& target, int timeout_s, int* status,
             std::string* answer) {
  PeerRequest r;
  r.target = target;
  r.timeout_s = timeout_s;
  PeerAnswer a;
  Status s = Send(u, r, &a);
  *status = a.status;
  *answer = std::move(a.body);
  return s;
}

}  // namespace ocop::server
