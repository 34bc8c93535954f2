#include "server/api.h"

#include <capnp/message.h>
#include <kj/exception.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "ledger/encoding.h"
#include "server/routes.h"
#include "workflow/json.h"

namespace ocop::server {
Status Api::CatchUp() {
  std::lock_guard<std::mutex> l(catch_up_mu_);
  return projections_->CatchUp();
}

// Every append of this process comes through Handle (the projections are
// caught up before serving starts), so folding up to the highest answered
// sequence number is enough for reads to see every write a client was told
// of. Events still committing, or not yet answered, need not be waited for;
// the follower thread folds them anyway. Under steady writes most reads then
// find the projections far enough and take no lock: a read no longer waits
// for the fold of a group it could not have known about (bench/http_load.sh,
// GETs while 8 connections write).
Status Api::CatchUpForRead() {
  uint64_t need = answered_.load(std::memory_order_acquire);
  if (projections_->checkpoint() >= need) return Status::OK();
  reads_behind_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(catch_up_mu_);
  return projections_->CatchUp({}, need);
}

void Api::Answered(const std::vector<uint64_t>& seqs) {
  if (seqs.empty()) return;
  uint64_t last = *std::max_element(seqs.begin(), seqs.end());
  uint64_t seen = answered_.load();
  while (seen < last && !answered_.compare_exchange_weak(seen, last)) {
  }
}

std::optional<std::string> Api::Authorize(const Request& req, Response* refused,
                                          std::string* route) {
  auto auth = req[http::field::authorization];
  std::string token;
  if (auth.size() > 7 && auth.substr(0, 7) == "Bearer ")
    token = std::string(auth.substr(7).data(), auth.size() - 7);
  auto who = token.empty() ? std::nullopt : tokens_.PrincipalFor(token);
  if (!who) {
    *route = "/v1 (unauthorized)";  // one label, whatever path was tried
    *refused =
        Error(req, 401, "unauthorized",
              token.empty() ? "send Authorization: Bearer TOKEN (made by `ocop token add`)"
                            : "that token is not known; ask for one made by `ocop token add`");
    refused->set(http::field::www_authenticate, "Bearer");
  }
  return who;
}

// The common case, one command (a JSON object), goes to ParseCommand as sent:
// parsing it as JSON as well and printing it again for ParseCommand cost
// about a tenth of a POST's CPU (bench/http_load.sh). Anything else, or a body
// ParseCommand refuses, takes Handle's general path, which says what is wrong.
bool Api::ParseOneCommand(const Request& req, capnp::MallocMessageBuilder* msg) {
  size_t first = req.body().find_first_not_of(" \t\r\n");
  return first != std::string::npos && req.body()[first] == '{' &&
         workflow::ParseCommand(req.body(), msg).ok();
}

Response Api::CommandReply(const Request& req, const Status& s, const workflow::Outcome& o,
                           std::chrono::steady_clock::time_point start) {
  if (!s.ok()) return FromStatus(req, s);
  Answered(o.seqs);
  // {"ok":true,"seqs":[...]} and "duplicate":true if it was one, as
  // JsonReply prints it, written directly: one reply per command.
  std::string body = "{\"ok\":true,\"seqs\":[";
  for (size_t i = 0; i < o.seqs.size(); ++i) {
    if (i > 0) body += ',';
    body += std::to_string(o.seqs[i]);
  }
  body += o.duplicate ? "],\"duplicate\":true}\n" : "]}\n";
  metrics_->Append(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return Reply(req, 200, std::move(body));
}

Response Api::Internal(const Request& req, const std::string& what) {
  return Error(req, 500, "internal", what);
}

Response Api::HandleSafely(const Request& req, std::string* principal, std::string* route) {
  Response res;
  std::optional<std::string> thrown = Thrown([&] { res = Handle(req, principal, route); });
  return thrown ? Internal(req, *thrown) : res;
}

Api::Lane Api::LaneOf(const Request& req) {
  Target t = ParseTarget(std::string_view(req.target().data(), req.target().size()));
  const Route* r = FindRoute(t.path);
  if (r && r->method == req.method() && (r->open || r->lane == Lane::kCommands)) return r->lane;
  return t.query.count("wait") ? Lane::kWaiting : Lane::kWorker;
}

Api::Prepared Api::PrepareCommand(const Request& req) {
  Prepared p;
  Response refused;
  std::string route;
  auto who = Authorize(req, &refused, &route);
  if (!who) return p;
  auto msg = std::make_unique<capnp::MallocMessageBuilder>();
  if (!ParseOneCommand(req, msg.get())) return p;
  p.who = std::move(*who);
  p.command = std::move(msg);
  return p;
}

void Api::HandleCommands(const std::vector<const Request*>& reqs,
                         const std::vector<Prepared>& prepared, std::vector<Response>* out,
                         std::vector<std::string>* principals, std::vector<std::string>* routes) {
  const size_t n = reqs.size();
  out->assign(n, Response());
  principals->assign(n, "");
  routes->assign(n, "/v1/commands");
  auto start = std::chrono::steady_clock::now();
  std::vector<workflow::Service::Submission> batch;
  std::vector<size_t> index;  // batch position -> request
  for (size_t i = 0; i < n; ++i) {
    const Request& req = *reqs[i];
    if (!prepared[i].command) {
      // Refused, or anything but one valid command: answered alone, as ever.
      (*out)[i] = HandleSafely(req, &(*principals)[i], &(*routes)[i]);
      continue;
    }
    (*principals)[i] = prepared[i].who;
    batch.push_back({workflow::Principal{prepared[i].who, false},
                     prepared[i].command->getRoot<workflow::schema::Command>()});
    index.push_back(i);
  }
  std::vector<Status> statuses;
  std::vector<workflow::Outcome> outcomes;
  // SubmitEach reports by Status; should anything throw all the same, which
  // commands were appended is unknown, and each is told so (a 500, after
  // which a client resends with its id and learns the outcome).
  std::optional<std::string> thrown =
      Thrown([&] { service_.SubmitEach(batch, &statuses, &outcomes); });
  for (size_t k = 0; k < batch.size(); ++k) {
    const Request& req = *reqs[index[k]];
    (*out)[index[k]] =
        thrown ? Internal(req, *thrown) : CommandReply(req, statuses[k], outcomes[k], start);
  }
}

Response Api::Handle(const Request& req, std::string* principal, std::string* route) {
  Target t = ParseTarget(std::string_view(req.target().data(), req.target().size()));
  const std::string& p = t.path;
  *route = "(unknown)";
  // A NUL (%00) would cut an id short wherever it is treated as C text, and
  // so name another product than the one asked for: refused everywhere.
  bool nul = p.find('\0') != std::string::npos;
  for (const auto& [k, v] : t.query) nul |= (k + v).find('\0') != std::string::npos;
  if (nul) {
    return Error(req, 400, "invalid_argument",
                 "the path or query holds a NUL character (%00), which no id or value may hold");
  }

  const Route* r = FindRoute(p);
  const bool method_ok = r && r->method == req.method();
  if (method_ok && r->open) {
    *route = r->name;
    return (this->*r->handle)(req, t, "");
  }
  if (r && r->open) {
    // An open route refuses another method as it answers its own: without a
    // token (a witness or a mirror has none).
    if (r->label_other_methods) *route = r->name;
    return Error(req, 405, "method_not_allowed", r->methods_allowed);
  }

  // Everything else speaks for a principal.
  Response refused;
  auto who = Authorize(req, &refused, route);
  if (!who) return refused;
  *principal = *who;

  if (!r) {
    if (req.method() != http::verb::get) {
      return Error(req, 405, "method_not_allowed", "only GET here");
    }
    return Error(req, 404, "not_found", "no route " + p);
  }
  if (!method_ok) {
    if (r->label_other_methods) *route = r->name;
    return Error(req, 405, "method_not_allowed", r->methods_allowed);
  }
  if (r->reads_projections) {
    // The rest reads the projections: fold what was appended first.
    Status s = CatchUpForRead();
    if (!s.ok()) return FromStatus(req, s);
  }
  *route = r->name;
  return (this->*r->handle)(req, t, *who);
}

}  // namespace ocop::server
