#include "ledger/compact.h"

#include <rocksdb/db.h>

#include <chrono>
#include <thread>

#include "ledger/ledger.h"

namespace ocop::ledger {

Status CompactAll(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                  const std::string& what) {
  auto failed = [&](const char* step, const rocksdb::Status& s) {
    return Status::IOError("compacting " + what + " (" + step + "): " + s.ToString());
  };
  rocksdb::Status s = db->FlushWAL(/*sync=*/true);
  if (!s.ok()) return failed("syncing the WAL", s);
  rocksdb::FlushOptions flush;
  flush.wait = true;
  s = db->Flush(flush, families);
  if (!s.ok()) return failed("flushing", s);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  compact.exclusive_manual_compaction = true;
  for (auto* family : families) {
    s = db->CompactRange(compact, family, nullptr, nullptr);
    if (!s.ok()) return failed("compacting a column family", s);
  }
  // Deletes the files the flush and compaction made obsolete now, rather
  // than at RocksDB's next periodic purge.
  s = db->DisableFileDeletions();
  if (s.ok()) s = db->EnableFileDeletions(/*force=*/true);
  if (!s.ok()) return failed("deleting obsolete files", s);
  return Status::OK();
}

Status Ledger::Compact() { return CompactAll(db_, handles_, "the ledger " + dir_); }

Status Ledger::AwaitBackgroundIdle(std::chrono::milliseconds limit, bool* idle) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto busy = [&](rocksdb::ColumnFamilyHandle* family, const std::string& property) {
    uint64_t v = 0;
    if (!db_->GetIntProperty(family, property, &v)) return false;  // not known: not waited for
    return v != 0;
  };
  for (;;) {
    bool any = busy(db_->DefaultColumnFamily(), rocksdb::DB::Properties::kNumRunningFlushes) ||
               busy(db_->DefaultColumnFamily(), rocksdb::DB::Properties::kNumRunningCompactions);
    for (auto* family : handles_) {
      any = any || busy(family, rocksdb::DB::Properties::kMemTableFlushPending) ||
            busy(family, rocksdb::DB::Properties::kCompactionPending);
    }
    *idle = !any;
    if (*idle || std::chrono::steady_clock::now() >= deadline) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace ocop::ledger
