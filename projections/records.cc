#include "projections/records.h"

namespace ocop::projections {
namespace {

using workflow::Date;
using workflow::FormatDate;
using workflow::ParseDate;

std::string DateText(const std::optional<Date>& d) { return d ? FormatDate(*d) : ""; }
std::optional<Date> OptionalDate(capnp::Text::Reader t) {
  Date d;
  if (t.size() == 0 || !ParseDate(t.cStr(), &d)) return std::nullopt;
  return d;
}
Date DateOf(capnp::Text::Reader t) {
  Date d;
  ParseDate(t.cStr(), &d);
  return d;
}

void SaveDecision(const workflow::DecisionRef& d, workflow::schema::Decision::Builder out) {
  out.setNo(d.no);
  out.setDate(FormatDate(d.date));
  out.setIssuer(d.issuer);
}

}  // namespace

void Save(const ProductState& s, schema::ProductRecord::Builder out) {
  out.setExists(s.exists);
  out.setId(s.id);
  out.setName(s.name);
  out.setSubject(s.subject);
  out.setUnit(s.unit);
  out.setGroup(static_cast<uint8_t>(s.group));
  out.setGroupList(s.group_list);
  out.setCycleYear(static_cast<uint16_t>(s.cycle_year));
  out.setImported(s.imported);
  out.setStage(std::string(workflow::StageName(s.stage)));
  out.setStageDate(FormatDate(s.stage_date));
  out.setRejectedOn(DateText(s.rejected_on));
  out.setSupportVnd(s.support_vnd);
  out.setPlanApproved(s.plan_approved);
  out.setDirectEntry(s.direct_entry);
  out.setLastEffective(s.last_effective.days);
  auto support = out.initSupport(static_cast<unsigned>(s.support.size()));
  for (unsigned i = 0; i < support.size(); ++i) {
    support[i].setSeq(s.support[i].seq);
    support[i].setDate(FormatDate(s.support[i].date));
    support[i].setSource(s.support[i].source);
    support[i].setAmountVnd(s.support[i].amount_vnd);
  }
  if (s.dossier) {
    out.setHasDossier(true);
    auto d = out.initDossier();
    d.setCycleYear(static_cast<uint16_t>(s.dossier->cycle_year));
    d.setEntry(s.dossier->entry);
    d.setSubmitted(FormatDate(s.dossier->submitted));
    d.setEnteredFrom(std::string(workflow::StageName(s.dossier->entered_from)));
    if (s.dossier->forwarded_to) {
      d.setForwarded(true);
      d.setForwardedTo(*s.dossier->forwarded_to);
    }
    if (s.dossier->outcome) {
      d.setEnded(true);
      d.setOutcome(*s.dossier->outcome);
      d.setEndedOn(FormatDate(s.dossier->ended));
    }
    auto scores = d.initScores(static_cast<unsigned>(s.dossier->scores.size()));
    for (unsigned i = 0; i < scores.size(); ++i) {
      const auto& sc = s.dossier->scores[i];
      scores[i].setCouncil(sc.council);
      scores[i].setLevel(sc.level);
      scores[i].setTotal(sc.total);
      scores[i].setStars(static_cast<uint8_t>(sc.stars));
      scores[i].setDate(FormatDate(sc.date));
      scores[i].setSeq(sc.seq);
      scores[i].setRules(sc.rules);
      auto missed = scores[i].initHardMissed(static_cast<unsigned>(sc.hard_missed.size()));
      for (unsigned k = 0; k < missed.size(); ++k) missed.set(k, sc.hard_missed[k]);
    }
  }
  auto certs = out.initCertificates(static_cast<unsigned>(s.certificates.size()));
  for (unsigned i = 0; i < certs.size(); ++i) {
    const auto& c = s.certificates[i];
    auto r = certs[i];
    r.setNo(c.no);
    SaveDecision(c.decision, r.initDecision());
    r.setLevel(c.level);
    r.setStars(static_cast<uint8_t>(c.stars));
    r.setValidFrom(FormatDate(c.valid_from));
    r.setValidUntil(FormatDate(c.valid_until));
    r.setEntry(c.entry);
    r.setFewerStars(c.fewer_stars);
    r.setSeq(c.seq);
    r.setEndedOn(DateText(c.ended_on));
    r.setRevoked(c.revoked);
    r.setRevokeReason(c.revoke_reason);
    if (c.revoked) SaveDecision(c.revoke_decision, r.initRevokeDecision());
    r.setSupersededBy(c.superseded_by);
    r.setRenewalEntered(c.renewal_entered);
    if (c.renewal_entered) r.setRenewalEnteredOn(FormatDate(c.renewal_entered_on));
  }
}

ProductState Load(schema::ProductRecord::Reader in) {
  ProductState s;
  s.exists = in.getExists();
  s.id = in.getId().cStr();
  s.name = in.getName().cStr();
  s.subject = in.getSubject().cStr();
  s.unit = in.getUnit().cStr();
  s.group = in.getGroup();
  s.group_list = in.getGroupList().cStr();
  s.cycle_year = in.getCycleYear();
  s.imported = in.getImported();
  workflow::ParseStage(in.getStage().cStr(), &s.stage);
  s.stage_date = DateOf(in.getStageDate());
  s.rejected_on = OptionalDate(in.getRejectedOn());
  s.support_vnd = in.getSupportVnd();
  s.plan_approved = in.getPlanApproved();
  s.direct_entry = in.getDirectEntry();
  s.last_effective.days = in.getLastEffective();
  for (auto g : in.getSupport()) {
    s.support.push_back(workflow::SupportGrant{g.getSeq(), DateOf(g.getDate()),
                                               g.getSource().cStr(), g.getAmountVnd()});
  }
  if (in.getHasDossier()) {
    auto d = in.getDossier();
    workflow::Dossier dossier;
    dossier.cycle_year = d.getCycleYear();
    dossier.entry = d.getEntry();
    dossier.submitted = DateOf(d.getSubmitted());
    workflow::ParseStage(d.getEnteredFrom().cStr(), &dossier.entered_from);
    if (d.getForwarded()) dossier.forwarded_to = d.getForwardedTo();
    if (d.getEnded()) {
      dossier.outcome = d.getOutcome();
      dossier.ended = DateOf(d.getEndedOn());
    }
    for (auto sc : d.getScores()) {
      workflow::Score score;
      score.council = sc.getCouncil().cStr();
      score.level = sc.getLevel();
      score.total = sc.getTotal();
      score.stars = sc.getStars();
      score.date = DateOf(sc.getDate());
      score.seq = sc.getSeq();
      score.rules = sc.getRules().cStr();
      for (auto m : sc.getHardMissed()) score.hard_missed.push_back(m.cStr());
      dossier.scores.push_back(std::move(score));
    }
    s.dossier = std::move(dossier);
  }
  for (auto r : in.getCertificates()) {
    workflow::Certificate c;
    c.no = r.getNo().cStr();
    c.decision = workflow::ToDecisionRef(r.getDecision());
    c.level = r.getLevel();
    c.stars = r.getStars();
    c.valid_from = DateOf(r.getValidFrom());
    c.valid_until = DateOf(r.getValidUntil());
    c.entry = r.getEntry();
    c.fewer_stars = r.getFewerStars();
    c.seq = r.getSeq();
    c.ended_on = OptionalDate(r.getEndedOn());
    c.revoked = r.getRevoked();
    c.revoke_reason = r.getRevokeReason();
    if (c.revoked) c.revoke_decision = workflow::ToDecisionRef(r.getRevokeDecision());
    c.superseded_by = r.getSupersededBy().cStr();
    c.renewal_entered = r.getRenewalEntered();
    if (c.renewal_entered) c.renewal_entered_on = DateOf(r.getRenewalEnteredOn());
    s.certificates.push_back(std::move(c));
  }
  return s;
}

void Save(const UnitState& s, schema::UnitRecord::Builder out) {
  out.setCode(s.code);
  out.setName(s.name);
  out.setLevel(s.level);
  out.setParent(s.parent);
  out.setRetired(s.retired);
  out.setSuccessor(s.successor);
  out.setRetiredOn(s.retired ? FormatDate(s.retired_on) : "");
}

UnitState Load(schema::UnitRecord::Reader in) {
  UnitState s;
  s.exists = true;
  s.code = in.getCode().cStr();
  s.name = in.getName().cStr();
  s.level = in.getLevel();
  s.parent = in.getParent().cStr();
  s.retired = in.getRetired();
  s.successor = in.getSuccessor().cStr();
  if (s.retired) s.retired_on = DateOf(in.getRetiredOn());
  return s;
}

void Save(const SubjectState& s, schema::SubjectRecord::Builder out) {
  out.setId(s.id);
  out.setName(s.name);
  out.setUnit(s.unit);
  out.setLegalForm(s.legal_form);
  out.setWomanOwned(s.woman_owned);
  out.setRepresentative(s.representative);
  out.setPhone(s.phone);
  out.setAddress(s.address);
  out.setPersonalFields(s.personal);
  out.setErased(s.erased);
}

SubjectState Load(schema::SubjectRecord::Reader in) {
  SubjectState s;
  s.exists = true;
  s.id = in.getId().cStr();
  s.name = in.getName().cStr();
  s.unit = in.getUnit().cStr();
  s.legal_form = in.getLegalForm();
  s.woman_owned = in.getWomanOwned();
  s.representative = in.getRepresentative().cStr();
  s.phone = in.getPhone().cStr();
  s.address = in.getAddress().cStr();
  // A record folded before the field existed reads 0, as its event did:
  // plain (workflow/upcast.h).
  s.personal = in.getPersonalFields() == workflow::schema::PersonalFields::UNRECORDED
                   ? workflow::schema::PersonalFields::PLAIN
                   : in.getPersonalFields();
  s.erased = in.getErased();
  return s;
}

void SaveFact(const ProductState& p, size_t index, const SubjectState& subject,
              schema::CertificateFact::Builder out) {
  const workflow::Certificate& c = p.certificates[index];
  out.setProduct(p.id);
  out.setName(p.name);
  out.setNo(c.no);
  out.setStars(static_cast<uint8_t>(c.stars));
  out.setLevel(c.level);
  out.setEntry(c.entry);
  out.setValidFrom(c.valid_from.days);
  out.setValidUntil(c.valid_until.days);
  out.setEndedOn(c.ended_on ? c.ended_on->days : kNeverEnded);
  out.setRevoked(c.revoked);
  out.setRevokeReason(c.revoke_reason);
  out.setRenewalEntered(c.renewal_entered);
  out.setRenewalEnteredOn(c.renewal_entered ? c.renewal_entered_on.days : 0);
  out.setRenewed(!c.superseded_by.empty());
  out.setUnit(p.unit);
  out.setGroup(static_cast<uint8_t>(p.group));
  out.setGroupList(p.group_list);
  out.setSubject(p.subject);
  out.setLegalForm(subject.legal_form);
  out.setWomanOwned(subject.woman_owned);
  out.setDecisionNo(c.decision.no);
}

}  // namespace ocop::projections
