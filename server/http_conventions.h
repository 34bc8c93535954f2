// HttpConventions: what every answer of `ocop serve` follows, whatever route
// made it, applied around Api by the server:
//
//  * HEAD is answered as GET would be, without the body (Content-Length and
//    ETag as for GET).
//  * OPTIONS (a CORS preflight) is answered 204 without a token: with the
//    Access-Control-Allow-* headers when the request's Origin is one allowed
//    (--cors ORIGIN, none by default: then no browser on another origin may
//    call the API), without them otherwise.
//  * A successful GET carries a strong ETag (SHA-256 of the body as sent); a
//    request whose If-None-Match names it is answered 304 without the body.
//    API reads are "private, no-cache": kept by the browser, revalidated each
//    time, never by a shared cache.
//  * A body of 1 KiB or more of text (JSON, HTML, CSS, JavaScript, CSV, SVG,
//    Markdown) is gzip-compressed for a client that accepts gzip; Vary says so.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/api.h"

namespace ocop::server {

struct HttpConventions {
  std::vector<std::string> cors_origins;  // allowed Origins; "*" allows every one

  // The answer to a preflight (OPTIONS), given before any token is asked for.
  std::optional<Response> Preflight(const Request& req) const;
  // Applies the conventions above to `res`, the answer to `req` (a HEAD
  // request having been handled as a GET: `head` says it was HEAD).
  void Finish(const Request& req, bool head, Response* res) const;

 private:
  bool Allowed(const std::string& origin) const;
};

// gzip of `in` (RFC 1952); false if zlib failed.
bool Gzip(const std::string& in, std::string* out);

}  // namespace ocop::server
