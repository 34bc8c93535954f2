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

// A reply that is not JSON (a note, a tile, a page, an SVG).
Response Text(const Request& req, const char* type, std::string body) {
  return Reply(req, 200, std::move(body), type);
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

Response ProofRoutes::Receipt(const Request& req, const Target& t) {
  const std::string_view kProducts = "/v1/products/", kReceipt = "/receipt";
  const std::string product =
      t.path.substr(kProducts.size(), t.path.size() - kProducts.size() - kReceipt.size());
  if (!PlainId(product)) return FromStatus(req, Status::NotFound("no product '" + product + "'"));
  nlohmann::ordered_json receipt;
  Status s = replay::MakeReceipt(ledger_, heads_.get(), origin_, product, query::TodayInVietnam(),
                                 pusher_ ? pusher_->Latest() : "", &receipt);
  if (!s.ok()) return FromStatus(req, s);
  return Text(req, "application/json", receipt.dump() + "\n");
}

Response ProofRoutes::VerifyPage(const Request& req, const Target& t) {
  const std::string_view rest =
      std::string_view(t.path).substr(std::string_view("/verify/").size());
  if (rest.ends_with("/qr.svg")) {
    std::string_view product = rest.substr(0, rest.size() - 7);
    if (!PlainId(product)) return FromStatus(req, Status::NotFound("no such page"));
    auto host = req.find(http::field::host);
    const std::string where =
        "http://" + (host == req.end() ? std::string("localhost") : std::string(host->value())) +
        "/verify/" + std::string(product);
    std::string svg;
    Status s = QrSvg(where, &svg);
    if (!s.ok()) return FromStatus(req, s);
    return Text(req, "image/svg+xml", std::move(svg));
  }
  if (!PlainId(rest)) return FromStatus(req, Status::NotFound("no such page"));
  const StaticFile* f = FindStatic("/verify.html");
  if (!f) return FromStatus(req, Status::NotFound("the verification page is not built in"));
  return Text(req, f->content_type, std::string(f->content, f->size));
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

Response ProofRoutes::AddCheckpoint(const Request& req, const Target&) {
  if (!witness_key_) {
    return FromStatus(req, Status::NotFound("this server is not a witness (serve --witness-key)"));
  }
  ledger::AddCheckpointRequest r;
  Status s = ledger::ParseAddCheckpoint(req.body(), &r);
  ledger::note::Note n;
  ledger::Checkpoint cp;
  if (s.ok()) s = ledger::note::ParseNote(r.checkpoint, &n);
  if (s.ok()) s = ledger::ParseCheckpoint(n.text, &cp);
  if (!s.ok()) return FromStatus(req, Status::InvalidArgument(s.message()));
  std::optional<ledger::ConsistencyProof> proof;
  if (r.old_size > 0) proof = ledger::ConsistencyProof{r.old_size, cp.size, r.proof};
  std::unique_ptr<ledger::WitnessStore> store;
  s = ledger::WitnessStore::Open(witness_state_, &store);
  if (!s.ok()) return FromStatus(req, s);
  // The server's edge: the cosignature's time is the wall clock's.
  ledger::AddCheckpointAnswer a =
      ledger::WitnessAddCheckpoint(store.get(), *witness_key_, witnessed_logs_, r.checkpoint,
                                   r.old_size, proof, static_cast<uint64_t>(std::time(nullptr)));
  if (a.http_status == 200) return Text(req, "text/plain; charset=utf-8", a.body);
  if (a.http_status == 409 && !a.body.empty()) {
    return Reply(req, 409, a.body, "text/x.tlog.size");
  }
  Response res = FromStatus(req, a.status);
  res.result(static_cast<http::status>(a.http_status));
  return res;
}

Response ProofRoutes::Checkpoint(const Request& req, const Target&) {
  std::string cosigned = pusher_ ? pusher_->Latest() : "";
  if (!cosigned.empty()) return Text(req, "text/plain; charset=utf-8", std::move(cosigned));
  ledger::Checkpoint c;
  std::string note;
  Status s = ledger::SignedCheckpoint(ledger_, heads_.get(), origin_, ledger_->Size(),
                                      ledger::HeadKind::kCheckpoint, &c, &note);
  if (!s.ok()) return FromStatus(req, s);
  return Text(req, "text/plain; charset=utf-8", std::move(note));
}

Response ProofRoutes::Tile(const Request& req, const Target& t) {
  std::string bytes;
  Status s = tiles_.Get(std::string_view(t.path).substr(std::string_view("/tile/").size()), &bytes);
  if (!s.ok()) return FromStatus(req, s);
  Response r = Text(req, "application/octet-stream", std::move(bytes));
  // A tile, full or partial, never changes once it exists.
  r.set(http::field::cache_control, "public, max-age=31536000, immutable");
  return r;
}

}  // namespace ocop::server
