// WitnessPusher: the log's side of c2sp.org/tlog-witness. After appends (at
// most once per `interval`), it signs a checkpoint of the whole log (through
// ledger/stream_heads.h's SignedCheckpoint, so it is recorded in
// signed-heads), sends it to every configured witness with the consistency
// proof from the size that witness last cosigned (POST /add-checkpoint;
// ledger/witness_protocol.h), checks each cosignature returned with the
// witness's key, and keeps the checkpoint with every cosignature gathered:
// what GET /checkpoint shows. A witness that answers 409 names its size and
// is asked again from it; one that refuses or cannot be reached is logged
// and asked again with the next checkpoint, and the others are not held up.
//
// The wall clock enters here, as the server's edge: nothing below reads it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/note.h"
#include "ledger/stream_heads.h"
#include "server/http_client.h"

namespace ocop::server {

struct WitnessTarget {
  std::string url;                // http://host:port[/prefix] of the witness
  ledger::note::VerifierKey key;  // its cosigning key (type 0x04)
};
// "URL=VKEY" (the --witness flag).
Status ParseWitnessTarget(const std::string& text, WitnessTarget* out);

class WitnessPusher {
 public:
  WitnessPusher(ledger::Ledger* ledger, ledger::StreamHeads* heads, std::string origin,
                std::vector<WitnessTarget> witnesses,
                std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  ~WitnessPusher();  // stops and joins

  void Start();
  // The latest checkpoint with the cosignatures gathered for it; empty
  // before the first round.
  std::string Latest() const;

 private:
  void Run();
  void PushOnce();

  ledger::Ledger* ledger_;
  ledger::StreamHeads* heads_;
  std::string origin_;
  std::vector<WitnessTarget> witnesses_;
  std::vector<Url> urls_;
  std::vector<uint64_t> sizes_;  // what each witness last cosigned, as far as we know
  std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::string latest_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ocop::server
