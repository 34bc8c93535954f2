// Admitting a data directory: opening, recovering, and refusing one that lost
// what it signed.
#include "ledger/ledger.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/exception.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <unordered_map>

#include "ledger/event.capnp.h"
#include "ledger/event_view.h"
#include "ledger/keys.h"
#include "ledger/ledger_internal.h"
#include "ledger/torn_tail.h"
#include "ledger/wal_file.h"

namespace ocop::ledger {
namespace fs = std::filesystem;

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption())
    return Status::Corruption(what + ": stored data is corrupt: " + s.ToString());
  if (s.IsNotFound()) return Status::NotFound(what + ": " + s.ToString());
  if (s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos) {
    return Status::NoSpace(what + ": the disk is full (" + s.ToString() +
                           "); nothing was written; free space and retry");
  }
  return Status::IOError(what + ": " + s.ToString());
}

Ledger::~Ledger() {
  {
    std::lock_guard<std::mutex> l(commit_mu_);
    closing_ = true;
  }
  commit_cv_.notify_all();
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  delete db_;
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

namespace {

// The stream of a key of the streams family: all but its 8-byte version. Used
// only to place memtable inserts, never to filter reads.
class StreamOfEntry : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "ocop.StreamOfEntry"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > 8; }
};

}  // namespace

// RocksDB refused the WAL (kAbsoluteConsistency). What is readable up to the
// damage is counted from a read-only open that stops at it (which changes
// nothing on disk), so that the refusal names both sizes: the events still
// readable and the largest head signed.
static Status DescribeDamagedWal(const std::string& dir, rocksdb::Options db_options,
                                 const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors,
                                 const rocksdb::Status& why, const SignedHeads& heads) {
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  std::string readable = "an unknown number of events are readable";
  if (rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &db).ok()) {
    {
      EventCursor events(db, handles[1], rocksdb::ReadOptions());
      uint64_t size = 0;
      if (events.Last(&size).ok()) {
        readable = "the log is readable up to event " + std::to_string(size) + " only";
      }
    }
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  RecordedHead last = heads.Last();
  return Status::Corruption(
      "the write-ahead log of " + dir + " is damaged (" + why.ToString() + "): " + readable +
      ", and the largest head signed is of size " + std::to_string(last.size) + " (" +
      (last.size ? last.kind : std::string("none recorded")) +
      "). Nothing was changed. Recover from a replica (`ocop follow`) or a backup (README, "
      "\"When the ledger refuses to open\")");
}

Status Ledger::Open(const std::string& dir, const Options& options, std::unique_ptr<Ledger>* out) {
  std::error_code ec;
  bool exists = fs::exists(dir, ec);
  if (exists && !fs::is_directory(dir, ec)) {
    return Status::Corruption(dir + " is not a directory; --data must name a ledger directory");
  }
  bool has_db = exists && fs::exists(fs::path(dir) / "CURRENT", ec);
  if (exists && !has_db) {
    // Anything but our own leftovers of an interrupted creation means the
    // directory belongs to someone else: never write into it.
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      if (name != kLockFile && name != kKeyFile && name != std::string(kKeyFile) + ".tmp" &&
          name != SubjectKeys::kDirName) {
        return Status::Corruption(dir + " is not an OCOP ledger: it holds other files (" + name +
                                  ") and no RocksDB database; use an empty or new directory");
      }
    }
  }
  if (!has_db && !options.create_if_missing) {
    return Status::NotFound("no ledger at " + dir + " (nothing has been written there yet)");
  }
  if (!exists) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  }

  std::unique_ptr<Ledger> l(new Ledger());
  l->dir_ = dir;
  l->options_ = options;
  if (!l->options_.clock) {
    return Status::InvalidArgument(
        "Options::clock is required: the ledger never reads the wall clock");
  }

  // One process at a time. RocksDB has a lock of its own, but ours is taken
  // first so that the signing key is never made by two processes at once.
  std::string lock_path = (fs::path(dir) / kLockFile).string();
  l->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (l->lock_fd_ < 0)
    return Status::IOError("cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(l->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::Busy("the data directory " + dir +
                        " is in use by another process (or another ledger in this one); "
                        "stop it, or use another --data directory");
  }

  Status s = Signer::Open((fs::path(dir) / kKeyFile).string(), !has_db, &l->signer_);
  if (!s.ok()) return s;
  s = SignedHeads::Open(dir, &l->heads_);
  if (!s.ok()) return s;
  s = SubjectKeys::Open(dir, SystemRandom(), &l->subject_keys_);
  if (!s.ok()) return s;

  rocksdb::Options db_options;
  db_options.create_if_missing = !has_db;
  db_options.create_missing_column_families = !has_db;
  db_options.max_background_jobs = 2;
  db_options.db_write_buffer_size = 192 << 20;  // all memtables together
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 2;
  // Memtable flushes and compactions write their tables out a megabyte at a
  // time (sync_file_range) instead of leaving tens of megabytes dirty for
  // one fsync at the end of each file: such a burst queued ahead of an
  // append's WAL sync on the same disk is what made the single appends
  // after a large batch wait milliseconds (issue 18, BENCHMARKS.md).
  db_options.bytes_per_sync = 1 << 20;
  // A damaged WAL must stop the ledger, never shorten it. Measured on
  // Debian 12's RocksDB with 2,000 synced puts, then one byte flipped in the
  // middle of the WAL, or its last 100 bytes cut, or half of it cut where a
  // record happens to end:
  //   kPointInTimeRecovery (the default): opens with 1,000 / 1,999 / 1,000
  //     keys, silently (this is how acknowledged events were lost);
  //   kTolerateCorruptedTailRecords: refuses the flip; opens with 1,999 and
  //     1,000 keys after the cuts, silently;
  //   kAbsoluteConsistency: refuses the flip ("checksum mismatch") and the
  //     cut inside a record ("truncated record body"); opens with 1,000 keys
  //     after the cut on a record boundary, which no mode can see.
  // So kAbsoluteConsistency, and the signed-heads check below for what it
  // cannot see. Its cost: a record torn by a power cut during its own,
  // unacknowledged write also stops the ledger until an operator looks
  // (README, "When the ledger refuses to open"). SIGKILL can too: each
  // group is handed to the kernel in one write(), but Linux copies it into
  // the page cache a page at a time and stops between pages once the writer
  // is killed (generic_perform_write), so a group over a page can be cut
  // short (tests/crash_test.cc met it). Such a tail, told apart from damage,
  // is cut back below instead (ledger/torn_tail.h).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
  // WAL files are written over zeros synced ahead of them, so that a sync
  // writes the records alone and no metadata (ledger/wal_file.h; issue 18);
  // none are prepared near the disk's reserve.
  db_options.env = PreparedWalEnv(options.reserve_bytes);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.cache_index_and_filter_blocks = true;  // bounded memory at any size
  table.block_size = 16 << 10;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.write_buffer_size = 32 << 20;
  cf_options.max_write_buffer_number = 3;

  std::vector<std::string> names = {
      rocksdb::kDefaultColumnFamilyName, kEventsCf, kStreamsCf, kHeadsCf, kIdemCf, kTreeCf};
  if (has_db) {
    std::vector<std::string> present;
    rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(db_options, dir, &present);
    if (!ls.ok()) {
      return Status::Corruption(dir + " is not a readable OCOP ledger: " + ls.ToString());
    }
    for (const auto& n : names) {
      if (std::find(present.begin(), present.end(), n) == present.end()) {
        return Status::Corruption(dir + " is a RocksDB database but not an OCOP ledger (no '" + n +
                                  "' column family)");
      }
    }
    if (present.size() != names.size()) {
      return Status::Corruption(dir +
                                " has column families this version does not know; it was "
                                "written by a newer or foreign program");
    }
  }
  // The events and tree families only ever receive keys above every key they
  // hold (seq; level then index), so each insert lands next to the previous
  // one. An insert hint per one-byte prefix lets the memtable start there
  // instead of searching its skip list from the top: without it, key
  // comparisons in the memtable were most of an append's CPU time.
  rocksdb::ColumnFamilyOptions sequential_options = cf_options;
  sequential_options.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(1));
  // A stream's entries (stream, 0x00, version) likewise arrive in version
  // order, and nothing sorts between a stream's last version and its next, so
  // a hint per stream does the same for them; heads are overwritten in place,
  // so a hint per key.
  rocksdb::ColumnFamilyOptions streams_options = cf_options;
  streams_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamOfEntry>();
  rocksdb::ColumnFamilyOptions heads_options = cf_options;
  heads_options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewNoopTransform());
  // Every command with an id looks its key up twice (the workflow, to answer
  // a repeat without deciding again; the group, to bind it), and a fresh key
  // is found nowhere: bloom filters, in the memtable and in each table,
  // answer "not here" without searching.
  rocksdb::ColumnFamilyOptions idem_options = cf_options;
  rocksdb::BlockBasedTableOptions idem_table = table;
  idem_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  idem_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(idem_table));
  idem_options.memtable_prefix_bloom_size_ratio = 0.05;
  // Its keys are the clients' own ids, in no order, so each insert into a
  // skip list searched it from the top, a cache miss a level: ~5 us of the
  // server's committer a command (BENCHMARKS.md, issue 18, ninth session).
  // The family is only ever read by whole key (Get: FindIdempotencyKeyWritten),
  // never iterated, so its memtable is a hash table of short lists instead:
  // an insert is a hash and a few steps. A flush (RocksDB's own thread, off
  // the commit path) sorts the memtable once; measured over runs long enough
  // to flush it, the CPU an append fell as well as the time. The
  // whole key is the "prefix" the hash and the memtable's bloom filter are
  // taken of (so the filter is not also asked to take it as a whole key).
  // Such a memtable takes its writes one batch at a time, so RocksDB's
  // concurrent memtable writes are off for the whole database (the ledger
  // writes one group at a time anyway: AwaitOrLead).
  idem_options.prefix_extractor.reset(rocksdb::NewNoopTransform());
  idem_options.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(kIdemMemtableBuckets));
  db_options.allow_concurrent_memtable_write = false;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) {
    if (n == kEventsCf || n == kTreeCf) {
      descriptors.emplace_back(n, sequential_options);
    } else if (n == kStreamsCf) {
      descriptors.emplace_back(n, streams_options);
    } else if (n == kHeadsCf) {
      descriptors.emplace_back(n, heads_options);
    } else if (n == kIdemCf) {
      descriptors.emplace_back(n, idem_options);
    } else {
      descriptors.emplace_back(n, cf_options);
    }
  }
  rocksdb::Status os = rocksdb::DB::Open(db_options, dir, descriptors, &l->handles_, &l->db_);
  if (!os.ok()) {
    if (os.IsIOError() && os.ToString().find("lock") != std::string::npos) {
      return Status::Busy("the data directory " + dir + " is in use by another process");
    }
    if (os.IsCorruption()) {
      // A record torn during its own (unacknowledged) write is cut back,
      // saved aside, and the open tried once more; damage is refused
      // (ledger/torn_tail.h).
      Status ts = CutTornWalTail(dir, &l->torn_tail_);
      if (!ts.ok()) return ts;
      if (l->torn_tail_.found) {
        l->handles_.clear();
        os = rocksdb::DB::Open(db_options, dir, descriptors, &l->handles_, &l->db_);
      }
    }
  }
  if (!os.ok()) {
    if (os.IsCorruption()) return DescribeDamagedWal(dir, db_options, descriptors, os, *l->heads_);
    if (os.IsNoSpace() || os.ToString().find("No space left") != std::string::npos) {
      return Status::NoSpace("cannot open the ledger at " + dir +
                             ": the disk is full (RocksDB needs room to recover its log: " +
                             os.ToString() + "); free space and retry. Nothing was lost");
    }
    return Status::Corruption("cannot open the ledger at " + dir + ": " + os.ToString());
  }
  l->events_cf_ = l->handles_[1];
  l->streams_cf_ = l->handles_[2];
  l->heads_cf_ = l->handles_[3];
  l->idem_cf_ = l->handles_[4];
  l->tree_cf_ = l->handles_[5];

  if (!has_db) {
    rocksdb::WriteBatch meta;
    meta.Put("magic", rocksdb::Slice(keys::kMagic.data(), keys::kMagic.size()));
    meta.Put("format", std::to_string(keys::kFormatVersion));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = FromRocks(l->db_->Write(wo, &meta), "writing the ledger's format marker");
    if (!s.ok()) return s;
  }
  s = l->CheckFormat();
  if (s.ok()) s = TreeReader::UpgradeFormat(l.get());
  if (!s.ok()) return s;

  // Recover: the size is the last event's seq; the frontier is read back from
  // the stored subtrees, which were written in the same batches as the events.
  s = l->LoadSize();
  if (!s.ok()) return s;
  const uint64_t size = l->Size();
  TreeReader reader(l.get());
  s = merkle::Frontier::Load(reader, size, &l->frontier_);
  if (!s.ok())
    return Status::Corruption("the hash tree of " + dir + " does not cover its " +
                              std::to_string(size) + " events: " + s.message());
  if (options.refuse_lost_heads) {
    s = l->CheckSignedHeads(size);
    if (!s.ok()) return s;
  }
  *out = std::move(l);
  return Status::OK();
}

Status Ledger::CheckFormat() {
  std::string magic, format;
  rocksdb::Status ms = db_->Get(rocksdb::ReadOptions(), "magic", &magic);
  if (ms.ok()) ms = db_->Get(rocksdb::ReadOptions(), "format", &format);
  if (!ms.ok() || magic != keys::kMagic) {
    return Status::Corruption(dir_ + " is not an OCOP ledger (no format marker)");
  }
  int version = 0;
  try {
    version = std::stoi(format);
  } catch (...) {
    return Status::Corruption(dir_ + " has an unreadable format marker '" + format + "'");
  }
  if (version > keys::kFormatVersion) {
    return Status::Corruption(dir_ + " is in ledger format " + format + ", newer than format " +
                              std::to_string(keys::kFormatVersion) +
                              " that this program reads; use a newer ocop");
  }
  if (version < 1) return Status::Corruption(dir_ + " has an unknown ledger format " + format);
  return Status::OK();
}

Status Ledger::LoadSize() {
  uint64_t size = 0;
  {
    // The last event is the last of the last run (ledger_internal.h).
    EventCursor events(db_, events_cf_, rocksdb::ReadOptions());
    Status s = events.Last(&size);
    if (!s.ok()) return Status::Corruption("reading the log of " + dir_ + ": " + s.message());
  }
  next_seq_ = size + 1;
  writing_.store(size, std::memory_order_release);
  written_.store(size, std::memory_order_release);
  {
    std::lock_guard<std::mutex> l(sync_mu_);
    durable_ = size;
  }
  committed_.store(size, std::memory_order_release);
  return Status::OK();
}

Status Ledger::CheckSignedHeads(uint64_t size) {
  TreeReader reader(this);
  for (const auto& [kind, head] : heads_->All()) {
    const std::string signed_at = "a " + kind + " of size " + std::to_string(head.size) +
                                  " was signed (recorded in " + dir_ + "/" +
                                  SignedHeads::kFileName + ")";
    const std::string way_back =
        "; recover from a replica (`ocop follow`) or a backup (README, \"When the ledger "
        "refuses to open\")";
    if (head.size > size) {
      return Status::Corruption(
          "the log of " + dir_ + " holds " + std::to_string(size) + " events but " + signed_at +
          ": " + std::to_string(head.size - size) + " acknowledged events are lost" + way_back);
    }
    merkle::Hash root;
    Status s = merkle::RootAt(reader, head.size, &root);
    if (!s.ok()) return s;
    if (root != head.root) {
      return Status::Corruption("the log of " + dir_ + " holds " + std::to_string(size) +
                                " events, but its tree of size " + std::to_string(head.size) +
                                " is not the one signed: " + signed_at + " with root " +
                                merkle::ToHex(head.root) + ", and the log has root " +
                                merkle::ToHex(root) + way_back);
    }
  }
  return Status::OK();
}

}  // namespace ocop::ledger
