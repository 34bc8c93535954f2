// HttpServer: HTTP/1.1 over Boost.Asio and Beast, in front of an Api.
//
// I/O runs on a few threads. A POSTed command's token and body are checked
// and parsed by the I/O thread that read it; it then goes to one committer
// thread, which decides and appends all those waiting together (one
// hand-off, one group commit, one fsync for all of them); other reads run on a worker pool,
// long polls on a pool of their own, and liveness, metrics and the
// dashboard's files are answered on the I/O thread itself. Limits: header and
// body size, connections in all and per client address, time to send a
// request's header and time per request; a client over its share is
// answered 503 alone, so that one client cannot lock others out. A failed
// accept() (out of descriptors, say) is logged and retried with back-off,
// never the end of accepting. On SIGTERM or SIGINT it stops accepting, lets
// every request in flight finish and answer, and returns.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ledger/status.h"
#include "server/api.h"

namespace ocop::server {

struct ServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;
  size_t max_connections = 4096;           // in all (each costs a descriptor)
  size_t max_connections_per_client = 64;  // per remote address
  int header_timeout_seconds = 10;         // to send a request's header (slowloris)
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 1 << 20;
  int request_timeout_seconds = 40;  // a long poll waits at most 30
  int io_threads = 2;
  int workers = 16;
  int committers = 1;  // threads deciding and appending POSTed commands (see Committer)
  int waiters = 64;
  // Origins whose pages may call the API from a browser (CORS); none by
  // default. "*" allows every origin. See server/http_conventions.h.
  std::vector<std::string> cors_origins;
};

// Serves until a stop signal; returns OK after a clean drain.
Status Serve(Api& api, const ServerOptions& options);

// Parses "HOST:PORT" (the --listen flag).
Status ParseListen(const std::string& text, ServerOptions* options);

}  // namespace ocop::server
