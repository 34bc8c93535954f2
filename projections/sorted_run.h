// SortedRun: records queued in any order, written out in key order as one
// table file for RocksDB to ingest.
//
// A rebuild writes ten million change records. Through a memtable each costs
// a skiplist insert on the folding side and a cache-missing walk when the
// memtable is flushed; here each costs an append, and a run is sorted once
// (its keys are kept inline, so sorting touches no values) and streamed to
// a file. Runs may overlap one another: RocksDB ingests overlapping files
// into level 0 and compacts them later.
//
// Invariant: keys are at most kMaxKey bytes and distinct within a run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace rocksdb {
struct Options;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace ocop::projections {

class SortedRun {
 public:
  static constexpr size_t kMaxKey = 16;

  void Add(std::string_view key, std::string_view value);
  bool empty() const { return entries_.empty(); }
  // Bytes queued, keys and values.
  size_t bytes() const { return values_.size() + entries_.size() * sizeof(Entry); }
  // Sorts the records and writes them to a new table file at `path`, made
  // with `options` for `family` (whose comparator must be bytewise).
  Status WriteTable(const rocksdb::Options& options, rocksdb::ColumnFamilyHandle* family,
                    const std::string& path);
  // Empties the run, keeping its memory for the next.
  void Clear();

 private:
  struct Entry {
    char key[kMaxKey];
    uint32_t key_size;
    uint32_t value_size;
    uint64_t value_offset;
    std::string_view Key() const { return {key, key_size}; }
  };
  std::vector<Entry> entries_;
  std::string values_;
};

}  // namespace ocop::projections
