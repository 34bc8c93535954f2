// Opening the projections' RocksDB, its format and checkpoint.
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

#include "ledger/compact.h"
#include "ledger/event_view.h"
#include "ledger/keys.h"
#include "projections/id_index.h"
#include "projections/records.h"
#include "projections/sorted_run.h"
#include "workflow/decide.h"
#include "workflow/stream_fold.h"

#include "projections/keys.h"
#include "projections/projections_internal.h"

namespace ocop::projections {
namespace fs = std::filesystem;
using ledger::keys::GetBE64;
using ledger::keys::PutBE64;

const char* const kFamilies[13] = {"default",       "products", "certificates",   "deadlines",
                                   "units",         "subjects", "targets",        "meta",
                                   "fact_versions", "changes",  "report_changes", "report_ids",
                                   "report_facts"};

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

Projections::~Projections() { CloseDb(); }

void Projections::CloseDb() {
  cached_products_.clear();
  ids_.reset();
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
  p->latest_.reset(new ReadView(p.get(), nullptr));
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
  // The live fold writes without the WAL (fold.cc, Flush): the read models
  // are the log folded, and a crash that loses what was in the memtables
  // loses the checkpoint with it, to be folded again on open. Flushing every
  // family at once keeps what reached disk one consistent prefix of the log.
  options.atomic_flush = true;
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
  report_changes_ = handles_[10];
  report_ids_ = handles_[11];
  report_facts_ = handles_[12];
  ids_ = std::make_unique<IdNumbers>(db_, report_ids_);
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

// A rebuild's writes skip the WAL: the rebuilding marker, written durably
// first, makes a crash refold instead of trusting them.
Status Projections::WriteWithoutWal(rocksdb::WriteBatch* wb) {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  return FromRocks(db_->Write(wo, wb), "writing the projections");
}

Status Projections::Compact() {
  return ledger::CompactAll(db_, handles_, "the read models " + dir_);
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
