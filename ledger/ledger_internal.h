// Private to ledger/: what the files of Ledger share (ledger.h's promises are
// kept by open.cc, append.cc, read.cc and tree_store.cc together).
#pragma once

#include <capnp/message.h>
#include <rocksdb/db.h>

#include <condition_variable>
#include <cstddef>
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
// Read by whole key only, never iterated: its memtable is a hash table
// (ledger/open.cc), whose iterators copy it whole.
inline constexpr const char* kIdemCf = "idem";
// Buckets of each idempotency memtable: a 32 MiB memtable holds ~300,000
// keys, so about one a bucket; 2 MiB of the memtable's own arena.
inline constexpr size_t kIdemMemtableBuckets = size_t{1} << 18;
inline constexpr const char* kTreeCf = "tree";
inline constexpr const char* kLockFile = "ocop.lock";
inline constexpr const char* kKeyFile = "signing-key.pem";

Status FromRocks(const rocksdb::Status& s, const std::string& what);
inline std::string_view AsView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// Where one envelope's flat array is (Ledger::Writer): bytes [begin, end) of
// the writer's `flat`, or of its spilled[spill] if spill is not -1 (a message
// of several segments, flattened the way it always was); its root struct's
// data section begins at byte `data` of the same buffer.
struct FlatEnvelope {
  int spill = -1;
  size_t begin = 0, end = 0, data = 0;
};

// One caller of Append, waiting in the queue. The envelopes are built by the
// caller's own thread before it queues, each straight into `flat` as the
// Cap'n Proto flat array that is stored (append.cc, BuildEnvelope); the
// group's writer only writes in place the numbers it assigns (seq, version,
// recording time), fixed-width fields of the event's root struct.
struct Ledger::Writer {
  char* Bytes(const FlatEnvelope& e) {
    return e.spill < 0 ? reinterpret_cast<char*>(flat.data()) : spilled[e.spill].data();
  }

  const AppendRequest* request = nullptr;
  const std::vector<std::string>* replicated = nullptr;  // AppendReplicated's events
  AppendResult* result = nullptr;
  std::vector<uint64_t> flat;  // the envelopes back to back, each a flat array (words)
  std::vector<std::string> spilled;
  std::vector<FlatEnvelope> envelopes;
  std::vector<uint64_t> versions;  // as assigned, once written (for the write observer)
  std::string digest;              // what the idempotency key is bound to
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

// The events family as stored (ledger format 3; runs.cc writes and reads).
// The key is keys::Seq(first); the value is either one event's bytes, as
// formats 1 and 2 stored every event, or a run of k >= 2 consecutive events
// first .. first + k - 1:
//
//   kEventRunMark (4) | k (4, big-endian) | end offset of each event (4 each,
//   big-endian, from the start of the events) | zero padding to a multiple
//   of 8 | the events' bytes back to back
//
// A stored event is a Cap'n Proto flat array whose first four bytes are its
// segment count less one (little-endian), a small number; no event can begin
// with the mark (it would declare 2^32 segments), so the two kinds of value
// are told apart by their first four bytes and old ledgers are read as they
// are. An append writes one key per run instead of one per event: a batch
// of 1000 events about 70 where formats 1 and 2 wrote 1000, each of which cost
// a memtable insert (BENCHMARKS.md, issue 18). A run never crosses a multiple
// of kTreeRunSpan, and grows past kEventRunBytes only by being one event, so
// reading one event reads at most about a block (the table's blocks are 16 KiB).
inline constexpr std::string_view kEventRunMark{"\xff\xff\xff\xff", 4};
inline constexpr size_t kEventRunBytes = 4096;

// Collects the events a group writes into runs and puts them into a batch.
// It holds views of the events' bytes, which must live until Flush: the
// flattened events in buffers it owns (Buffer), replicated ones in their
// writer's vector.
class EventRuns {
 public:
  // A buffer that lives as long as this, to flatten events into.
  std::string* Buffer();
  // `seq` must follow the last event added, if any.
  void Add(uint64_t seq, std::string_view bytes);
  // Puts every run collected into `batch` (one copy of the bytes, there) and
  // forgets them.
  void Flush(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* events);
  size_t runs() const { return runs_.size(); }

 private:
  struct Run {
    uint64_t first = 0;
    size_t bytes = 0;
    std::vector<std::string_view> events;
  };
  std::vector<Run> runs_;
  std::vector<std::unique_ptr<std::string>> buffers_;
};

// Appends the Cap'n Proto flat array of `message` (the bytes
// capnp::messageToFlatArray makes) to `out`, without an array of its own.
void AppendFlat(capnp::MessageBuilder& message, std::string* out);

// One stored value of the events family, a run or a single event, seen in
// place (it points into the value, which must outlive it).
class EventRun {
 public:
  // Reads the value stored at key `first`. False, with *why, when it is not
  // a well-formed run (a single event's bytes are never refused here: what
  // they hold is the decoder's to judge).
  bool Parse(uint64_t first, std::string_view value, std::string* why);
  uint64_t first() const { return first_; }
  uint64_t end() const { return first_ + count_; }  // one past the last seq
  bool Holds(uint64_t seq) const { return seq >= first_ && seq < end(); }
  std::string_view Event(uint64_t seq) const;  // Holds(seq)

 private:
  uint64_t first_ = 0;
  uint64_t count_ = 0;
  std::string_view ends_;  // count_ * 4 bytes; empty for a single event
  std::string_view events_;
};

// Reads events by seq through one iterator over the events family: every
// reader of that family goes through here (Get, Scan, ScanStream, Verify,
// LoadSize). Asked for seqs in increasing order it walks the runs with Next;
// otherwise it seeks the run that holds the seq (the last key at or before
// it).
class EventCursor {
 public:
  EventCursor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events, const rocksdb::ReadOptions& ro)
      : it_(db->NewIterator(ro, events)) {}
  // The bytes of event `seq`, valid until the cursor moves. Corruption, naming
  // the event, when no run holds it, when the run it is in is malformed, or
  // when the next run overlaps the one before it.
  Status At(uint64_t seq, std::string_view* bytes);
  // The last event stored (0 when none).
  Status Last(uint64_t* seq);

 private:
  Status Load(uint64_t seq);
  std::unique_ptr<rocksdb::Iterator> it_;
  EventRun run_;
  bool on_run_ = false;
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

// The writer's view of state that this group changes but has not committed.
struct Ledger::GroupState {
  uint64_t next_seq = 0;
  merkle::Frontier frontier;
  int64_t recorded_at = 0;
  std::unordered_map<std::string, uint64_t> versions;  // stream -> version after this group
  std::unordered_map<std::string, std::pair<std::string, std::vector<uint64_t>>> keys;
  // Put into the batch once the group is prepared (WriteGroup), as runs over
  // the whole group: twelve single-event appends complete about five runs of
  // subtrees between them, where runs per append made about 24 keys, each a
  // memtable insert on the commit path (BENCHMARKS.md, issue 18, sixth session).
  // A refused append adds nothing to them: every check comes before its adds.
  EventRuns events;
  TreeRuns tree;
  StreamRuns entries;
};

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
