#include "ledger/ledger.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/exception.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
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

namespace ocop::ledger {
namespace fs = std::filesystem;

namespace {

constexpr const char* kEventsCf = "events";
constexpr const char* kStreamsCf = "streams";
constexpr const char* kHeadsCf = "heads";
constexpr const char* kIdemCf = "idem";
constexpr const char* kTreeCf = "tree";
constexpr const char* kLockFile = "ocop.lock";
constexpr const char* kKeyFile = "signing-key.pem";

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

bool ValidDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  auto num = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  int y = num(0, 4), m = num(5, 2), day = num(8, 2);
  if (m < 1 || m > 12 || day < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  return day <= max;
}

// Length-prefixed so that ("ab","c") and ("a","bc") differ.
void AddField(std::string* s, std::string_view f) {
  keys::PutBE64(s, f.size());
  s->append(f);
}

// What an idempotency key is bound to: everything the caller sent.
merkle::Hash RequestDigest(const AppendRequest& r) {
  std::string s;
  for (const NewEvent& e : r.events) {
    for (std::string_view f :
         {std::string_view(e.stream), std::string_view(e.type), std::string_view(e.effective),
          std::string_view(e.actor.principal), std::string_view(e.actor.role),
          std::string_view(e.actor.unit), std::string_view(e.payload)}) {
      AddField(&s, f);
    }
  }
  s.push_back('|');
  for (const ExpectedVersion& x : r.expected) {
    AddField(&s, x.stream);
    keys::PutBE64(&s, x.version);
  }
  return merkle::Sha256(s);
}

std::string_view AsView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace

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
  bool done = false;
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

class Ledger::TreeReader : public merkle::NodeReader {
 public:
  explicit TreeReader(Ledger* l) : l_(l) {}
  Status Node(int level, uint64_t index, merkle::Hash* out) override {
    std::string v;
    rocksdb::Status s =
        l_->db_->Get(rocksdb::ReadOptions(), l_->tree_cf_, keys::TreeNode(level, index), &v);
    if (s.IsNotFound()) {
      return Status::Corruption("hash tree node (level " + std::to_string(level) + ", index " +
                                std::to_string(index) + ") is missing");
    }
    if (!s.ok()) return FromRocks(s, "reading the hash tree");
    if (v.size() != 32)
      return Status::Corruption("hash tree node has " + std::to_string(v.size()) +
                                " bytes, not 32");
    std::memcpy(out->data(), v.data(), 32);
    return Status::OK();
  }

 private:
  Ledger* l_;
};

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
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
    it->SeekToLast();
    uint64_t size = it->Valid() && it->key().size() == 8 ? keys::GetBE64(AsView(it->key())) : 0;
    readable = "the log is readable up to event " + std::to_string(size) + " only";
    it.reset();
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
      if (name != kLockFile && name != kKeyFile && name != std::string(kKeyFile) + ".tmp") {
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

  rocksdb::Options db_options;
  db_options.create_if_missing = !has_db;
  db_options.create_missing_column_families = !has_db;
  db_options.max_background_jobs = 2;
  db_options.db_write_buffer_size = 192 << 20;  // all memtables together
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 2;
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
  // (README, "When the ledger refuses to open"). SIGKILL does not tear
  // records: each group is handed to the kernel in one write()
  // (tests/crash_test.cc kills under load and reopens).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;

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
  idem_options.memtable_whole_key_filtering = true;
  idem_options.memtable_prefix_bloom_size_ratio = 0.05;
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
  std::string magic, format;
  rocksdb::Status ms = l->db_->Get(rocksdb::ReadOptions(), "magic", &magic);
  if (ms.ok()) ms = l->db_->Get(rocksdb::ReadOptions(), "format", &format);
  if (!ms.ok() || magic != keys::kMagic) {
    return Status::Corruption(dir + " is not an OCOP ledger (no format marker)");
  }
  int version = 0;
  try {
    version = std::stoi(format);
  } catch (...) {
    return Status::Corruption(dir + " has an unreadable format marker '" + format + "'");
  }
  if (version > keys::kFormatVersion) {
    return Status::Corruption(dir + " is in ledger format " + format + ", newer than format " +
                              std::to_string(keys::kFormatVersion) +
                              " that this program reads; use a newer ocop");
  }
  if (version < 1) return Status::Corruption(dir + " has an unknown ledger format " + format);

  // Recover: the size is the last event's seq; the frontier is read back from
  // the stored subtrees, which were written in the same batches as the events.
  uint64_t size = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        l->db_->NewIterator(rocksdb::ReadOptions(), l->events_cf_));
    it->SeekToLast();
    if (it->Valid()) {
      if (it->key().size() != 8)
        return Status::Corruption("event key of unexpected length in " + dir);
      size = keys::GetBE64(AsView(it->key()));
    }
    if (!it->status().ok()) return FromRocks(it->status(), "reading " + dir);
  }
  TreeReader reader(l.get());
  s = merkle::Frontier::Load(reader, size, &l->frontier_);
  if (!s.ok())
    return Status::Corruption("the hash tree of " + dir + " does not cover its " +
                              std::to_string(size) + " events: " + s.message());
  if (options.refuse_lost_heads) {
    s = l->CheckSignedHeads(size);
    if (!s.ok()) return s;
  }
  l->next_seq_ = size + 1;
  l->committed_.store(size);
  *out = std::move(l);
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

namespace {

Status ValidateEvent(const NewEvent& e, size_t i) {
  // Built only for a refusal: valid events, the common case, cost no strings.
  auto where = [i] { return "events[" + std::to_string(i) + "]"; };
  if (e.stream.empty()) return Status::InvalidArgument(where() + ".stream is empty; name a stream");
  if (e.stream.size() > 1024)
    return Status::InvalidArgument(where() + ".stream is longer than 1024 bytes");
  if (e.stream.find('\0') != std::string::npos) {
    return Status::InvalidArgument(where() + ".stream contains a NUL byte");
  }
  if (e.type.empty())
    return Status::InvalidArgument(where() + ".type is empty; name the event type");
  if (!ValidDate(e.effective)) {
    return Status::InvalidArgument(where() + ".effective '" + e.effective +
                                   "' is not a date; use YYYY-MM-DD");
  }
  return Status::OK();
}

// Builds the envelope of `e` without the numbers the writer assigns.
Status BuildEnvelope(const NewEvent& e, const std::string& idempotency_key, size_t i,
                     std::unique_ptr<capnp::MallocMessageBuilder>* out, size_t* bytes) {
  auto msg = std::make_unique<capnp::MallocMessageBuilder>(64 + e.payload.size() / 8);
  auto ev = msg->initRoot<schema::Event>();
  ev.setStream(e.stream);
  ev.setType(e.type);
  ev.setEffective(e.effective);
  auto actor = ev.initActor();
  actor.setPrincipal(e.actor.principal);
  actor.setRole(e.actor.role);
  actor.setUnit(e.actor.unit);
  ev.setIdempotencyKey(idempotency_key);
  if (!e.payload.empty()) {
    if (e.payload.size() % sizeof(capnp::word) != 0) {
      return Status::InvalidArgument("events[" + std::to_string(i) +
                                     "].payload is not a Cap'n Proto message (length " +
                                     std::to_string(e.payload.size()) + " is not a multiple of 8)");
    }
    auto words = kj::heapArray<capnp::word>(e.payload.size() / sizeof(capnp::word));
    std::memcpy(words.begin(), e.payload.data(), e.payload.size());
    KJ_IF_MAYBE (ex, kj::runCatchingExceptions([&]() {
                   capnp::FlatArrayMessageReader reader(words);
                   ev.getPayload().set(reader.getRoot<capnp::AnyPointer>());
                 })) {
      return Status::InvalidArgument(
          "events[" + std::to_string(i) +
          "].payload is not a valid Cap'n Proto message: " + ex->getDescription().cStr());
    }
  }
  *bytes += capnp::computeSerializedSizeInWords(*msg) * sizeof(capnp::word);
  *out = std::move(msg);
  return Status::OK();
}

}  // namespace

Status Ledger::Append(const AppendRequest& request, AppendResult* result) {
  Writer w;
  Status s = Prepare(request, result, &w);
  if (!s.ok()) return s;
  return Commit(&w);
}

void Ledger::AppendEach(const std::vector<const AppendRequest*>& requests,
                        std::vector<Status>* statuses, std::vector<AppendResult>* results) {
  statuses->assign(requests.size(), Status::OK());
  results->assign(requests.size(), AppendResult());
  std::vector<std::unique_ptr<Writer>> writers(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    writers[i] = std::make_unique<Writer>();
    (*statuses)[i] = Prepare(*requests[i], &(*results)[i], writers[i].get());
  }
  // Queued one behind the other, so that the first to reach the front
  // writes the rest with it (as far as the group limits allow).
  std::unique_lock<std::mutex> l(mu_);
  for (size_t i = 0; i < requests.size(); ++i) {
    if ((*statuses)[i].ok()) writers_.push_back(writers[i].get());
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    if ((*statuses)[i].ok()) (*statuses)[i] = AwaitOrLead(writers[i].get(), l);
  }
}

// Checks `request` and builds its envelopes into `w`; nothing is queued.
Status Ledger::Prepare(const AppendRequest& request, AppendResult* result, Writer* wp) {
  Writer& w = *wp;
  if (request.events.empty()) return Status::InvalidArgument("an append needs at least one event");
  w.request = &request;
  w.result = result;
  for (size_t i = 0; i < request.events.size(); ++i) {
    Status s = ValidateEvent(request.events[i], i);
    if (!s.ok()) return s;
  }
  for (const ExpectedVersion& x : request.expected) {
    bool named = std::any_of(request.events.begin(), request.events.end(),
                             [&](const NewEvent& e) { return e.stream == x.stream; });
    if (!named) {
      return Status::InvalidArgument("expected version given for stream '" + x.stream +
                                     "', which this append does not write to");
    }
  }
  w.envelopes.resize(request.events.size());
  for (size_t i = 0; i < request.events.size(); ++i) {
    Status s =
        BuildEnvelope(request.events[i], request.idempotency_key, i, &w.envelopes[i], &w.bytes);
    if (!s.ok()) return s;
  }
  if (!request.idempotency_key.empty()) {
    if (!request.idempotency_digest.empty()) {
      w.digest = merkle::ToHex(merkle::Sha256(request.idempotency_digest));
    } else {
      w.digest = merkle::ToHex(RequestDigest(request));
    }
  }
  return Status::OK();
}

Status Ledger::AppendReplicated(const std::vector<std::string>& stored_events) {
  if (stored_events.empty()) return Status::OK();
  AppendResult ignored;
  AppendRequest none;
  Writer w;
  w.request = &none;
  w.result = &ignored;
  w.replicated = &stored_events;
  for (const auto& e : stored_events) w.bytes += e.size();
  return Commit(&w);
}

// Queues `w` and either waits for the group that carries it or, at the
// front of the queue, writes that group itself (LevelDB's design).
Status Ledger::Commit(Writer* w) {
  std::unique_lock<std::mutex> l(mu_);
  writers_.push_back(w);
  return AwaitOrLead(w, l);
}

// `w` is queued and `l` holds mu_.
Status Ledger::AwaitOrLead(Writer* wp, std::unique_lock<std::mutex>& l) {
  Writer& w = *wp;
  while (!w.done && &w != writers_.front()) w.cv.wait(l);
  if (w.done) return w.status;

  // This caller leads: take everyone queued behind it, within the limits.
  std::vector<Writer*> group;
  size_t events = 0, bytes = 0;
  for (Writer* x : writers_) {
    size_t n = x->replicated ? x->replicated->size() : x->envelopes.size();
    if (!group.empty() &&
        (events + n > options_.max_group_events || bytes + x->bytes > options_.max_group_bytes)) {
      break;
    }
    group.push_back(x);
    events += n;
    bytes += x->bytes;
  }
  l.unlock();
  WriteGroup(group);
  l.lock();
  for (Writer* x : group) {
    writers_.pop_front();
    if (x != &w) {
      x->done = true;
      x->cv.notify_one();
    }
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return w.status;
}

// Checks one writer's request against the group's view and, if it holds, adds
// its events to the batch. A refused request adds nothing: every check comes
// before the first Put.
Status Ledger::PrepareOne(Writer* w, GroupState* g, void* batch_ptr) {
  auto* batch = static_cast<rocksdb::WriteBatch*>(batch_ptr);
  const AppendRequest& r = *w->request;
  if (w->replicated) return PrepareReplicated(w, g, batch);

  const std::string& key = r.idempotency_key;
  if (!key.empty()) {
    auto seen = g->keys.find(key);
    std::string digest;
    std::vector<uint64_t> seqs;
    bool found = false;
    if (seen != g->keys.end()) {
      digest = seen->second.first;
      seqs = seen->second.second;
      found = true;
    } else {
      Status st = FindIdempotencyKey(key, &digest, &seqs);
      if (st.ok()) {
        found = true;
      } else if (!st.IsNotFound()) {
        return st;
      }
    }
    if (found) {
      if (digest != w->digest) {
        return Status::Conflict("idempotency key '" + key +
                                "' was already used for a different request; use a new key");
      }
      w->result->seqs = seqs;
      w->result->duplicate = true;
      return Status::OK();
    }
  }

  auto version_of = [&](const std::string& stream, uint64_t* v) -> Status {
    return StreamVersionIn(g, stream, v);
  };
  // Streams written where the caller expects them, and streams only read
  // where it read them.
  for (const auto* list : {&r.expected, &r.unchanged}) {
    for (const ExpectedVersion& x : *list) {
      uint64_t actual = 0;
      Status s = version_of(x.stream, &actual);
      if (!s.ok()) return s;
      if (actual == x.version) continue;
      return Status::Conflict("stream '" + x.stream + "' " +
                              (list == &r.expected
                                   ? "is at version " + std::to_string(actual) +
                                         ", not the expected version " + std::to_string(x.version)
                                   : "was read at version " + std::to_string(x.version) +
                                         " and is now at version " + std::to_string(actual)) +
                              "; read it again and retry");
    }
  }

  // Accepted: number the events and add them, with their tree nodes.
  std::vector<uint64_t> seqs;
  seqs.reserve(r.events.size());
  auto sink = [&](int level, uint64_t index, const merkle::Hash& h) {
    batch->Put(tree_cf_, keys::TreeNode(level, index),
               rocksdb::Slice(reinterpret_cast<const char*>(h.data()), h.size()));
  };
  for (size_t i = 0; i < r.events.size(); ++i) {
    const std::string& stream = r.events[i].stream;
    uint64_t version = 0;
    Status s = version_of(stream, &version);
    if (!s.ok()) return s;
    ++version;
    g->versions[stream] = version;
    uint64_t seq = g->next_seq++;
    seqs.push_back(seq);

    auto ev = w->envelopes[i]->getRoot<schema::Event>();
    ev.setSeq(seq);
    ev.setVersion(version);
    ev.setRecordedAt(g->recorded_at);
    kj::Array<capnp::word> flat = capnp::messageToFlatArray(*w->envelopes[i]);
    auto bytes = flat.asBytes();
    std::string_view stored(reinterpret_cast<const char*>(bytes.begin()), bytes.size());

    std::string seq_key = keys::Seq(seq);
    batch->Put(events_cf_, seq_key, rocksdb::Slice(stored.data(), stored.size()));
    batch->Put(streams_cf_, keys::StreamEntry(stream, version), seq_key);
    g->frontier.Append(merkle::LeafHash(stored), sink);
  }
  if (!key.empty()) {
    std::string v;
    merkle::Hash raw;
    merkle::FromHex(w->digest, &raw);
    v.assign(reinterpret_cast<const char*>(raw.data()), raw.size());
    keys::PutBE64(&v, seqs.front());
    keys::PutBE64(&v, seqs.size());
    batch->Put(idem_cf_, key, v);
    g->keys[key] = {w->digest, seqs};
  }
  w->result->seqs = std::move(seqs);
  w->result->duplicate = false;
  return Status::OK();
}

Status Ledger::StreamVersionIn(GroupState* g, const std::string& stream, uint64_t* v) {
  auto it = g->versions.find(stream);
  if (it != g->versions.end()) {
    *v = it->second;
    return Status::OK();
  }
  return StreamVersion(stream, v);
}

// Replicated events keep their bytes: only their numbering is checked.
Status Ledger::PrepareReplicated(Writer* w, GroupState* g, void* batch_ptr) {
  auto* batch = static_cast<rocksdb::WriteBatch*>(batch_ptr);
  // Check all first, so a bad event leaves the batch untouched.
  std::unordered_map<std::string, uint64_t> versions;
  uint64_t seq = g->next_seq;
  for (const std::string& bytes : *w->replicated) {
    EventView view(bytes);
    if (!view.ok())
      return Status::Corruption("replicated event " + std::to_string(seq) + ": " + view.error());
    auto e = view.event();
    if (e.getSeq() != seq) {
      return Status::Conflict("replicated event says it is " + std::to_string(e.getSeq()) +
                              ", but this log expects event " + std::to_string(seq));
    }
    std::string stream = e.getStream().cStr();
    auto it = versions.find(stream);
    uint64_t have = 0;
    if (it != versions.end()) {
      have = it->second;
    } else {
      Status s = StreamVersionIn(g, stream, &have);
      if (!s.ok()) return s;
    }
    if (e.getVersion() != have + 1) {
      return Status::Conflict("replicated event " + std::to_string(seq) + " is version " +
                              std::to_string(e.getVersion()) + " of '" + stream +
                              "', which is at " + std::to_string(have));
    }
    versions[stream] = have + 1;
    ++seq;
  }
  auto sink = [&](int level, uint64_t index, const merkle::Hash& h) {
    batch->Put(tree_cf_, keys::TreeNode(level, index),
               rocksdb::Slice(reinterpret_cast<const char*>(h.data()), h.size()));
  };
  for (const std::string& bytes : *w->replicated) {
    EventView view(bytes);
    uint64_t s = g->next_seq++;
    std::string seq_key = keys::Seq(s);
    batch->Put(events_cf_, seq_key, bytes);
    batch->Put(streams_cf_,
               keys::StreamEntry(view.event().getStream().cStr(), view.event().getVersion()),
               seq_key);
    g->versions[view.event().getStream().cStr()] = view.event().getVersion();
    g->frontier.Append(merkle::LeafHash(bytes), sink);
  }
  return Status::OK();
}

Status Ledger::CheckFreeSpace() {
  if (options_.reserve_bytes == 0) return Status::OK();
  struct statvfs st;
  if (::statvfs(dir_.c_str(), &st) != 0) return Status::OK();  // unknown: RocksDB will say
  uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes >= options_.reserve_bytes) return Status::OK();
  return Status::NoSpace("the disk of " + dir_ + " is full: " + std::to_string(free_bytes >> 20) +
                         " MiB free, below the " + std::to_string(options_.reserve_bytes >> 20) +
                         " MiB kept in reserve (--reserve-mb); nothing was written. Reads go "
                         "on; writes resume once space is freed");
}

Status Ledger::WriteGroup(std::vector<Writer*>& group) {
  // Refused before RocksDB is asked to write: a write that fails for want
  // of space inside RocksDB can leave it unable to go on (an assertion in
  // Debian's build), while a refusal here changes nothing.
  Status space = CheckFreeSpace();
  if (space.ok() && wal_failed_for_space_) {
    // Space is back after RocksDB itself failed for want of it: it stays
    // read-only until told to resume.
    space = FromRocks(db_->Resume(), "resuming writes after the disk was full");
    if (space.ok()) wal_failed_for_space_ = false;
  }
  if (!space.ok()) {
    for (Writer* w : group) w->status = space;
    return space;
  }
  GroupState g;
  g.next_seq = next_seq_;
  g.frontier = frontier_;
  g.recorded_at = options_.clock();
  rocksdb::WriteBatch batch;
  std::vector<Writer*> accepted;
  for (Writer* w : group) {
    w->status = PrepareOne(w, &g, &batch);
    if (w->status.ok() && (w->replicated || !w->result->duplicate)) accepted.push_back(w);
  }
  if (accepted.empty()) return Status::OK();
  for (const auto& [stream, version] : g.versions) {
    std::string v;
    keys::PutBE64(&v, version);
    batch.Put(heads_cf_, stream, v);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  Status s = FromRocks(db_->Write(wo, &batch), "appending to the ledger");
  if (s.IsNoSpace()) wal_failed_for_space_ = true;
  if (!s.ok()) {
    // Nothing of the batch is durable; nothing in memory moved either. A
    // duplicate answered from this group's own writes is not durable either.
    for (Writer* w : group) {
      if (w->status.ok()) {
        w->status = s;
        w->result->seqs.clear();
      }
    }
    return s;
  }
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.groups;
    stats_.calls += accepted.size();
    stats_.events += g.next_seq - next_seq_;
    size_t bucket =
        std::min<size_t>(std::bit_width(accepted.size()) - 1, stats_.calls_per_group.size() - 1);
    ++stats_.calls_per_group[bucket];
  }
  next_seq_ = g.next_seq;
  frontier_ = std::move(g.frontier);
  {
    // After the write: a reader that misses the cache from now on reads the
    // new versions from RocksDB anyway.
    std::lock_guard<std::mutex> l(heads_mu_);
    if (heads_cache_.size() + g.versions.size() > kHeadsCacheLimit) {
      heads_cache_.clear();
      ++heads_generation_;
    }
    for (const auto& [stream, version] : g.versions) heads_cache_[stream] = version;
  }
  NotifyCommitted(next_seq_ - 1);
  return Status::OK();
}

CommitStats Ledger::Stats() const {
  std::lock_guard<std::mutex> l(stats_mu_);
  return stats_;
}

void Ledger::NotifyCommitted(uint64_t size) {
  {
    std::lock_guard<std::mutex> l(commit_mu_);
    committed_.store(size, std::memory_order_release);
  }
  commit_cv_.notify_all();
}

uint64_t Ledger::WaitForAppend(uint64_t after_seq, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(commit_mu_);
  commit_cv_.wait_for(l, timeout, [&] { return closing_ || Size() > after_seq; });
  return Size();
}

Status Ledger::StreamVersion(std::string_view stream, uint64_t* version) {
  std::string key(stream);
  uint64_t generation;
  {
    std::lock_guard<std::mutex> l(heads_mu_);
    auto it = heads_cache_.find(key);
    if (it != heads_cache_.end()) {
      *version = it->second;
      return Status::OK();
    }
    generation = heads_generation_;
  }
  Status s = StreamVersionStored(stream, version);
  if (s.ok()) {
    // Never overwrites: a commit that raced this read has already put the
    // newer version there, or will put it after (see WriteGroup). If the
    // cache was cleared meanwhile, that newer version may be gone with it,
    // so what was read is not kept.
    std::lock_guard<std::mutex> l(heads_mu_);
    if (heads_generation_ == generation && heads_cache_.size() < kHeadsCacheLimit) {
      heads_cache_.emplace(std::move(key), *version);
    }
  }
  return s;
}

Status Ledger::StreamVersionStored(std::string_view stream, uint64_t* version) {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), heads_cf_, rocksdb::Slice(stream.data(), stream.size()), &v);
  if (s.IsNotFound()) {
    *version = 0;
    return Status::OK();
  }
  if (!s.ok()) return FromRocks(s, "reading a stream version");
  *version = keys::GetBE64(v);
  return Status::OK();
}

Status Ledger::FindIdempotencyKey(std::string_view key, std::string* digest,
                                  std::vector<uint64_t>* seqs) {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), idem_cf_, rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return Status::NotFound("idempotency key not seen");
  if (!s.ok()) return FromRocks(s, "reading idempotency keys");
  if (v.size() != 48) {
    return Status::Corruption("idempotency record of '" + std::string(key) + "' is damaged");
  }
  merkle::Hash raw;
  std::memcpy(raw.data(), v.data(), 32);
  *digest = merkle::ToHex(raw);
  uint64_t first = keys::GetBE64(std::string_view(v).substr(32));
  uint64_t count = keys::GetBE64(std::string_view(v).substr(40));
  seqs->clear();
  for (uint64_t i = 0; i < count; ++i) seqs->push_back(first + i);
  return Status::OK();
}

Status Ledger::Get(uint64_t seq, std::string* bytes) {
  if (seq == 0 || seq > Size()) {
    return Status::NotFound("there is no event " + std::to_string(seq) + "; the ledger holds 1.." +
                            std::to_string(Size()));
  }
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_cf_, keys::Seq(seq), bytes);
  if (s.IsNotFound())
    return Status::Corruption("event " + std::to_string(seq) + " is missing from the log");
  return FromRocks(s, "reading event " + std::to_string(seq));
}

Status Ledger::Scan(uint64_t from_seq, uint64_t limit, const EventHandler& fn) {
  uint64_t end = Size();  // inclusive; later appends are not seen
  if (from_seq == 0) from_seq = 1;
  if (limit != 0 && from_seq + limit - 1 < end) end = from_seq + limit - 1;
  if (from_seq > end) return Status::OK();
  std::string upper = keys::Seq(end + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  if (limit == 0 || limit > 4096) {
    ro.readahead_size = 2 << 20;
    ro.fill_cache = false;  // a full scan must not evict what readers need
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
  uint64_t expect = from_seq;
  for (it->Seek(keys::Seq(from_seq)); it->Valid(); it->Next()) {
    uint64_t seq = keys::GetBE64(AsView(it->key()));
    if (seq != expect) {
      return Status::Corruption("event " + std::to_string(expect) + " is missing from the log");
    }
    ++expect;
    if (!fn(seq, AsView(it->value()))) return Status::OK();
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning the log");
  if (expect != end + 1) {
    return Status::Corruption("event " + std::to_string(expect) + " is missing from the log");
  }
  return Status::OK();
}

Status Ledger::ScanStream(std::string_view stream, uint64_t from_version, uint64_t limit,
                          const EventHandler& fn) {
  if (from_version == 0) from_version = 1;
  std::string prefix(stream);
  prefix.push_back('\0');
  std::string upper(stream);
  upper.push_back('\1');
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_cf_));
  const uint64_t size = Size();
  uint64_t n = 0;
  bool more = true;
  it->Seek(keys::StreamEntry(stream, from_version));
  // The stream's entries name its events' seqs; the events are read a chunk
  // at a time with one MultiGet, which looks up the chunk's keys together
  // instead of walking the table's index once per event: one product's past
  // costs in proportion to its own events, and little per event.
  constexpr size_t kChunk = 128;
  std::vector<std::string> keys;
  std::vector<uint64_t> seqs;
  while (more) {
    keys.clear();
    seqs.clear();
    for (; it->Valid() && keys.size() < kChunk; it->Next()) {
      if (limit != 0 && n >= limit) break;
      uint64_t seq = keys::GetBE64(AsView(it->value()));
      if (seq > size) break;  // written by a group still committing
      ++n;
      seqs.push_back(seq);
      keys.push_back(keys::Seq(seq));
    }
    if (!it->status().ok())
      return FromRocks(it->status(), "reading stream '" + std::string(stream) + "'");
    more = keys.size() == kChunk;
    if (keys.empty()) break;
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::ColumnFamilyHandle*> families(keys.size(), events_cf_);
    std::vector<std::string> values;
    std::vector<rocksdb::Status> got =
        db_->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i].IsNotFound()) {
        return Status::Corruption("event " + std::to_string(seqs[i]) + " is missing from the log");
      }
      Status s = FromRocks(got[i], "reading event " + std::to_string(seqs[i]));
      if (!s.ok()) return s;
      if (!fn(seqs[i], values[i])) return Status::OK();
    }
  }
  return Status::OK();
}

std::unique_ptr<Subscription> Ledger::Subscribe(uint64_t from_seq, EventHandler handler) {
  std::unique_ptr<Subscription> sub(new Subscription());
  Subscription* raw = sub.get();
  raw->position_.store(from_seq == 0 ? 0 : from_seq - 1);
  raw->thread_ = std::thread([this, raw, from_seq, h = std::move(handler)]() mutable {
    raw->Run(this, from_seq, std::move(h));
  });
  return sub;
}

void Subscription::Run(Ledger* ledger, uint64_t from_seq, EventHandler handler) {
  uint64_t next = from_seq == 0 ? 1 : from_seq;
  bool go_on = true;
  while (go_on && !stop_.load()) {
    if (ledger->Size() >= next) {
      Status s = ledger->Scan(next, 0, [&](uint64_t seq, std::string_view bytes) {
        if (stop_.load()) return go_on = false;
        if (!handler(seq, bytes)) return go_on = false;
        next = seq + 1;
        position_.store(seq);
        return true;
      });
      if (!s.ok()) return;
    } else {
      // Woken by the commit; the timeout only lets a stop request through.
      ledger->WaitForAppend(next - 1, std::chrono::milliseconds(100));
    }
  }
}

Subscription::~Subscription() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

Status Ledger::TreeHead(uint64_t size, SignedTreeHead* head, HeadKind kind) {
  if (size > Size()) {
    return Status::NotFound("the ledger holds " + std::to_string(Size()) +
                            " events; there is no tree of size " + std::to_string(size));
  }
  TreeReader reader(this);
  Status s = merkle::RootAt(reader, size, &head->root);
  if (!s.ok()) return s;
  // Kept before it is given out: a head once shown is never forgotten.
  if (size > 0) s = heads_->Record(kind, size, head->root);
  if (!s.ok()) return s;
  head->size = size;
  head->signature = signer_->Sign(TreeHeadMessage(size, head->root));
  head->key_id_hex = signer_->key_id_hex();
  return Status::OK();
}

Status Ledger::RecordHead(HeadKind kind, uint64_t size, const merkle::Hash& root) {
  if (size > Size()) {
    return Status::NotFound("the ledger holds " + std::to_string(Size()) +
                            " events; there is no tree of size " + std::to_string(size));
  }
  TreeReader reader(this);
  merkle::Hash mine;
  Status s = merkle::RootAt(reader, size, &mine);
  if (!s.ok()) return s;
  if (mine != root) {
    return Status::Tampered("the head of size " + std::to_string(size) + " has root " +
                            merkle::ToHex(root) + " but this log's tree has " +
                            merkle::ToHex(mine));
  }
  return heads_->Record(kind, size, root);
}

Status Ledger::RootWith(const std::vector<std::string>& events, merkle::Hash* root) {
  TreeReader reader(this);
  merkle::Frontier f;
  Status s = merkle::Frontier::Load(reader, Size(), &f);
  if (!s.ok()) return s;
  for (const std::string& e : events) f.Append(merkle::LeafHash(e), nullptr);
  *root = f.Root();
  return Status::OK();
}

Status Ledger::Inclusion(uint64_t seq, uint64_t size, InclusionProof* proof) {
  if (size > Size()) {
    return Status::NotFound("the ledger holds " + std::to_string(Size()) +
                            " events; there is no tree of size " + std::to_string(size));
  }
  if (seq == 0 || seq > size) {
    return Status::NotFound("event " + std::to_string(seq) + " is not in the tree of size " +
                            std::to_string(size) + " (it holds events 1.." + std::to_string(size) +
                            ")");
  }
  Status s = Get(seq, &proof->leaf);
  if (!s.ok()) return s;
  TreeReader reader(this);
  s = merkle::InclusionPath(reader, seq - 1, size, &proof->path);
  if (s.ok()) s = merkle::RootAt(reader, size, &proof->root);
  if (!s.ok()) return s;
  proof->seq = seq;
  proof->size = size;
  proof->leaf_hash = merkle::LeafHash(proof->leaf);
  return Status::OK();
}

Status Ledger::Consistency(uint64_t from_size, uint64_t to_size, std::vector<merkle::Hash>* path) {
  if (to_size > Size()) {
    return Status::NotFound("the ledger holds " + std::to_string(Size()) +
                            " events; there is no tree of size " + std::to_string(to_size));
  }
  TreeReader reader(this);
  return merkle::ConsistencyPath(reader, from_size, to_size, path);
}

Status Ledger::Verify(VerifyResult* result, const std::function<void(uint64_t)>& progress) {
  *result = VerifyResult();
  const uint64_t size = Size();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  std::string upper = keys::Seq(size + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions events_ro = ro;
  events_ro.iterate_upper_bound = &upper_slice;

  // Every stored subtree is checked as the recomputation completes it. Nodes
  // of one level are completed in index order, so one iterator per level
  // walks the tree column family sequentially.
  std::vector<std::unique_ptr<rocksdb::Iterator>> levels;
  auto fail = [&](uint64_t seq, std::string problem) {
    if (result->first_bad_seq == 0) {
      result->first_bad_seq = seq;
      result->problem = std::move(problem);
    }
  };
  auto check_node = [&](int level, uint64_t index, const merkle::Hash& h) {
    if (result->first_bad_seq != 0) return;
    if (levels.size() <= static_cast<size_t>(level)) levels.resize(level + 1);
    auto& it = levels[level];
    std::string want = keys::TreeNode(level, index);
    if (!it) {
      it.reset(db_->NewIterator(ro, tree_cf_));
      it->Seek(want);
    } else {
      it->Next();
    }
    uint64_t first = (index << level) + 1;
    if (!it->Valid() || it->key() != rocksdb::Slice(want)) {
      fail(first, "the hash tree has no node for level " + std::to_string(level) + ", index " +
                      std::to_string(index));
      return;
    }
    rocksdb::Slice v = it->value();
    if (v.size() != 32 || std::memcmp(v.data(), h.data(), 32) != 0) {
      if (level == 0) {
        fail(first, "event " + std::to_string(first) + " does not match its recorded leaf hash");
      } else {
        fail(first, "the recorded hash of events " + std::to_string(first) + ".." +
                        std::to_string((index + 1) << level) + " does not match them");
      }
    }
  };

  // Two stages on two threads: this one reads the log and folds the leaf
  // hashes into the tree, checking stored subtrees; a helper decodes and
  // hashes each chunk of events while the next chunk is read. Findings are
  // reported in sequence order, so the first bad event is still the first.
  struct Chunk {
    uint64_t first_seq = 0;
    std::string bytes;         // the events, back to back
    std::vector<size_t> ends;  // end offset of each event in bytes
    std::vector<merkle::Hash> leaves;
    std::vector<std::string> problems;  // per event; empty when it decodes
  };
  auto hash_chunk = [](Chunk c) {
    c.leaves.resize(c.ends.size());
    c.problems.resize(c.ends.size());
    size_t begin = 0;
    for (size_t i = 0; i < c.ends.size(); ++i) {
      std::string_view bytes(c.bytes.data() + begin, c.ends[i] - begin);
      begin = c.ends[i];
      uint64_t seq = c.first_seq + i;
      EventView view(bytes);
      if (!view.ok()) {
        c.problems[i] = "event " + std::to_string(seq) + " cannot be decoded: " + view.error();
      } else if (view.event().getSeq() != seq) {
        c.problems[i] = "event " + std::to_string(seq) + " says it is event " +
                        std::to_string(view.event().getSeq());
      }
      c.leaves[i] = merkle::LeafHash(bytes);
    }
    return c;
  };
  merkle::Frontier frontier;
  uint64_t folded = 0;
  auto fold = [&](const Chunk& c) {
    for (size_t i = 0; i < c.leaves.size() && result->first_bad_seq == 0; ++i) {
      uint64_t seq = c.first_seq + i;
      if (!c.problems[i].empty()) fail(seq, c.problems[i]);
      frontier.Append(c.leaves[i], check_node);
      ++folded;
      if (progress && (seq & 0xFFFFF) == 0) progress(seq);
    }
  };
  constexpr size_t kChunkEvents = 4096;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(events_ro, events_cf_));
  std::future<Chunk> pending;
  uint64_t expect = 1;
  uint64_t missing = 0;  // the first seq found missing, if any
  it->SeekToFirst();
  while (missing == 0 && result->first_bad_seq == 0) {
    Chunk c;
    c.first_seq = expect;
    for (; it->Valid() && c.ends.size() < kChunkEvents; it->Next()) {
      if (it->key().size() != 8 || keys::GetBE64(AsView(it->key())) != expect) {
        missing = expect;
        break;
      }
      c.bytes.append(it->value().data(), it->value().size());
      c.ends.push_back(c.bytes.size());
      ++expect;
    }
    if (pending.valid()) fold(pending.get());
    if (c.ends.empty()) break;
    pending = std::async(std::launch::async, hash_chunk, std::move(c));
    if (!it->Valid()) break;
  }
  if (pending.valid()) fold(pending.get());
  if (missing != 0) fail(missing, "event " + std::to_string(missing) + " is missing");
  if (!it->status().ok()) return FromRocks(it->status(), "reading the log for verification");
  if (result->first_bad_seq == 0 && expect != size + 1) {
    fail(expect, "event " + std::to_string(expect) + " is missing");
  }
  result->checked = folded;
  result->root = frontier.Root();
  if (result->first_bad_seq == 0) {
    // The log against what was signed: shorter, or another tree.
    for (const auto& [kind, head] : heads_->All()) {
      if (head.size > size) {
        fail(size + 1, "the log ends at event " + std::to_string(size) + " but a " + kind +
                           " of size " + std::to_string(head.size) + " was signed: " +
                           std::to_string(head.size - size) + " acknowledged events are lost");
        break;
      }
      merkle::Hash root;
      TreeReader reader(this);
      Status rs = merkle::RootAt(reader, head.size, &root);
      if (!rs.ok() || root != head.root) {
        fail(head.size, "the log holds " + std::to_string(size) + " events but its tree of size " +
                            std::to_string(head.size) + " is not the " + kind + " signed");
        break;
      }
    }
  }
  if (progress) progress(result->checked);
  if (result->first_bad_seq != 0) {
    return Status::Tampered("event " + std::to_string(result->first_bad_seq) +
                            " fails verification: " + result->problem);
  }
  return Status::OK();
}

}  // namespace ocop::ledger
