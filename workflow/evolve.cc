#include "workflow/state.h"

#include <algorithm>

#include "workflow/json.h"
#include "workflow/rules.h"

namespace ocop::workflow {

using P = schema::Payload;

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kNone:
      return "none";
    case Stage::kIdeaRegistered:
      return "idea_registered";
    case Stage::kIdeaSelected:
      return "idea_selected";
    case Stage::kIdeaRejected:
      return "idea_rejected";
    case Stage::kPlanSubmitted:
      return "plan_submitted";
    case Stage::kPlanApproved:
      return "plan_approved";
    case Stage::kPlanRejected:
      return "plan_rejected";
    case Stage::kDossierSubmitted:
      return "dossier_submitted";
    case Stage::kScored:
      return "scored";
    case Stage::kCertified:
      return "certified";
    case Stage::kExpired:
      return "expired";
    case Stage::kRevoked:
      return "revoked";
    case Stage::kRegistered:
      return "registered";
  }
  return "none";
}

bool ParseStage(std::string_view name, Stage* out) {
  for (int i = 0; i <= static_cast<int>(Stage::kRegistered); ++i) {
    if (StageName(static_cast<Stage>(i)) == name) {
      *out = static_cast<Stage>(i);
      return true;
    }
  }
  return false;
}

EventRef ProductEvent::Ref() const {
  EventRef r;
  r.seq = seq;
  r.effective = effective;
  r.payload = payload->getRoot<schema::Payload>().asReader();
  return r;
}

ProductEvent CopyEvent(const EventRef& e) {
  ProductEvent out;
  out.seq = e.seq;
  out.effective = e.effective;
  out.type = PayloadType(e.payload);
  out.payload = std::make_shared<capnp::MallocMessageBuilder>(64);
  out.payload->setRoot(e.payload);
  return out;
}

DecisionRef ToDecisionRef(schema::Decision::Reader d) {
  DecisionRef r;
  r.no = d.getNo().cStr();
  ParseDate(d.getDate().cStr(), &r.date);
  r.issuer = d.getIssuer().cStr();
  return r;
}

const Certificate* ProductState::ActiveOn(Date date) const {
  for (auto it = certificates.rbegin(); it != certificates.rend(); ++it) {
    if (it->InForceOn(date)) return &*it;
  }
  return nullptr;
}

const Certificate* ProductState::Current() const {
  if (certificates.empty() || certificates.back().ended_on) return nullptr;
  return &certificates.back();
}

std::string_view ProductState::CertificateStateOn(Date date) const {
  if (ActiveOn(date)) return "in_force";
  const Certificate* last = nullptr;
  for (const Certificate& c : certificates) {
    if (c.valid_from <= date) last = &c;
  }
  if (!last) return "none";
  if (last->revoked && last->ended_on && *last->ended_on <= date) return "revoked";
  return "lapsed";
}

bool StateBudgetSource(std::string_view source) {
  return source == "central" || source == "province" || source == "district" || source == "commune";
}

uint64_t ProductState::StateSupportVnd() const {
  uint64_t sum = 0;
  for (const SupportGrant& g : support) {
    if (StateBudgetSource(g.source)) sum += g.amount_vnd;
  }
  return sum;
}

std::optional<uint64_t> UnitState::SupportCapOn(Date date) const {
  std::optional<uint64_t> cap;
  for (const auto& [from, vnd] : support_caps) {
    if (from <= date) cap = vnd == 0 ? std::nullopt : std::optional<uint64_t>(vnd);
  }
  return cap;
}

Stage ProductState::StageOn(Date date) const {
  const Certificate* c = Current();
  if (stage == Stage::kCertified && c && date > c->valid_until) return Stage::kExpired;
  return stage;
}

namespace {

// The list a recorded group code belongs to. Events recorded before lists
// were named carry none: theirs is the default of the rules on their date.
std::string GroupListOf(int group, capnp::Text::Reader recorded, Date date) {
  if (group == 0) return "";
  return recorded.size() ? recorded.cStr() : DefaultGroupList(date);
}

// The recorded stage is that of the latest-dated act. An act recorded late
// and dated before it (filling in the history, which the decider admits
// only when the product's state on that date allowed it and no later act
// becomes illegal) does not take the product back to an earlier stage.
void SetStage(ProductState* s, Stage stage, Date date) {
  if (date < s->stage_date) return;
  s->stage = stage;
  s->stage_date = date;
}

// The stage a product returns to when its dossier ends not recognised: that
// of its certificates (a failed re-evaluation leaves the certificate in force
// to its end date), or else the stage it had when the dossier came in.
Stage StageAfterDossier(const ProductState& s) {
  if (!s.certificates.empty()) return s.Current() ? Stage::kCertified : Stage::kRevoked;
  return s.dossier->entered_from;
}

}  // namespace

ProductState Evolve(ProductState s, const EventRef& e) {
  auto p = e.payload;
  // A product exists from its registration (or import) on. The decider
  // appends nothing to a product that does not exist, so events before
  // existence appear only when the registration was annulled; the acts that
  // rested on it then stop counting too, instead of leaving a product that
  // does not exist at some stage (found by the property test: its stale
  // rejected_on carried over into a later registration).
  if (!s.exists && !p.isIdeaRegistered() && !p.isProductRegistered() &&
      !(p.isCertified() && p.getCertified().getEntry() == Entry::IMPORT)) {
    return s;
  }
  s.last_effective = std::max(s.last_effective, e.effective);
  switch (p.which()) {
    case P::IDEA_REGISTERED: {
      auto idea = p.getIdeaRegistered().getIdea();
      s.exists = true;
      s.id = idea.getProduct().cStr();
      s.name = idea.getName().cStr();
      s.subject = idea.getSubject().cStr();
      s.unit = idea.getUnit().cStr();
      s.group = idea.getGroup();
      s.group_list = GroupListOf(idea.getGroup(), idea.getGroupList(), e.effective);
      s.cycle_year = idea.getCycleYear();
      SetStage(&s, Stage::kIdeaRegistered, e.effective);
      break;
    }
    case P::PRODUCT_REGISTERED: {
      auto r = p.getProductRegistered();
      s.exists = true;
      s.direct_entry = true;
      s.id = r.getProduct().cStr();
      s.name = r.getName().cStr();
      s.subject = r.getSubject().cStr();
      s.unit = r.getUnit().cStr();
      s.group = r.getGroup();
      s.group_list = GroupListOf(s.group, r.getGroupList(), e.effective);
      SetStage(&s, Stage::kRegistered, e.effective);
      break;
    }
    case P::PRODUCT_CLASSIFIED:
      s.group = p.getProductClassified().getGroup();
      s.group_list = GroupListOf(s.group, p.getProductClassified().getGroupList(), e.effective);
      break;
    case P::IDEA_REVIEWED:
      if (p.getIdeaReviewed().getOutcome() == schema::IdeaOutcome::SELECTED) {
        SetStage(&s, Stage::kIdeaSelected, e.effective);
      } else {
        SetStage(&s, Stage::kIdeaRejected, e.effective);
        s.rejected_on = e.effective;
      }
      break;
    case P::PLAN_SUBMITTED:
      SetStage(&s, Stage::kPlanSubmitted, e.effective);
      break;
    case P::PLAN_REVIEWED:
      s.plan_approved = p.getPlanReviewed().getOutcome() == schema::PlanOutcome::APPROVED;
      SetStage(&s,
               p.getPlanReviewed().getOutcome() == schema::PlanOutcome::APPROVED
                   ? Stage::kPlanApproved
                   : Stage::kPlanRejected,
               e.effective);
      break;
    case P::SUPPORT_GRANTED: {
      auto g = p.getSupportGranted();
      s.support_vnd += g.getAmountVnd();
      s.support.push_back(SupportGrant{e.seq, e.effective, g.getSource().cStr(), g.getAmountVnd()});
      break;
    }
    case P::DOSSIER_SUBMITTED: {
      auto d = p.getDossierSubmitted();
      Dossier dossier;
      dossier.cycle_year = d.getCycleYear();
      dossier.entry = d.getEntry();
      dossier.submitted = e.effective;
      // A dossier that replaces an open one (a later cycle's) comes in from
      // where that one came in.
      dossier.entered_from = s.OpenDossier() ? s.dossier->entered_from : s.stage;
      if (dossier.entry != Entry::NEW) {
        for (Certificate& c : s.certificates) {
          if (!c.InForceOn(e.effective)) continue;
          // Kept with its date, so that a funnel asked as of an earlier
          // date does not count an entry that came later.
          if (!c.renewal_entered) c.renewal_entered_on = e.effective;
          c.renewal_entered = true;
        }
      }
      s.dossier = std::move(dossier);
      SetStage(&s, Stage::kDossierSubmitted, e.effective);
      break;
    }
    case P::SCORE_RECORDED: {
      auto r = p.getScoreRecorded();
      if (!s.OpenDossier()) break;
      Score score;
      score.council = r.getScore().getCouncil().cStr();
      score.level = r.getCouncilLevel();
      score.total = r.getTotal();
      score.stars = r.getStars();
      score.date = e.effective;
      score.seq = e.seq;
      score.rules = r.getRules().cStr();
      for (auto m : r.getHardMissed()) score.hard_missed.push_back(m.cStr());
      s.dossier->scores.push_back(std::move(score));
      SetStage(&s, Stage::kScored, e.effective);
      break;
    }
    case P::FORWARDED:
      if (s.OpenDossier()) s.dossier->forwarded_to = p.getForwarded().getToLevel();
      break;
    case P::DOSSIER_ENDED:
      if (s.OpenDossier()) {
        s.dossier->outcome = p.getDossierEnded().getOutcome();
        s.dossier->ended = e.effective;
        SetStage(&s, StageAfterDossier(s), e.effective);
      }
      break;
    case P::CERTIFIED: {
      auto c = p.getCertified();
      if (c.getEntry() == Entry::IMPORT) {
        s.exists = true;
        s.imported = true;
        s.id = c.getProduct().cStr();
        s.subject = c.getSubject().cStr();
        s.name = c.getName().cStr();
        s.group = c.getGroup();
        Date decided;
        ParseDate(c.getDecision().getDate().cStr(), &decided);
        s.group_list = GroupListOf(s.group, c.getGroupList(), decided);
        s.unit = c.getUnit().cStr();
      }
      Certificate cert;
      cert.no = c.getCertificate().cStr();
      cert.decision = ToDecisionRef(c.getDecision());
      cert.level = c.getLevel();
      cert.stars = c.getStars();
      ParseDate(c.getValidFrom().cStr(), &cert.valid_from);
      ParseDate(c.getValidUntil().cStr(), &cert.valid_until);
      cert.entry = c.getEntry();
      cert.fewer_stars = c.getFewerStars();
      cert.seq = e.seq;
      // A renewal or upgrade supersedes the certificate still current, even
      // one that lapsed while the dossier was evaluated.
      if (!s.certificates.empty() && !s.certificates.back().ended_on &&
          (cert.entry == Entry::RENEWAL || cert.entry == Entry::UPGRADE)) {
        Certificate& old = s.certificates.back();
        old.ended_on = std::min(cert.valid_from, old.valid_until + 1);
        old.superseded_by = cert.no;
      }
      if (s.OpenDossier() && cert.entry != Entry::IMPORT) {
        s.dossier->outcome = schema::DossierOutcome::RECOGNISED;
        s.dossier->ended = cert.valid_from;
      }
      s.certificates.push_back(std::move(cert));
      SetStage(&s, Stage::kCertified, e.effective);
      break;
    }
    case P::RATING_REVOKED: {
      auto r = p.getRatingRevoked();
      for (Certificate& c : s.certificates) {
        if (c.no != r.getCertificate().cStr() || c.ended_on) continue;
        c.revoke_decision = ToDecisionRef(r.getDecision());
        c.ended_on = c.revoke_decision.date;
        c.revoked = true;
        c.revoke_reason = r.getReason();
      }
      // A dossier still open falls with the certificate it would renew;
      // one that ended stays as it ended.
      if (s.OpenDossier()) s.dossier.reset();
      SetStage(&s, Stage::kRevoked, e.effective);
      break;
    }
    default:
      break;  // inspections, promotions, disputes, annulments: not status
  }
  return s;
}

UnitState Evolve(UnitState s, const EventRef& e) {
  auto p = e.payload;
  if (p.isUnitDefined()) {
    auto u = p.getUnitDefined();
    s.exists = true;
    s.code = u.getUnit().cStr();
    s.name = u.getName().cStr();
    s.level = u.getLevel();
    s.parent = u.getParent().cStr();
  } else if (p.isUnitRetired()) {
    s.retired = true;
    s.successor = p.getUnitRetired().getSuccessor().cStr();
    s.retired_on = e.effective;
  } else if (p.isSupportCapSet()) {
    // Kept in date order, so that a cap back-dated between two others
    // governs only its own days.
    auto at =
        std::upper_bound(s.support_caps.begin(), s.support_caps.end(), e.effective,
                         [](Date d, const std::pair<Date, uint64_t>& c) { return d < c.first; });
    s.support_caps.insert(at, {e.effective, p.getSupportCapSet().getCapVnd()});
  }
  return s;
}

const Official* PrincipalState::OfficialOn(Date d) const {
  const Official* found = officials.empty() ? nullptr : &officials.front();
  for (const Official& o : officials) {
    if (o.from <= d) found = &o;
  }
  return found;
}

PrincipalState Evolve(PrincipalState s, const EventRef& e) {
  if (e.payload.isRoleGranted()) {
    auto g = e.payload.getRoleGranted();
    s.grants.push_back(
        Grant{g.getRole(), g.getUnit().cStr(), g.getCouncil().cStr(), e.effective, std::nullopt});
  } else if (e.payload.isOfficialRegistered()) {
    auto o = e.payload.getOfficialRegistered();
    Official rec{e.effective, o.getName().cStr(), o.getTitle().cStr(), o.getOffice().cStr(),
                 o.getUnit().cStr()};
    // Kept in date order, so that OfficialOn finds the record of a date; a
    // back-dated record goes before those dated after it.
    auto at = std::upper_bound(s.officials.begin(), s.officials.end(), rec.from,
                               [](Date d, const Official& x) { return d < x.from; });
    s.officials.insert(at, std::move(rec));
  } else if (e.payload.isRoleRevoked()) {
    // Every grant of that role in that unit still open ends on this date.
    auto r = e.payload.getRoleRevoked();
    for (Grant& g : s.grants) {
      if (g.role == r.getRole() && g.unit == r.getUnit().cStr() && !g.until) g.until = e.effective;
    }
  }
  return s;
}

CouncilState Evolve(CouncilState s, const EventRef& e) {
  if (e.payload.isCouncilConstituted()) {
    auto c = e.payload.getCouncilConstituted();
    s.exists = true;
    s.id = c.getCouncil().cStr();
    s.level = c.getLevel();
    s.unit = c.getUnit().cStr();
    s.decision = ToDecisionRef(c.getDecision());
  }
  return s;
}

SubjectState Evolve(SubjectState s, const EventRef& e) {
  if (e.payload.isSubjectRegistered()) {
    auto r = e.payload.getSubjectRegistered();
    s.exists = true;
    s.id = r.getSubject().cStr();
    s.name = r.getName().cStr();
    s.unit = r.getUnit().cStr();
    s.legal_form = r.getLegalForm();
    s.woman_owned = r.getWomanOwned();
    s.representative = r.getRepresentative().cStr();
    s.phone = r.getPhone().cStr();
    s.address = r.getAddress().cStr();
    s.personal = r.getPersonalFields();
  } else if (e.payload.isSubjectDataErased()) {
    // The key is destroyed at the edge; the state keeps no copy of what it
    // sealed, so neither does any read model folded from it.
    s.erased = true;
    s.name.clear();
    s.representative.clear();
    s.phone.clear();
    s.address.clear();
  }
  return s;
}

DisputeState Evolve(DisputeState s, const EventRef& e) {
  if (e.payload.isDisputeFiled()) {
    auto d = e.payload.getDisputeFiled();
    s.exists = true;
    s.id = d.getDispute().cStr();
    s.product = d.getProduct().cStr();
    s.claim = d.getClaim().cStr();
  } else if (e.payload.isDisputeResolved()) {
    s.resolved = true;
  }
  return s;
}

RoundState Evolve(RoundState s, const EventRef& e) {
  if (e.payload.isRoundEntered()) {
    std::string product = e.payload.getRoundEntered().getProduct().cStr();
    if (std::find(s.products.begin(), s.products.end(), product) == s.products.end()) {
      s.products.push_back(std::move(product));
    }
  }
  return s;
}

}  // namespace ocop::workflow
