// Compaction for forgetting: after an erasure (workflow/personal_data.h), no
// older version of a changed or deleted value may linger in the data
// directory. RocksDB keeps such versions in memtables, in the WAL files that
// back them and in table files until a compaction drops them; this removes
// all three.
//
// Promise: when CompactAll returns OK, every column family's memtable has
// been flushed, every family compacted to its bottom level (bottommost
// forced, so old versions are dropped even there), the WAL synced, and the
// files this made obsolete (old WALs and table files) deleted.
#pragma once

#include <string>
#include <vector>

#include "ledger/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace ocop::ledger {

Status CompactAll(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                  const std::string& what);

}  // namespace ocop::ledger
