// ReadView: the read models as they stood at one moment, for one request.
//
// A view pins a RocksDB snapshot together with the checkpoint stored in it,
// so every read through it sees exactly the events 1..checkpoint() folded,
// whatever the writer (Projections::CatchUp) folds meanwhile. A query reads
// through one view from start to end, and an answer that is signed names
// checkpoint() and is signed at that size: what it counted and what it signs
// are one point of the log.
//
// Thread safety: a view is immutable once made; its const methods may be
// called from many threads at once without synchronization (as RocksDB's
// reads at a snapshot may). It must not outlive the Projections it came
// from, and Projections::Rebuild must not run while any view is alive.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"
#include "projections/read_models.capnp.h"
#include "projections/report_records.h"
#include "workflow/date.h"
#include "workflow/state.h"

namespace ocop::ledger {
class Ledger;
}  // namespace ocop::ledger

namespace rocksdb {
class ColumnFamilyHandle;
class Snapshot;
struct ReadOptions;
}  // namespace rocksdb

namespace ocop::projections {

class Projections;

struct Target {
  std::string unit;
  int year = 0;
  std::string indicator;
  double value = 0;
};

class ReadView {
 public:
  ~ReadView();  // releases the snapshot
  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;

  // The last sequence number folded into what this view reads.
  uint64_t checkpoint() const { return checkpoint_; }
  // Not OK if the view could not be made (its checkpoint unreadable); every
  // read then returns this.
  const Status& status() const { return status_; }

  Status Product(const std::string& id, workflow::ProductState* out) const;
  Status Subject(const std::string& id, workflow::SubjectState* out) const;
  // The producer as a reader is shown it: Subject with its personal fields
  // revealed (plaintext while its key exists, "[đã xoá]" once erased;
  // workflow/personal_data.h). For answers only: what is folded or stored
  // reads Subject, so that no read model ever holds plaintext.
  Status Producer(const std::string& id, workflow::SubjectState* out) const;
  Status Units(std::map<std::string, workflow::UnitState>* out) const;
  Status ForEachFact(const std::function<void(schema::CertificateFact::Reader)>& fn) const;
  // Every certificate's facts as recorded by event `known_at`: the latest
  // version at or before it. Certificates annulled by then are left out.
  Status ForEachFactKnownAt(uint64_t known_at,
                            const std::function<void(schema::CertificateFact::Reader)>& fn) const;
  // Changes effective in [from, to], recorded by `known_at` (0: all), in
  // date then sequence order.
  Status ForEachChange(workflow::Date from, workflow::Date to, uint64_t known_at,
                       const std::function<void(uint64_t seq, workflow::Date effective,
                                                schema::Change::Reader)>& fn) const;
  // The same for only the changes the period report counts (SupportGranted,
  // DossierSubmitted, DossierEnded, Certified, IdeaRegistered, IdeaReviewed,
  // EventAnnulled), as rows (report_records.h) that carry the producer, entry
  // kind, cycle year and outcome as they were when each happened.
  Status ForEachReportChange(workflow::Date from, workflow::Date to, uint64_t known_at,
                             const std::function<void(uint64_t seq, workflow::Date effective,
                                                      const ChangeRow&)>& fn) const;
  // Every product's certificates as the report counts them (report_records.h),
  // in the order the fold numbered the products: fn(head, certificates), the
  // second pointing at head.certificates FactCerts (any alignment).
  Status ForEachReportFact(const std::function<void(const FactHead&, const char*)>& fn) const;
  // The texts the fold numbered for the report, of one kind, by number.
  Status ReportIds(IdKind kind, std::vector<std::string>* out) const;
  // Every annulment of a product's event folded into this view, whatever its
  // date: (the annulment's seq, the seq it annuls), in seq order.
  Status ForEachAnnulment(const std::function<void(uint64_t seq, uint64_t annuls)>& fn) const;
  // Current certificates whose last valid day is on or before `up_to`,
  // soonest first (lapsed ones included), as (product id, certificate index).
  Status ForEachDeadline(workflow::Date up_to,
                         const std::function<bool(const std::string&, uint32_t)>& fn) const;
  Status Targets(const std::string& unit, std::vector<Target>* out) const;
  // The targets of `unit` as the ledger knew them at `known_at` (0: at this
  // view's checkpoint) and as they stood on `as_of` (none: every date):
  // folded from the unit's own stream, so the work is that stream's.
  Status TargetsAt(const std::string& unit, uint64_t known_at, std::optional<workflow::Date> as_of,
                   std::vector<Target>* out) const;
  // Every product, in id order, until `fn` returns false.
  Status ForEachProduct(const std::function<bool(const workflow::ProductState&)>& fn) const;
  // The ledger the projections fold: for reads of events themselves (an
  // event's body is not in the read models), up to checkpoint().
  ledger::Ledger* ledger() const;

 private:
  friend class Projections;
  ReadView(const Projections* p, const rocksdb::Snapshot* snapshot) : p_(p), snapshot_(snapshot) {}
  // Reads at the snapshot.
  rocksdb::ReadOptions Options() const;
  // The records of a column family keyed by ChangeKey, effective in
  // [from, to] and recorded by known_at (0: all).
  Status ScanChanges(
      rocksdb::ColumnFamilyHandle* family, workflow::Date from, workflow::Date to,
      uint64_t known_at,
      const std::function<void(uint64_t, workflow::Date, schema::Change::Reader)>& fn) const;
  // The same, each value as stored.
  Status ScanKeyedByDay(
      rocksdb::ColumnFamilyHandle* family, workflow::Date from, workflow::Date to,
      uint64_t known_at,
      const std::function<void(uint64_t, workflow::Date, std::string_view)>& fn) const;

  const Projections* p_;
  const rocksdb::Snapshot* snapshot_;
  uint64_t checkpoint_ = 0;
  Status status_;
};

}  // namespace ocop::projections
