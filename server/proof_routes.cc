#include "server/proof_routes.h"

#include <nlohmann/json.hpp>

namespace ocop::server {

namespace {

std::string_view PathOf(const Request& req) {
  std::string_view t(req.target().data(), req.target().size());
  return t.substr(0, t.find('?'));
}

Response Plain(const Request& req, http::status status, const char* type, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response Error(const Request& req, const Status& s) {
  const http::status status = s.IsNotFound()          ? http::status::not_found
                              : s.IsInvalidArgument() ? http::status::bad_request
                              : s.IsNoSpace()         ? http::status::insufficient_storage
                                                      : http::status::internal_server_error;
  const std::string code = s.IsNotFound()          ? "not_found"
                           : s.IsInvalidArgument() ? "invalid_argument"
                                                   : "internal";
  nlohmann::json e{{"error", {{"code", code}, {"message", s.message()}}}};
  return Plain(req, status, "application/json",
               e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace

Status ProofRoutes::Open(ledger::Ledger* ledger, std::string origin,
                         std::unique_ptr<ProofRoutes>* out) {
  std::unique_ptr<ProofRoutes> r(new ProofRoutes(ledger, std::move(origin)));
  Status s = ledger::StreamHeads::Open(ledger, &r->heads_);
  if (!s.ok()) return s;
  *out = std::move(r);
  return Status::OK();
}

bool ProofRoutes::Serves(std::string_view target) {
  std::string_view p = target.substr(0, target.find('?'));
  return p == "/checkpoint" || p.starts_with("/tile/");
}

Response ProofRoutes::Handle(const Request& req, std::string* route) {
  const std::string_view p = PathOf(req);
  *route = p == "/checkpoint" ? "/checkpoint" : "/tile";
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Response r = Error(req, Status::InvalidArgument(std::string(p) + " is read with GET"));
    r.result(http::status::method_not_allowed);
    return r;
  }
  if (p == "/checkpoint") {
    ledger::Checkpoint c;
    std::string note;
    Status s = ledger::SignedCheckpoint(ledger_, heads_.get(), origin_, ledger_->Size(),
                                        ledger::HeadKind::kCheckpoint, &c, &note);
    if (!s.ok()) return Error(req, s);
    Response r = Plain(req, http::status::ok, "text/plain; charset=utf-8", std::move(note));
    r.set(http::field::cache_control, "no-store");
    return r;
  }
  std::string bytes;
  Status s = tiles_.Get(p.substr(6), &bytes);
  if (!s.ok()) return Error(req, s);
  Response r = Plain(req, http::status::ok, "application/octet-stream", std::move(bytes));
  // A tile, full or partial, never changes once it exists.
  r.set(http::field::cache_control, "public, max-age=31536000, immutable");
  return r;
}

}  // namespace ocop::server
