// A plain HTTP/1.1 client for the few requests the server makes itself (a
// replica to its primary, a log to its witnesses, notices to a webhook): one
// connection a request, a deadline on the whole exchange, errors as Status.
// Every answer's body is bounded, since the peer is outside the ledger's trust.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "ledger/status.h"

namespace ocop::server {

struct Url {
  std::string host, port;
  std::string path;  // the URL's path as written ("" or "/prefix" or "/hook/")
};
// "http://host[:port][/path]"; `what` names the peer in errors.
Status ParseUrl(const std::string& url, const std::string& what, Url* out);

// One request to a peer. Its target is the URL's path joined with `target` (one '/'
// between them; "/" when both are empty).
struct PeerRequest {
  bool post = false;               // GET otherwise
  std::string target;              // e.g. "/checkpoint" or "/v1/events?from=1"
  std::string body, content_type;  // a POST's
  std::string bearer;              // sent as "Authorization: Bearer …" when not empty
  std::vector<std::pair<std::string, std::string>> headers;  // any others
  int timeout_s = 30;                                        // for the whole exchange
  size_t answer_limit = 1 << 20;                             // the largest body accepted
};
struct PeerAnswer {
  int status = 0;  // the HTTP status code
  std::string body;
};
// OK with the answer whatever its status code; IOError if the peer cannot be
// reached, answers garbage, too much, or too late.
Status Send(const Url& u, const PeerRequest& r, PeerAnswer* out);

// POSTs `body` to u.path + target and returns the status code and body of
// the answer.
Status Post(const Url& u, const std::string& target, const std::string& body,
            const std::string& content_type, int timeout_s, int* status, std::string* answer);

// GETs u.path + target (no token: a public route) and returns the status
// code and body of the answer.
Status Fetch(const Url& u, const std::string& target, int timeout_s, int* status,
             std::string* answer);

}  // namespace ocop::server
