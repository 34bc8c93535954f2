// Private to server/: a row of the route table. Api::Handle answers a request
// by its row, and Api::LaneOf chooses the request's thread by the same row,
// so that a route added is routed and laned alike.
#pragma once

#include <string_view>

#include "server/api.h"

namespace ocop::server {

struct Api::Route {
  using Handler = Response (Api::*)(const Request&, const Target&, const std::string& who);

  // The path: exact, or `prefix` + a non-empty id + `suffix` when `prefix`
  // ends with '/'. The static route ("") takes every path outside /v1/.
  std::string_view prefix;
  std::string_view suffix;
  http::verb method;
  // Answered without a token (and a request with another method refused
  // 405 without one): liveness, metrics and the dashboard's files, from
  // memory on the I/O thread (Lane::kInline); the public proof routes on the
  // workers.
  bool open;
  // Fold what was appended before answering (the route reads the projections).
  bool reads_projections;
  // kCommands or kWorker; a kWorker request with a wait= query goes to
  // kWaiting, whatever its route (a long poll never reaches the I/O thread).
  Lane lane;
  // The label in metrics and logs.
  const char* name;
  // What a request with another method is told (405).
  const char* methods_allowed;
  // Whether such a request is labelled with `name` (else "(unknown)").
  bool label_other_methods;
  Handler handle;
};

}  // namespace ocop::server
