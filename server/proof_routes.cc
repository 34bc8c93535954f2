#include "server/proof_routes.h"

#include <nlohmann/json.hpp>

#include <cctype>

#include <ctime>

#include "ledger/witness_protocol.h"
#include "query/queries.h"
#include "replay/receipt.h"
#include "server/qr_svg.h"
#include "server/static_files.h"

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
                           : s.IsTampered()        ? "tampered"
                           : s.IsConflict()        ? "conflict"
                           : s.IsRefused()         ? "refused"
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
  return p == "/checkpoint" || p.starts_with("/tile/") || p == "/add-checkpoint" ||
         p.starts_with("/verify/") || (p.starts_with("/v1/products/") && p.ends_with("/receipt"));
}

namespace {

// A product id as it may appear in a path: what the ledger's ids are made of.
bool PlainId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

}  // namespace

Response ProofRoutes::Receipt(const Request& req, std::string_view product) {
  nlohmann::ordered_json receipt;
  Status s =
      replay::MakeReceipt(ledger_, heads_.get(), origin_, std::string(product),
                          query::TodayInVietnam(), pusher_ ? pusher_->Latest() : "", &receipt);
  if (!s.ok()) return Error(req, s);
  Response r = Plain(req, http::status::ok, "application/json", receipt.dump() + "\n");
  r.set(http::field::cache_control, "no-store");
  return r;
}

Response ProofRoutes::VerifyPage(const Request& req, std::string_view rest) {
  if (rest.ends_with("/qr.svg")) {
    std::string_view product = rest.substr(0, rest.size() - 7);
    if (!PlainId(product)) return Error(req, Status::NotFound("no such page"));
    auto host = req.find(http::field::host);
    const std::string where =
        "http://" + (host == req.end() ? std::string("localhost") : std::string(host->value())) +
        "/verify/" + std::string(product);
    std::string svg;
    Status s = QrSvg(where, &svg);
    if (!s.ok()) return Error(req, s);
    return Plain(req, http::status::ok, "image/svg+xml", std::move(svg));
  }
  if (!PlainId(rest)) return Error(req, Status::NotFound("no such page"));
  const StaticFile* f = FindStatic("/verify.html");
  if (!f) return Error(req, Status::NotFound("the verification page is not built in"));
  return Plain(req, http::status::ok, f->content_type, std::string(f->content, f->size));
}

Status ProofRoutes::EnableWitness(const std::string& key_file, const std::string& state_dir,
                                  const std::vector<std::string>& log_vkeys) {
  auto key = std::make_unique<ledger::WitnessKey>();
  Status s = ledger::LoadWitnessKey(key_file, key.get());
  if (!s.ok()) return s;
  for (const auto& v : log_vkeys) {
    ledger::note::VerifierKey k;
    s = ledger::note::ParseVerifierKey(v, &k);
    if (!s.ok() || k.type != ledger::note::kEd25519) {
      return Status::InvalidArgument("--witness-log " + v +
                                     ": not a log's verifier key (type 0x01)" +
                                     (s.ok() ? "" : ": " + s.message()));
    }
    witnessed_logs_.push_back(k);
  }
  std::unique_ptr<ledger::WitnessStore> probe;  // fail at start, not at the first request
  s = ledger::WitnessStore::Open(state_dir, &probe);
  if (!s.ok()) return s;
  witness_key_ = std::move(key);
  witness_state_ = state_dir;
  return Status::OK();
}

Response ProofRoutes::AddCheckpoint(const Request& req) {
  if (!witness_key_) {
    return Error(req, Status::NotFound("this server is not a witness (serve --witness-key)"));
  }
  ledger::AddCheckpointRequest r;
  Status s = ledger::ParseAddCheckpoint(req.body(), &r);
  ledger::note::Note n;
  ledger::Checkpoint cp;
  if (s.ok()) s = ledger::note::ParseNote(r.checkpoint, &n);
  if (s.ok()) s = ledger::ParseCheckpoint(n.text, &cp);
  if (!s.ok()) return Error(req, Status::InvalidArgument(s.message()));
  std::optional<ledger::ConsistencyProof> proof;
  if (r.old_size > 0) proof = ledger::ConsistencyProof{r.old_size, cp.size, r.proof};
  std::unique_ptr<ledger::WitnessStore> store;
  s = ledger::WitnessStore::Open(witness_state_, &store);
  if (!s.ok()) return Error(req, s);
  // The server's edge: the cosignature's time is the wall clock's.
  ledger::AddCheckpointAnswer a =
      ledger::WitnessAddCheckpoint(store.get(), *witness_key_, witnessed_logs_, r.checkpoint,
                                   r.old_size, proof, static_cast<uint64_t>(std::time(nullptr)));
  if (a.http_status == 200) {
    return Plain(req, http::status::ok, "text/plain; charset=utf-8", a.body);
  }
  if (a.http_status == 409 && !a.body.empty()) {
    return Plain(req, http::status::conflict, "text/x.tlog.size", a.body);
  }
  Response res = Error(req, a.status);
  res.result(static_cast<http::status>(a.http_status));
  return res;
}

Response ProofRoutes::Handle(const Request& req, std::string* route) {
  const std::string_view p = PathOf(req);
  if (p == "/add-checkpoint") {
    *route = "/add-checkpoint";
    if (req.method() != http::verb::post) {
      Response r = Error(req, Status::InvalidArgument("/add-checkpoint is sent with POST"));
      r.result(http::status::method_not_allowed);
      return r;
    }
    return AddCheckpoint(req);
  }
  *route = p == "/checkpoint"          ? "/checkpoint"
           : p.starts_with("/tile/")   ? "/tile"
           : p.starts_with("/verify/") ? "/verify/{id}"
                                       : "/v1/products/{id}/receipt";
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Response r = Error(req, Status::InvalidArgument(std::string(p) + " is read with GET"));
    r.result(http::status::method_not_allowed);
    return r;
  }
  if (p.starts_with("/verify/")) {
    return VerifyPage(req, p.substr(8));
  }
  if (p.starts_with("/v1/products/")) {
    if (p.size() <= 13 + 8) return Error(req, Status::NotFound("no product named"));
    std::string_view product = p.substr(13, p.size() - 13 - 8);
    if (!PlainId(product))
      return Error(req, Status::NotFound("no product '" + std::string(product) + "'"));
    return Receipt(req, product);
  }
  if (p == "/checkpoint") {
    std::string cosigned = pusher_ ? pusher_->Latest() : "";
    if (!cosigned.empty()) {
      Response r = Plain(req, http::status::ok, "text/plain; charset=utf-8", std::move(cosigned));
      r.set(http::field::cache_control, "no-store");
      return r;
    }
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
