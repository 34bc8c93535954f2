#include "projections/projections.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <bit>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "ledger/event_view.h"
#include "ledger/keys.h"
#include "projections/id_index.h"
#include "projections/records.h"
#include "projections/sorted_run.h"
#include "workflow/decide.h"
#include "workflow/stream_fold.h"

namespace ocop::projections {
namespace fs = std::filesystem;
using ledger::keys::GetBE64;
using ledger::keys::PutBE64;
using workflow::Date;
using workflow::ProductState;
using workflow::SubjectState;
using workflow::UnitState;

namespace {

const char* const kFamilies[] = {"default",       "products", "certificates", "deadlines",
                                 "units",         "subjects", "targets",      "meta",
                                 "fact_versions", "changes"};

// Bumped whenever what the projections store changes: a directory folded by
// another version is rebuilt from the log on open rather than misread.
// 4: certificates keep renewalEnteredOn; 5: dossiers keep their outcome,
// products their direct entry and latest effective date, scores their rules;
// 6: products keep their support grants, changes their amount and source,
// products and certificates the list their group code belongs to, changes
// the points of a score's sheet.
constexpr const char* kProjectionFormat = "6";

// Flush the batch every this many events: bounds memory while catching up.
constexpr uint64_t kEventsPerFlush = 50000;

// A rebuild keeps every state in memory (a national ledger's are a few
// hundred megabytes) and writes the per-event records (fact versions,
// changes) whenever this many bytes of them are queued.
constexpr size_t kSpillBytes = 32 << 20;

// Marks a rebuild that has not yet flushed everything it wrote.
constexpr const char* kRebuilding = "rebuilding";

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

// The targets of `unit` from its stream, as recorded up to `up_to` (a seq)
// and in effect on `as_of` (none: every date); an annulled one never was.
Status FoldTargets(ledger::Ledger* ledger, const std::string& unit, uint64_t up_to,
                   std::optional<workflow::Date> as_of, std::vector<Target>* out) {
  workflow::StreamFold fold;
  Status s = workflow::LoadStream(ledger, workflow::UnitStream(unit), &fold, up_to);
  if (!s.ok()) return s;
  std::map<std::tuple<int, std::string>, double> latest;
  for (const std::string& b : fold.events) {
    ledger::EventView v(b);
    auto ev = v.As<workflow::schema::OcopEvent>();
    if (fold.annulled.count(ev.getSeq()) || !ev.getPayload().isTargetSet()) continue;
    workflow::Date effective;
    if (as_of && workflow::ParseDate(ev.getEffective().cStr(), &effective) && effective > *as_of) {
      continue;
    }
    auto t = ev.getPayload().getTargetSet();
    latest[{t.getYear(), t.getIndicator().cStr()}] = t.getValue();
  }
  out->clear();
  for (const auto& [k, v] : latest) out->push_back(Target{unit, std::get<0>(k), std::get<1>(k), v});
  return Status::OK();
}

void PutBE32(std::string* s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetBE32(std::string_view s) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4 && i < s.size(); ++i) v = v << 8 | static_cast<uint8_t>(s[i]);
  return v;
}

std::string FactKey(const std::string& product, uint32_t index) {
  std::string k = product;
  k.push_back('\0');
  PutBE32(&k, index);
  return k;
}

// Day numbers ordered as unsigned bytes: flip the sign bit.
std::string DeadlineKey(Date until, const std::string& product) {
  std::string k;
  PutBE32(&k, static_cast<uint32_t>(until.days) ^ 0x80000000u);
  k += product;
  return k;
}

std::string TargetKey(const std::string& unit, int year, const std::string& indicator) {
  std::string k = unit;
  k.push_back('\0');
  PutBE32(&k, static_cast<uint32_t>(year));
  k += indicator;
  return k;
}

std::string VersionKey(const std::string& product, uint32_t index, uint64_t seq) {
  std::string k = FactKey(product, index);
  PutBE64(&k, seq);
  return k;
}

std::string ChangeKey(Date effective, uint64_t seq) {
  std::string k;
  PutBE32(&k, static_cast<uint32_t>(effective.days) ^ 0x80000000u);
  PutBE64(&k, seq);
  return k;
}

std::string Flat(capnp::MallocMessageBuilder& msg);

// The serialized facts of every certificate of `p`.
std::vector<std::string> FactBytes(const ProductState& p, const SubjectState& subject) {
  std::vector<std::string> out;
  for (size_t i = 0; i < p.certificates.size(); ++i) {
    capnp::MallocMessageBuilder msg;
    SaveFact(p, i, subject, msg.initRoot<schema::CertificateFact>());
    out.push_back(Flat(msg));
  }
  return out;
}

// Only these events change a certificate's facts.
bool TouchesFacts(workflow::schema::Payload::Reader p) {
  return p.isCertified() || p.isRatingRevoked() || p.isDossierSubmitted() || p.isEventAnnulled() ||
         p.isIdeaRegistered() || p.isProductClassified();
}

// What messageToFlatArray gives (the segment table, then the segments),
// written into *out, whose storage is reused from event to event.
void FlatInto(capnp::MessageBuilder& msg, std::string* out) {
  auto segments = msg.getSegmentsForOutput();
  out->clear();
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));  // little-endian
  };
  put32(static_cast<uint32_t>(segments.size() - 1));
  for (auto segment : segments) put32(static_cast<uint32_t>(segment.size()));
  if (segments.size() % 2 == 0) put32(0);  // the table is padded to a whole word
  for (auto segment : segments) {
    out->append(reinterpret_cast<const char*>(segment.begin()),
                segment.size() * sizeof(capnp::word));
  }
}

std::string Flat(capnp::MallocMessageBuilder& msg) {
  std::string out;
  FlatInto(msg, &out);
  return out;
}

template <typename T>
typename T::Reader Read(const std::string& bytes, kj::Array<capnp::word>* words,
                        std::optional<capnp::FlatArrayMessageReader>* reader) {
  *words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words->begin(), bytes.data(), words->size() * sizeof(capnp::word));
  reader->emplace(*words);
  return (*reader)->getRoot<T>();
}

}  // namespace

// A product's state in a batch, with what its flush must know.
struct Projections::ProductSlot {
  ProductState state;
  // Whether the state changed in this batch. Most events (promotions,
  // inspections) change nothing but the changes read model: a live flush
  // then writes no product, facts or deadline for them.
  bool changed = false;
  size_t stored_certificates = 0;              // facts written before this batch
  std::optional<std::string> stored_deadline;  // deadline key written before
};

// What one flush writes, and the states it changed, keyed by id.
struct Projections::Batch {
  IdIndex product_ids;
  std::deque<ProductSlot> products;  // by slot in product_ids (stable addresses)
  std::string last_product;          // the slot of the last product event, if any
  ProductSlot* last_slot = nullptr;
  std::unordered_map<std::string, UnitState> units;
  std::unordered_map<std::string, SubjectState> subjects;
  // Producers this (live) batch restated: an event of theirs after the
  // first, their registration annulled or made again. Certificate facts
  // carry the producer's legal form and woman-owned flag, so the flush
  // rewrites the facts of all their products, as a rebuild writes them.
  std::set<std::string> restated;
  std::map<std::string, std::vector<Target>> targets;  // unit -> replaced whole
  // Fact versions and changes are written as events are applied; the rest
  // of the states at the flush, all in this one batch with the checkpoint.
  rocksdb::WriteBatch writes;
  // A rebuild's changes go to sorted runs instead (see SortedRun), and the
  // table files the runs were written to wait here to be ingested.
  SortedRun changes;
  std::vector<std::string> change_tables;
  uint64_t events = 0;
  // A rebuild into an empty directory: nothing is read back from RocksDB
  // (every state is in the maps above until the end), and writes skip the
  // WAL (the rebuilding marker covers a crash).
  bool bulk = false;
  // Zeroed first segment for the per-event messages, reused (capnp zeroes
  // it again when a builder is done with it).
  kj::Array<capnp::word> scratch = kj::heapArray<capnp::word>(512);
  std::string flat;  // and the serialized form of each
  Batch() { std::memset(scratch.begin(), 0, scratch.size() * sizeof(capnp::word)); }
};

Projections::~Projections() { CloseDb(); }

void Projections::CloseDb() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  delete db_;
  db_ = nullptr;
}

Status Projections::Open(ledger::Ledger* ledger, std::unique_ptr<Projections>* out) {
  return OpenAt(ledger, (fs::path(ledger->dir()) / "projections").string(), out);
}

Status Projections::OpenAt(ledger::Ledger* ledger, const std::string& dir,
                           std::unique_ptr<Projections>* out) {
  std::unique_ptr<Projections> p(new Projections());
  p->ledger_ = ledger;
  p->dir_ = dir;
  Status s = p->OpenDb(false);
  if (!s.ok()) return s;
  *out = std::move(p);
  return Status::OK();
}

Status Projections::OpenDb(bool fresh, bool bulk) {
  if (fresh) {
    rocksdb::Options o;
    std::error_code ec;
    fs::remove_all(RunsDir(), ec);  // a rebuild's leftovers, if it stopped
    rocksdb::Status d = rocksdb::DestroyDB(dir_, o);
    if (!d.ok()) return FromRocks(d, "dropping the projections");
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.keep_log_file_num = 2;
  options.max_background_jobs = 2;
  rocksdb::ColumnFamilyOptions cf_options;
  // Reports read every certificate's facts (two hundred thousand on a
  // national ledger): a cache that holds them spares a decompression of
  // each block on every report. Filled only by reads, so a rebuild does not
  // grow it.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(256 << 20);
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (bulk) {
    // A rebuild appends millions of keys and reads none back until it ends.
    // A vector memtable takes each write in constant time and sorts once,
    // when it is flushed on a background thread (the second core), where a
    // skiplist would compare its way through every insert on the folding
    // thread. Compaction waits for the normal open that follows.
    options.allow_concurrent_memtable_write = false;
    cf_options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    cf_options.write_buffer_size = 64 << 20;
    cf_options.max_write_buffer_number = 4;
    cf_options.disable_auto_compactions = true;
    // Compressing is left to the compactions after the rebuild, in the
    // background: it was the flushing thread's largest cost.
    cf_options.compression = rocksdb::kNoCompression;
    cf_options.level0_slowdown_writes_trigger = 1 << 20;
    cf_options.level0_stop_writes_trigger = 1 << 20;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : kFamilies) cfs.emplace_back(name, cf_options);
  rocksdb::Status os = rocksdb::DB::Open(options, dir_, cfs, &handles_, &db_);
  if (!os.ok())
    return Status::Corruption("cannot open the projections at " + dir_ + ": " + os.ToString());
  products_ = handles_[1];
  certificates_ = handles_[2];
  deadlines_ = handles_[3];
  units_ = handles_[4];
  subjects_ = handles_[5];
  targets_ = handles_[6];
  meta_ = handles_[7];
  fact_versions_ = handles_[8];
  changes_ = handles_[9];
  std::string v, format;
  if (!fresh && db_->Get(rocksdb::ReadOptions(), meta_, kRebuilding, &v).ok()) {
    // A rebuild stopped before it had everything on disk: fold again.
    CloseDb();
    return OpenDb(true);
  }
  rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), meta_, "checkpoint", &v);
  checkpoint_ = gs.ok() ? GetBE64(v) : 0;
  rocksdb::Status fs_ = db_->Get(rocksdb::ReadOptions(), meta_, "format", &format);
  if (fs_.ok() && format == kProjectionFormat) return CheckCheckpoint();
  if (!fresh && (checkpoint_ > 0 || fs_.ok())) {
    // Folded by another version of this program: fold again.
    CloseDb();
    return OpenDb(true);
  }
  rocksdb::WriteBatch meta;
  meta.Put(meta_, "format", kProjectionFormat);
  if (bulk) meta.Put(meta_, kRebuilding, "");
  rocksdb::WriteOptions wo;
  wo.sync = bulk;  // the marker must be on disk before anything it covers
  rocksdb::Status ws = db_->Write(wo, &meta);
  if (!ws.ok()) return FromRocks(ws, "writing the projections' format");
  return CheckCheckpoint();
}

Status Projections::CheckCheckpoint() {
  if (checkpoint_ > ledger_->Size()) {
    return Status::Corruption("the projections at " + dir_ + " have folded event " +
                              std::to_string(checkpoint_) + " but the ledger holds only " +
                              std::to_string(ledger_->Size()) + "; run `ocop rebuild`");
  }
  return Status::OK();
}

Status Projections::Rebuild(const Progress& progress) {
  CloseDb();
  Status s = OpenDb(true, /*bulk=*/true);
  if (s.ok()) s = FoldAll(progress);
  // Back to the options of normal use (a failed fold leaves the marker, so
  // this open starts again from an empty directory).
  CloseDb();
  Status o = OpenDb(false);
  return s.ok() ? o : s;
}

// The rebuild's fold: one thread reads the log (RocksDB iteration and
// decompression) while this one folds, the events handed over in chunks.
// Each event is copied to an 8-byte boundary so that reading it needs no
// second copy.
Status Projections::FoldAll(const Progress& progress) {
  const uint64_t total = ledger_->Size();
  // Before any thread starts: no early return may leave one joinable.
  std::error_code ec;
  fs::create_directories(RunsDir(), ec);
  if (ec) return Status::IOError("cannot create " + RunsDir() + ": " + ec.message());
  struct Chunk {
    std::string data;
    std::vector<std::pair<uint64_t, std::pair<size_t, size_t>>> events;  // seq, offset, size
  };
  constexpr size_t kChunkEvents = 8192, kMaxChunks = 8;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Chunk> queue;
  // Chunks folded, emptied for the reader to fill again: their memory is
  // reused rather than faulted in afresh for every chunk.
  std::vector<Chunk> spare;
  bool reader_done = false, stop = false;
  Status read_status;
  std::thread reader([&] {
    Chunk chunk;
    auto push = [&] {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return queue.size() < kMaxChunks || stop; });
      if (stop) return false;
      queue.push_back(std::move(chunk));
      chunk = Chunk();
      if (!spare.empty()) {
        chunk = std::move(spare.back());
        spare.pop_back();
      }
      cv.notify_all();
      return true;
    };
    Status s = ledger_->Scan(1, total, [&](uint64_t seq, std::string_view bytes) {
      if (chunk.events.empty()) chunk.data.reserve(kChunkEvents * 512);
      size_t at = (chunk.data.size() + 7) & ~size_t{7};
      chunk.data.resize(at);
      chunk.data.append(bytes);
      chunk.events.push_back({seq, {at, bytes.size()}});
      return chunk.events.size() < kChunkEvents || push();
    });
    if (s.ok() && !chunk.events.empty()) push();
    std::lock_guard<std::mutex> l(mu);
    read_status = s;
    reader_done = true;
    cv.notify_all();
  });

  // And a third writes what the fold queued, so that folding goes on
  // meanwhile: fact versions into the memtables, each run of changes sorted
  // into a table file of its own, ingested at the end. At most two spills
  // wait (memory stays bounded); emptied runs come back to be refilled.
  struct Spill {
    rocksdb::WriteBatch writes;
    SortedRun changes;
  };
  std::mutex write_mu;
  std::condition_variable write_cv;
  std::deque<Spill> to_write;
  std::vector<SortedRun> spare_runs;
  std::vector<std::string> tables;
  bool folding_done = false;
  Status write_status;
  const rocksdb::Options change_options = db_->GetOptions(changes_);
  std::thread writer([&] {
    for (;;) {
      Spill spill;
      {
        std::unique_lock<std::mutex> l(write_mu);
        write_cv.wait(l, [&] { return !to_write.empty() || folding_done; });
        if (to_write.empty()) return;
        spill = std::move(to_write.front());
        to_write.pop_front();
        write_cv.notify_all();
      }
      Status st = WriteWithoutWal(&spill.writes);
      std::string table;
      if (st.ok() && !spill.changes.empty()) {
        char name[32];
        std::snprintf(name, sizeof name, "changes-%06zu.sst", tables.size());
        table = (fs::path(RunsDir()) / name).string();
        st = spill.changes.WriteTable(change_options, changes_, table);
        spill.changes.Clear();
      }
      std::lock_guard<std::mutex> l(write_mu);
      if (!table.empty()) tables.push_back(table);
      spare_runs.push_back(std::move(spill.changes));
      if (!st.ok() && write_status.ok()) write_status = st;
    }
  });
  auto hand_over = [&](Batch* b) {
    std::unique_lock<std::mutex> l(write_mu);
    write_cv.wait(l, [&] { return to_write.size() < 2; });
    to_write.push_back(Spill{std::move(b->writes), std::move(b->changes)});
    b->writes = rocksdb::WriteBatch();
    b->changes = SortedRun();
    if (!spare_runs.empty()) {
      b->changes = std::move(spare_runs.back());
      spare_runs.pop_back();
    }
    write_cv.notify_all();
    return write_status;
  };

  Batch batch;
  batch.bulk = true;
  Status failure;
  uint64_t last = 0, reported = 0;
  Chunk chunk;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu);
      if (!chunk.events.empty()) {
        chunk.data.clear();
        chunk.events.clear();
        spare.push_back(std::move(chunk));
      }
      cv.wait(l, [&] { return !queue.empty() || reader_done; });
      if (queue.empty()) break;
      chunk = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    for (const auto& [seq, span] : chunk.events) {
      failure = Apply(seq, std::string_view(chunk.data).substr(span.first, span.second), &batch);
      if (!failure.ok()) break;
      last = seq;
      if (batch.writes.GetDataSize() >= kSpillBytes || batch.changes.bytes() >= run_bytes_) {
        failure = hand_over(&batch);
        if (!failure.ok()) break;
      }
    }
    if (!failure.ok()) break;
    if (progress && last - reported >= 1000000) {
      progress(last, total);
      reported = last;
    }
  }
  {
    std::lock_guard<std::mutex> l(mu);
    stop = true;
    cv.notify_all();
  }
  reader.join();
  if (failure.ok()) failure = hand_over(&batch);  // the last run of changes
  {
    std::lock_guard<std::mutex> l(write_mu);
    folding_done = true;
    write_cv.notify_all();
  }
  writer.join();  // it writes what is queued first
  batch.change_tables = std::move(tables);
  if (!failure.ok()) return failure;
  if (!read_status.ok()) return read_status;
  if (!write_status.ok()) return write_status;
  if (last != total) {
    return Status::Corruption("the rebuild read " + std::to_string(last) + " of " +
                              std::to_string(total) + " events");
  }
  Status s = Flush(last, &batch);
  if (s.ok() && progress) progress(last, total);
  return s;
}

// A rebuild's writes skip the WAL: the rebuilding marker, written durably
// first, makes a crash refold instead of trusting them.
Status Projections::WriteWithoutWal(rocksdb::WriteBatch* wb) {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  return FromRocks(db_->Write(wo, wb), "writing the projections");
}

Status Projections::CatchUp(const Progress& progress, uint64_t up_to) {
  const uint64_t total = up_to ? std::min(up_to, ledger_->Size()) : ledger_->Size();
  if (checkpoint_ >= total) return Status::OK();
  Batch batch;
  Status failure;
  uint64_t last = checkpoint_;
  Status s = ledger_->Scan(checkpoint_ + 1, total - checkpoint_,
                           [&](uint64_t seq, std::string_view bytes) {
                             failure = Apply(seq, bytes, &batch);
                             if (!failure.ok()) return false;
                             last = seq;
                             if (++batch.events >= kEventsPerFlush) {
                               failure = Flush(seq, &batch);
                               if (!failure.ok()) return false;
                               if (progress) progress(seq, total);
                             }
                             return true;
                           });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  s = Flush(last, &batch);
  if (s.ok() && progress) progress(last, total);
  return s;
}

Status Projections::Apply(uint64_t seq, std::string_view bytes, Batch* batch) {
  ledger::EventView view(bytes);
  if (!view.ok()) return Status::Corruption("event " + std::to_string(seq) + ": " + view.error());
  auto e = view.As<workflow::schema::OcopEvent>();
  std::string_view stream(e.getStream().cStr(), e.getStream().size());
  size_t slash = stream.find('/');
  std::string_view kind = stream.substr(0, slash);
  std::string id(stream.substr(slash + 1));
  auto payload = e.getPayload();
  const bool annul = payload.isEventAnnulled();
  workflow::EventRef ref = workflow::StreamFold::ToEventRef(e);

  // An annulment refolds its stream as it stood at this event.
  std::optional<workflow::StreamFold> refold;
  if (annul) {
    refold.emplace();
    Status s = workflow::LoadStream(ledger_, std::string(stream), &*refold, seq);
    if (!s.ok()) return s;
  }

  if (kind == "product") {
    // Consecutive events of one product are common (a month's promotions):
    // the last slot is kept at hand.
    ProductSlot* at = batch->last_slot && batch->last_product == id ? batch->last_slot : nullptr;
    if (!at) {
      Status s = SlotFor(id, batch, &at);
      if (!s.ok()) return s;
      batch->last_product = id;
      batch->last_slot = at;
    }
    ProductState& state = at->state;
    const bool facts = TouchesFacts(payload);
    SubjectState subject;
    std::vector<std::string> before;
    if (facts) {
      Status s = SubjectFor(state.subject, batch, &subject);
      if (!s.ok()) return s;
      before = FactBytes(state, subject);
    }
    // A rebuild writes every state at the end; a live flush only those
    // that changed.
    std::optional<ProductState> was;
    if (!batch->bulk && !at->changed && !facts && !refold) was = state;
    if (refold) {
      ProductState fresh;
      refold->Fold(&fresh);
      state = std::move(fresh);
    } else {
      state = workflow::Evolve(std::move(state), ref);
    }
    if (!was || !(*was == state)) at->changed = true;
    if (facts) {
      if (state.subject != subject.id) {
        Status s = SubjectFor(state.subject, batch, &subject);
        if (!s.ok()) return s;
      }
      std::vector<std::string> after = FactBytes(state, subject);
      for (size_t i = 0; i < std::max(before.size(), after.size()); ++i) {
        const std::string* now = i < after.size() ? &after[i] : nullptr;
        const std::string* was = i < before.size() ? &before[i] : nullptr;
        if (now && was && *now == *was) continue;
        batch->writes.Put(fact_versions_, VersionKey(id, static_cast<uint32_t>(i), seq),
                          now ? *now : std::string());
      }
    }
    RecordChange(seq, e, state, batch);
  } else if (kind == "subject") {
    // A producer's first event cannot be named by a product folded before
    // (the decider requires the producer first); any later one may restate it.
    if (!batch->bulk && e.getVersion() > 1) batch->restated.insert(id);
    auto it = batch->subjects.find(id);
    if (it == batch->subjects.end()) {
      SubjectState st;
      Status s = batch->bulk ? Status::NotFound("") : Subject(id, &st);
      if (!s.ok() && !s.IsNotFound()) return s;
      it = batch->subjects.emplace(id, std::move(st)).first;
    }
    if (refold) {
      SubjectState fresh;
      refold->Fold(&fresh);
      it->second = std::move(fresh);
    } else {
      it->second = workflow::Evolve(std::move(it->second), ref);
    }
  } else if (kind == "unit") {
    if (payload.isTargetSet() || annul) {
      // Targets of a unit are replaced whole from its stream: simple, and
      // correct under annulment.
      Status s = FoldTargets(ledger_, id, seq, std::nullopt, &batch->targets[id]);
      if (!s.ok()) return s;
    }
    if (!payload.isTargetSet()) {
      auto it = batch->units.find(id);
      if (it == batch->units.end()) {
        UnitState st;
        std::string v;
        rocksdb::Status gs = batch->bulk ? rocksdb::Status::NotFound()
                                         : db_->Get(rocksdb::ReadOptions(), units_, id, &v);
        if (gs.ok()) {
          kj::Array<capnp::word> words;
          std::optional<capnp::FlatArrayMessageReader> reader;
          st = Load(Read<schema::UnitRecord>(v, &words, &reader));
        } else if (!gs.IsNotFound()) {
          return FromRocks(gs, "reading units");
        }
        it = batch->units.emplace(id, std::move(st)).first;
      }
      if (refold) {
        UnitState fresh;
        refold->Fold(&fresh);
        it->second = std::move(fresh);
      } else {
        it->second = workflow::Evolve(std::move(it->second), ref);
      }
    }
  }
  // Principals, councils and disputes have no read model here.
  return Status::OK();
}

Status Projections::SlotFor(const std::string& id, Batch* batch, ProductSlot** out) {
  if (std::optional<uint32_t> found = batch->product_ids.Find(id)) {
    *out = &batch->products[*found];
    return Status::OK();
  }
  ProductSlot slot;
  Status s = batch->bulk ? Status::NotFound("") : Product(id, &slot.state);
  if (s.ok()) {
    slot.stored_certificates = slot.state.certificates.size();
    if (const auto* c = slot.state.Current())
      slot.stored_deadline = DeadlineKey(c->valid_until, id);
  } else if (!s.IsNotFound()) {
    return s;
  }
  batch->product_ids.Add(id);
  *out = &batch->products.emplace_back(std::move(slot));
  return Status::OK();
}

Status Projections::MarkRestated(Batch* batch) {
  if (batch->restated.empty()) return Status::OK();
  // Rare (a registration annulled or made again), so a scan of the products
  // rather than an index by producer that every product write would keep.
  std::vector<std::string> named;
  Status s = ForEachProduct([&](const ProductState& p) {
    if (batch->restated.count(p.subject)) named.push_back(p.id);
    return true;
  });
  if (!s.ok()) return s;
  for (const std::string& id : named) {
    ProductSlot* slot = nullptr;
    s = SlotFor(id, batch, &slot);
    if (!s.ok()) return s;
  }
  for (ProductSlot& slot : batch->products) {
    if (batch->restated.count(slot.state.subject)) slot.changed = true;
  }
  return Status::OK();
}

Status Projections::SubjectFor(const std::string& id, Batch* batch, SubjectState* out) {
  *out = SubjectState();
  if (id.empty()) return Status::OK();
  auto it = batch->subjects.find(id);
  if (it != batch->subjects.end()) {
    *out = it->second;
    return Status::OK();
  }
  if (batch->bulk) return Status::OK();
  Status s = Subject(id, out);
  return s.IsNotFound() ? Status::OK() : s;
}

void Projections::RecordChange(uint64_t seq, workflow::schema::OcopEvent::Reader e,
                               const ProductState& state, Batch* batch) {
  capnp::MallocMessageBuilder msg(batch->scratch);
  auto c = msg.initRoot<schema::Change>();
  c.setProduct(state.id.empty() ? std::string(e.getStream().cStr()).substr(8) : state.id);
  c.setName(state.name);
  c.setUnit(state.unit);
  c.setType(e.getType());
  c.setPrincipal(e.getActor().getPrincipal());
  c.setRole(e.getActor().getRole());
  auto p = e.getPayload();
  if (p.isCertified()) {
    c.setDecision(p.getCertified().getDecision());
    c.setStars(p.getCertified().getStars());
  } else if (p.isRatingRevoked()) {
    c.setDecision(p.getRatingRevoked().getDecision());
    c.setStars(p.getRatingRevoked().getStars());
  } else if (p.isEventAnnulled()) {
    c.setAnnuls(p.getEventAnnulled().getTargetSeq());
  } else if (p.isScoreRecorded()) {
    c.setStars(p.getScoreRecorded().getStars());
    if (p.getScoreRecorded().getScore().hasSheet()) {
      auto sheet = p.getScoreRecorded().getScore().getSheet();
      c.setSheetSet(sheet.getSet());
      c.setCriteria(sheet.getCriteria());
    }
  } else if (p.isSupportGranted()) {
    c.setAmountVnd(p.getSupportGranted().getAmountVnd());
    c.setSource(p.getSupportGranted().getSource());
  }
  Date effective;
  workflow::ParseDate(e.getEffective().cStr(), &effective);
  FlatInto(msg, &batch->flat);
  if (batch->bulk) {
    batch->changes.Add(ChangeKey(effective, seq), batch->flat);
  } else {
    batch->writes.Put(changes_, ChangeKey(effective, seq), batch->flat);
  }
}

Status Projections::Flush(uint64_t seq, Batch* batch) {
  rocksdb::WriteBatch& wb = batch->writes;
  Status restated = MarkRestated(batch);
  if (!restated.ok()) return restated;
  for (auto& [id, st] : batch->subjects) {
    if (!st.exists) {
      wb.Delete(subjects_, id);
      continue;
    }
    capnp::MallocMessageBuilder msg;
    Save(st, msg.initRoot<schema::SubjectRecord>());
    wb.Put(subjects_, id, Flat(msg));
  }
  for (auto& [id, st] : batch->units) {
    if (!st.exists) {
      wb.Delete(units_, id);
      continue;
    }
    capnp::MallocMessageBuilder msg;
    Save(st, msg.initRoot<schema::UnitRecord>());
    wb.Put(units_, id, Flat(msg));
  }
  for (auto& [unit, list] : batch->targets) {
    std::string prefix = unit;
    prefix.push_back('\0');
    if (!batch->bulk) {  // a rebuild's directory holds none yet
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), targets_));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        wb.Delete(targets_, it->key());
      }
    }
    for (const Target& t : list) {
      std::string v;
      PutBE64(&v, std::bit_cast<uint64_t>(t.value));
      wb.Put(targets_, TargetKey(unit, t.year, t.indicator), v);
    }
  }
  for (uint32_t n = 0; n < batch->products.size(); ++n) {
    const std::string& id = batch->product_ids.id(n);
    const ProductSlot& slot = batch->products[n];
    if (!slot.changed) continue;
    const ProductState& p = slot.state;
    if (!p.exists) {
      wb.Delete(products_, id);
    } else {
      capnp::MallocMessageBuilder msg;
      Save(p, msg.initRoot<schema::ProductRecord>());
      wb.Put(products_, id, Flat(msg));
    }
    // Facts: rewrite every certificate's, drop those an annulment removed.
    SubjectState subject;
    auto sub = batch->subjects.find(p.subject);
    if (sub != batch->subjects.end()) {
      subject = sub->second;
    } else if (!p.subject.empty() && !batch->bulk) {
      Status s = Subject(p.subject, &subject);
      if (!s.ok() && !s.IsNotFound()) return s;
    }
    for (size_t i = 0; i < p.certificates.size(); ++i) {
      capnp::MallocMessageBuilder msg;
      SaveFact(p, i, subject, msg.initRoot<schema::CertificateFact>());
      wb.Put(certificates_, FactKey(id, static_cast<uint32_t>(i)), Flat(msg));
    }
    for (size_t i = p.certificates.size(); i < slot.stored_certificates; ++i) {
      wb.Delete(certificates_, FactKey(id, static_cast<uint32_t>(i)));
    }
    std::optional<std::string> deadline;
    std::string index;
    if (const auto* c = p.Current()) {
      deadline = DeadlineKey(c->valid_until, id);
      PutBE32(&index, static_cast<uint32_t>(p.certificates.size() - 1));
    }
    if (slot.stored_deadline && slot.stored_deadline != deadline)
      wb.Delete(deadlines_, *slot.stored_deadline);
    if (deadline) wb.Put(deadlines_, *deadline, index);
  }
  std::string cp;
  PutBE64(&cp, seq);
  if (batch->bulk) {
    // Everything without the WAL, then flushed to disk, and only then the
    // checkpoint and the end of the rebuilding marker, durably.
    Status s = WriteWithoutWal(&batch->writes);
    batch->writes.Clear();
    if (!s.ok()) return s;
    if (!batch->change_tables.empty()) {
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;  // linked, not copied: the runs are on this disk
      s = FromRocks(db_->IngestExternalFile(changes_, batch->change_tables, ingest),
                    "ingesting the changes");
      if (!s.ok()) return s;
      std::error_code ec;
      fs::remove_all(RunsDir(), ec);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> data(handles_.begin() + 1, handles_.end());
    s = FromRocks(db_->Flush(rocksdb::FlushOptions(), data), "flushing the projections");
    if (!s.ok()) return s;
    wb.Put(meta_, "checkpoint", cp);
    wb.Delete(meta_, kRebuilding);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = FromRocks(db_->Write(wo, &wb), "writing the projections' checkpoint");
    if (!s.ok()) return s;
    s = FromRocks(db_->Flush(rocksdb::FlushOptions(), meta_), "flushing the projections");
    if (!s.ok()) return s;
    checkpoint_ = seq;
    *batch = Batch();
    return Status::OK();
  }
  wb.Put(meta_, "checkpoint", cp);
  Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), &wb), "writing the projections");
  if (!s.ok()) return s;
  checkpoint_ = seq;
  *batch = Batch();  // also empties the write batch
  return Status::OK();
}

Status Projections::Product(const std::string& id, ProductState* out) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), products_, id, &v);
  if (s.IsNotFound()) return Status::NotFound("no product '" + id + "' in the ledger");
  if (!s.ok()) return FromRocks(s, "reading product " + id);
  kj::Array<capnp::word> words;
  std::optional<capnp::FlatArrayMessageReader> reader;
  *out = Load(Read<schema::ProductRecord>(v, &words, &reader));
  return Status::OK();
}

Status Projections::Subject(const std::string& id, SubjectState* out) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), subjects_, id, &v);
  if (s.IsNotFound()) return Status::NotFound("no producer '" + id + "'");
  if (!s.ok()) return FromRocks(s, "reading producer " + id);
  kj::Array<capnp::word> words;
  std::optional<capnp::FlatArrayMessageReader> reader;
  *out = Load(Read<schema::SubjectRecord>(v, &words, &reader));
  return Status::OK();
}

Status Projections::Units(std::map<std::string, UnitState>* out) {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), units_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string v = it->value().ToString();
    kj::Array<capnp::word> words;
    std::optional<capnp::FlatArrayMessageReader> reader;
    UnitState u = Load(Read<schema::UnitRecord>(v, &words, &reader));
    out->emplace(u.code, std::move(u));
  }
  return FromRocks(it->status(), "reading units");
}

Status Projections::ForEachFact(const std::function<void(schema::CertificateFact::Reader)>& fn) {
  rocksdb::ReadOptions ro;
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, certificates_));
  kj::Array<capnp::word> words;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto value = it->value();
    size_t n = value.size() / sizeof(capnp::word);
    if (words.size() < n) words = kj::heapArray<capnp::word>(n * 2);
    std::memcpy(words.begin(), value.data(), n * sizeof(capnp::word));
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.begin(), n));
    fn(reader.getRoot<schema::CertificateFact>());
  }
  return FromRocks(it->status(), "reading certificate facts");
}

Status Projections::ForEachDeadline(Date up_to,
                                    const std::function<bool(const std::string&, uint32_t)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), deadlines_));
  uint32_t limit = static_cast<uint32_t>(up_to.days) ^ 0x80000000u;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (GetBE32(key) > limit) break;
    if (!fn(std::string(key.substr(4)),
            GetBE32(std::string_view(it->value().data(), it->value().size()))))
      break;
  }
  return FromRocks(it->status(), "reading deadlines");
}

Status Projections::TargetsAt(const std::string& unit, uint64_t known_at,
                              std::optional<workflow::Date> as_of, std::vector<Target>* out) {
  return FoldTargets(ledger_, unit, known_at ? known_at : checkpoint(), as_of, out);
}

Status Projections::Targets(const std::string& unit, std::vector<Target>* out) {
  out->clear();
  std::string prefix = unit;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), targets_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    Target t;
    t.unit = unit;
    t.year = static_cast<int>(GetBE32(key.substr(prefix.size())));
    t.indicator = std::string(key.substr(prefix.size() + 4));
    t.value =
        std::bit_cast<double>(GetBE64(std::string_view(it->value().data(), it->value().size())));
    out->push_back(std::move(t));
  }
  return FromRocks(it->status(), "reading targets");
}

Status Projections::ForEachProduct(const std::function<bool(const ProductState&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), products_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string v = it->value().ToString();
    kj::Array<capnp::word> words;
    std::optional<capnp::FlatArrayMessageReader> reader;
    if (!fn(Load(Read<schema::ProductRecord>(v, &words, &reader)))) break;
  }
  return FromRocks(it->status(), "reading products");
}

Status Projections::Digests(std::map<std::string, std::string>* out) {
  out->clear();
  for (size_t i = 1; i < handles_.size(); ++i) {
    std::string all;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      PutBE64(&all, it->key().size());
      all.append(it->key().data(), it->key().size());
      PutBE64(&all, it->value().size());
      all.append(it->value().data(), it->value().size());
    }
    if (!it->status().ok()) return FromRocks(it->status(), "digesting the projections");
    (*out)[kFamilies[i]] = ledger::merkle::ToHex(ledger::merkle::Sha256(all));
  }
  return Status::OK();
}

}  // namespace ocop::projections

namespace ocop::projections {

Status Projections::ForEachFactKnownAt(
    uint64_t known_at, const std::function<void(schema::CertificateFact::Reader)>& fn) {
  rocksdb::ReadOptions ro;
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, fact_versions_));
  // Versions of one certificate are adjacent, oldest first: keep the last one
  // recorded by known_at and hand it over when the certificate changes.
  std::string group, chosen;
  bool have = false;
  kj::Array<capnp::word> words;
  auto emit = [&] {
    if (!have || chosen.empty()) return;
    size_t n = chosen.size() / sizeof(capnp::word);
    if (words.size() < n) words = kj::heapArray<capnp::word>(n * 2);
    std::memcpy(words.begin(), chosen.data(), n * sizeof(capnp::word));
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.begin(), n));
    fn(reader.getRoot<schema::CertificateFact>());
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.size() < 8) continue;
    std::string_view g = key.substr(0, key.size() - 8);
    uint64_t seq = GetBE64(key.substr(key.size() - 8));
    if (g != group) {
      emit();
      group.assign(g);
      have = false;
      chosen.clear();
    }
    if (known_at == 0 || seq <= known_at) {
      chosen.assign(it->value().data(), it->value().size());
      have = true;
    }
  }
  emit();
  return FromRocks(it->status(), "reading certificate history");
}

Status Projections::ForEachChange(
    Date from, Date to, uint64_t known_at,
    const std::function<void(uint64_t, Date, schema::Change::Reader)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), changes_));
  std::string start;
  PutBE32(&start, static_cast<uint32_t>(from.days) ^ 0x80000000u);
  const uint32_t last = static_cast<uint32_t>(to.days) ^ 0x80000000u;
  kj::Array<capnp::word> words;
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    uint32_t day = GetBE32(key);
    if (day > last) break;
    uint64_t seq = GetBE64(key.substr(4));
    if (known_at != 0 && seq > known_at) continue;
    auto value = it->value();
    size_t n = value.size() / sizeof(capnp::word);
    if (words.size() < n) words = kj::heapArray<capnp::word>(n * 2);
    std::memcpy(words.begin(), value.data(), n * sizeof(capnp::word));
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.begin(), n));
    fn(seq, Date{static_cast<int32_t>(day ^ 0x80000000u)}, reader.getRoot<schema::Change>());
  }
  return FromRocks(it->status(), "reading changes");
}

}  // namespace ocop::projections
