// Private to ledger/: what the files of Ledger share (ledger.h's promises are
// kept by open.cc, append.cc, read.cc and tree_store.cc together).
#pragma once

#include <capnp/message.h>
#include <rocksdb/db.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ledger/keys.h"
#include "ledger/ledger.h"

namespace ocop::ledger {

inline constexpr const char* kEventsCf = "events";
inline constexpr const char* kStreamsCf = "streams";
inline constexpr const char* kHeadsCf = "heads";
inline constexpr const char* kIdemCf = "idem";
inline constexpr const char* kTreeCf = "tree";
inline constexpr const char* kLockFile = "ocop.lock";
inline constexpr const char* kKeyFile = "signing-key.pem";

Status FromRocks(const rocksdb::Status& s, const std::string& what);
inline std::string_view AsView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// One caller of Append, waiting in the queue. The envelopes are built by the
// caller's own thread before it queues; the group's writer only fills in the
// numbers it assigns (seq, version, recording time), which are fixed-width
// fields and never reallocate the message.
struct Ledger::Writer {
  const AppendRequest* request = nullptr;
  const std::vector<std::string>* replicated = nullptr;  // AppendReplicated's events
  AppendResult* result = nullptr;
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> envelopes;
  std::string digest;  // what the idempotency key is bound to
  size_t bytes = 0;
  Status status;
  // Where the caller stands, set by other threads through Wake (append.cc):
  // queued, at the front of the queue (it leads), or answered (status is
  // final). The caller waits on its own mutex, not the queue's, so that a
  // wake-up neither waits for the queue nor makes the woken thread wait for it.
  enum class Turn { kQueued, kLead, kDone };
  std::thread::id thread;  // the caller's, for the wait for returners (append.cc)

  // Called by another thread. The notification is made under turn_mu, which
  // the caller must take again before it can return and destroy this Writer.
  void Wake(Turn t) {
    std::lock_guard<std::mutex> g(turn_mu);
    turn = t;
    cv.notify_one();
  }
  // The caller's wait for its turn to change from kQueued.
  Turn Await() {
    std::unique_lock<std::mutex> g(turn_mu);
    cv.wait(g, [&] { return turn != Turn::kQueued; });
    return turn;
  }

 private:
  Turn turn = Turn::kQueued;
  std::mutex turn_mu;
  std::condition_variable cv;
};

// The writer's view of state that this group changes but has not committed.
struct Ledger::GroupState {
  uint64_t next_seq = 0;
  merkle::Frontier frontier;
  int64_t recorded_at = 0;
  std::unordered_map<std::string, uint64_t> versions;  // stream -> version after this group
  std::unordered_map<std::string, std::pair<std::string, std::vector<uint64_t>>> keys;
};

// The hash tree as stored (ledger format 2; runs.cc writes, tree_store.cc reads). The key is
// keys::TreeNode(level, first); the value holds the hashes of k >= 1
// consecutive complete subtrees of that level, first .. first + k - 1, 32
// bytes each: a run. Runs of a level never overlap and never cross a multiple
// of kTreeRunSpan (so no value exceeds 8 KiB). An append writes, per level, one
// run for the subtrees it completes instead of one key per subtree: a batch of
// 1000 events writes about 20 keys where format 1 wrote about 2000, each of
// which cost a memtable insert (BENCHMARKS.md, issue 18). Format 1 kept one
// subtree per key, which is a run of one, so both are read alike and old data
// needs no rewriting.
inline constexpr uint64_t kTreeRunSpan = 256;

// Collects the subtrees that appends complete (Frontier::Append's sink) into
// runs, and puts them into a write batch.
class TreeRuns {
 public:
  void Add(int level, uint64_t index, const merkle::Hash& h);
  // Puts every run collected into `batch` and forgets them.
  void Flush(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* tree);

 private:
  struct Run {
    int level = 0;
    uint64_t first = 0;
    std::string hashes;
  };
  std::vector<Run> runs_;
  std::vector<size_t> open_;  // per level, 1 + the index in runs_ of its last run; 0 if none
};

// The streams family likewise (format 2): the key is keys::StreamEntry(stream,
// first); the value the seqs (8 bytes each) of the stream's versions first ..
// first + k - 1, which never cross a multiple of kTreeRunSpan. A batch of 1000
// events over 50 streams writes 50 keys where format 1 wrote 1000; format 1's
// one version per key is a run of one.
class StreamRuns {
 public:
  void Add(const std::string& stream, uint64_t version, uint64_t seq);
  // Puts every run collected into `batch` and forgets them.
  void Flush(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* streams);

 private:
  struct Run {
    std::string key;
    uint64_t next_version = 0;
    std::string seqs;
  };
  std::vector<Run> runs_;
  std::unordered_map<std::string, size_t> open_;  // stream -> its last run in runs_
};

// True when `it` is on a run of `stream`: its first version and how many
// seqs it holds (0 for a value that is not a whole number of seqs).
bool StreamRunAt(const rocksdb::Iterator& it, std::string_view stream, uint64_t* first,
                 uint64_t* count);
// The seq of version `version` of `stream`, through `it` (an iterator over the
// streams family); Corruption when no run holds it.
Status StreamEntrySeq(rocksdb::Iterator* it, std::string_view stream, uint64_t version,
                      uint64_t* seq);

// Reads complete subtrees from the runs of the tree family. One reader serves
// one operation (a root, a proof): its iterator sees the store as it was at
// the first read, which holds every subtree of a tree of size <= Size() read
// before it was made.
class Ledger::TreeReader : public merkle::NodeReader {
 public:
  explicit TreeReader(Ledger* l) : l_(l) {}
  Status Node(int level, uint64_t index, merkle::Hash* out) override;

  // Marks a ledger of format 1 as format 2 before anything is written in
  // runs, so that an older program refuses it instead of misreading it.
  static Status UpgradeFormat(Ledger* l);

 private:
  Ledger* l_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// The 32 bytes of subtree (level, index) in the run that `it` is on, or null
// when `it` is not on a run of `level` holding `index`. *malformed is set when
// it is on such a run but the run's value is not a whole number of hashes.
const char* HashInRun(const rocksdb::Iterator& it, int level, uint64_t index, bool* malformed);

}  // namespace ocop::ledger
