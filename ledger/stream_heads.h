// StreamHeads: the StreamMap (ledger/stream_map.h) of a ledger's log at any
// size, and the checkpoints that commit to it.
//
// A checkpoint of size N carries, besides the RFC 6962 root, the root of the
// map of every stream's head among the first N events, as the extension line
//
//   ocop-stream-heads BASE64(map root)
//
// so that one signature covers "these are all the events" as well as "these
// events are in the log": a bundle that leaves out a stream's last event is
// caught by the stream's head, one that leaves out an earlier one by the gap
// in versions below it.
//
// What it costs appends. The map is a function of the log's prefix, so it
// need not be kept in step with every append: it is folded lazily, when a
// checkpoint or a proof is asked for, and the work per checkpoint is
// proportional to the events since the previous one, O(log n) each; the
// map's root rehashes only the paths they touched. The events come from the
// appender itself: StreamHeads is the Ledger's write observer
// (Ledger::SetWriteObserver), which hands it each group's (stream, version,
// seq) as written, and the fold takes a group only once Size() covers it
// (durable), never reading those events back. What the feed does not hold
// (events appended before Open, by another process, replicated, or a group
// straddling the size asked for) is read back from the log instead: one
// sequential scan of the events column family, decoding each stream. Both
// give the same map (tests/stream_heads_test.cc). Each stream's name is
// hashed into its key once and kept (StreamKeys), not once per event. The
// appender's share is copying each group's stream names; the rest, about
// 1.2 to 1.7 us per event at one checkpoint a second (mostly rehashing the
// root's changed paths), runs on the thread that asks for the checkpoint, CPU
// that on a machine with no core to spare the appender waits for
// (BENCHMARKS.md, issue 14: 0.944 of the rate without the map on two shared
// cores, the mean of six pairs from 0.86 to 1.13). The price also moves to
// the first checkpoint after a burst.
//
// Persistence. The folded map is written to DIR/stream-heads (sorted leaves,
// the size they are of, and a SHA-256 of the file) when a checkpoint is signed
// at least kPersistEvery (262,144) events after the last write, so that a new process
// (every CLI command is one) folds only the events since. A missing or
// damaged file costs a refold from event 1, never a wrong root: it is derived
// data, and its checksum is checked on load.
//
// The latest checkpoint. SignedCheckpoint also keeps the note of the largest
// checkpoint it signed in DIR/latest-checkpoint (durably, replaced whole), so
// that `ocop verify` can check what the log last promised about its streams
// (AuditStreamHeads below) without a witness at hand.
//
// Historic sizes. A checkpoint or proof at a size below the current map's is
// computed on demand: from the persisted file when it is not past that size,
// else from event 1, into a second map kept for the next request at a size at
// least as large (a dispute's proofs are usually all at one size).
//
// Thread-safety: every method may be called from any thread; one mutex
// serialises them (a fold holds it). The feed has a mutex of its own, held
// only to queue or take a group, so that the appender never waits for a fold.
// One StreamHeads per Ledger is fed: one opened later takes the feed over,
// and the earlier one reads back what it misses.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/stream_map.h"

namespace ocop::ledger {

class StreamHeads {
 public:
  static constexpr const char* kFileName = "stream-heads";
  static constexpr uint64_t kPersistEvery = 1 << 18;
  static constexpr const char* kLatestFileName = "latest-checkpoint";
  // Events the feed holds for a fold at most (about 40 bytes each, so about
  // 10 MB, 17 s of appends at 15,000 a second, for a process that never
  // signs); past it the oldest groups are dropped, and read back if needed.
  static constexpr uint64_t kFeedLimit = 1 << 18;

  // Reads the persisted map, if any; folds nothing yet. `persist_every`
  // other than kPersistEvery is for tests.
  static Status Open(Ledger* ledger, std::unique_ptr<StreamHeads>* out,
                     uint64_t persist_every = kPersistEvery);

  // The map's root at log size `size` (<= ledger->Size()).
  Status Root(uint64_t size, merkle::Hash* root);
  // The root at `size` and the proof of `stream`'s head there.
  Status Prove(uint64_t size, std::string_view stream, merkle::Hash* root, HeadProof* proof);

  ~StreamHeads();

  // Events folded by this object so far (what checkpoints cost), and how
  // many of them came from the appender's feed rather than the log.
  uint64_t folded() const;
  uint64_t fed() const;

  // Keeps `note`, a checkpoint of `size` this log signed, in
  // DIR/latest-checkpoint unless one at least as large is kept already.
  Status KeepLatest(uint64_t size, const std::string& note);

 private:
  struct Feed;

  StreamHeads() = default;
  // The map at exactly `size`, folded as needed; valid while mu_ is held.
  Status MapAt(uint64_t size, StreamMap** out);
  // Folds current_ to `to`: the feed's groups, and the log for what they miss.
  Status FoldCurrent(uint64_t to);
  Status Fold(StreamMap* map, uint64_t from, uint64_t to);
  Status Load(std::unique_ptr<StreamMap>* map, uint64_t* size);
  Status Persist();

  Ledger* ledger_ = nullptr;
  std::string path_;
  mutable std::mutex mu_;
  std::unique_ptr<StreamMap> current_;
  uint64_t current_size_ = 0;
  std::unique_ptr<StreamMap> past_;
  uint64_t past_size_ = 0;
  uint64_t persisted_size_ = 0;
  uint64_t persist_every_ = kPersistEvery;
  uint64_t folded_ = 0;
  uint64_t fed_ = 0;
  StreamKeys keys_;
  std::shared_ptr<Feed> feed_;  // shared with the Ledger's observer
  uint64_t latest_size_ = 0;    // of DIR/latest-checkpoint (0: none)
};

// What `ocop verify` checks of the map, besides the log itself:
//  * DIR/stream-heads, if there is one, is whole (its checksum), of a size
//    the log has, and holds exactly the heads a fresh fold of the log to that
//    size gives (so that its root is theirs);
//  * DIR/latest-checkpoint, if there is one, is signed by one of `log_keys`,
//    its root is the log's at its size, and its `ocop-stream-heads` line is
//    the root of a fresh fold of the log to that size.
// The fold is one scan of the first max(sizes) events. OK with *audit saying
// what was checked, or Tampered naming the first thing that does not hold
// (the file, the size, the stream whose head differs).
struct StreamHeadsAudit {
  bool file = false;  // DIR/stream-heads was there
  uint64_t file_size = 0;
  uint64_t file_streams = 0;
  bool checkpoint = false;  // DIR/latest-checkpoint was there
  uint64_t checkpoint_size = 0;
  merkle::Hash map_root{};  // the checkpoint's, checked
};
Status AuditStreamHeads(Ledger* ledger, const std::vector<note::VerifierKey>& log_keys,
                        StreamHeadsAudit* audit);

// "ocop-stream-heads BASE64(root)".
std::string StreamHeadsExtension(const merkle::Hash& root);
// The map root a checkpoint commits to: NotFound if it carries none,
// Tampered if the line is garbled.
Status StreamHeadsRootOf(const Checkpoint& c, merkle::Hash* root);

// The signed checkpoint of the first `size` events, committing to their
// stream heads: the head is recorded as `kind` (Ledger::TreeHead) before it
// is signed, so that every checkpoint given out is remembered, and the note
// is kept by StreamHeads::KeepLatest.
Status SignedCheckpoint(Ledger* ledger, StreamHeads* heads, const std::string& origin,
                        uint64_t size, HeadKind kind, Checkpoint* c, std::string* note);

}  // namespace ocop::ledger
