// Projections: the log folded into read models, kept in RocksDB column
// families under <data>/projections.
//
//   products      product id -> ProductRecord (the folded state)
//   certificates  product id, 0x00, index -> CertificateFact (what reports count)
//   deadlines     last valid day, product id -> index of its current certificate
//   units         code -> UnitRecord
//   subjects      id -> SubjectRecord
//   targets       unit, 0x00, year, indicator -> value
//   fact_versions product id, 0x00, index, seq -> CertificateFact as recorded
//                 by event seq (empty: the certificate no longer counts), so
//                 a report can be computed as the ledger knew it at any seq
//   changes       effective day, seq -> Change (what happened on products)
//   report_changes the same keys, for only the events the period report
//                 counts (dossiers, outcomes, certificates, ideas, support,
//                 annulments; every annulment also under AnnulmentKey), as
//                 fixed-layout rows (report_records.h)
//   report_ids    the numbers the rows give ids, both ways
//   report_facts  product number -> the product's certificates as the report
//                 counts them, fixed layout
//   meta          "checkpoint" -> the last sequence number folded
//
// Promises:
//  * The checkpoint is written in the same batch as the data it covers, so a
//    crash never applies an event twice or loses one: CatchUp resumes after it.
//  * Rebuild (drop everything, refold the log) gives byte for byte what live
//    catching up gave; Digests() lets a test check it. A rebuild keeps every
//    state in memory and writes each read model once, without the WAL (the
//    changes as sorted table files, ingested at the end); until it has
//    flushed everything to disk a marker in meta says so, and a directory
//    opened with the marker still there is folded again.
//  * An annulment refolds the stream it annuls in (up to the annulment), so an
//    annulled event stops counting everywhere it counted.
//  * Readers call CatchUp first to read their own writes, then read through a
//    ReadView (read_view.h): one snapshot and the checkpoint stored in it.
//
// Thread safety: Projections is the single writer of the read models.
// CatchUp may be called from any thread but calls must not overlap (the
// owner serializes them, as the server does with one mutex); Rebuild needs
// the Projections to itself (no other call, no ReadView alive). View() and
// checkpoint() are safe from any thread at any time, also during CatchUp.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/ledger.h"
#include "projections/read_models.capnp.h"
#include "projections/read_view.h"
#include "workflow/date.h"
#include "workflow/ocop.capnp.h"
#include "workflow/state.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace ocop::projections {

// Called now and then with events done and the total to do.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

class IdNumbers;

class Projections {
 public:
  ~Projections();
  Projections(const Projections&) = delete;
  Projections& operator=(const Projections&) = delete;

  // Opens (creating if needed) the projections of `ledger`, which must
  // outlive them.
  static Status Open(ledger::Ledger* ledger, std::unique_ptr<Projections>* out);
  // The same, kept in `dir` instead (e.g. a scratch fold to check a report).
  static Status OpenAt(ledger::Ledger* ledger, const std::string& dir,
                       std::unique_ptr<Projections>* out);

  // Folds every event after the checkpoint, up to `up_to` (0: the last).
  Status CatchUp(const Progress& progress = {}, uint64_t up_to = 0);
  // Drops every read model and refolds the whole log.
  Status Rebuild(const Progress& progress = {});
  // How many bytes of change records a rebuild sorts into each table file it
  // ingests (by default 64 MiB: a national ledger's make about thirty).
  // Tests make it small, so that many runs overlap.
  void set_rebuild_run_bytes(size_t bytes) { run_bytes_ = bytes; }
  uint64_t checkpoint() const { return checkpoint_.load(); }
  // The log folded here: reports read an event's own fields from it where a
  // read model keeps only the product's latest (a dossier's entry kind).
  ledger::Ledger* ledger() const { return ledger_; }

  // The read models as they stand now, pinned: every read of one request
  // goes through one view (see read_view.h). Thread-safe.
  std::unique_ptr<ReadView> View() const;

  // Flushes and compacts every read model and deletes the files that leaves
  // obsolete (ledger/compact.h): no old version of a record lingers.
  Status Compact();

  // SHA-256 (hex) of every column family's keys and values, in key order.
  Status Digests(std::map<std::string, std::string>* out);

 private:
  friend class ReadView;
  struct Batch;
  struct ProductSlot;
  Projections() = default;
  // `bulk`: options for a rebuild, which writes much and reads nothing
  // back (see Rebuild in projections.cc).
  Status OpenDb(bool fresh, bool bulk = false);
  Status CheckCheckpoint();
  void CloseDb();
  Status Apply(uint64_t seq, std::string_view bytes, Batch* batch);
  Status Flush(uint64_t seq, Batch* batch);
  // Writes what a batch has queued in `writes` (fact versions, changes)
  // without the states or the checkpoint: a rebuild's memory stays bounded.
  Status WriteWithoutWal(rocksdb::WriteBatch* wb);
  Status FoldAll(const Progress& progress);
  // Where a rebuild writes its runs of changes before ingesting them.
  std::string RunsDir() const { return dir_ + "/rebuild-runs"; }
  // The batch's slot of product `id`, loaded from the read model on first use.
  Status SlotFor(const std::string& id, Batch* batch, ProductSlot** out);
  // Marks changed every product of a producer the batch restated.
  Status MarkRestated(Batch* batch);
  Status SubjectFor(const std::string& id, Batch* batch, workflow::SubjectState* out);
  void RecordChange(uint64_t seq, workflow::schema::OcopEvent::Reader e,
                    const workflow::ProductState& state, Batch* batch);
  // The period report's records (report_records.h, report_fold.cc): the
  // numbers of a product slot's ids after each of its events, the row of a
  // change the report counts, and a changed product's facts at a flush.
  Status NumberSlot(const std::string& id, Batch* batch, ProductSlot* slot);
  Status RecordReportChange(uint64_t seq, workflow::schema::OcopEvent::Reader e,
                            const ProductSlot& slot, Batch* batch);
  Status PutReportFacts(const std::string& id, ProductSlot* slot,
                        const workflow::SubjectState& subject, Batch* batch);

  ledger::Ledger* ledger_ = nullptr;
  std::string dir_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* products_ = nullptr;
  rocksdb::ColumnFamilyHandle* certificates_ = nullptr;
  rocksdb::ColumnFamilyHandle* deadlines_ = nullptr;
  rocksdb::ColumnFamilyHandle* units_ = nullptr;
  rocksdb::ColumnFamilyHandle* subjects_ = nullptr;
  rocksdb::ColumnFamilyHandle* targets_ = nullptr;
  rocksdb::ColumnFamilyHandle* fact_versions_ = nullptr;
  rocksdb::ColumnFamilyHandle* changes_ = nullptr;
  rocksdb::ColumnFamilyHandle* report_changes_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* report_ids_ = nullptr;
  rocksdb::ColumnFamilyHandle* report_facts_ = nullptr;
  std::unique_ptr<IdNumbers> ids_;  // the writer's view of report_ids
  size_t run_bytes_ = size_t{64} << 20;
  std::atomic<uint64_t> checkpoint_{0};
  // The writer's own reads (the fold loads the states it changes): the
  // latest state, no snapshot.
  std::unique_ptr<ReadView> latest_;  // read by other threads (metrics)
  // The product states the live fold last wrote, by id, exactly as stored:
  // the next batch takes a product's state from here instead of reading back
  // and decoding the record it just wrote (a fifth of the server's follower
  // thread). Only the writer touches it. An entry is taken out when a batch
  // loads it and put back only once that batch's write has succeeded, so a
  // batch that fails leaves no state the store does not hold; the store is
  // never written but by Flush, and CloseDb (a rebuild) empties it.
  std::unordered_map<std::string, workflow::ProductState> cached_products_;
};

}  // namespace ocop::projections
