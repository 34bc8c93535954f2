// Acts on the record: inspections, promotions, imports of earlier
// certificates, annulments, disputes and targets.
#include "workflow/decider.h"

#include <capnp/dynamic.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <set>

#include "workflow/admissible.h"
#include "workflow/criteria.h"
#include "workflow/json.h"
#include "workflow/rules.h"

namespace ocop::workflow::internal {

// Acts on a recognised product (inspections, trade promotion) need a
// certificate in force on the act's date, whatever a re-evaluation dossier
// is doing meanwhile: the certificate stays in force to its end date.
Status Decider::RequireCertificateInForce(const std::string& product, const std::string& what) {
  const ProductState* p = nullptr;
  Status s = RequireProduct(product, "product", &p);
  if (!s.ok()) return s;
  if (!p->ActiveOn(effective_)) {
    return Status::Refused("cannot " + what + " for product " + Quote(product) +
                           ": it holds no certificate in force on " + FormatDate(effective_) +
                           " (certificate " + std::string(p->CertificateStateOn(effective_)) +
                           ", stage " + std::string(StageName(p->StageOn(effective_))) +
                           "); this is allowed only while a certificate is in force");
  }
  return Status::OK();
}

Status Decider::RecordInspection(C::Body::Reader b) {
  auto c = b.getRecordInspection();
  Status s = RequireCertificateInForce(c.getProduct().cStr(), "record inspections");
  if (!s.ok()) return s;
  return ProductAct(c.getProduct().cStr(), {}, "record inspections",
                    [&](schema::Payload::Builder p) { p.setInspectionRecorded(c); });
}

Status Decider::RecordPromotion(C::Body::Reader b) {
  auto c = b.getRecordPromotion();
  if (c.getChannel().size() == 0) return BadField("channel", " must not be empty");
  Status s = RequireCertificateInForce(c.getProduct().cStr(), "record trade promotion");
  if (!s.ok()) return s;
  return ProductAct(c.getProduct().cStr(), {}, "record trade promotion",
                    [&](schema::Payload::Builder p) { p.setPromotionRecorded(c); });
}

Status Decider::ImportCertificate(C::Body::Reader b) {
  auto c = b.getImportCertificate();
  std::string id = c.getProduct().cStr(), unit = c.getUnit().cStr(),
              subject = c.getSubject().cStr();
  if (id.empty()) return BadField("product", " must not be empty");
  const ProductState* existing = nullptr;
  uint64_t version = 0;
  Status s = view_.Product(id, &existing, &version);
  if (!s.ok()) return s;
  if (existing->exists) {
    return Status::Refused("product " + Quote(id) +
                           " is already in the ledger; only products certified before the "
                           "ledger existed are imported");
  }
  s = CheckExpectedVersion(id, version);
  if (!s.ok()) return s;
  s = RequireSubject(subject);
  if (!s.ok()) return s;
  const UnitState* u = nullptr;
  s = RequireUnit(unit, "unit", &u, /*allow_retired=*/true);
  if (!s.ok()) return s;
  if (c.getStars() < 3 || c.getStars() > 5) {
    return BadField("stars", " must be from 3 to 5: only recognised products hold certificates");
  }
  if (c.getCertificate().size() == 0) {
    return BadField("certificate", " must not be empty");
  }
  DecisionRef decision = ToDecisionRef(c.getDecision());
  const UnitState* issuer = nullptr;
  s = RequireUnit(decision.issuer, "decision.issuer", &issuer, /*allow_retired=*/true);
  if (!s.ok()) return s;
  // The group as the certifying decision classified it.
  std::string list;
  s = CheckGroup(c.getGroup(), c.getGroupList().cStr(), decision.date, &list);
  if (!s.ok()) return s;
  s = Authorize(unit, "import certificates");
  if (!s.ok()) return s;
  auto rules = RulesInForce(decision.date);
  int months = rules ? rules->getValidityMonths() : 36;
  Emit(ProductStream(id), [&](schema::Payload::Builder pb) {
    auto cert = pb.initCertified();
    cert.setProduct(id);
    cert.setDecision(c.getDecision());
    cert.setLevel(LevelOfUnit(issuer->level));
    cert.setStars(c.getStars());
    cert.setCertificate(c.getCertificate());
    cert.setValidFrom(FormatDate(decision.date));
    cert.setValidUntil(FormatDate(AddMonths(decision.date, months)));
    cert.setEntry(Entry::IMPORT);
    cert.setRules(rules ? rules->getId() : "");
    cert.setSubject(subject);
    cert.setName(c.getName());
    cert.setGroup(c.getGroup());
    cert.setGroupList(list);
    cert.setUnit(unit);
  });
  return Status::OK();
}

Status Decider::AnnulEvent(C::Body::Reader b) {
  auto c = b.getAnnulEvent();
  if (c.getReason().size() == 0) {
    return BadField("reason", " must say why the record is wrong");
  }
  EventInfo target;
  bool annulled = false;
  Status s = view_.Event(c.getTargetSeq(), &target, &annulled);
  if (s.IsNotFound()) {
    return BadField("target_seq", ": there is no event " + std::to_string(c.getTargetSeq()));
  }
  if (!s.ok()) return s;
  if (target.kind == schema::Payload::EVENT_ANNULLED) {
    return Status::Refused("event " + std::to_string(target.seq) +
                           " is itself an annulment; record the act again instead");
  }
  if (target.kind == schema::Payload::SUBJECT_DATA_ERASED) {
    return Status::Refused("event " + std::to_string(target.seq) +
                           " erased a producer's personal data: its key is destroyed, and an "
                           "annulment could not bring the data back");
  }
  if (annulled) {
    return Status::Refused("event " + std::to_string(target.seq) + " is already annulled");
  }
  s = Authorize(target.actor_unit, "annul records");
  if (!s.ok()) return s;
  if (StreamId target_stream = StreamId::Parse(target.stream);
      target_stream.kind == StreamId::Kind::kProduct) {
    const std::string& id = target_stream.id;
    const ProductState* p = nullptr;
    uint64_t version = 0;
    s = view_.Product(id, &p, &version);
    if (!s.ok()) return s;
    s = CheckExpectedVersion(id, version);
    if (!s.ok()) return s;
    // Certificates are corrected in the reverse order of their records.
    // Annulling a certificate, or a revocation, that a later certificate
    // followed would put two certificates in force at once (found by the
    // property test: an annulled revocation brought back a certificate beside
    // the new entry certified after it); annulling a revoked certificate
    // would leave its revocation naming nothing. A pending certificate of
    // this batch (seq 0) counts as later.
    if (target.kind == schema::Payload::CERTIFIED ||
        target.kind == schema::Payload::RATING_REVOKED) {
      for (const Certificate& k : p->certificates) {
        if (k.seq == target.seq && k.revoked) {
          return Status::Refused("event " + std::to_string(target.seq) + " certified " +
                                 Quote(k.no) +
                                 ", which was revoked since; annul the revocation first");
        }
        if (k.seq != 0 && k.seq <= target.seq) continue;
        return Status::Refused("event " + std::to_string(target.seq) + " (" + target.type +
                               ") cannot be annulled while certificate " + Quote(k.no) +
                               ", recorded after it, stands; annul that certificate first");
      }
    }
  }
  std::string type = target.type;
  Emit(target.stream, [&](schema::Payload::Builder pb) {
    auto a = pb.initEventAnnulled();
    a.setTargetSeq(c.getTargetSeq());
    a.setTargetType(type);
    a.setReason(c.getReason());
  });
  return Status::OK();
}

Status Decider::FileDispute(C::Body::Reader b) {
  auto c = b.getFileDispute();
  std::string id = c.getDispute().cStr();
  if (id.empty()) return BadField("dispute", " must not be empty");
  const DisputeState* d = nullptr;
  Status s = view_.Dispute(id, &d);
  if (!s.ok()) return s;
  if (d->exists) return Status::Refused("dispute " + Quote(id) + " is already filed");
  const ProductState* p = nullptr;
  s = RequireProduct(c.getProduct().cStr(), "product", &p);
  if (!s.ok()) return s;
  s = Authorize(p->unit, "file disputes");
  if (!s.ok()) return s;
  Emit(DisputeStream(id), [&](schema::Payload::Builder pb) { pb.setDisputeFiled(c); });
  return Status::OK();
}

Status Decider::ResolveDispute(C::Body::Reader b) {
  auto c = b.getResolveDispute();
  std::string id = c.getDispute().cStr();
  const DisputeState* d = nullptr;
  Status s = view_.Dispute(id, &d);
  if (!s.ok()) return s;
  if (!d->exists) return BadField("dispute", ": unknown dispute " + Quote(id));
  if (d->resolved) return Status::Refused("dispute " + Quote(id) + " is already resolved");
  const ProductState* p = nullptr;
  uint64_t version = 0;
  s = view_.Product(d->product, &p, &version);
  if (!s.ok()) return s;
  s = Authorize(p->unit, "resolve disputes");
  if (!s.ok()) return s;
  Emit(DisputeStream(id), [&](schema::Payload::Builder pb) { pb.setDisputeResolved(c); });
  return Status::OK();
}

Status Decider::SetTarget(C::Body::Reader b) {
  auto c = b.getSetTarget();
  if (c.getIndicator().size() == 0) {
    return BadField("indicator", " must name what is targeted");
  }
  const UnitState* u = nullptr;
  Status s = RequireUnit(c.getUnit().cStr(), "unit", &u);
  if (!s.ok()) return s;
  s = Authorize(c.getUnit().cStr(), "set targets");
  if (!s.ok()) return s;
  Emit(UnitStream(c.getUnit().cStr()), [&](schema::Payload::Builder pb) { pb.setTargetSet(c); });
  return Status::OK();
}

}  // namespace ocop::workflow::internal
