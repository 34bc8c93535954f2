// Private to projections/: what its files share. The column families, the
// format, the batch a fold fills and flushes, and the helpers every part uses.
#pragma once

#include <capnp/message.h>
#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "projections/id_index.h"
#include "projections/projections.h"
#include "projections/report_ids.h"
#include "projections/sorted_run.h"

namespace ocop::projections {

// The column families, in the order of Projections::handles_.
extern const char* const kFamilies[13];

// Bumped whenever what the projections store changes: a directory folded by
// another version is rebuilt from the log on open rather than misread.
// 4: certificates keep renewalEnteredOn; 5: dossiers keep their outcome,
// products their direct entry and latest effective date, scores their rules;
// 6: products keep their support grants, changes their amount and source,
// products and certificates the list their group code belongs to, changes
// the points of a score's sheet; 7: changes keep the producer, entry kind,
// cycle year and outcome the report counts by, and "report_changes" keeps
// the report's own changes apart (a format-6 directory is refolded on open);
// 8: the report's records in a fixed layout with numbered ids
// (report_records.h: "report_ids", "report_facts", "report_changes' rows).
inline constexpr const char* kProjectionFormat = "8";

// Flush the batch every this many events: bounds memory while catching up.
inline constexpr uint64_t kEventsPerFlush = 50000;

// The live fold keeps at most this many product states between batches
// (Projections::cached_products_; a few kilobytes each): about the country's
// OCOP products. Past it the cache is emptied and fills again.
inline constexpr size_t kCachedProducts = 1 << 15;

// A rebuild keeps every state in memory (a national ledger's are a few
// hundred megabytes) and writes the per-event records (fact versions,
// changes) whenever this many bytes of them are queued.
inline constexpr size_t kSpillBytes = 32 << 20;

// Marks a rebuild that has not yet flushed everything it wrote.
inline constexpr const char* kRebuilding = "rebuilding";

Status FromRocks(const rocksdb::Status& s, const std::string& what);

// The targets of `unit` from its stream, as recorded up to `up_to` (a seq)
// and in effect on `as_of` (none: every date); an annulled one never was.
Status FoldTargets(ledger::Ledger* ledger, const std::string& unit, uint64_t up_to,
                   std::optional<workflow::Date> as_of, std::vector<Target>* out);

// The serialized facts of every certificate of `p`.
std::vector<std::string> FactBytes(const workflow::ProductState& p,
                                   const workflow::SubjectState& subject);
// Only these events change a certificate's facts.
bool TouchesFacts(workflow::schema::Payload::Reader p);

// A product's state in a batch, with what its flush must know.
struct Projections::ProductSlot {
  ProductState state;
  // Whether the state changed in this batch. Most events (promotions,
  // inspections) change nothing but the changes read model: a live flush
  // then writes no product, facts or deadline for them.
  bool changed = false;
  size_t stored_certificates = 0;              // facts written before this batch
  std::optional<std::string> stored_deadline;  // deadline key written before
  // The report's numbers (report_records.h) of this product and of what its
  // state names, with the texts they were given for: renumbered only when a
  // text changes.
  struct Numbers {
    bool set = false;
    uint32_t product = 0, unit = 0, subject = 0, group_list = 0;
    std::string unit_text, subject_text, group_list_text;
  } numbers;
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
  // The report's ids this batch numbered first, written with it.
  IdNumbers::Pending ids;
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

}  // namespace ocop::projections
