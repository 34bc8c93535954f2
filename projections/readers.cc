// Reading the read models, through a view pinned on one snapshot.
#include "projections/read_view.h"

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
#include "workflow/personal_data.h"
#include "workflow/stream_fold.h"

#include "projections/keys.h"
#include "projections/projections_internal.h"

namespace ocop::projections {
using ledger::keys::GetBE64;
using workflow::Date;
using workflow::ProductState;
using workflow::SubjectState;
using workflow::UnitState;

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

ReadView::~ReadView() {
  if (snapshot_) p_->db_->ReleaseSnapshot(snapshot_);
}

rocksdb::ReadOptions ReadView::Options() const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  return ro;
}

std::unique_ptr<ReadView> Projections::View() const {
  std::unique_ptr<ReadView> v(new ReadView(this, db_->GetSnapshot()));
  // The checkpoint is written in the batch it covers: read at the snapshot,
  // it names exactly the events the view's read models hold.
  std::string cp;
  rocksdb::Status s = db_->Get(v->Options(), meta_, "checkpoint", &cp);
  if (s.ok()) {
    v->checkpoint_ = GetBE64(cp);
  } else if (!s.ok() && !s.IsNotFound()) {
    v->status_ = FromRocks(s, "reading the projections' checkpoint");
  }
  return v;
}

Status ReadView::Product(const std::string& id, ProductState* out) const {
  if (!status_.ok()) return status_;
  std::string v;
  rocksdb::Status s = p_->db_->Get(Options(), p_->products_, id, &v);
  if (s.IsNotFound()) return Status::NotFound("no product '" + id + "' in the ledger");
  if (!s.ok()) return FromRocks(s, "reading product " + id);
  kj::Array<capnp::word> words;
  std::optional<capnp::FlatArrayMessageReader> reader;
  *out = Load(Read<schema::ProductRecord>(v, &words, &reader));
  return Status::OK();
}

Status ReadView::Subject(const std::string& id, SubjectState* out) const {
  if (!status_.ok()) return status_;
  std::string v;
  rocksdb::Status s = p_->db_->Get(Options(), p_->subjects_, id, &v);
  if (s.IsNotFound()) return Status::NotFound("no producer '" + id + "'");
  if (!s.ok()) return FromRocks(s, "reading producer " + id);
  kj::Array<capnp::word> words;
  std::optional<capnp::FlatArrayMessageReader> reader;
  *out = Load(Read<schema::SubjectRecord>(v, &words, &reader));
  return Status::OK();
}

Status ReadView::Producer(const std::string& id, SubjectState* out) const {
  Status s = Subject(id, out);
  if (s.ok()) workflow::Reveal(ledger() ? ledger()->subject_keys() : nullptr, out);
  return s;
}

Status ReadView::Units(std::map<std::string, UnitState>* out) const {
  if (!status_.ok()) return status_;
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(Options(), p_->units_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string v = it->value().ToString();
    kj::Array<capnp::word> words;
    std::optional<capnp::FlatArrayMessageReader> reader;
    UnitState u = Load(Read<schema::UnitRecord>(v, &words, &reader));
    out->emplace(u.code, std::move(u));
  }
  return FromRocks(it->status(), "reading units");
}

Status ReadView::ForEachFact(const std::function<void(schema::CertificateFact::Reader)>& fn) const {
  if (!status_.ok()) return status_;
  rocksdb::ReadOptions ro = Options();
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(ro, p_->certificates_));
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

Status ReadView::ForEachDeadline(
    Date up_to, const std::function<bool(const std::string&, uint32_t)>& fn) const {
  if (!status_.ok()) return status_;
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(Options(), p_->deadlines_));
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

Status ReadView::TargetsAt(const std::string& unit, uint64_t known_at,
                           std::optional<workflow::Date> as_of, std::vector<Target>* out) const {
  if (!status_.ok()) return status_;
  return FoldTargets(p_->ledger_, unit, known_at ? known_at : checkpoint_, as_of, out);
}

Status ReadView::Targets(const std::string& unit, std::vector<Target>* out) const {
  if (!status_.ok()) return status_;
  out->clear();
  std::string prefix = unit;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(Options(), p_->targets_));
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

Status ReadView::ForEachProduct(const std::function<bool(const ProductState&)>& fn) const {
  if (!status_.ok()) return status_;
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(Options(), p_->products_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string v = it->value().ToString();
    kj::Array<capnp::word> words;
    std::optional<capnp::FlatArrayMessageReader> reader;
    if (!fn(Load(Read<schema::ProductRecord>(v, &words, &reader)))) break;
  }
  return FromRocks(it->status(), "reading products");
}

Status ReadView::ForEachFactKnownAt(
    uint64_t known_at, const std::function<void(schema::CertificateFact::Reader)>& fn) const {
  if (!status_.ok()) return status_;
  rocksdb::ReadOptions ro = Options();
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(ro, p_->fact_versions_));
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

Status ReadView::ForEachChange(
    Date from, Date to, uint64_t known_at,
    const std::function<void(uint64_t, Date, schema::Change::Reader)>& fn) const {
  return ScanChanges(p_->changes_, from, to, known_at, fn);
}

Status ReadView::ForEachReportChange(
    Date from, Date to, uint64_t known_at,
    const std::function<void(uint64_t, Date, const ChangeRow&)>& fn) const {
  if (to >= kAnnulmentDay) to = kAnnulmentDay + -1;  // not the annulments' own range
  return ScanKeyedByDay(p_->report_changes_, from, to, known_at,
                        [&](uint64_t seq, Date day, std::string_view value) {
                          if (value.size() == sizeof(ChangeRow))
                            fn(seq, day, ReadRecord<ChangeRow>(value.data()));
                        });
}

Status ReadView::ForEachAnnulment(const std::function<void(uint64_t, uint64_t)>& fn) const {
  return ScanKeyedByDay(p_->report_changes_, kAnnulmentDay, kAnnulmentDay, 0,
                        [&](uint64_t seq, Date, std::string_view value) {
                          if (value.size() == sizeof(ChangeRow))
                            fn(seq, ReadRecord<ChangeRow>(value.data()).annuls);
                        });
}

Status ReadView::ForEachReportFact(
    const std::function<void(const FactHead&, const char*)>& fn) const {
  if (!status_.ok()) return status_;
  rocksdb::ReadOptions ro = Options();
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(ro, p_->report_facts_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice value = it->value();
    if (value.size() < sizeof(FactHead)) continue;
    const FactHead head = ReadRecord<FactHead>(value.data());
    if (value.size() != sizeof(FactHead) + head.certificates * sizeof(FactCert)) {
      return Status::Corruption("a product's report record has " + std::to_string(value.size()) +
                                " bytes, not the size its " + std::to_string(head.certificates) +
                                " certificates take");
    }
    fn(head, value.data() + sizeof(FactHead));
  }
  return FromRocks(it->status(), "reading the report's certificates");
}

Status ReadView::ReportIds(IdKind kind, std::vector<std::string>* out) const {
  if (!status_.ok()) return status_;
  out->clear();
  const std::string first = IdNumberKey(kind, 0);
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(Options(), p_->report_ids_));
  for (it->Seek(first); it->Valid() && it->key().size() == 5 && it->key()[0] == first[0];
       it->Next()) {
    const uint32_t n = GetBE32(std::string_view(it->key().data() + 1, 4));
    if (n >= out->size()) out->resize(n + 1);
    (*out)[n] = it->value().ToString();
  }
  return FromRocks(it->status(), "reading the report's ids");
}

Status ReadView::ScanChanges(
    rocksdb::ColumnFamilyHandle* family, Date from, Date to, uint64_t known_at,
    const std::function<void(uint64_t, Date, schema::Change::Reader)>& fn) const {
  kj::Array<capnp::word> words;
  return ScanKeyedByDay(family, from, to, known_at,
                        [&](uint64_t seq, Date day, std::string_view value) {
                          size_t n = value.size() / sizeof(capnp::word);
                          if (words.size() < n) words = kj::heapArray<capnp::word>(n * 2);
                          std::memcpy(words.begin(), value.data(), n * sizeof(capnp::word));
                          capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.begin(), n));
                          fn(seq, day, reader.getRoot<schema::Change>());
                        });
}

Status ReadView::ScanKeyedByDay(
    rocksdb::ColumnFamilyHandle* family, Date from, Date to, uint64_t known_at,
    const std::function<void(uint64_t, Date, std::string_view)>& fn) const {
  if (!status_.ok()) return status_;
  std::unique_ptr<rocksdb::Iterator> it(p_->db_->NewIterator(Options(), family));
  std::string start;
  PutBE32(&start, static_cast<uint32_t>(from.days) ^ 0x80000000u);
  const uint32_t last = static_cast<uint32_t>(to.days) ^ 0x80000000u;
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    uint32_t day = GetBE32(key);
    if (day > last) break;
    uint64_t seq = GetBE64(key.substr(4));
    if (known_at != 0 && seq > known_at) continue;
    fn(seq, Date{static_cast<int32_t>(day ^ 0x80000000u)},
       std::string_view(it->value().data(), it->value().size()));
  }
  return FromRocks(it->status(), "reading changes");
}

ledger::Ledger* ReadView::ledger() const { return p_->ledger(); }

}  // namespace ocop::projections
