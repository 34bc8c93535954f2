// The live fold: events after the checkpoint applied to a batch and flushed
// with the checkpoint in one write.
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
#include "workflow/stream_fold.h"

#include "projections/keys.h"
#include "projections/projections_internal.h"

namespace ocop::projections {
namespace fs = std::filesystem;
using ledger::keys::PutBE64;
using workflow::Date;
using workflow::ProductState;
using workflow::SubjectState;
using workflow::UnitState;

// The serialized facts of every certificate of `p`.
std::vector<std::string> FactBytes(const ProductState& p, const SubjectState& subject) {
  std::vector<std::string> out;
  for (size_t i = 0; i < p.certificates.size(); ++i) {
    capnp::MallocMessageBuilder msg;
    SaveFact(p, i, subject, msg.initRoot<schema::CertificateFact>());
    out.push_back(Flat(msg));
  }
  return out;
}

// Only these events change a certificate's facts.
bool TouchesFacts(workflow::schema::Payload::Reader p) {
  return p.isCertified() || p.isRatingRevoked() || p.isDossierSubmitted() || p.isEventAnnulled() ||
         p.isIdeaRegistered() || p.isProductClassified();
}

Status Projections::CatchUp(const Progress& progress, uint64_t up_to) {
  const uint64_t total = up_to ? std::min(up_to, ledger_->Size()) : ledger_->Size();
  if (checkpoint_ >= total) return Status::OK();
  Batch batch;
  Status failure;
  uint64_t last = checkpoint_;
  Status s = ledger_->Scan(checkpoint_ + 1, total - checkpoint_,
                           [&](uint64_t seq, std::string_view bytes) {
                             failure = Apply(seq, bytes, &batch);
                             if (!failure.ok()) return false;
                             last = seq;
                             if (++batch.events >= kEventsPerFlush) {
                               failure = Flush(seq, &batch);
                               if (!failure.ok()) return false;
                               if (progress) progress(seq, total);
                             }
                             return true;
                           });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  s = Flush(last, &batch);
  if (s.ok() && progress) progress(last, total);
  return s;
}

Status Projections::Apply(uint64_t seq, std::string_view stored, Batch* batch) {
  std::string scratch;
  ledger::EventView view(workflow::Upcast(stored, &scratch));
  if (!view.ok()) return Status::Corruption("event " + std::to_string(seq) + ": " + view.error());
  auto e = view.As<workflow::schema::OcopEvent>();
  std::string_view stream(e.getStream().cStr(), e.getStream().size());
  workflow::StreamId parsed = workflow::StreamId::Parse(stream);
  const workflow::StreamId::Kind kind = parsed.kind;
  std::string id = std::move(parsed.id);
  auto payload = e.getPayload();
  const bool annul = payload.isEventAnnulled();
  workflow::EventRef ref = workflow::StreamFold::ToEventRef(e);

  // An annulment refolds its stream as it stood at this event.
  std::optional<workflow::StreamFold> refold;
  if (annul) {
    refold.emplace();
    Status s = workflow::LoadStream(ledger_, std::string(stream), &*refold, seq);
    if (!s.ok()) return s;
  }

  if (kind == workflow::StreamId::Kind::kProduct) {
    // Consecutive events of one product are common (a month's promotions):
    // the last slot is kept at hand.
    ProductSlot* at = batch->last_slot && batch->last_product == id ? batch->last_slot : nullptr;
    if (!at) {
      Status s = SlotFor(id, batch, &at);
      if (!s.ok()) return s;
      batch->last_product = id;
      batch->last_slot = at;
    }
    ProductState& state = at->state;
    const bool facts = TouchesFacts(payload);
    SubjectState subject;
    std::vector<std::string> before;
    if (facts) {
      Status s = SubjectFor(state.subject, batch, &subject);
      if (!s.ok()) return s;
      before = FactBytes(state, subject);
    }
    // A rebuild writes every state at the end; a live flush only those
    // that changed.
    std::optional<ProductState> was;
    if (!batch->bulk && !at->changed && !facts && !refold) was = state;
    if (refold) {
      ProductState fresh;
      refold->Fold(&fresh);
      state = std::move(fresh);
    } else {
      state = workflow::Evolve(std::move(state), ref);
    }
    if (!was || !(*was == state)) at->changed = true;
    Status numbered = NumberSlot(id, batch, at);
    if (!numbered.ok()) return numbered;
    if (facts) {
      if (state.subject != subject.id) {
        Status s = SubjectFor(state.subject, batch, &subject);
        if (!s.ok()) return s;
      }
      std::vector<std::string> after = FactBytes(state, subject);
      for (size_t i = 0; i < std::max(before.size(), after.size()); ++i) {
        const std::string* now = i < after.size() ? &after[i] : nullptr;
        const std::string* was = i < before.size() ? &before[i] : nullptr;
        if (now && was && *now == *was) continue;
        batch->writes.Put(fact_versions_, VersionKey(id, static_cast<uint32_t>(i), seq),
                          now ? *now : std::string());
      }
    }
    RecordChange(seq, e, state, batch);
    Status recorded = RecordReportChange(seq, e, *at, batch);
    if (!recorded.ok()) return recorded;
  } else if (kind == workflow::StreamId::Kind::kSubject) {
    // A producer's first event cannot be named by a product folded before
    // (the decider requires the producer first); any later one may restate it.
    if (!batch->bulk && e.getVersion() > 1) batch->restated.insert(id);
    auto it = batch->subjects.find(id);
    if (it == batch->subjects.end()) {
      SubjectState st;
      Status s = batch->bulk ? Status::NotFound("") : latest_->Subject(id, &st);
      if (!s.ok() && !s.IsNotFound()) return s;
      it = batch->subjects.emplace(id, std::move(st)).first;
    }
    if (refold) {
      SubjectState fresh;
      refold->Fold(&fresh);
      it->second = std::move(fresh);
    } else {
      it->second = workflow::Evolve(std::move(it->second), ref);
    }
  } else if (kind == workflow::StreamId::Kind::kUnit) {
    if (payload.isTargetSet() || annul) {
      // Targets of a unit are replaced whole from its stream: simple, and
      // correct under annulment.
      Status s = FoldTargets(ledger_, id, seq, std::nullopt, &batch->targets[id]);
      if (!s.ok()) return s;
    }
    if (!payload.isTargetSet()) {
      auto it = batch->units.find(id);
      if (it == batch->units.end()) {
        UnitState st;
        std::string v;
        rocksdb::Status gs = batch->bulk ? rocksdb::Status::NotFound()
                                         : db_->Get(rocksdb::ReadOptions(), units_, id, &v);
        if (gs.ok()) {
          kj::Array<capnp::word> words;
          std::optional<capnp::FlatArrayMessageReader> reader;
          st = Load(Read<schema::UnitRecord>(v, &words, &reader));
        } else if (!gs.IsNotFound()) {
          return FromRocks(gs, "reading units");
        }
        it = batch->units.emplace(id, std::move(st)).first;
      }
      if (refold) {
        UnitState fresh;
        refold->Fold(&fresh);
        it->second = std::move(fresh);
      } else {
        it->second = workflow::Evolve(std::move(it->second), ref);
      }
    }
  }
  // Principals, councils and disputes have no read model here.
  return Status::OK();
}

Status Projections::SlotFor(const std::string& id, Batch* batch, ProductSlot** out) {
  if (std::optional<uint32_t> found = batch->product_ids.Find(id)) {
    *out = &batch->products[*found];
    return Status::OK();
  }
  ProductSlot slot;
  Status s;
  if (batch->bulk) {
    s = Status::NotFound("");
  } else if (auto cached = cached_products_.find(id); cached != cached_products_.end()) {
    // Taken out: put back only by a flush that wrote it (see Flush).
    slot.state = std::move(cached->second);
    cached_products_.erase(cached);
  } else {
    s = latest_->Product(id, &slot.state);
  }
  if (s.ok()) {
    slot.stored_certificates = slot.state.certificates.size();
    if (const auto* c = slot.state.Current())
      slot.stored_deadline = DeadlineKey(c->valid_until, id);
  } else if (!s.IsNotFound()) {
    return s;
  }
  batch->product_ids.Add(id);
  *out = &batch->products.emplace_back(std::move(slot));
  return Status::OK();
}

Status Projections::MarkRestated(Batch* batch) {
  if (batch->restated.empty()) return Status::OK();
  // Rare (a registration annulled or made again), so a scan of the products
  // rather than an index by producer that every product write would keep.
  std::vector<std::string> named;
  Status s = latest_->ForEachProduct([&](const ProductState& p) {
    if (batch->restated.count(p.subject)) named.push_back(p.id);
    return true;
  });
  if (!s.ok()) return s;
  for (const std::string& id : named) {
    ProductSlot* slot = nullptr;
    s = SlotFor(id, batch, &slot);
    if (!s.ok()) return s;
  }
  for (ProductSlot& slot : batch->products) {
    if (batch->restated.count(slot.state.subject)) slot.changed = true;
  }
  return Status::OK();
}

Status Projections::SubjectFor(const std::string& id, Batch* batch, SubjectState* out) {
  *out = SubjectState();
  if (id.empty()) return Status::OK();
  auto it = batch->subjects.find(id);
  if (it != batch->subjects.end()) {
    *out = it->second;
    return Status::OK();
  }
  if (batch->bulk) return Status::OK();
  Status s = latest_->Subject(id, out);
  return s.IsNotFound() ? Status::OK() : s;
}

void Projections::RecordChange(uint64_t seq, workflow::schema::OcopEvent::Reader e,
                               const ProductState& state, Batch* batch) {
  capnp::MallocMessageBuilder msg(batch->scratch);
  auto c = msg.initRoot<schema::Change>();
  c.setProduct(state.id.empty() ? workflow::StreamId::Parse(e.getStream().cStr()).id : state.id);
  c.setName(state.name);
  c.setUnit(state.unit);
  c.setType(e.getType());
  c.setPrincipal(e.getActor().getPrincipal());
  c.setRole(e.getActor().getRole());
  auto p = e.getPayload();
  if (p.isCertified()) {
    c.setDecision(p.getCertified().getDecision());
    c.setStars(p.getCertified().getStars());
  } else if (p.isRatingRevoked()) {
    c.setDecision(p.getRatingRevoked().getDecision());
    c.setStars(p.getRatingRevoked().getStars());
  } else if (p.isEventAnnulled()) {
    c.setAnnuls(p.getEventAnnulled().getTargetSeq());
  } else if (p.isScoreRecorded()) {
    c.setStars(p.getScoreRecorded().getStars());
    if (p.getScoreRecorded().getScore().hasSheet()) {
      auto sheet = p.getScoreRecorded().getScore().getSheet();
      c.setSheetSet(sheet.getSet());
      c.setCriteria(sheet.getCriteria());
    }
  } else if (p.isSupportGranted()) {
    c.setAmountVnd(p.getSupportGranted().getAmountVnd());
    c.setSource(p.getSupportGranted().getSource());
  }
  // What the period report counts by, as it stood when the event happened
  // (the report reads these, never the event or the product's later state).
  const bool report = p.isSupportGranted() || p.isDossierSubmitted() || p.isDossierEnded() ||
                      p.isCertified() || p.isIdeaRegistered() || p.isIdeaReviewed() ||
                      p.isEventAnnulled();
  if (report) {
    c.setSubject(state.subject);
    c.setCycleYear(static_cast<uint16_t>(state.cycle_year));
    if (p.isDossierSubmitted()) {
      c.setEntry(p.getDossierSubmitted().getEntry());
      c.setCycleYear(p.getDossierSubmitted().getCycleYear());
    } else if (p.isDossierEnded()) {
      c.setEntry(p.getDossierEnded().getEntry());
      c.setCycleYear(p.getDossierEnded().getCycleYear());
      c.setOutcome(p.getDossierEnded().getOutcome());
    } else if (p.isIdeaRegistered()) {
      c.setCycleYear(p.getIdeaRegistered().getIdea().getCycleYear());
    } else if (p.isIdeaReviewed()) {
      c.setSelected(p.getIdeaReviewed().getOutcome() == workflow::schema::IdeaOutcome::SELECTED);
    }
  }
  Date effective;
  workflow::ParseDate(e.getEffective().cStr(), &effective);
  FlatInto(msg, &batch->flat);
  const std::string key = ChangeKey(effective, seq);
  if (batch->bulk) {
    batch->changes.Add(key, batch->flat);
  } else {
    batch->writes.Put(changes_, key, batch->flat);
  }
}

Status Projections::Flush(uint64_t seq, Batch* batch) {
  rocksdb::WriteBatch& wb = batch->writes;
  Status restated = MarkRestated(batch);
  if (!restated.ok()) return restated;
  for (auto& [id, st] : batch->subjects) {
    if (!st.exists) {
      wb.Delete(subjects_, id);
      continue;
    }
    capnp::MallocMessageBuilder msg;
    Save(st, msg.initRoot<schema::SubjectRecord>());
    wb.Put(subjects_, id, Flat(msg));
  }
  for (auto& [id, st] : batch->units) {
    if (!st.exists) {
      wb.Delete(units_, id);
      continue;
    }
    capnp::MallocMessageBuilder msg;
    Save(st, msg.initRoot<schema::UnitRecord>());
    wb.Put(units_, id, Flat(msg));
  }
  for (auto& [unit, list] : batch->targets) {
    std::string prefix = unit;
    prefix.push_back('\0');
    if (!batch->bulk) {  // a rebuild's directory holds none yet
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), targets_));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        wb.Delete(targets_, it->key());
      }
    }
    for (const Target& t : list) {
      std::string v;
      PutBE64(&v, std::bit_cast<uint64_t>(t.value));
      wb.Put(targets_, TargetKey(unit, t.year, t.indicator), v);
    }
  }
  for (uint32_t n = 0; n < batch->products.size(); ++n) {
    const std::string& id = batch->product_ids.id(n);
    const ProductSlot& slot = batch->products[n];
    if (!slot.changed) continue;
    const ProductState& p = slot.state;
    if (!p.exists) {
      wb.Delete(products_, id);
    } else {
      capnp::MallocMessageBuilder msg;
      Save(p, msg.initRoot<schema::ProductRecord>());
      wb.Put(products_, id, Flat(msg));
    }
    // Facts: rewrite every certificate's, drop those an annulment removed.
    SubjectState subject;
    auto sub = batch->subjects.find(p.subject);
    if (sub != batch->subjects.end()) {
      subject = sub->second;
    } else if (!p.subject.empty() && !batch->bulk) {
      Status s = latest_->Subject(p.subject, &subject);
      if (!s.ok() && !s.IsNotFound()) return s;
    }
    for (size_t i = 0; i < p.certificates.size(); ++i) {
      capnp::MallocMessageBuilder msg;
      SaveFact(p, i, subject, msg.initRoot<schema::CertificateFact>());
      wb.Put(certificates_, FactKey(id, static_cast<uint32_t>(i)), Flat(msg));
    }
    for (size_t i = p.certificates.size(); i < slot.stored_certificates; ++i) {
      wb.Delete(certificates_, FactKey(id, static_cast<uint32_t>(i)));
    }
    Status facts = PutReportFacts(id, &batch->products[n], subject, batch);
    if (!facts.ok()) return facts;
    std::optional<std::string> deadline;
    std::string index;
    if (const auto* c = p.Current()) {
      deadline = DeadlineKey(c->valid_until, id);
      PutBE32(&index, static_cast<uint32_t>(p.certificates.size() - 1));
    }
    if (slot.stored_deadline && slot.stored_deadline != deadline)
      wb.Delete(deadlines_, *slot.stored_deadline);
    if (deadline) wb.Put(deadlines_, *deadline, index);
  }
  ids_->Write(batch->ids, &wb);
  std::string cp;
  PutBE64(&cp, seq);
  if (batch->bulk) {
    // Everything without the WAL, then flushed to disk, and only then the
    // checkpoint and the end of the rebuilding marker, durably.
    Status s = WriteWithoutWal(&batch->writes);
    batch->writes.Clear();
    if (!s.ok()) return s;
    if (!batch->change_tables.empty()) {
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;  // linked, not copied: the runs are on this disk
      s = FromRocks(db_->IngestExternalFile(changes_, batch->change_tables, ingest),
                    "ingesting the changes");
      if (!s.ok()) return s;
      std::error_code ec;
      fs::remove_all(RunsDir(), ec);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> data(handles_.begin() + 1, handles_.end());
    s = FromRocks(db_->Flush(rocksdb::FlushOptions(), data), "flushing the projections");
    if (!s.ok()) return s;
    wb.Put(meta_, "checkpoint", cp);
    wb.Delete(meta_, kRebuilding);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = FromRocks(db_->Write(wo, &wb), "writing the projections' checkpoint");
    if (!s.ok()) return s;
    s = FromRocks(db_->Flush(rocksdb::FlushOptions(), meta_), "flushing the projections");
    if (!s.ok()) return s;
    checkpoint_ = seq;
    ids_->Commit(&batch->ids);
    *batch = Batch();
    return Status::OK();
  }
  wb.Put(meta_, "checkpoint", cp);
  // Without the WAL: a write of it per batch was a tenth of the follower's
  // time, and a crash only sends the fold back to the last checkpoint that
  // reached disk (atomic flush, store.cc), from where it folds again.
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  Status s = FromRocks(db_->Write(wo, &wb), "writing the projections");
  if (!s.ok()) return s;
  checkpoint_ = seq;
  // Written: the batch's states are now the store's (one that does not
  // exist is not stored, and is read back as absent).
  if (cached_products_.size() + batch->products.size() > kCachedProducts) cached_products_.clear();
  for (uint32_t n = 0; n < batch->products.size(); ++n) {
    ProductState& state = batch->products[n].state;
    if (state.exists) cached_products_.insert_or_assign(batch->product_ids.id(n), std::move(state));
  }
  ids_->Commit(&batch->ids);
  *batch = Batch();  // also empties the write batch
  return Status::OK();
}

}  // namespace ocop::projections
