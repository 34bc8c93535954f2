// Certification: dossiers, scores, forwarding, decisions and revocations.
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

void Decider::EndDossier(const ProductState& p, const Dossier& d, schema::DossierOutcome outcome,
                         const std::string& reason, const schema::Decision::Reader* decision) {
  Emit(ProductStream(p.id), [&](schema::Payload::Builder pb) {
    auto e = pb.initDossierEnded();
    e.setProduct(p.id);
    e.setCycleYear(static_cast<uint16_t>(d.cycle_year));
    e.setEntry(d.entry);
    e.setOutcome(outcome);
    e.setReason(reason);
    if (decision) e.setDecision(*decision);
  });
}

Status Decider::CloseRound(int year, CouncilLevel level, schema::Decision::Reader decision,
                           const std::set<std::string>& recognised) {
  const RoundState* round = nullptr;
  Status s = view_.Round(year, &round);
  if (!s.ok()) return s;
  std::string issuer = decision.getIssuer().cStr();
  for (const std::string& id : round->products) {
    if (recognised.count(id)) continue;
    const ProductState* p = nullptr;
    uint64_t version = 0;
    s = view_.Product(id, &p, &version);
    if (!s.ok()) return s;
    const Dossier* d = p->OpenDossier();
    // Never scored at this level (or forwarded above it): not this
    // decision's to end; it stays open for the level that will decide it.
    if (!d || d->cycle_year != year) continue;
    if (d->forwarded_to && *d->forwarded_to > level) continue;
    // Scored at this level by the decision's date; a dossier that moved on
    // after that date (a later score or stage) is not this decision's to end.
    bool scored_here = std::any_of(d->scores.begin(), d->scores.end(), [&](const Score& sc) {
      return sc.level == level && sc.date <= effective_;
    });
    if (!scored_here || p->stage_date > effective_) continue;
    bool inside = false;
    s = Contains(issuer, p->unit, &inside);
    if (!s.ok()) return s;
    if (!inside) continue;
    EndDossier(*p, *d, schema::DossierOutcome::NOT_RECOGNISED,
               "not recognised by decision " + std::string(decision.getNo().cStr()) + " of " +
                   decision.getDate().cStr(),
               &decision);
  }
  return Status::OK();
}

Status Decider::SubmitDossier(C::Body::Reader b) {
  auto c = b.getSubmitDossier();
  // The JSON parser accepts every Entry, import included (it is an event
  // value); refuse it before reading any state, so the answer does not
  // depend on the product's stage.
  if (c.getEntry() == Entry::IMPORT) {
    return BadField("entry", " must be new, renewal or upgrade; imports use ImportCertificate");
  }
  const ProductState* p = nullptr;
  Status s = RequireProduct(c.getProduct().cStr(), "product", &p);
  if (!s.ok()) return s;
  if (p->group == 0) {
    return Status::Refused("product " + Quote(p->id) +
                           " has no product group; classify it with ClassifyProduct first");
  }
  // Certificates carry their own dates; the rest is read as it stood on the
  // dossier's date (a dossier dated before its plan was approved is refused).
  const ProductState* on_date = nullptr;
  s = ProductOnDate(*p, &on_date);
  if (!s.ok()) return s;
  const Certificate* active = p->ActiveOn(effective_);
  Stage stage = on_date->StageOn(effective_);
  // Dossiers follow one another: one dated before the latest would become
  // the latest on record while the history says it was replaced.
  if (p->dossier && effective_ < p->dossier->submitted) {
    return Status::Refused("product " + Quote(p->id) + ": its dossier of cycle " +
                           std::to_string(p->dossier->cycle_year) + " was submitted on " +
                           FormatDate(p->dossier->submitted) +
                           "; a dossier dated before it cannot follow it")
        .WithField("effective");
  }
  if (const Dossier* open = on_date->OpenDossier(); open && open->cycle_year >= c.getCycleYear()) {
    return Status::Refused("product " + Quote(p->id) + " already has a dossier of cycle " +
                           std::to_string(open->cycle_year) + " under evaluation");
  }
  // Revocation is final for that certificate: it cannot be renewed or
  // upgraded, even on days before the revocation takes effect (found by the
  // property test: a renewal of a certificate revoked from a later date was
  // certified beside it, two certificates in force at once).
  if (c.getEntry() != Entry::NEW && active && active->revoked) {
    return Status::Refused("product " + Quote(p->id) + ": certificate " + Quote(active->no) +
                           " was revoked from " + FormatDate(*active->ended_on) +
                           "; revocation is final, enter the product as new once it has ended");
  }
  switch (c.getEntry()) {
    case Entry::NEW:
      if (active) {
        return Status::Refused("product " + Quote(p->id) + " holds certificate " +
                               Quote(active->no) + " until " + FormatDate(active->valid_until) +
                               "; enter it as renewal or upgrade, not new");
      }
      if (!(on_date->plan_approved || on_date->direct_entry || stage == Stage::kRevoked ||
            stage == Stage::kExpired || on_date->imported)) {
        return Status::Refused("product " + Quote(p->id) + " is at stage " +
                               std::string(StageName(stage)) +
                               "; a new entry needs an approved business plan, or a product "
                               "registered for direct entry with RegisterProduct");
      }
      break;
    case Entry::RENEWAL:
      if (!active) {
        return Status::Refused("product " + Quote(p->id) + " has no certificate in force on " +
                               FormatDate(effective_) +
                               "; re-recognition is only before expiry, otherwise enter it as new");
      }
      break;
    case Entry::UPGRADE:
      if (!active) {
        return Status::Refused("product " + Quote(p->id) + " has no certificate in force on " +
                               FormatDate(effective_) + " to upgrade");
      }
      if (active->stars >= 5) {
        return Status::Refused("product " + Quote(p->id) + " already holds 5 stars");
      }
      break;
    case Entry::IMPORT:
      break;  // refused above
  }
  s = ProductAct(c.getProduct().cStr(), {}, "submit dossiers",
                 [&](schema::Payload::Builder pb) { pb.setDossierSubmitted(c); });
  if (!s.ok()) return s;
  // The round's own record of its entries, which the decision that closes
  // it reads. Written, never read here: entries do not wait on each other
  // (an entry: dossiers of one year entered at once do not race for the
  // round's version; a closing decision, which reads the round, still does).
  std::string unit = p->unit;
  EmitEntry(RoundStream(c.getCycleYear()), [&](schema::Payload::Builder pb) {
    auto r = pb.initRoundEntered();
    r.setProduct(c.getProduct());
    r.setUnit(unit);
    r.setCycleYear(c.getCycleYear());
    r.setEntry(c.getEntry());
  });
  return Status::OK();
}

Status Decider::RecordScore(C::Body::Reader b) {
  auto c = b.getRecordScore();
  std::string council_id = c.getCouncil().cStr();
  const ProductState* p = nullptr;
  Status s = RequireProduct(c.getProduct().cStr(), "product", &p);
  if (!s.ok()) return s;
  const CouncilState* council = nullptr;
  s = view_.Council(council_id, &council);
  if (!s.ok()) return s;
  if (!council->exists) {
    return BadField("council", ": unknown council " + Quote(council_id));
  }
  auto rules = RulesInForce(effective_);
  if (!rules) {
    return Status::Refused("no OCOP scoring rules were in force on " + FormatDate(effective_) +
                           " (the first are QĐ 1048 of 2019-08-21)");
  }
  SheetResult sheet;
  s = ReadSheet(c, *rules, *p, &sheet);
  if (!s.ok()) return s;
  const std::pair<const char*, std::pair<double, double>> checks[] = {
      {"A", {sheet.a, rules->getMaxA()}},
      {"B", {sheet.b, rules->getMaxB()}},
      {"C", {sheet.c, rules->getMaxC()}}};
  for (const auto& [name, vm] : checks) {
    if (!(vm.first >= 0 && vm.first <= vm.second)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", vm.first);
      return BadField("parts." + std::string(name),
                      " must be from 0 to " + std::to_string(static_cast<int>(vm.second)) +
                          " under " + rules->getTitle().cStr() + " (parts A/B/C " +
                          std::to_string(static_cast<int>(rules->getMaxA())) + "/" +
                          std::to_string(static_cast<int>(rules->getMaxB())) + "/" +
                          std::to_string(static_cast<int>(rules->getMaxC())) + "); got " + buf);
    }
  }
  s = Authorize(p->unit, "score for council " + Quote(council_id), council_id);
  if (!s.ok()) return s;
  bool inside = false;
  s = Contains(council->unit, p->unit, &inside);
  if (!s.ok()) return s;
  if (!inside) {
    return Status::Forbidden("council " + Quote(council_id) + " of unit " + Quote(council->unit) +
                             " cannot score product " + Quote(p->id) + " of unit " +
                             Quote(p->unit));
  }
  const ProductState* on_date = nullptr;
  s = ProductOnDate(*p, &on_date);
  if (!s.ok()) return s;
  const Dossier* dossier = nullptr;
  s = LatestOpenDossier(*p, *on_date, &dossier);
  if (!s.ok()) return s;
  if (!dossier) {
    return Status::Refused("product " + Quote(p->id) + " has no dossier under evaluation on " +
                           FormatDate(effective_) + " (stage " +
                           std::string(StageName(on_date->StageOn(effective_))) +
                           "); submit a dossier first");
  }
  const auto& forwarded = dossier->forwarded_to;
  if (forwarded ? council->level != *forwarded : council->level == CouncilLevel::CENTRAL) {
    return Status::Refused(
        "council " + Quote(council_id) + " (" + std::string(EnumName(council->level)) +
        ") may not score product " + Quote(p->id) + ": " +
        (forwarded
             ? "its dossier was forwarded to the " + std::string(EnumName(*forwarded)) + " level"
             : std::string("the central level scores only forwarded dossiers")));
  }
  double total = sheet.a + sheet.b + sheet.c;
  int stars = std::min(StarsFor(*rules, total, c.getMandatoryMet()), sheet.max_stars);
  CouncilLevel level = council->level;
  Emit(ProductStream(p->id), [&](schema::Payload::Builder pb) {
    auto r = pb.initScoreRecorded();
    r.setScore(c);
    if (!c.hasParts()) {  // the sheet's sums
      auto parts = r.getScore().initParts();
      parts.setA(sheet.a);
      parts.setB(sheet.b);
      parts.setC(sheet.c);
    }
    auto missed = r.initHardMissed(static_cast<unsigned>(sheet.hard_missed.size()));
    for (unsigned i = 0; i < missed.size(); ++i) missed.set(i, sheet.hard_missed[i]);
    r.setCouncilLevel(level);
    r.setTotal(total);
    r.setStars(static_cast<uint8_t>(stars));
    r.setRules(rules->getId());
  });
  // A score below the recognised stars ends the dossier at once: no council
  // above it scores what was not forwarded, and no decision certifies it.
  if (stars < rules->getRecognisedFrom()) {
    EndDossier(*p, *dossier, schema::DossierOutcome::NOT_RECOGNISED,
               "scored " + Points(total) + " (" + std::to_string(stars) + "★) by council " +
                   council_id + ", below the " + std::to_string(rules->getRecognisedFrom()) +
                   "★ that are recognised",
               nullptr);
  }
  return Status::OK();
}

Status Decider::ReadSheet(schema::RecordScore::Reader c, Rules rules, const ProductState& p,
                          SheetResult* out) {
  *out = SheetResult();
  if (!c.hasSheet()) {
    if (!c.hasParts()) {
      return Status::InvalidArgument("missing field 'parts': give the parts A, B, C or a 'sheet'")
          .WithField("parts");
    }
    out->a = c.getParts().getA();
    out->b = c.getParts().getB();
    out->c = c.getParts().getC();
    return Status::OK();
  }
  std::string id = c.getSheet().getSet().cStr();
  const CriteriaSet* set = FindCriteriaSet(id);
  bool in_force = set && SetAppliesTo(*set, rules);
  if (!in_force) {
    std::string sets;
    for (const CriteriaSet* k : CriteriaSetsOn(effective_)) {
      sets += (sets.empty() ? "" : ", ") + k->id + (k->complete ? "" : " (partial)");
    }
    return BadField("sheet.set",
                    ": " + Quote(id) + " is not a criteria set of " + rules.getTitle().cStr() +
                        ", in force on " + FormatDate(effective_) + "; its sets: " +
                        (sets.empty() ? std::string("none") : sets) + " (ocop criteria)");
  }
  if (!SetScoresGroup(*set, p.group_list, p.group)) {
    return Status::Refused("criteria set " + Quote(id) + " does not score product " + Quote(p.id) +
                           " of group " + std::to_string(p.group) + " " +
                           GroupName(p.group_list, p.group) + "; use the set of its group");
  }
  if (!set->complete) {
    return Status::Refused("criteria set " + Quote(id) +
                           " is partial (not every criterion of the decree's annex is in it), "
                           "so it cannot decide stars; record the parts instead");
  }
  std::vector<std::pair<std::string, double>> points;
  for (auto k : c.getSheet().getCriteria()) points.emplace_back(k.getId().cStr(), k.getPoints());
  Status s = ScoreSheet(*set, points, out);
  if (!s.ok()) return s;
  if (c.hasParts()) {
    auto parts = c.getParts();
    const std::pair<const char*, std::pair<double, double>> given[] = {
        {"A", {parts.getA(), out->a}},
        {"B", {parts.getB(), out->b}},
        {"C", {parts.getC(), out->c}}};
    for (const auto& [name, gs] : given) {
      if (std::fabs(gs.first - gs.second) > 1e-9) {
        return BadField("parts." + std::string(name), " is " + Points(gs.first) +
                                                          " but the sheet's criteria of part " +
                                                          name + " add up to " + Points(gs.second) +
                                                          "; leave 'parts' out or make them agree");
      }
    }
  }
  return Status::OK();
}

Status Decider::Forward(C::Body::Reader b) {
  auto c = b.getForward();
  const ProductState* p = nullptr;
  Status s = RequireProduct(c.getProduct().cStr(), "product", &p);
  if (!s.ok()) return s;
  const ProductState* on_date = nullptr;
  s = ProductOnDate(*p, &on_date);
  if (!s.ok()) return s;
  const Dossier* dossier = nullptr;
  s = LatestOpenDossier(*p, *on_date, &dossier);
  if (!s.ok()) return s;
  if (!dossier || dossier->scores.empty()) {
    return Status::Refused("product " + Quote(p->id) + " has no scored dossier to forward");
  }
  const Score& last = dossier->scores.back();
  if (c.getToLevel() <= last.level) {
    return Status::Refused("product " + Quote(p->id) + " was last scored at the " +
                           std::string(EnumName(last.level)) +
                           " level; it can only be forwarded to a higher level");
  }
  auto rules = RulesInForce(effective_);
  if (rules && last.total < rules->getForwardFrom()) {
    return Status::Refused("product " + Quote(p->id) + " scored " + Points(last.total) +
                           "; under " + rules->getTitle().cStr() + " only totals of " +
                           std::to_string(static_cast<int>(rules->getForwardFrom())) +
                           " or more are forwarded");
  }
  return ProductAct(p->id, {}, "forward dossiers",
                    [&](schema::Payload::Builder pb) { pb.setForwarded(c); });
}

Status Decider::ApproveResults(C::Body::Reader b) {
  auto c = b.getApproveResults();
  DecisionRef decision = ToDecisionRef(c.getDecision());
  if (decision.no.empty()) return BadField("decision.no", " must not be empty");
  if (c.getItems().size() == 0) {
    return BadField("items", " must name at least one product");
  }
  auto rules = RulesInForce(decision.date);
  if (!rules) {
    return Status::Refused("no OCOP rules were in force on the decision date " +
                           FormatDate(decision.date));
  }
  const UnitState* issuer = nullptr;
  Status s = RequireUnit(decision.issuer, "decision.issuer", &issuer, /*allow_retired=*/true);
  if (!s.ok()) return s;
  if (issuer->retired && issuer->retired_on <= decision.date) {
    return Status::Refused("field 'decision.issuer': unit " + Quote(decision.issuer) +
                           " was retired on " + FormatDate(issuer->retired_on) +
                           "; its competence passed to " + Quote(issuer->successor))
        .WithField("decision.issuer");
  }
  CouncilLevel level = c.getLevel();
  if (LevelOfUnit(issuer->level) != level) {
    return BadField("decision.issuer", ": " + Quote(decision.issuer) + " is not a unit of the " +
                                           std::string(EnumName(level)) + " level");
  }
  s = NoProductTwice(c.getItems());
  if (!s.ok()) return s;
  std::set<std::string> approved;
  std::set<int> round_years;
  for (uint32_t i = 0; i < c.getItems().size(); ++i) {
    auto item = c.getItems()[i];
    std::string id = item.getProduct().cStr();
    // A refusal of this item names its row (`row`), for the form's table.
    const std::string row = "items[" + std::to_string(i) + "]";
    std::string where = row + " (product " + Quote(id) + "): ";
    const ProductState* p = nullptr;
    s = RequireProduct(id, row + ".product", &p);
    if (!s.ok()) return s;
    int stars = item.getStars();
    if (stars < rules->getRecognisedFrom() || stars > 5) {
      return Status::InvalidArgument(where + "stars must be from " +
                                     std::to_string(rules->getRecognisedFrom()) +
                                     " to 5: only recognised products are certified")
          .WithField(row + ".stars");
    }
    auto certifier = CertifyingLevel(*rules, stars);
    // The certifier the rules name may no longer exist on the decision date
    // (the districts, abolished on 2025-07-01 while QĐ 148 still named them
    // until QĐ 1489 took effect on 2025-07-06): its competence passes to the
    // successor RetireUnit named, so that no day is without a certifier.
    bool successor = false;
    if (certifier && *certifier != level) {
      s = SucceedsCertifier(*certifier, p->unit, decision, &successor);
      if (!s.ok()) return s;
    }
    if (!certifier || (*certifier != level && !successor)) {
      return Status::Forbidden(where + "under " + std::string(rules->getTitle().cStr()) + ", " +
                               std::to_string(stars) + " stars are certified at the " +
                               (certifier ? std::string(EnumName(*certifier)) : std::string("no")) +
                               " level, not the " + std::string(EnumName(level)) + " level")
          .WithField(row + ".stars");
    }
    s = AuthorizeIssuer(where, decision.issuer, p->unit, "approve results", row + ".product");
    if (!s.ok()) return s;
    const ProductState* on_date = nullptr;
    s = ProductOnDate(*p, &on_date);
    if (!s.ok()) return s;
    const Dossier* dossier = nullptr;
    s = LatestOpenDossier(*p, *on_date, &dossier);
    if (!s.ok()) return Status::Refused(where + s.message()).WithField(row + ".product");
    if (!dossier) {
      return Status::Refused(where + "no dossier is under evaluation on " + FormatDate(effective_) +
                             " (stage " + std::string(StageName(on_date->StageOn(effective_))) +
                             ")")
          .WithField(row + ".product");
    }
    const Score* best = nullptr;
    for (const Score& sc : dossier->scores) {
      // The latest score of this level counts (or, for a successor, of the
      // level it succeeds).
      if (sc.level == level || (successor && sc.level == *certifier)) best = &sc;
    }
    if (!best) {
      return Status::Refused(where + "no council of the " + std::string(EnumName(level)) +
                             " level has scored this dossier by " + FormatDate(effective_))
          .WithField(row + ".product");
    }
    // A dossier that straddles a decree: the entry in force on the decision
    // date says whether scores given under earlier rules stand (rules.capnp,
    // `transition`).
    if (best->rules != rules->getId().cStr() &&
        rules->getTransition() == schema::Transition::RESCORE) {
      return Status::Refused(where + "council " + Quote(best->council) + " scored it under " +
                             best->rules + " on " + FormatDate(best->date) + "; under " +
                             rules->getTitle().cStr() +
                             " a dossier scored under earlier rules is scored again")
          .WithField(row + ".product");
    }
    if (stars > best->stars) {
      return Status::Refused(where + "the decision gives " + std::to_string(stars) +
                             " stars but council " + Quote(best->council) + " scored " +
                             std::to_string(best->stars) + " (total " + Points(best->total) +
                             (best->hard_missed.empty()
                                  ? std::string()
                                  : "; hard criteria missed: " + Join(best->hard_missed)) +
                             ")")
          .WithField(row + ".stars");
    }
    std::string cert_no = item.getCertificate().cStr();
    if (cert_no.empty())
      return Status::InvalidArgument(where + "certificate must not be empty")
          .WithField(row + ".certificate");
    bool reused = std::any_of(p->certificates.begin(), p->certificates.end(),
                              [&](const Certificate& k) { return k.no == cert_no; });
    if (reused) {
      return Status::Refused(where + "certificate " + Quote(cert_no) +
                             " was already issued to this product")
          .WithField(row + ".certificate");
    }
    // A certificate is valid from its decision's date, so that date decides
    // which certificates it can overlap. Without these checks a decision dated
    // before the dossier, or before the certificate in force, would put two
    // certificates in force on the same days (the property test found it:
    // a new entry approved by a decision dated while an imported certificate
    // was still valid). Certificates of one product therefore follow one
    // another: a decision is dated on or after the dossier it decides, the
    // score it rests on and the last certificate's first day; a new entry is
    // not approved on a day another certificate is in force.
    if (decision.date < dossier->submitted || decision.date < best->date) {
      return Status::Refused(where + "the decision is dated " + FormatDate(decision.date) +
                             ", before the dossier it decides was submitted (" +
                             FormatDate(dossier->submitted) + ") and scored (" +
                             FormatDate(best->date) + ")")
          .WithField(row + ".product");
    }
    if (!p->certificates.empty() && decision.date < p->certificates.back().valid_from) {
      return Status::Refused(where + "the decision is dated " + FormatDate(decision.date) +
                             ", before certificate " + Quote(p->certificates.back().no) +
                             " took effect on " + FormatDate(p->certificates.back().valid_from) +
                             "; a product's certificates follow one another")
          .WithField(row + ".product");
    }
    const Certificate* active = p->ActiveOn(decision.date);
    Entry entry = dossier->entry;
    const Certificate* current = p->Current();
    if (entry == Entry::NEW && active) {
      return Status::Refused(where + "certificate " + Quote(active->no) + " is in force on " +
                             FormatDate(decision.date) + " until " +
                             FormatDate(active->valid_until) +
                             "; a new entry cannot be certified beside it")
          .WithField(row + ".certificate");
    }
    if (entry == Entry::UPGRADE && (!active || stars <= active->stars)) {
      return Status::Refused(where + "an upgrade must give more stars than the " +
                             std::to_string(active ? active->stars : 0) + " held")
          .WithField(row + ".stars");
    }
    Date valid_until = AddMonths(decision.date, rules->getValidityMonths());
    Emit(ProductStream(id), [&](schema::Payload::Builder pb) {
      auto cert = pb.initCertified();
      cert.setProduct(id);
      cert.setDecision(c.getDecision());
      cert.setLevel(level);
      cert.setStars(static_cast<uint8_t>(stars));
      cert.setCertificate(cert_no);
      cert.setValidFrom(FormatDate(decision.date));
      cert.setValidUntil(FormatDate(valid_until));
      cert.setEntry(entry);
      bool supersedes = current && entry != Entry::NEW;
      if (supersedes) cert.setSupersedes(current->no);
      cert.setFewerStars(entry == Entry::RENEWAL && supersedes && stars < current->stars);
      cert.setRules(rules->getId());
    });
    approved.insert(id);
    round_years.insert(dossier->cycle_year);
  }
  if (!c.getClosesRound()) return Status::OK();
  if (round_years.size() != 1) {
    return BadField("closes_round", ": the items' dossiers belong to the rounds of " +
                                        std::to_string(*round_years.begin()) + " and " +
                                        std::to_string(*round_years.rbegin()) +
                                        "; a decision closes one round");
  }
  return CloseRound(*round_years.begin(), level, c.getDecision(), approved);
}

// Which certificate a revocation applies to. For most reasons, the one in
// force on the decision date, which must be the product's current one. For
// the reasons of revocation after lapse (not_reevaluated,
// failed_reevaluation) the last certificate issued: provinces revoke the
// ratings of certificates that ran out without renewal, weeks after their
// end date, in one decision (Đồng Tháp 58/QĐ-UBND-HC of 11/01/2023 revoked 25
// certified in 2019). The reason must agree with the record: not re-evaluated
// means no renewal or upgrade dossier came in while it was in force, and the
// certificate has lapsed; failed re-evaluation means one came in and did not
// end recognised (the certificate may still be in force: a failed
// re-evaluation leaves it to its end date, and the province may revoke it).
Status Decider::CertificateToRevoke(const ProductState& p, Date date,
                                    schema::RevocationReason reason, const std::string& where,
                                    const Certificate** out) {
  using R = schema::RevocationReason;
  if (p.certificates.empty()) {
    return Status::Refused(where +
                           "the product never held a certificate; there is nothing to "
                           "revoke");
  }
  const Certificate& last = p.certificates.back();
  if (last.revoked) {
    return Status::Refused(where + "certificate " + Quote(last.no) + " was already revoked by " +
                           last.revoke_decision.no + " of " +
                           FormatDate(last.revoke_decision.date) +
                           "; revocation is final for a certificate");
  }
  if (reason == R::NOT_REEVALUATED || reason == R::FAILED_REEVALUATION) {
    if (date < last.valid_from) {
      return Status::Refused(where + "the decision is dated " + FormatDate(date) +
                             ", before certificate " + Quote(last.no) + " took effect on " +
                             FormatDate(last.valid_from));
    }
    bool entered = last.renewal_entered && last.renewal_entered_on <= date;
    if (reason == R::NOT_REEVALUATED) {
      if (last.InForceOn(date)) {
        return Status::Refused(where + "certificate " + Quote(last.no) + " is in force until " +
                               FormatDate(last.valid_until) +
                               "; not_reevaluated applies once it has lapsed");
      }
      if (entered) {
        return Status::Refused(where + "a re-evaluation dossier was entered on " +
                               FormatDate(last.renewal_entered_on) + " while certificate " +
                               Quote(last.no) + " was in force; the reason is failed_reevaluation");
      }
    } else {
      if (!entered) {
        return Status::Refused(where + "no re-evaluation dossier was entered while certificate " +
                               Quote(last.no) + " was in force; the reason is not_reevaluated");
      }
      if (const Dossier* open = p.OpenDossier(); open && open->entry != Entry::NEW) {
        return Status::Refused(where + "its re-evaluation dossier of " +
                               std::to_string(open->cycle_year) +
                               " is still under evaluation; it has not failed yet");
      }
    }
    *out = &last;
    return Status::OK();
  }
  const Certificate* active = p.ActiveOn(date);
  if (!active) {
    return Status::Refused(where + "no certificate is in force on " + FormatDate(date) +
                           " (stage " + std::string(StageName(p.StageOn(date))) +
                           "); a lapsed certificate is revoked for not_reevaluated or "
                           "failed_reevaluation");
  }
  // Only the current certificate can be revoked: one superseded since the
  // decision date has ended already, and revoking it would leave its
  // successor in force under a product marked revoked.
  if (active != p.Current()) {
    return Status::Refused(where + "certificate " + Quote(active->no) + ", in force on " +
                           FormatDate(date) + ", has ended since (" +
                           (active->superseded_by.empty()
                                ? std::string("revoked")
                                : "superseded by " + Quote(active->superseded_by)) +
                           "); revoke the current certificate instead");
  }
  *out = active;
  return Status::OK();
}

Status Decider::RevokeRating(C::Body::Reader b) {
  auto c = b.getRevokeRating();
  DecisionRef decision = ToDecisionRef(c.getDecision());
  if (decision.no.empty()) return BadField("decision.no", " must not be empty");
  if (c.getItems().size() == 0) {
    return BadField("items", " must name at least one product");
  }
  const UnitState* issuer = nullptr;
  Status s = RequireUnit(decision.issuer, "decision.issuer", &issuer, /*allow_retired=*/true);
  if (!s.ok()) return s;
  s = NoProductTwice(c.getItems());
  if (!s.ok()) return s;
  for (uint32_t i = 0; i < c.getItems().size(); ++i) {
    auto item = c.getItems()[i];
    std::string id = item.getProduct().cStr();
    // A refusal of this item names its row (`row`), for the form's table.
    const std::string row = "items[" + std::to_string(i) + "]";
    std::string where = row + " (product " + Quote(id) + "): ";
    const ProductState* p = nullptr;
    s = RequireProduct(id, row + ".product", &p);
    if (!s.ok()) return s;
    const Certificate* active = nullptr;
    s = CertificateToRevoke(*p, decision.date, item.getReason(), where, &active);
    if (!s.ok()) return s.WithField(row + ".reason");
    if (LevelOfUnit(issuer->level) < active->level) {
      return Status::Forbidden(where + "certificate " + Quote(active->no) + " was issued at the " +
                               std::string(EnumName(active->level)) +
                               " level; only that level or above may revoke it")
          .WithField(row + ".certificate");
    }
    s = AuthorizeIssuer(where, decision.issuer, p->unit, "revoke ratings", row + ".product");
    if (!s.ok()) return s;
    int stars = active->stars;
    std::string cert_no = active->no;
    Emit(ProductStream(id), [&](schema::Payload::Builder pb) {
      auto r = pb.initRatingRevoked();
      r.setProduct(id);
      r.setDecision(c.getDecision());
      r.setReason(item.getReason());
      r.setCertificate(cert_no);
      r.setStars(static_cast<uint8_t>(stars));
    });
  }
  return Status::OK();
}

}  // namespace ocop::workflow::internal
