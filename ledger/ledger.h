// Ledger: an append-only log of opaque, typed events in streams, on RocksDB.
//
// Promises:
//  * Every event has a global sequence number, from 1 with no gaps, and a
//    version within its stream, from 1 with no gaps.
//  * One Append call writes all of its events, possibly to several streams,
//    or none of them. It returns only once they are on disk (WAL synced).
//  * Concurrent callers share one WriteBatch and one sync (group commit): the
//    caller at the head of the queue writes for everyone queued behind it,
//    then hands the queue on and syncs; the next group is written while that
//    sync runs, and one sync covers every group written before it began.
//    No read method ever shows an event before it is durable: reads stop at
//    Size(), which moves only after a sync.
//  * An idempotency key seen before returns the first call's sequence numbers
//    and appends nothing; the same key with other content is a conflict.
//  * The stored bytes of an event (a Cap'n Proto message of ledger/event.capnp)
//    are exactly the bytes hashed into the RFC 6962 tree and served. Event S is
//    leaf S-1. The tree's complete subtrees are stored in the same batch as the
//    events, so the tree is never recomputed.
//  * One process at a time: a second Open of the same directory is Busy.
//  * It never forgets what it signed: every tree head it signs (or, as a
//    replica, accepts) is recorded durably in ledger/signed_heads.h's store,
//    apart from RocksDB's WAL, before it is returned. Open refuses
//    (Corruption, exit 3) a log shorter than the largest head recorded, or
//    whose tree at that size has another root, naming both sizes; a damaged
//    WAL is refused too, never silently cut short (see Open).
//  * A full disk is a refusal (NoSpace), checked before each group's write
//    against Options::reserve_bytes, so that RocksDB itself never runs out
//    of space mid-write; reads go on, and writes resume once space returns.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ledger/merkle.h"
#include "ledger/signed_heads.h"
#include "ledger/signer.h"
#include "ledger/status.h"
#include "ledger/subject_keys.h"
#include "ledger/torn_tail.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace ocop::ledger {

struct Actor {
  std::string principal;
  std::string role;
  std::string unit;
};

// An event to append. The ledger assigns seq, version and recording time.
struct NewEvent {
  std::string stream;     // non-empty, no NUL byte, at most 1024 bytes
  std::string type;       // non-empty
  std::string effective;  // "YYYY-MM-DD"
  Actor actor;
  // A serialized (unpacked, flat) Cap'n Proto message whose root struct is
  // copied into the envelope's payload; empty for no payload.
  std::string payload;
};

// "Stream `stream` must be at `version` before this call" (0: must be empty).
struct ExpectedVersion {
  std::string stream;
  uint64_t version = 0;
};

struct AppendRequest {
  std::vector<NewEvent> events;           // at least one
  std::vector<ExpectedVersion> expected;  // optional, per stream written
  // Streams the caller read but does not write, at the versions it read
  // them: the append is refused (Conflict) if any has moved since, so that
  // nothing is appended on a decision another writer made stale. Not part
  // of what an idempotency key is bound to (a retry reads afresh).
  std::vector<ExpectedVersion> unchanged;
  std::string idempotency_key;  // empty: none
  // What the key is bound to. Empty: a digest of the events and
  // expectations. A caller whose events depend on state (a decider) sets the
  // digest of its own request instead, so a retry matches the first call.
  std::string idempotency_digest;
};

struct AppendResult {
  std::vector<uint64_t> seqs;  // one per event, in request order
  bool duplicate = false;      // true: the key was seen before; nothing appended
};

struct SignedTreeHead {
  uint64_t size = 0;
  merkle::Hash root{};
  std::string signature;  // 64 raw bytes over TreeHeadMessage(size, root)
  std::string key_id_hex;
};

struct InclusionProof {
  uint64_t seq = 0;
  uint64_t size = 0;
  std::string leaf;  // the stored bytes of event `seq`
  merkle::Hash leaf_hash{};
  std::vector<merkle::Hash> path;
  merkle::Hash root{};
};

struct VerifyResult {
  uint64_t checked = 0;        // events re-hashed
  uint64_t first_bad_seq = 0;  // 0 when intact
  std::string problem;         // what was wrong with first_bad_seq
  merkle::Hash root{};
};

// Counters of the group commit, for monitoring.
struct CommitStats {
  uint64_t groups = 0;  // group writes (one WriteBatch each)
  uint64_t calls = 0;   // Append calls they carried
  uint64_t events = 0;
  // calls_per_group[i]: groups that carried between 2^i and 2^(i+1)-1 calls.
  std::array<uint64_t, 12> calls_per_group{};
  uint64_t syncs = 0;  // WAL syncs; one may cover several groups
};

struct Options {
  // Create the data directory and its signing key if they do not exist.
  bool create_if_missing = true;
  // Sync the WAL before an append returns. Off only in tests of non-durable
  // paths; the CLI and server never turn it off.
  bool sync = true;
  // Microseconds since the Unix epoch for the recordedAt of new events. The
  // ledger never reads the wall clock itself; the program passes it in.
  std::function<int64_t()> clock;
  // A group commit stops taking callers once it holds this many events or
  // bytes of events (a single larger call is still written alone).
  size_t max_group_events = 16384;
  size_t max_group_bytes = 8 << 20;
  // RocksDB block cache size; bounds read memory.
  size_t block_cache_bytes = 64 << 20;
  // Appends are refused (NoSpace) while the file system of the data
  // directory has less than this free, so that RocksDB's own writes
  // (memtable flushes, compactions, the manifest) always find room.
  uint64_t reserve_bytes = 64ull << 20;
  // Refuse to open a log shorter than, or inconsistent with, the largest
  // signed head recorded. Off only for `ocop verify`, which reports the same
  // finding itself after checking everything else.
  bool refuse_lost_heads = true;
};

// Receives events in sequence order. Returning false stops the scan.
using EventHandler = std::function<bool(uint64_t seq, std::string_view bytes)>;

// An event of a group just written, as the appender numbered it (`stream` is
// valid only during the call it is passed to). See SetWriteObserver.
struct WrittenEvent {
  std::string_view stream;
  uint64_t version = 0;
  uint64_t seq = 0;
};
using WriteObserver = std::function<void(const std::vector<WrittenEvent>& group)>;

class Ledger {
 public:
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  static Status Open(const std::string& dir, const Options& options, std::unique_ptr<Ledger>* out);
  // Opens `dir` for reading while another process holds it (usually `ocop
  // serve`): a RocksDB secondary instance (ledger/secondary.cc), which takes
  // no lock and reads the primary's files, caught up with the primary once at
  // open. Every read method works and answers as the primary would at that
  // size (each group's batch is replayed whole, so events and their subtrees
  // arrive together); Append and its kin are refused (RocksDB refuses writes
  // to a secondary). Signed heads it gives out are recorded in the shared
  // signed-heads store, merged under its lock with the primary's. The
  // recorded heads are read before catching up, so a head the primary signed
  // (after its events were durable) is always covered.
  static Status OpenSecondary(const std::string& dir, const Options& options,
                              std::unique_ptr<Ledger>* out);
  // A secondary: reads what the primary has written since, so Size() grows.
  Status CatchUpWithPrimary();
  bool secondary() const { return secondary_scratch_ != nullptr; }

  Status Append(const AppendRequest& request, AppendResult* result);
  // Appends each request on its own, as if each came from a caller of its
  // own at the same moment: they share one group commit (one write, one
  // sync) as far as the group limits allow, and each succeeds or fails alone.
  // (*statuses)[i] and (*results)[i] are request i's. For a server that
  // carries many commands per hand-off instead of a thread per command.
  void AppendEach(const std::vector<const AppendRequest*>& requests, std::vector<Status>* statuses,
                  std::vector<AppendResult>* results);

  // Replication: appends events already stored elsewhere, byte for byte, so
  // that this log's tree is the same tree. Each must be the next sequence
  // number and the next version of its stream. Idempotency keys are not
  // indexed: a replica takes no commands of its own.
  Status AppendReplicated(const std::vector<std::string>& stored_events);

  // Number of durable events; also the highest sequence number.
  uint64_t Size() const { return committed_.load(std::memory_order_acquire); }
  // Version of a stream: its number of events (0 if it has none).
  Status StreamVersion(std::string_view stream, uint64_t* version);
  // Every stream whose name starts with `prefix`, in name order, as committed
  // (fn returns false to stop): the producers or councils a reader lists,
  // without scanning the log.
  Status ForEachStream(std::string_view prefix, const std::function<bool(std::string_view)>& fn);
  // The first call made with `key`: what it was bound to (hex SHA-256 of its
  // idempotency_digest, or of its events when that was empty) and its
  // sequence numbers. NotFound if the key was never used.
  Status FindIdempotencyKey(std::string_view key, std::string* digest, std::vector<uint64_t>* seqs);

  // Calls `fn` for events from_seq.. in order, up to `limit` events (0: no
  // limit) and never past Size() at the call. Stops early if fn returns false.
  Status Scan(uint64_t from_seq, uint64_t limit, const EventHandler& fn);
  // Events of one stream from version `from_version` (1-based), in order.
  Status ScanStream(std::string_view stream, uint64_t from_version, uint64_t limit,
                    const EventHandler& fn);
  Status Get(uint64_t seq, std::string* bytes);

  // Blocks until Size() > after_seq or the timeout passes; returns Size().
  // Woken by commits, never by polling.
  uint64_t WaitForAppend(uint64_t after_seq, std::chrono::milliseconds timeout);

  // The signed head of the first `size` events (0 < size <= Size(), or the
  // empty tree for size 0), recorded as `kind` in the signed-heads store
  // before it is returned.
  Status TreeHead(uint64_t size, SignedTreeHead* head, HeadKind kind = HeadKind::kTreeHead);
  // Records a head this ledger did not sign but vouches for (a replica's
  // verified head of its primary): Tampered if this log's tree at that size
  // has another root.
  Status RecordHead(HeadKind kind, uint64_t size, const merkle::Hash& root);
  // The root this log would have with `events` (stored bytes) appended after
  // its Size() events; nothing is written. A replica checks a page of its
  // primary against the primary's signed head with it before appending.
  Status RootWith(const std::vector<std::string>& events, merkle::Hash* root);
  // The largest head recorded (size 0 if none).
  RecordedHead LastSignedHead() const { return heads_->Last(); }
  Status Inclusion(uint64_t seq, uint64_t size, InclusionProof* proof);
  Status Consistency(uint64_t from_size, uint64_t to_size, std::vector<merkle::Hash>* path);
  // Re-hashes every stored event and checks it and every stored subtree
  // against the tree, and the tree against every signed head recorded; a
  // mismatch is reported in result->first_bad_seq with Status::Tampered. `progress`, if set, is
  // called now and then with the number checked so far.
  Status Verify(VerifyResult* result, const std::function<void(uint64_t)>& progress = {});

  CommitStats Stats() const;

  // Flushes and compacts every column family and deletes the files that
  // leaves obsolete (ledger/compact.h): for an operator after an erasure, and
  // before a backup meant to be small. Not for a secondary.
  Status Compact();
  // Waits, at most `limit`, until RocksDB has no flush or compaction running
  // or pending in any column family (ledger/compact.cc); *idle says whether it
  // got there. Changes nothing: for a benchmark that must not begin a timed
  // phase while the previous phase's background writes hold the disk.
  Status AwaitBackgroundIdle(std::chrono::milliseconds limit, bool* idle);

  const Signer& signer() const { return *signer_; }
  const std::string& dir() const { return dir_; }
  // What Open cut from the WAL's end: a record torn during its own,
  // unacknowledged write (ledger/torn_tail.h); found is false if nothing.
  const TornTail& torn_tail() const { return torn_tail_; }
  // The data subjects' erasable keys (ledger/subject_keys.h), in the data
  // directory beside the database, never in it: no byte of a key is hashed,
  // logged by RocksDB or kept in its WAL.
  SubjectKeys* subject_keys() const { return subject_keys_.get(); }

  // The one observer of appended events (a later call replaces it; an empty
  // function removes it), for ledger/stream_heads.h, which folds its map from
  // it instead of reading the events back. It is told each group's events in
  // seq order on the appending thread, right after the group is written and
  // BEFORE it is synced: an event it is told of is durable only once Size()
  // covers its seq (never, if the sync fails). Groups written before it was
  // set and groups of replicated events are not told: it must allow for gaps
  // in seqs. It must be quick and must not call into this Ledger.
  void SetWriteObserver(WriteObserver observer);

 private:
  // ledger/backup.cc hands the database to RocksDB's BackupEngine.
  friend struct BackupAccess;
  struct Writer;
  struct GroupState;
  class TreeReader;

  Ledger() = default;
  Status Prepare(const AppendRequest& request, AppendResult* result, Writer* w);
  Status Commit(Writer* w);
  // mu_ is held: queues `w` and counts it if its thread is awaited.
  void Enqueue(Writer* w);
  Status AwaitOrLead(Writer* w, std::unique_lock<std::mutex>& l);
  // At the front of the queue, `l` holding mu_: writes the group it leads,
  // waiting briefly for the callers of the sync in flight (append.cc).
  uint64_t WriteQueued(std::vector<Writer*>* group, std::unique_lock<std::mutex>& l);
  // Writes a group (not yet synced); what happened is each writer's status
  // (w->status). Returns the highest seq a writer of the group was answered
  // with (its own or a duplicate's), which must be durable before any of
  // them returns; 0 if none.
  uint64_t WriteGroup(std::vector<Writer*>& group);
  // Waits for the sync in flight, if any; then, unless events up to `need`
  // are durable already, claims the next sync: *covered is what it will
  // cover (left 0 when no sync is needed). FinishSync(covered) then syncs the
  // WAL and publishes.
  Status BeginSync(uint64_t need, uint64_t* covered);
  Status FinishSync(uint64_t covered);
  // After a sync covering `size`: Size(), the heads cache, waiters.
  void Publish(uint64_t size);
  Status FindIdempotencyKeyWritten(std::string_view key, std::string* digest,
                                   std::vector<uint64_t>* seqs);
  Status PrepareReplicated(Writer* w, GroupState* g);
  Status StreamVersionIn(GroupState* g, const std::string& stream, uint64_t* version);
  Status StreamVersionStored(std::string_view stream, uint64_t* version);
  Status PrepareOne(Writer* w, GroupState* g, void* batch);
  void NotifyCommitted(uint64_t size);
  // NoSpace while the data directory's file system is below the reserve.
  Status CheckFreeSpace();
  // The recorded heads against the log of `size` events: OK, or Corruption
  // naming both sizes.
  Status CheckSignedHeads(uint64_t size);

  // The format marker: this program's format or an older one it reads.
  Status CheckFormat();
  // The size from the last key of the events family (next_seq_, committed_).
  Status LoadSize();

  std::string dir_;
  TornTail torn_tail_;
  Options options_;
  // A secondary's own directory (RocksDB keeps its info log there); the
  // deleter removes it once the members are destroyed, after the DB closed.
  std::shared_ptr<void> secondary_scratch_;
  int lock_fd_ = -1;  // flock'd for the ledger's lifetime
  std::unique_ptr<Signer> signer_;
  std::unique_ptr<SignedHeads> heads_;
  std::unique_ptr<SubjectKeys> subject_keys_;
  // SetWriteObserver's; told by TellWriteObserver from WriteGroup.
  std::mutex observer_mu_;
  WriteObserver observer_;
  void TellWriteObserver(const std::vector<Writer*>& accepted);
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* heads_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* idem_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* tree_cf_ = nullptr;

  // Writers queue; the front one writes for the group (LevelDB's design).
  std::mutex mu_;
  std::deque<Writer*> writers_;
  // The threads of the group being synced, which callers appending one after
  // the other will bring back; the first returned_ of them are queued again.
  std::vector<std::thread::id> returners_;
  // Written under mu_; read without it by the leader waiting for returners.
  std::atomic<size_t> returned_{0};
  std::atomic<int64_t> last_sync_us_{200};  // bounds the wait for returners
  // Owned by whichever writer is at the front; no lock needed to touch them.
  merkle::Frontier frontier_;
  uint64_t next_seq_ = 1;
  // WriteGroup's batch, cleared and reused so that its buffer is not
  // allocated, faulted in and given back to the kernel for every group.
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  bool wal_failed_for_space_ = false;  // RocksDB refused a write for want of space

  std::atomic<uint64_t> committed_{0};
  // Write, then sync (append.cc): groups written to RocksDB (WAL and
  // memtable) whose sync has not yet returned. writing_ is raised before a
  // group's write, written_ after it; committed_ <= written_ <= writing_.
  std::atomic<uint64_t> writing_{0};
  std::atomic<uint64_t> written_{0};
  std::mutex sync_mu_;  // guards syncing_, durable_ and sync_error_
  std::condition_variable sync_cv_;
  bool syncing_ = false;  // one WAL sync in flight at a time
  uint64_t durable_ = 0;  // what the last sync covered
  Status sync_error_;     // a failed sync: nothing later is acknowledged
  std::mutex pending_mu_;
  // Versions of streams written by groups not yet durable, for the writer's
  // own checks (the heads cache holds durable versions only), and each such
  // group's versions, published into the cache once a sync covers it.
  std::unordered_map<std::string, uint64_t> unsynced_versions_;
  std::deque<std::pair<uint64_t, std::unordered_map<std::string, uint64_t>>> unpublished_;
  // Stream versions as last committed, so that checking an expected version
  // (every decided command checks up to four) needs no RocksDB read. Holds
  // only committed versions: written after each group's write, read-through
  // on a miss. Cleared when it reaches the limit, which bounds its memory.
  static constexpr size_t kHeadsCacheLimit = 1 << 18;  // about 25 MB of streams
  std::mutex heads_mu_;
  std::unordered_map<std::string, uint64_t> heads_cache_;
  uint64_t heads_generation_ = 0;  // bumped by every clear
  mutable std::mutex stats_mu_;
  CommitStats stats_;
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  bool closing_ = false;
};

}  // namespace ocop::ledger
