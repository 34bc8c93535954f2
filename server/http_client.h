// A plain HTTP/1.1 client for the few requests the server makes itself (a
// replica to its primary, a log to its witnesses): one connection a request,
// a deadline on the whole exchange, errors as Status.
#pragma once

#include <string>

#include "ledger/status.h"

namespace ocop::server {

struct Url {
  std::string host, port;
  std::string path;  // the URL's path ("" or "/prefix"), without a trailing '/'
};
// "http://host[:port][/path]"; `what` names the peer in errors.
Status ParseUrl(const std::string& url, const std::string& what, Url* out);

// POSTs `body` to u.path + target and returns the status code and body of
// the answer; IOError if the peer cannot be reached or answers garbage.
Status Post(const Url& u, const std::string& target, const std::string& body,
            const std::string& content_type, int timeout_s, int* status, std::string* answer);

// GETs u.path + target (no token: a public route) and returns the status
// code and body of the answer.
Status Fetch(const Url& u, const std::string& target, int timeout_s, int* status,
             std::string* answer);

}  // namespace ocop::server
