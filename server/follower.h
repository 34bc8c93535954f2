// Follower: a read-only replica of another ledger, over its HTTP API.
//
// It long-polls the primary's /v1/events, appends the exact stored bytes (so
// its tree is the primary's tree), then asks for the primary's signed head at
// its own size and checks three things: the signature (the primary's key,
// pinned on first contact), that its own root at that size is the head's
// root, and a consistency proof from the last head it verified. Any mismatch
// stops it loudly: the primary rewrote history, or the copy is damaged. This
// is how a province's ledger is mirrored for the national level.
#pragma once

#include <atomic>
#include <string>

#include "ledger/ledger.h"

namespace ocop::server {

struct FollowOptions {
  std::string url;    // http://host:port of the primary
  std::string token;  // bearer token for the primary
  int wait_seconds = 10;
  bool once = false;  // catch up and verify once, then return
  // Also a witness of the primary: with a key (`ocop witness key`), each time
  // the replica has verified the primary's tree at the size of the primary's
  // GET /checkpoint, it cosigns that checkpoint by the witness's rule
  // (ledger/witness_protocol.h, state in `witness_state`, default
  // DATA/witness) and keeps the cosigned note in DATA/COSIGNED_CHECKPOINT.
  std::string witness_key;
  std::string witness_state;
};

// Runs until `stop` is set (returns OK) or a check fails (Tampered) or the
// primary cannot be reached for long (IOError).
Status Follow(ledger::Ledger* replica, const FollowOptions& options, const std::atomic<bool>& stop);

}  // namespace ocop::server
