#include "server/http_conventions.h"

#include <openssl/sha.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>

namespace ocop::server {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool Compressible(std::string_view type) {
  for (std::string_view t : {"json", "text/", "javascript", "svg", "csv", "markdown"}) {
    if (type.find(t) != std::string_view::npos) return true;
  }
  return false;
}

// Whether the Accept-Encoding header accepts gzip (named without q=0).
bool AcceptsGzip(std::string_view header) {
  std::string h = Lower(header);
  size_t at = h.find("gzip");
  if (at == std::string::npos) return false;
  size_t end = h.find(',', at);
  std::string part = h.substr(at, end == std::string::npos ? std::string::npos : end - at);
  part.erase(std::remove(part.begin(), part.end(), ' '), part.end());
  return part.find(";q=0") == std::string::npos || part.find(";q=0.") != std::string::npos;
}

std::string ETagOf(const std::string& body) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  std::string tag = "\"";
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    tag += hex;
  }
  return tag + "\"";
}

// Whether If-None-Match (a list of tags, or *) names `tag`; W/"x" names "x"
// too (RFC 9110's weak comparison, which If-None-Match uses).
bool Matches(std::string_view if_none_match, const std::string& tag) {
  return if_none_match.find('*') != std::string_view::npos ||
         if_none_match.find(tag) != std::string_view::npos;
}

}  // namespace

bool Gzip(const std::string& in, std::string* out) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  out->resize(deflateBound(&z, in.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(out->size());
  int r = deflate(&z, Z_FINISH);
  out->resize(z.total_out);
  deflateEnd(&z);
  return r == Z_STREAM_END;
}

bool HttpConventions::Allowed(const std::string& origin) const {
  if (origin.empty()) return false;
  return std::any_of(cors_origins.begin(), cors_origins.end(),
                     [&](const std::string& o) { return o == "*" || o == origin; });
}

std::optional<Response> HttpConventions::Preflight(const Request& req) const {
  if (req.method() != http::verb::options) return std::nullopt;
  Response res{http::status::no_content, req.version()};
  res.set(http::field::allow, "GET, HEAD, POST, OPTIONS");
  std::string origin(req[http::field::origin]);
  if (Allowed(origin)) {
    res.set(http::field::access_control_allow_origin, origin);
    res.set(http::field::access_control_allow_methods, "GET, HEAD, POST, OPTIONS");
    res.set(http::field::access_control_allow_headers,
            "Authorization, Content-Type, If-None-Match");
    res.set(http::field::access_control_max_age, "600");
    res.set(http::field::vary, "Origin");
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

void HttpConventions::Finish(const Request& req, bool head, Response* res) const {
  std::string origin(req[http::field::origin]);
  std::string vary;
  if (!cors_origins.empty()) {
    vary = "Origin";
    if (Allowed(origin)) {
      res->set(http::field::access_control_allow_origin, origin);
      res->set(http::field::access_control_expose_headers, "ETag, Content-Disposition");
    }
  }
  const bool get = req.method() == http::verb::get;
  if (get && res->result() == http::status::ok) {
    std::string type((*res)[http::field::content_type]);
    if ((*res)[http::field::cache_control] == "no-store") {
      res->set(http::field::cache_control, "private, no-cache");
    }
    // A long poll's answer depends on when it was asked; it is never cached.
    const bool waited = std::string(req.target()).find("wait=") != std::string::npos;
    const bool gzip = Compressible(type) && res->body().size() >= 1024 &&
                      AcceptsGzip(std::string(req[http::field::accept_encoding]));
    if (Compressible(type)) vary += vary.empty() ? "Accept-Encoding" : ", Accept-Encoding";
    std::string zipped;
    if (gzip && !Gzip(res->body(), &zipped)) zipped.clear();
    if (!zipped.empty()) {
      res->body() = std::move(zipped);
      res->set(http::field::content_encoding, "gzip");
    }
    if (!waited) {
      // The tag is of the bytes sent, so the gzip and plain forms differ.
      std::string tag = ETagOf(res->body());
      res->set(http::field::etag, tag);
      if (Matches(std::string(req[http::field::if_none_match]), tag)) {
        res->result(http::status::not_modified);
        res->body().clear();
        res->erase(http::field::content_encoding);
        res->erase(http::field::content_type);
        res->erase(http::field::content_disposition);
        res->content_length(boost::none);
        res->erase(http::field::content_length);
        res->prepare_payload();
        if (!vary.empty()) res->set(http::field::vary, vary);
        return;
      }
    }
  }
  if (!vary.empty()) res->set(http::field::vary, vary);
  res->prepare_payload();
  if (head) {
    // As GET, without the body: the length is what GET would send.
    const size_t length = res->body().size();
    res->body().clear();
    res->content_length(length);
  }
}

}  // namespace ocop::server
