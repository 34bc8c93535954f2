// ProofRoutes: what transparency tooling reads of the log, public (no token;
// nothing here is personal, and a mirror must be able to copy it):
//
//   GET /checkpoint   the signed checkpoint of the whole log (C2SP
//                     tlog-checkpoint, text/plain), committing to every
//                     stream's head; signed through Ledger::TreeHead, so
//                     every checkpoint served is recorded in signed-heads
//   GET /tile/...     the tiles of c2sp.org/tlog-tiles (ledger/tiles.h)
//   GET /v1/products/{id}/receipt   the product's receipt (replay/receipt.h),
//                     at the latest cosigned checkpoint when witnesses are
//                     configured; public like the page below, since it holds
//                     nothing the page does not show (no producer, no person)
//   GET /verify/{id}  the public verification page (web/verify.html): it
//                     checks the receipt in the browser (WebCrypto)
//   GET /verify/{id}/qr.svg   a QR code of that page's address, for labels
//   POST /add-checkpoint   when this server is also a witness of other logs
//                     (c2sp.org/tlog-witness; ledger/witness_protocol.h)
//
// With a WitnessPusher, GET /checkpoint shows the latest checkpoint pushed,
// with the witnesses' cosignatures (a fresh one until the first push).
//
// They are rows of the server's one route table (server/routes.cc), open
// (no token) and answered on the worker threads (a checkpoint may fold
// events and writes signed-heads; a tile may read events): Api::Handle calls
// the method of the row, with the path's method already checked.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ledger/ledger.h"
#include "ledger/stream_heads.h"
#include "ledger/tiles.h"
#include "ledger/witness.h"
#include "server/reply.h"
#include "server/witness_pusher.h"

namespace ocop::server {

class ProofRoutes {
 public:
  // `origin` is the log's (ledger/log_origin.h).
  static Status Open(ledger::Ledger* ledger, std::string origin, std::unique_ptr<ProofRoutes>* out);

  // The routes' answers; `t` is the request's decoded target.
  Response Checkpoint(const Request& req, const Target& t);
  Response Tile(const Request& req, const Target& t);
  Response Receipt(const Request& req, const Target& t);
  Response VerifyPage(const Request& req, const Target& t);
  Response AddCheckpoint(const Request& req, const Target& t);

  ledger::StreamHeads* heads() { return heads_.get(); }
  void set_pusher(const WitnessPusher* pusher) { pusher_ = pusher; }
  // Makes this server a witness of the logs whose verifier keys are given,
  // with its key file and state directory (ledger/witness.h).
  Status EnableWitness(const std::string& key_file, const std::string& state_dir,
                       const std::vector<std::string>& log_vkeys);

 private:
  ProofRoutes(ledger::Ledger* ledger, std::string origin)
      : ledger_(ledger), origin_(std::move(origin)), tiles_(ledger) {}
  ledger::Ledger* ledger_;
  std::string origin_;
  std::unique_ptr<ledger::StreamHeads> heads_;
  ledger::Tiles tiles_;
  const WitnessPusher* pusher_ = nullptr;
  // The witness role, if enabled.
  std::unique_ptr<ledger::WitnessKey> witness_key_;
  std::string witness_state_;
  std::vector<ledger::note::VerifierKey> witnessed_logs_;
};

}  // namespace ocop::server
