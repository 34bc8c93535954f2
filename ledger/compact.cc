#include "ledger/compact.h"

#include <rocksdb/db.h>

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

}  // namespace ocop::ledger
