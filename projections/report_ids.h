// IdNumbers: the numbers the fold gives ids for the period report's records
// (report_records.h), as the projections' single writer knows them.
//
// A number is given the first time the fold meets a text of a kind, in log
// order, and kept in "report_ids"; a batch's new numbers are written with the
// batch and known from then on (a batch that fails to write leaves none).
// Known numbers are read back from the store once each and kept in memory.
//
// Thread safety: none; only the writer (Projections::CatchUp, Rebuild) uses it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ledger/status.h"
#include "projections/report_records.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace ocop::projections {

class IdNumbers {
 public:
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Map = std::unordered_map<std::string, uint32_t, TextHash, std::equal_to<>>;
  // What one batch numbered first, until it is written.
  struct Pending {
    std::array<Map, kIdKindCount> by_text;
    std::vector<std::pair<IdKind, const std::string*>> in_order;  // into by_text's keys
  };

  IdNumbers(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) : db_(db), family_(family) {}

  // The number of `text`: known, stored, or the next free one (then added to
  // *pending). `bulk`: the store is known to be empty, nothing is read.
  Status Number(IdKind kind, std::string_view text, bool bulk, Pending* pending, uint32_t* out);
  // Queues the pending numbers, both ways, into *wb.
  void Write(const Pending& pending, rocksdb::WriteBatch* wb) const;
  // Once *pending is written: its numbers are known.
  void Commit(Pending* pending);

 private:
  Status NextFree(IdKind kind, bool bulk, uint32_t* out);

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* family_;
  std::array<Map, kIdKindCount> known_;
  std::array<std::optional<uint32_t>, kIdKindCount> next_;  // the first number not yet written
};

}  // namespace ocop::projections
