// The fold's writes of the period report's own records (report_records.h):
// numbered ids, the rows of the changes the report counts, each product's
// certificates in a fixed layout.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "projections/projections.h"
#include "projections/records.h"
#include "projections/report_ids.h"
#include "projections/report_records.h"

#include "projections/keys.h"
#include "projections/projections_internal.h"

namespace ocop::projections {

// Numbered after every event of the product, in log order, whatever the
// event: a rebuild and the live fold meet the same texts in the same order,
// so they give the same numbers.
Status Projections::NumberSlot(const std::string& id, Batch* batch, ProductSlot* slot) {
  ProductSlot::Numbers& n = slot->numbers;
  const ProductState& p = slot->state;
  auto number = [&](IdKind kind, const std::string& text, std::string* was, uint32_t* out) {
    if (n.set && *was == text) return Status::OK();
    Status s = ids_->Number(kind, text, batch->bulk, &batch->ids, out);
    if (s.ok()) *was = text;
    return s;
  };
  if (!n.set) {
    Status s = ids_->Number(IdKind::kProduct, id, batch->bulk, &batch->ids, &n.product);
    if (!s.ok()) return s;
  }
  Status s = number(IdKind::kUnit, p.unit, &n.unit_text, &n.unit);
  if (s.ok()) s = number(IdKind::kSubject, p.subject, &n.subject_text, &n.subject);
  if (s.ok()) s = number(IdKind::kGroupList, p.group_list, &n.group_list_text, &n.group_list);
  if (s.ok()) n.set = true;
  return s;
}

Status Projections::RecordReportChange(uint64_t seq, workflow::schema::OcopEvent::Reader e,
                                       const ProductSlot& slot, Batch* batch) {
  auto p = e.getPayload();
  ChangeRow row;
  const ProductState& state = slot.state;
  row.cycle_year = static_cast<uint16_t>(state.cycle_year);
  if (p.isSupportGranted()) {
    row.type = ChangeRow::kSupportGranted;
    row.amount_vnd = p.getSupportGranted().getAmountVnd();
    auto source = p.getSupportGranted().getSource();
    Status s = ids_->Number(IdKind::kSource, std::string_view(source.cStr(), source.size()),
                            batch->bulk, &batch->ids, &row.source);
    if (!s.ok()) return s;
  } else if (p.isDossierSubmitted()) {
    row.type = ChangeRow::kDossierSubmitted;
    row.entry = static_cast<uint8_t>(p.getDossierSubmitted().getEntry());
    row.cycle_year = p.getDossierSubmitted().getCycleYear();
  } else if (p.isDossierEnded()) {
    row.type = ChangeRow::kDossierEnded;
    row.entry = static_cast<uint8_t>(p.getDossierEnded().getEntry());
    row.cycle_year = p.getDossierEnded().getCycleYear();
    row.outcome = static_cast<uint8_t>(p.getDossierEnded().getOutcome());
  } else if (p.isCertified()) {
    row.type = ChangeRow::kCertified;
    row.stars = p.getCertified().getStars();
  } else if (p.isIdeaRegistered()) {
    row.type = ChangeRow::kIdeaRegistered;
    row.cycle_year = p.getIdeaRegistered().getIdea().getCycleYear();
  } else if (p.isIdeaReviewed()) {
    row.type = ChangeRow::kIdeaReviewed;
    row.selected =
        p.getIdeaReviewed().getOutcome() == workflow::schema::IdeaOutcome::SELECTED ? 1 : 0;
  } else if (p.isEventAnnulled()) {
    row.type = ChangeRow::kEventAnnulled;
    row.annuls = p.getEventAnnulled().getTargetSeq();
  } else {
    return Status::OK();  // not one the report counts
  }
  // As things stood when it happened: the report reads neither the event nor
  // the product's later state.
  row.product = slot.numbers.product;
  row.unit = slot.numbers.unit;
  row.subject = slot.numbers.subject;
  workflow::Date effective;
  workflow::ParseDate(e.getEffective().cStr(), &effective);
  std::string value;
  AppendRecord(row, &value);
  // A tenth of the changes: through the write batch in a rebuild too.
  batch->writes.Put(report_changes_, ChangeKey(effective, seq), value);
  if (row.type == ChangeRow::kEventAnnulled)
    batch->writes.Put(report_changes_, AnnulmentKey(seq), value);
  return Status::OK();
}

Status Projections::PutReportFacts(const std::string& id, ProductSlot* slot,
                                   const workflow::SubjectState& subject, Batch* batch) {
  // A product loaded only to restate its producer's facts was numbered when
  // its events were folded: this finds those numbers, it gives none.
  Status s = NumberSlot(id, batch, slot);
  if (!s.ok()) return s;
  const ProductState& p = slot->state;
  std::string key;
  PutBE32(&key, slot->numbers.product);
  if (p.certificates.empty()) {
    if (!batch->bulk) batch->writes.Delete(report_facts_, key);  // a rebuild's store has none
    return Status::OK();
  }
  FactHead head;
  head.unit = slot->numbers.unit;
  head.subject = slot->numbers.subject;
  head.group_list = slot->numbers.group_list;
  head.certificates = static_cast<uint16_t>(std::min<size_t>(p.certificates.size(), UINT16_MAX));
  head.group = static_cast<uint8_t>(p.group);
  head.legal_form = static_cast<uint8_t>(subject.legal_form);
  head.woman_owned = subject.woman_owned ? 1 : 0;
  std::string value;
  value.reserve(sizeof(FactHead) + head.certificates * sizeof(FactCert));
  AppendRecord(head, &value);
  for (size_t i = 0; i < head.certificates; ++i) {
    const workflow::Certificate& c = p.certificates[i];
    FactCert f;
    f.valid_from = c.valid_from.days;
    f.valid_until = c.valid_until.days;
    f.ended_on = c.ended_on ? c.ended_on->days : kNeverEnded;
    f.renewal_entered_on = c.renewal_entered ? c.renewal_entered_on.days : 0;
    f.stars = static_cast<uint8_t>(c.stars);
    f.entry = static_cast<uint8_t>(c.entry);
    f.revoke_reason = static_cast<uint8_t>(c.revoke_reason);
    f.flags = static_cast<uint8_t>((c.revoked ? FactCert::kRevoked : 0) |
                                   (c.renewal_entered ? FactCert::kRenewalEntered : 0) |
                                   (!c.superseded_by.empty() ? FactCert::kRenewed : 0));
    AppendRecord(f, &value);
  }
  batch->writes.Put(report_facts_, key, value);
  return Status::OK();
}

}  // namespace ocop::projections
