#include "workflow/decide.h"

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

namespace ocop::workflow {

std::string ProductStream(const std::string& id) { return "product/" + id; }
std::string SubjectStream(const std::string& id) { return "subject/" + id; }
std::string UnitStream(const std::string& code) { return "unit/" + code; }
std::string CouncilStream(const std::string& id) { return "council/" + id; }
std::string PrincipalStream(const std::string& id) { return "principal/" + id; }
std::string DisputeStream(const std::string& id) { return "dispute/" + id; }
std::string RoundStream(int year) { return "round/" + std::to_string(year); }

namespace {

using C = schema::Command;

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::ADMIN:
      return "admin";
    case Role::OFFICER:
      return "officer";
    case Role::COUNCIL:
      return "council";
    case Role::AUTHORITY:
      return "authority";
    case Role::INSPECTOR:
      return "inspector";
    case Role::AUDITOR:
      return "auditor";
  }
  return "auditor";
}

std::string_view LevelName(CouncilLevel l) {
  switch (l) {
    case CouncilLevel::COMMUNE:
      return "commune";
    case CouncilLevel::DISTRICT:
      return "district";
    case CouncilLevel::PROVINCE:
      return "province";
    case CouncilLevel::CENTRAL:
      return "central";
  }
  return "province";
}

// The council level that corresponds to an administrative unit's level.
CouncilLevel LevelOfUnit(UnitLevel l) {
  switch (l) {
    case UnitLevel::COMMUNE:
      return CouncilLevel::COMMUNE;
    case UnitLevel::DISTRICT:
      return CouncilLevel::DISTRICT;
    case UnitLevel::PROVINCE:
      return CouncilLevel::PROVINCE;
    case UnitLevel::NATIONAL:
      return CouncilLevel::CENTRAL;
  }
  return CouncilLevel::PROVINCE;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// A score as officials write it: "87", "87.5", never "87.500000".
std::string Points(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string Join(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

// An amount as officials write it: "300.000.000 VND".
std::string Vnd(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += '.';
    out += digits[i];
  }
  return out + " VND";
}

// A decision names each product once; checked before any item's own checks.
template <typename Items>
Status NoProductTwice(Items items) {
  std::set<std::string> seen;
  for (uint32_t i = 0; i < items.size(); ++i) {
    std::string id = items[i].getProduct().cStr();
    if (!seen.insert(id).second) {
      return Status::InvalidArgument("items[" + std::to_string(i) + "] (product " + Quote(id) +
                                     "): the product is named twice in one decision");
    }
  }
  return Status::OK();
}

// The decision for one command: reads through the view, checks, and emits.
class Decider {
 public:
  Decider(View& view, const Principal& who, C::Reader cmd, Decided* out)
      : view_(view), who_(who), cmd_(cmd), out_(out) {}

  Status Run();

 private:
  Status Dispatch();
  // --- reading
  Status RequireUnit(const std::string& code, const std::string& field, const UnitState** u,
                     bool allow_retired = false);
  Status RequireProduct(const std::string& id, const std::string& field, const ProductState** p);
  Status RequireSubject(const std::string& id);
  // The product as it stood on the act's date (workflow/admissible.h): `now`
  // itself unless the act is dated before the product's latest event.
  Status ProductOnDate(const ProductState& now, const ProductState** out);
  // The dossier open on the act's date (in `on_date`), if it is still the
  // product's latest: acts on a dossier that a later one replaced are refused.
  Status LatestOpenDossier(const ProductState& now, const ProductState& on_date,
                           const Dossier** out);
  // A back-dated act must not make a later recorded act of a product it
  // writes illegal; refused naming that act's seq.
  Status CheckLaterActs();
  // True when `unit` is `ancestor` or lies within it, following parents and,
  // for retired units, successors (a merged district is within its successor).
  Status Contains(const std::string& ancestor, const std::string& unit, bool* yes);

  // --- authority: finds a grant of one of `roles` whose unit contains
  // `unit` (and, for councils, names `council`), and records it as the actor.
  Status Authorize(std::initializer_list<Role> roles, const std::string& unit,
                   const std::string& what, const std::string& council = "",
                   const Grant** used = nullptr);

  // Whether the decision's issuer is the successor, on the decision date, of
  // the unit of level `certifier` that contains `unit` (retired by then).
  Status SucceedsCertifier(CouncilLevel certifier, const std::string& unit,
                           const DecisionRef& decision, bool* yes);
  // The certificate a revocation of `p` on `date` for `reason` applies to.
  Status CertificateToRevoke(const ProductState& p, Date date, schema::RevocationReason reason,
                             const std::string& where, const Certificate** out);

  // --- writing
  // A DossierEnded on the product's stream.
  void EndDossier(const ProductState& p, const Dossier& d, schema::DossierOutcome outcome,
                  const std::string& reason, const schema::Decision::Reader* decision);
  // The round of `year` closed by a results decision of `level`: every open
  // dossier of it that a council of this level scored within the issuer and
  // that the decision's items do not name ends not_recognised.
  Status CloseRound(int year, CouncilLevel level, schema::Decision::Reader decision,
                    const std::set<std::string>& recognised);
  template <typename Fill>
  void Emit(const std::string& stream, Fill fill);
  void ExpectProduct(const std::string& id, uint64_t version) {
    out_->expected.emplace_back(ProductStream(id), version);
  }
  Status CheckExpectedVersion(const std::string& id, uint64_t version);

  // --- one per command
  Status DefineUnit(C::Body::Reader);
  Status RetireUnit(C::Body::Reader);
  Status GrantRole(C::Body::Reader);
  Status RevokeRole(C::Body::Reader);
  Status RegisterSubject(C::Body::Reader);
  Status ConstituteCouncil(C::Body::Reader);
  Status RegisterIdea(C::Body::Reader);
  Status RegisterProduct(C::Body::Reader);
  Status ClassifyProduct(C::Body::Reader);
  Status ReviewIdea(C::Body::Reader);
  Status SubmitPlan(C::Body::Reader);
  Status ReviewPlan(C::Body::Reader);
  Status GrantSupport(C::Body::Reader);
  Status SubmitDossier(C::Body::Reader);
  Status RecordScore(C::Body::Reader);
  Status Forward(C::Body::Reader);
  Status ApproveResults(C::Body::Reader);
  Status RevokeRating(C::Body::Reader);
  Status RecordInspection(C::Body::Reader);
  Status RecordPromotion(C::Body::Reader);
  Status ImportCertificate(C::Body::Reader);
  Status AnnulEvent(C::Body::Reader);
  Status FileDispute(C::Body::Reader);
  Status ResolveDispute(C::Body::Reader);
  Status SetTarget(C::Body::Reader);
  Status SetSupportCap(C::Body::Reader);
  // The parts of a RecordScore: its sheet's sums, checked against the
  // criteria set, or the parts given; and what its hard criteria allow.
  Status ReadSheet(schema::RecordScore::Reader c, Rules rules, const ProductState& p,
                   SheetResult* out);
  // A group code with its list (`list_id`, or the default on `date`): the
  // list chosen, or InvalidArgument naming the codes allowed.
  Status CheckGroup(int group, const std::string& list_id, Date date, std::string* list);
  // What a new product (an idea or a direct entry) needs, refused in this
  // order: a registered producer, a unit, a group of its list (0, not yet
  // classified, only when `group_optional`; `list` gets the list chosen), and
  // an officer of the unit to record it.
  Status RequireNewProduct(const std::string& subject, const std::string& unit, int group,
                           const std::string& list_id, bool group_optional, const char* what,
                           std::string* list);
  // The province `unit` lies in on the effective date (empty if none).
  Status ProvinceOf(const std::string& unit, std::string* out);

  Status RequireCertificateInForce(const std::string& product, const std::string& what);

  // Simple product acts: officer (or `roles`) over the product's unit,
  // allowed in `stages`, one event on the product's stream.
  template <typename Fill>
  Status ProductAct(const std::string& product, std::initializer_list<Stage> stages,
                    std::initializer_list<Role> roles, const std::string& what, Fill fill);

  View& view_;
  const Principal& who_;
  C::Reader cmd_;
  Decided* out_;
  Date effective_;
  std::deque<ProductState> on_dates_;  // states ProductOnDate folded, kept for their pointers
};

Status Decider::RequireUnit(const std::string& code, const std::string& field, const UnitState** u,
                            bool allow_retired) {
  Status s = view_.Unit(code, u);
  if (!s.ok()) return s;
  if (!(*u)->exists) {
    return Status::InvalidArgument("field '" + field + "': unknown unit " + Quote(code) +
                                   "; define it first with DefineUnit");
  }
  if ((*u)->retired && !allow_retired && (*u)->retired_on <= effective_) {
    return Status::Refused("unit " + Quote(code) + " was retired on " +
                           FormatDate((*u)->retired_on) + "; act under its successor " +
                           Quote((*u)->successor));
  }
  return Status::OK();
}

Status Decider::RequireProduct(const std::string& id, const std::string& field,
                               const ProductState** p) {
  uint64_t version = 0;
  Status s = view_.Product(id, p, &version);
  if (!s.ok()) return s;
  if (!(*p)->exists) {
    return Status::InvalidArgument("field '" + field + "': unknown product " + Quote(id) +
                                   "; register it first with RegisterIdea, RegisterProduct or "
                                   "ImportCertificate");
  }
  s = CheckExpectedVersion(id, version);
  if (!s.ok()) return s;
  ExpectProduct(id, version);
  return Status::OK();
}

Status Decider::ProductOnDate(const ProductState& now, const ProductState** out) {
  if (effective_ >= now.last_effective) {
    *out = &now;
    return Status::OK();
  }
  std::vector<ProductEvent> events;
  Status s = view_.ProductEvents(now.id, &events);
  if (!s.ok()) return s;
  on_dates_.push_back(StateOn(events, effective_));
  *out = &on_dates_.back();
  return Status::OK();
}

Status Decider::LatestOpenDossier(const ProductState& now, const ProductState& on_date,
                                  const Dossier** out) {
  *out = on_date.OpenDossier();
  if (*out && now.dossier &&
      ((*out)->submitted != now.dossier->submitted ||
       (*out)->cycle_year != now.dossier->cycle_year)) {
    std::string replaced = "the dossier of cycle " + std::to_string((*out)->cycle_year) +
                           " open on " + FormatDate(effective_) +
                           " was replaced by that of cycle " +
                           std::to_string(now.dossier->cycle_year) + " submitted on " +
                           FormatDate(now.dossier->submitted);
    *out = nullptr;
    return Status::Refused("product " + Quote(now.id) + ": " + replaced);
  }
  return Status::OK();
}

Status Decider::CheckLaterActs() {
  std::set<std::string> checked;
  for (const PendingEvent& e : out_->events) {
    if (e.stream.rfind("product/", 0) != 0 || !checked.insert(e.stream).second) continue;
    std::string id = e.stream.substr(8);
    const ProductState* p = nullptr;
    uint64_t version = 0;
    Status s = view_.Product(id, &p, &version);
    if (!s.ok()) return s;
    if (!p->exists || effective_ >= p->last_effective) continue;
    std::vector<ProductEvent> recorded, added;
    s = view_.ProductEvents(id, &recorded);
    if (!s.ok()) return s;
    for (const PendingEvent& x : out_->events) {
      if (x.stream != e.stream) continue;
      EventRef ref;
      ref.effective = effective_;
      ref.payload = x.payload->getRoot<schema::Payload>().asReader();
      added.push_back(CopyEvent(ref));
    }
    s = LaterActsStayLegal(recorded, added, effective_);
    if (!s.ok()) return Status::Refused("product " + Quote(id) + ": " + s.message());
    // The stages follow one another in time: an act that moves the product
    // to another stage is not dated before the stage it would leave was
    // reached (the record would show the earlier act as the latest).
    for (const PendingEvent& x : out_->events) {
      if (x.stream == e.stream && SetsStage(x.payload->getRoot<schema::Payload>().asReader()) &&
          effective_ < p->stage_date) {
        return Status::Refused(
            "product " + Quote(id) + " reached stage " + std::string(StageName(p->stage)) + " on " +
            FormatDate(p->stage_date) + "; an act that changes its stage (" + x.type +
            ") cannot be dated before that; to change the past, "
            "annul the later record with AnnulEvent first");
      }
    }
  }
  return Status::OK();
}

Status Decider::RequireSubject(const std::string& id) {
  const SubjectState* subj = nullptr;
  Status s = view_.Subject(id, &subj);
  if (!s.ok()) return s;
  if (!subj->exists) {
    return Status::InvalidArgument("field 'subject': unknown producer " + Quote(id) +
                                   "; register it first with RegisterSubject");
  }
  return Status::OK();
}

Status Decider::CheckExpectedVersion(const std::string& id, uint64_t version) {
  int64_t expected = cmd_.getExpectedVersion();
  if (expected >= 0 && static_cast<uint64_t>(expected) != version) {
    return Status::Conflict("product " + Quote(id) + " is at version " + std::to_string(version) +
                            ", not the expected_version " + std::to_string(expected) +
                            "; read it again and retry");
  }
  return Status::OK();
}

Status Decider::Contains(const std::string& ancestor, const std::string& unit, bool* yes) {
  *yes = false;
  std::set<std::string> seen;
  std::deque<std::string> todo{unit};
  while (!todo.empty()) {
    std::string u = todo.front();
    todo.pop_front();
    if (u.empty() || !seen.insert(u).second) continue;
    if (u == ancestor) {
      *yes = true;
      return Status::OK();
    }
    const UnitState* st = nullptr;
    Status s = view_.Unit(u, &st);
    if (!s.ok()) return s;
    if (!st->exists) continue;
    todo.push_back(st->parent);
    if (st->retired) todo.push_back(st->successor);
  }
  return Status::OK();
}

Status Decider::Authorize(std::initializer_list<Role> roles, const std::string& unit,
                          const std::string& what, const std::string& council, const Grant** used) {
  if (who_.superuser) {
    out_->role = "superuser";
    out_->unit = unit;
    if (used) *used = nullptr;
    return Status::OK();
  }
  const PrincipalState* p = nullptr;
  Status s = view_.Principal(who_.id, &p);
  if (!s.ok()) return s;
  for (const Grant& g : p->grants) {
    if (std::find(roles.begin(), roles.end(), g.role) == roles.end()) continue;
    if (g.role == Role::COUNCIL && g.council != council) continue;
    // Authority is judged on the act's own date: a grant covers nothing
    // before it took effect, and a grant in a unit that has been retired
    // (merged, or abolished in the 2025 reform) ends with that unit; its
    // successor's officers act from then on.
    if (!g.CoversDate(effective_)) continue;
    const UnitState* grant_unit = nullptr;
    s = view_.Unit(g.unit, &grant_unit);
    if (!s.ok()) return s;
    if (grant_unit->exists && grant_unit->retired && grant_unit->retired_on <= effective_) continue;
    bool inside = false;
    s = Contains(g.unit, unit, &inside);
    if (!s.ok()) return s;
    if (!inside) continue;
    out_->role = RoleName(g.role);
    out_->unit = g.unit;
    if (used) *used = &g;
    return Status::OK();
  }
  std::string allowed;
  for (Role r : roles) allowed += (allowed.empty() ? "" : " or ") + std::string(RoleName(r));
  std::string held;
  for (const Grant& g : p->grants) {
    held += (held.empty() ? "" : ", ") + std::string(RoleName(g.role)) + " of " + g.unit;
    if (!g.council.empty()) held += " (council " + g.council + ")";
    held += " from " + FormatDate(g.from);
    if (g.until) held += " until " + FormatDate(*g.until) + " (revoked)";
    const UnitState* grant_unit = nullptr;
    if (view_.Unit(g.unit, &grant_unit).ok() && grant_unit->exists && grant_unit->retired) {
      held += " until " + FormatDate(grant_unit->retired_on) + " (unit retired into " +
              grant_unit->successor + ")";
    }
  }
  return Status::Forbidden(Quote(who_.id) + " may not " + what + " on " + FormatDate(effective_) +
                           ": that needs the role " + allowed + " in unit " + Quote(unit) +
                           " or above, in force on that date" +
                           (council.empty() ? "" : " for council " + Quote(council)) +
                           "; they hold " + (held.empty() ? "no roles" : held));
}

template <typename Fill>
void Decider::Emit(const std::string& stream, Fill fill) {
  PendingEvent e;
  e.stream = stream;
  e.payload = std::make_unique<capnp::MallocMessageBuilder>(128);
  auto payload = e.payload->initRoot<schema::Payload>();
  fill(payload);
  e.type = PayloadType(payload.asReader());
  out_->events.push_back(std::move(e));
}

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
    ExpectProduct(id, version);
    EndDossier(*p, *d, schema::DossierOutcome::NOT_RECOGNISED,
               "not recognised by decision " + std::string(decision.getNo().cStr()) + " of " +
                   decision.getDate().cStr(),
               &decision);
  }
  return Status::OK();
}

template <typename Fill>
Status Decider::ProductAct(const std::string& product, std::initializer_list<Stage> stages,
                           std::initializer_list<Role> roles, const std::string& what, Fill fill) {
  const ProductState* p = nullptr;
  Status s = RequireProduct(product, "product", &p);
  if (!s.ok()) return s;
  s = Authorize(roles, p->unit, what);
  if (!s.ok()) return s;
  const ProductState* on_date = nullptr;
  s = ProductOnDate(*p, &on_date);
  if (!s.ok()) return s;
  Stage now = on_date->StageOn(effective_);
  if (stages.size() && std::find(stages.begin(), stages.end(), now) == stages.end()) {
    std::string allowed;
    for (Stage st : stages) allowed += (allowed.empty() ? "" : ", ") + std::string(StageName(st));
    return Status::Refused("cannot " + what + " for product " + Quote(product) +
                           ": it is at stage " + std::string(StageName(now)) + " on " +
                           FormatDate(effective_) + "; this is allowed only at " + allowed);
  }
  Emit(ProductStream(product), fill);
  return Status::OK();
}

Status Decider::Run() {
  if (!ParseDate(cmd_.getEffective().cStr(), &effective_)) {
    return Status::InvalidArgument("field 'effective' must be a date YYYY-MM-DD");
  }
  Status s = Dispatch();
  if (!s.ok()) return s;
  // An annulment is how the past is changed: it is not held to the acts
  // recorded after the one it takes out.
  if (cmd_.getBody().isAnnulEvent()) return Status::OK();
  return CheckLaterActs();
}

Status Decider::Dispatch() {
  auto b = cmd_.getBody();
  switch (b.which()) {
    case C::Body::DEFINE_UNIT:
      return DefineUnit(b);
    case C::Body::RETIRE_UNIT:
      return RetireUnit(b);
    case C::Body::GRANT_ROLE:
      return GrantRole(b);
    case C::Body::REGISTER_SUBJECT:
      return RegisterSubject(b);
    case C::Body::CONSTITUTE_COUNCIL:
      return ConstituteCouncil(b);
    case C::Body::REGISTER_IDEA:
      return RegisterIdea(b);
    case C::Body::CLASSIFY_PRODUCT:
      return ClassifyProduct(b);
    case C::Body::REGISTER_PRODUCT:
      return RegisterProduct(b);
    case C::Body::REVOKE_ROLE:
      return RevokeRole(b);
    case C::Body::REVIEW_IDEA:
      return ReviewIdea(b);
    case C::Body::SUBMIT_PLAN:
      return SubmitPlan(b);
    case C::Body::REVIEW_PLAN:
      return ReviewPlan(b);
    case C::Body::GRANT_SUPPORT:
      return GrantSupport(b);
    case C::Body::SUBMIT_DOSSIER:
      return SubmitDossier(b);
    case C::Body::RECORD_SCORE:
      return RecordScore(b);
    case C::Body::FORWARD:
      return Forward(b);
    case C::Body::APPROVE_RESULTS:
      return ApproveResults(b);
    case C::Body::REVOKE_RATING:
      return RevokeRating(b);
    case C::Body::RECORD_INSPECTION:
      return RecordInspection(b);
    case C::Body::RECORD_PROMOTION:
      return RecordPromotion(b);
    case C::Body::IMPORT_CERTIFICATE:
      return ImportCertificate(b);
    case C::Body::ANNUL_EVENT:
      return AnnulEvent(b);
    case C::Body::FILE_DISPUTE:
      return FileDispute(b);
    case C::Body::RESOLVE_DISPUTE:
      return ResolveDispute(b);
    case C::Body::SET_TARGET:
      return SetTarget(b);
    case C::Body::SET_SUPPORT_CAP:
      return SetSupportCap(b);
  }
  return Status::InvalidArgument("unknown command type");
}

// ---------------------------------------------------------------- directory

Status Decider::DefineUnit(C::Body::Reader b) {
  auto c = b.getDefineUnit();
  std::string code = c.getUnit().cStr(), parent = c.getParent().cStr();
  if (code.empty()) return Status::InvalidArgument("field 'unit' must not be empty");
  if (c.getName().size() == 0) return Status::InvalidArgument("field 'name' must not be empty");
  const UnitState* existing = nullptr;
  Status s = view_.Unit(code, &existing);
  if (!s.ok()) return s;
  if (existing->exists) return Status::Refused("unit " + Quote(code) + " is already defined");
  UnitLevel level = c.getLevel();
  if (parent.empty()) {
    if (level != UnitLevel::PROVINCE && level != UnitLevel::NATIONAL) {
      return Status::InvalidArgument("field 'parent': a district or commune needs a parent unit");
    }
    s = Authorize({Role::ADMIN}, code, "define a top-level unit");
    if (!s.ok()) return s;
  } else {
    const UnitState* p = nullptr;
    s = RequireUnit(parent, "parent", &p);
    if (!s.ok()) return s;
    bool fits = (level == UnitLevel::PROVINCE && p->level == UnitLevel::NATIONAL) ||
                (level == UnitLevel::DISTRICT && p->level == UnitLevel::PROVINCE) ||
                (level == UnitLevel::COMMUNE &&
                 (p->level == UnitLevel::DISTRICT || p->level == UnitLevel::PROVINCE));
    if (!fits) {
      return Status::InvalidArgument(
          "field 'parent': a unit of this level cannot sit under " + Quote(parent) +
          "; provinces sit under the country, districts under provinces, communes under "
          "districts or (since 2025) provinces");
    }
    s = Authorize({Role::ADMIN}, parent, "define units");
    if (!s.ok()) return s;
  }
  Emit(UnitStream(code), [&](schema::Payload::Builder p) { p.setUnitDefined(c); });
  return Status::OK();
}

Status Decider::RetireUnit(C::Body::Reader b) {
  auto c = b.getRetireUnit();
  std::string code = c.getUnit().cStr(), successor = c.getSuccessor().cStr();
  const UnitState *u = nullptr, *succ = nullptr;
  Status s = RequireUnit(code, "unit", &u);
  if (!s.ok()) return s;
  if (successor == code) return Status::InvalidArgument("field 'successor' must be another unit");
  s = RequireUnit(successor, "successor", &succ);
  if (!s.ok()) return s;
  bool loop = false;
  s = Contains(code, successor, &loop);
  if (!s.ok()) return s;
  if (loop) {
    return Status::InvalidArgument("field 'successor': " + Quote(successor) + " lies within " +
                                   Quote(code) + " and cannot succeed it");
  }
  s = Authorize({Role::ADMIN}, code, "retire units");
  if (!s.ok()) return s;
  Emit(UnitStream(code), [&](schema::Payload::Builder p) { p.setUnitRetired(c); });
  return Status::OK();
}

Status Decider::GrantRole(C::Body::Reader b) {
  auto c = b.getGrantRole();
  std::string principal = c.getPrincipal().cStr(), unit = c.getUnit().cStr(),
              council = c.getCouncil().cStr();
  if (principal.empty()) return Status::InvalidArgument("field 'principal' must not be empty");
  const UnitState* u = nullptr;
  Status s = RequireUnit(unit, "unit", &u);
  if (!s.ok()) return s;
  if (c.getRole() == Role::COUNCIL) {
    if (council.empty()) {
      return Status::InvalidArgument("field 'council' is required for the role council");
    }
    const CouncilState* k = nullptr;
    s = view_.Council(council, &k);
    if (!s.ok()) return s;
    if (!k->exists) {
      return Status::InvalidArgument("field 'council': unknown council " + Quote(council) +
                                     "; constitute it first with ConstituteCouncil");
    }
  } else if (!council.empty()) {
    return Status::InvalidArgument("field 'council' is only for the role council");
  }
  s = Authorize({Role::ADMIN}, unit, "grant roles");
  if (!s.ok()) return s;
  Emit(PrincipalStream(principal), [&](schema::Payload::Builder p) { p.setRoleGranted(c); });
  return Status::OK();
}

Status Decider::RevokeRole(C::Body::Reader b) {
  auto c = b.getRevokeRole();
  std::string principal = c.getPrincipal().cStr(), unit = c.getUnit().cStr();
  if (principal.empty()) return Status::InvalidArgument("field 'principal' must not be empty");
  const UnitState* u = nullptr;
  Status s = RequireUnit(unit, "unit", &u, /*allow_retired=*/true);
  if (!s.ok()) return s;
  const PrincipalState* p = nullptr;
  s = view_.Principal(principal, &p);
  if (!s.ok()) return s;
  bool held = std::any_of(p->grants.begin(), p->grants.end(), [&](const Grant& g) {
    return g.role == c.getRole() && g.unit == unit && !g.until && g.from <= effective_;
  });
  if (!held) {
    return Status::Refused(Quote(principal) + " holds no grant of the role " +
                           std::string(RoleName(c.getRole())) + " in unit " + Quote(unit) +
                           " in force on " + FormatDate(effective_) + " to revoke");
  }
  s = Authorize({Role::ADMIN}, unit, "revoke roles");
  if (!s.ok()) return s;
  Emit(PrincipalStream(principal), [&](schema::Payload::Builder pb) { pb.setRoleRevoked(c); });
  return Status::OK();
}

Status Decider::RegisterSubject(C::Body::Reader b) {
  auto c = b.getRegisterSubject();
  std::string id = c.getSubject().cStr(), unit = c.getUnit().cStr();
  if (id.empty()) return Status::InvalidArgument("field 'subject' must not be empty");
  const SubjectState* existing = nullptr;
  Status s = view_.Subject(id, &existing);
  if (!s.ok()) return s;
  if (existing->exists) return Status::Refused("producer " + Quote(id) + " is already registered");
  const UnitState* u = nullptr;
  s = RequireUnit(unit, "unit", &u);
  if (!s.ok()) return s;
  s = Authorize({Role::OFFICER, Role::ADMIN}, unit, "register producers");
  if (!s.ok()) return s;
  Emit(SubjectStream(id), [&](schema::Payload::Builder p) { p.setSubjectRegistered(c); });
  return Status::OK();
}

Status Decider::ConstituteCouncil(C::Body::Reader b) {
  auto c = b.getConstituteCouncil();
  std::string id = c.getCouncil().cStr(), unit = c.getUnit().cStr();
  if (id.empty()) return Status::InvalidArgument("field 'council' must not be empty");
  const CouncilState* existing = nullptr;
  Status s = view_.Council(id, &existing);
  if (!s.ok()) return s;
  if (existing->exists) return Status::Refused("council " + Quote(id) + " is already constituted");
  const UnitState* u = nullptr;
  s = RequireUnit(unit, "unit", &u);
  if (!s.ok()) return s;
  if (LevelOfUnit(u->level) != c.getLevel()) {
    return Status::InvalidArgument("field 'level': a council of unit " + Quote(unit) +
                                   " is at level " + std::string(LevelName(LevelOfUnit(u->level))) +
                                   ", its People's Committee's level");
  }
  s = Authorize({Role::ADMIN, Role::AUTHORITY}, unit, "constitute councils");
  if (!s.ok()) return s;
  Emit(CouncilStream(id), [&](schema::Payload::Builder p) { p.setCouncilConstituted(c); });
  return Status::OK();
}

// ---------------------------------------------------------------- the cycle

Status Decider::RequireNewProduct(const std::string& subject, const std::string& unit, int group,
                                  const std::string& list_id, bool group_optional, const char* what,
                                  std::string* list) {
  Status s = RequireSubject(subject);
  if (!s.ok()) return s;
  const UnitState* u = nullptr;
  s = RequireUnit(unit, "unit", &u);
  if (!s.ok()) return s;
  list->clear();
  if (group != 0 || !group_optional) {
    s = CheckGroup(group, list_id, effective_, list);
    if (!s.ok()) return s;
  }
  return Authorize({Role::OFFICER}, unit, what);
}

Status Decider::RegisterIdea(C::Body::Reader b) {
  auto c = b.getRegisterIdea();
  std::string id = c.getProduct().cStr(), unit = c.getUnit().cStr(),
              subject = c.getSubject().cStr();
  if (id.empty()) return Status::InvalidArgument("field 'product' must not be empty");
  if (c.getName().size() == 0) return Status::InvalidArgument("field 'name' must not be empty");
  if (c.getCycleYear() < 2018 || c.getCycleYear() > 2100) {
    return Status::InvalidArgument(
        "field 'cycle_year' must be a year of the programme, 2018 or later");
  }
  const ProductState* existing = nullptr;
  uint64_t version = 0;
  Status s = view_.Product(id, &existing, &version);
  if (!s.ok()) return s;
  s = CheckExpectedVersion(id, version);
  if (!s.ok()) return s;
  bool resubmission = false;
  if (existing->exists) {
    if (existing->stage != Stage::kIdeaRejected) {
      return Status::Refused("product " + Quote(id) + " is already registered (stage " +
                             std::string(StageName(existing->StageOn(effective_))) +
                             "); only a rejected idea may be submitted again");
    }
    Date earliest = *existing->rejected_on + 7;
    if (effective_ < earliest) {
      return Status::Refused(
          "the idea " + Quote(id) + " was rejected on " + FormatDate(*existing->rejected_on) +
          "; it may be submitted again from " + FormatDate(earliest) + " (at least 7 days later)");
    }
    resubmission = true;
  }
  std::string list;
  s = RequireNewProduct(subject, unit, c.getGroup(), c.getGroupList().cStr(),
                        /*group_optional=*/true, "register product ideas", &list);
  if (!s.ok()) return s;
  ExpectProduct(id, version);
  Emit(ProductStream(id), [&](schema::Payload::Builder p) {
    auto r = p.initIdeaRegistered();
    r.setIdea(c);
    r.getIdea().setGroupList(list);
    r.setResubmission(resubmission);
  });
  return Status::OK();
}

// Direct entry: a product already on the market enters evaluation with no
// idea or business-plan record (the cycle is applied flexibly: Cà Mau's and
// Trà Vinh's plans say so, and Kiên Giang's district councils took existing
// products straight to scoring). Its group is needed to score it.
Status Decider::RegisterProduct(C::Body::Reader b) {
  auto c = b.getRegisterProduct();
  std::string id = c.getProduct().cStr(), unit = c.getUnit().cStr(),
              subject = c.getSubject().cStr();
  if (id.empty()) return Status::InvalidArgument("field 'product' must not be empty");
  if (c.getName().size() == 0) return Status::InvalidArgument("field 'name' must not be empty");
  const ProductState* existing = nullptr;
  uint64_t version = 0;
  Status s = view_.Product(id, &existing, &version);
  if (!s.ok()) return s;
  if (existing->exists) {
    return Status::Refused("product " + Quote(id) + " is already registered (stage " +
                           std::string(StageName(existing->StageOn(effective_))) + ")");
  }
  s = CheckExpectedVersion(id, version);
  if (!s.ok()) return s;
  std::string list;
  s = RequireNewProduct(subject, unit, c.getGroup(), c.getGroupList().cStr(),
                        /*group_optional=*/false, "register products", &list);
  if (!s.ok()) return s;
  ExpectProduct(id, version);
  Emit(ProductStream(id), [&](schema::Payload::Builder p) {
    p.setProductRegistered(c);
    p.getProductRegistered().setGroupList(list);
  });
  return Status::OK();
}

Status Decider::ClassifyProduct(C::Body::Reader b) {
  auto c = b.getClassifyProduct();
  if (c.getGroupList().size() == 0 && !RulesInForce(effective_)) {
    return Status::InvalidArgument(
        "field 'group' must be one of 1-6 of a list of product "
        "groups; no rules were in force on " +
        FormatDate(effective_) +
        " to choose one: name it in "
        "'group_list'");
  }
  std::string list;
  Status s = CheckGroup(c.getGroup(), c.getGroupList().cStr(), effective_, &list);
  if (!s.ok()) return s;
  return ProductAct(c.getProduct().cStr(), {}, {Role::OFFICER}, "classify products",
                    [&](schema::Payload::Builder p) {
                      p.setProductClassified(c);
                      p.getProductClassified().setGroupList(list);
                    });
}

Status Decider::ReviewIdea(C::Body::Reader b) {
  auto c = b.getReviewIdea();
  return ProductAct(c.getProduct().cStr(), {Stage::kIdeaRegistered}, {Role::OFFICER},
                    "review product ideas",
                    [&](schema::Payload::Builder p) { p.setIdeaReviewed(c); });
}

Status Decider::SubmitPlan(C::Body::Reader b) {
  auto c = b.getSubmitPlan();
  std::string sha = c.getDocument().getSha256().cStr();
  bool hex =
      sha.size() == 64 && std::all_of(sha.begin(), sha.end(), [](char ch) {
        return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
      });
  if (!hex) {
    return Status::InvalidArgument("field 'document.sha256' must be 64 hexadecimal digits");
  }
  return ProductAct(c.getProduct().cStr(), {Stage::kIdeaSelected, Stage::kPlanRejected},
                    {Role::OFFICER}, "submit business plans",
                    [&](schema::Payload::Builder p) { p.setPlanSubmitted(c); });
}

Status Decider::ReviewPlan(C::Body::Reader b) {
  auto c = b.getReviewPlan();
  return ProductAct(c.getProduct().cStr(), {Stage::kPlanSubmitted}, {Role::OFFICER},
                    "review business plans",
                    [&](schema::Payload::Builder p) { p.setPlanReviewed(c); });
}

// The sources support may come from (DOMAIN.md: central, provincial,
// district budget, the producer's own, credit).
const char* const kSupportSources[] = {"central",  "province", "district", "commune",
                                       "producer", "credit",   "other"};

Status Decider::GrantSupport(C::Body::Reader b) {
  auto c = b.getGrantSupport();
  if (c.getAmountVnd() == 0) return Status::InvalidArgument("field 'amount_vnd' must be positive");
  std::string source = c.getSource().cStr();
  if (std::find_if(std::begin(kSupportSources), std::end(kSupportSources),
                   [&](const char* k) { return source == k; }) == std::end(kSupportSources)) {
    std::string allowed;
    for (const char* k : kSupportSources) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
    return Status::InvalidArgument("field 'source' must be one of " + allowed + "; got " +
                                   Quote(source));
  }
  const ProductState* p = nullptr;
  Status s = RequireProduct(c.getProduct().cStr(), "product", &p);
  if (!s.ok()) return s;
  const ProductState* on_date = nullptr;
  s = ProductOnDate(*p, &on_date);
  if (!s.ok()) return s;
  // Support reaches products with an approved plan and, by star level, rated
  // and imported ones (Cà Mau, Trà Vinh).
  if (!on_date->plan_approved && on_date->certificates.empty()) {
    return Status::Refused("product " + Quote(p->id) +
                           " has neither an approved business plan nor a certificate; state "
                           "support is only for approved plans and rated products");
  }
  if (StateBudgetSource(source)) {
    std::string province;
    s = ProvinceOf(p->unit, &province);
    if (!s.ok()) return s;
    const UnitState* u = nullptr;
    if (!province.empty()) {
      s = view_.Unit(province, &u);
      if (!s.ok()) return s;
    }
    const uint64_t cap = u ? u->SupportCapOn(effective_).value_or(0) : 0;  // 0: none
    const uint64_t granted = p->StateSupportVnd();
    if (cap && granted + c.getAmountVnd() > cap) {
      uint64_t remaining = granted < cap ? cap - granted : 0;
      return Status::Refused("support of " + Vnd(c.getAmountVnd()) + " to product " + Quote(p->id) +
                             " exceeds the cap of " + Vnd(cap) +
                             " of state support per product that province " + Quote(province) +
                             " sets on " + FormatDate(effective_) + ": " + Vnd(granted) +
                             " already granted, " + Vnd(remaining) + " remaining");
    }
  }
  return ProductAct(c.getProduct().cStr(), {}, {Role::OFFICER}, "grant support",
                    [&](schema::Payload::Builder pb) { pb.setSupportGranted(c); });
}

Status Decider::SetSupportCap(C::Body::Reader b) {
  auto c = b.getSetSupportCap();
  std::string code = c.getUnit().cStr();
  const UnitState* u = nullptr;
  Status s = RequireUnit(code, "unit", &u);
  if (!s.ok()) return s;
  if (u->level != UnitLevel::PROVINCE) {
    return Status::InvalidArgument("field 'unit': " + Quote(code) +
                                   " is not a province; a cap on support per product is a "
                                   "province's rule");
  }
  s = Authorize({Role::ADMIN, Role::AUTHORITY}, code, "set the support cap");
  if (!s.ok()) return s;
  Emit(UnitStream(code), [&](schema::Payload::Builder pb) { pb.setSupportCapSet(c); });
  return Status::OK();
}

Status Decider::CheckGroup(int group, const std::string& list_id, Date date, std::string* list) {
  Status s = ChooseGroupList(list_id, date, list);
  if (!s.ok()) return s;
  auto l = FindGroupList(*list);
  if (!l || !GroupExists(*l, group)) {
    return Status::InvalidArgument("field 'group' must be one of " +
                                   (l ? DescribeGroups(*l) : std::string()) + "; got " +
                                   std::to_string(group));
  }
  return Status::OK();
}

Status Decider::ProvinceOf(const std::string& unit, std::string* out) {
  out->clear();
  std::string cur = unit;
  for (int guard = 0; guard < 16 && !cur.empty(); ++guard) {
    const UnitState* u = nullptr;
    Status s = view_.Unit(cur, &u);
    if (!s.ok()) return s;
    if (!u->exists) return Status::OK();
    if (u->level == UnitLevel::PROVINCE) {
      // A province merged by the act's date answers through its successor.
      if (u->retired && u->retired_on <= effective_ && !u->successor.empty()) {
        cur = u->successor;
        continue;
      }
      *out = cur;
      return Status::OK();
    }
    cur = u->parent;
  }
  return Status::OK();
}

Status Decider::SubmitDossier(C::Body::Reader b) {
  auto c = b.getSubmitDossier();
  // The JSON parser accepts every Entry, import included (it is an event
  // value); refuse it before reading any state, so the answer does not
  // depend on the product's stage.
  if (c.getEntry() == Entry::IMPORT) {
    return Status::InvalidArgument(
        "field 'entry' must be new, renewal or upgrade; imports use ImportCertificate");
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
                           "; a dossier dated before it cannot follow it");
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
  s = ProductAct(c.getProduct().cStr(), {}, {Role::OFFICER}, "submit dossiers",
                 [&](schema::Payload::Builder pb) { pb.setDossierSubmitted(c); });
  if (!s.ok()) return s;
  // The round's own record of its entries, which the decision that closes
  // it reads. Written, never read here: entries do not wait on each other.
  std::string unit = p->unit;
  Emit(RoundStream(c.getCycleYear()), [&](schema::Payload::Builder pb) {
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
    return Status::InvalidArgument("field 'council': unknown council " + Quote(council_id));
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
      return Status::InvalidArgument(
          "field 'parts." + std::string(name) + "' must be from 0 to " +
          std::to_string(static_cast<int>(vm.second)) + " under " + rules->getTitle().cStr() +
          " (parts A/B/C " + std::to_string(static_cast<int>(rules->getMaxA())) + "/" +
          std::to_string(static_cast<int>(rules->getMaxB())) + "/" +
          std::to_string(static_cast<int>(rules->getMaxC())) + "); got " + buf);
    }
  }
  s = Authorize({Role::COUNCIL}, p->unit, "score for council " + Quote(council_id), council_id);
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
        "council " + Quote(council_id) + " (" + std::string(LevelName(council->level)) +
        ") may not score product " + Quote(p->id) + ": " +
        (forwarded
             ? "its dossier was forwarded to the " + std::string(LevelName(*forwarded)) + " level"
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
      return Status::InvalidArgument("missing field 'parts': give the parts A, B, C or a 'sheet'");
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
    return Status::InvalidArgument(
        "field 'sheet.set': " + Quote(id) + " is not a criteria set of " + rules.getTitle().cStr() +
        ", in force on " + FormatDate(effective_) +
        "; its sets: " + (sets.empty() ? std::string("none") : sets) + " (ocop criteria)");
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
        return Status::InvalidArgument("field 'parts." + std::string(name) + "' is " +
                                       Points(gs.first) + " but the sheet's criteria of part " +
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
                           std::string(LevelName(last.level)) +
                           " level; it can only be forwarded to a higher level");
  }
  auto rules = RulesInForce(effective_);
  if (rules && last.total < rules->getForwardFrom()) {
    return Status::Refused("product " + Quote(p->id) + " scored " + Points(last.total) +
                           "; under " + rules->getTitle().cStr() + " only totals of " +
                           std::to_string(static_cast<int>(rules->getForwardFrom())) +
                           " or more are forwarded");
  }
  return ProductAct(p->id, {}, {Role::OFFICER, Role::AUTHORITY}, "forward dossiers",
                    [&](schema::Payload::Builder pb) { pb.setForwarded(c); });
}

Status Decider::ApproveResults(C::Body::Reader b) {
  auto c = b.getApproveResults();
  DecisionRef decision = ToDecisionRef(c.getDecision());
  if (decision.no.empty()) return Status::InvalidArgument("field 'decision.no' must not be empty");
  if (c.getItems().size() == 0) {
    return Status::InvalidArgument("field 'items' must name at least one product");
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
                           "; its competence passed to " + Quote(issuer->successor));
  }
  CouncilLevel level = c.getLevel();
  if (LevelOfUnit(issuer->level) != level) {
    return Status::InvalidArgument("field 'decision.issuer': " + Quote(decision.issuer) +
                                   " is not a unit of the " + std::string(LevelName(level)) +
                                   " level");
  }
  s = NoProductTwice(c.getItems());
  if (!s.ok()) return s;
  std::set<std::string> approved;
  std::set<int> round_years;
  for (uint32_t i = 0; i < c.getItems().size(); ++i) {
    auto item = c.getItems()[i];
    std::string id = item.getProduct().cStr();
    std::string where = "items[" + std::to_string(i) + "] (product " + Quote(id) + "): ";
    const ProductState* p = nullptr;
    s = RequireProduct(id, "items[" + std::to_string(i) + "].product", &p);
    if (!s.ok()) return s;
    int stars = item.getStars();
    if (stars < rules->getRecognisedFrom() || stars > 5) {
      return Status::InvalidArgument(where + "stars must be from " +
                                     std::to_string(rules->getRecognisedFrom()) +
                                     " to 5: only recognised products are certified");
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
                               std::string(certifier ? LevelName(*certifier) : "no") +
                               " level, not the " + std::string(LevelName(level)) + " level");
    }
    bool inside = false;
    s = Contains(decision.issuer, p->unit, &inside);
    if (!s.ok()) return s;
    if (!inside) {
      return Status::Forbidden(where + "the product's unit " + Quote(p->unit) +
                               " is not within the issuer " + Quote(decision.issuer));
    }
    s = Authorize({Role::AUTHORITY}, p->unit, "approve results");
    if (!s.ok()) return s;
    if (!who_.superuser && out_->unit != decision.issuer) {
      return Status::Forbidden(where + Quote(who_.id) + " signs for " + Quote(out_->unit) +
                               ", not for the issuer " + Quote(decision.issuer));
    }
    const ProductState* on_date = nullptr;
    s = ProductOnDate(*p, &on_date);
    if (!s.ok()) return s;
    const Dossier* dossier = nullptr;
    s = LatestOpenDossier(*p, *on_date, &dossier);
    if (!s.ok()) return Status::Refused(where + s.message());
    if (!dossier) {
      return Status::Refused(where + "no dossier is under evaluation on " + FormatDate(effective_) +
                             " (stage " + std::string(StageName(on_date->StageOn(effective_))) +
                             ")");
    }
    const Score* best = nullptr;
    for (const Score& sc : dossier->scores) {
      // The latest score of this level counts (or, for a successor, of the
      // level it succeeds).
      if (sc.level == level || (successor && sc.level == *certifier)) best = &sc;
    }
    if (!best) {
      return Status::Refused(where + "no council of the " + std::string(LevelName(level)) +
                             " level has scored this dossier by " + FormatDate(effective_));
    }
    // A dossier that straddles a decree: the entry in force on the decision
    // date says whether scores given under earlier rules stand (rules.capnp,
    // `transition`).
    if (best->rules != rules->getId().cStr() &&
        rules->getTransition() == schema::Transition::RESCORE) {
      return Status::Refused(where + "council " + Quote(best->council) + " scored it under " +
                             best->rules + " on " + FormatDate(best->date) + "; under " +
                             rules->getTitle().cStr() +
                             " a dossier scored under earlier rules is scored again");
    }
    if (stars > best->stars) {
      return Status::Refused(where + "the decision gives " + std::to_string(stars) +
                             " stars but council " + Quote(best->council) + " scored " +
                             std::to_string(best->stars) + " (total " + Points(best->total) +
                             (best->hard_missed.empty()
                                  ? std::string()
                                  : "; hard criteria missed: " + Join(best->hard_missed)) +
                             ")");
    }
    std::string cert_no = item.getCertificate().cStr();
    if (cert_no.empty()) return Status::InvalidArgument(where + "certificate must not be empty");
    bool reused = std::any_of(p->certificates.begin(), p->certificates.end(),
                              [&](const Certificate& k) { return k.no == cert_no; });
    if (reused) {
      return Status::Refused(where + "certificate " + Quote(cert_no) +
                             " was already issued to this product");
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
                             FormatDate(best->date) + ")");
    }
    if (!p->certificates.empty() && decision.date < p->certificates.back().valid_from) {
      return Status::Refused(where + "the decision is dated " + FormatDate(decision.date) +
                             ", before certificate " + Quote(p->certificates.back().no) +
                             " took effect on " + FormatDate(p->certificates.back().valid_from) +
                             "; a product's certificates follow one another");
    }
    const Certificate* active = p->ActiveOn(decision.date);
    Entry entry = dossier->entry;
    const Certificate* current = p->Current();
    if (entry == Entry::NEW && active) {
      return Status::Refused(where + "certificate " + Quote(active->no) + " is in force on " +
                             FormatDate(decision.date) + " until " +
                             FormatDate(active->valid_until) +
                             "; a new entry cannot be certified beside it");
    }
    if (entry == Entry::UPGRADE && (!active || stars <= active->stars)) {
      return Status::Refused(where + "an upgrade must give more stars than the " +
                             std::to_string(active ? active->stars : 0) + " held");
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
    return Status::InvalidArgument(
        "field 'closes_round': the items' dossiers belong to the rounds of " +
        std::to_string(*round_years.begin()) + " and " + std::to_string(*round_years.rbegin()) +
        "; a decision closes one round");
  }
  return CloseRound(*round_years.begin(), level, c.getDecision(), approved);
}

Status Decider::SucceedsCertifier(CouncilLevel certifier, const std::string& unit,
                                  const DecisionRef& decision, bool* yes) {
  *yes = false;
  // The unit of the certifier's level that contains the product's unit.
  std::string at = unit;
  const UnitState* u = nullptr;
  std::set<std::string> seen;
  while (!at.empty() && seen.insert(at).second) {
    Status s = view_.Unit(at, &u);
    if (!s.ok()) return s;
    if (!u->exists) return Status::OK();
    if (LevelOfUnit(u->level) == certifier) break;
    at = u->parent;
  }
  if (at.empty() || !u || LevelOfUnit(u->level) != certifier) return Status::OK();
  // Retired by the decision date: follow its successors to the one standing.
  while (u->retired && u->retired_on <= decision.date && seen.insert(u->successor).second) {
    at = u->successor;
    Status s = view_.Unit(at, &u);
    if (!s.ok()) return s;
    if (!u->exists) return Status::OK();
  }
  *yes = at != unit && at == decision.issuer && !(u->retired && u->retired_on <= decision.date);
  return Status::OK();
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
  if (decision.no.empty()) return Status::InvalidArgument("field 'decision.no' must not be empty");
  if (c.getItems().size() == 0) {
    return Status::InvalidArgument("field 'items' must name at least one product");
  }
  const UnitState* issuer = nullptr;
  Status s = RequireUnit(decision.issuer, "decision.issuer", &issuer, /*allow_retired=*/true);
  if (!s.ok()) return s;
  s = NoProductTwice(c.getItems());
  if (!s.ok()) return s;
  for (uint32_t i = 0; i < c.getItems().size(); ++i) {
    auto item = c.getItems()[i];
    std::string id = item.getProduct().cStr();
    std::string where = "items[" + std::to_string(i) + "] (product " + Quote(id) + "): ";
    const ProductState* p = nullptr;
    s = RequireProduct(id, "items[" + std::to_string(i) + "].product", &p);
    if (!s.ok()) return s;
    const Certificate* active = nullptr;
    s = CertificateToRevoke(*p, decision.date, item.getReason(), where, &active);
    if (!s.ok()) return s;
    if (LevelOfUnit(issuer->level) < active->level) {
      return Status::Forbidden(where + "certificate " + Quote(active->no) + " was issued at the " +
                               std::string(LevelName(active->level)) +
                               " level; only that level or above may revoke it");
    }
    bool inside = false;
    s = Contains(decision.issuer, p->unit, &inside);
    if (!s.ok()) return s;
    if (!inside) {
      return Status::Forbidden(where + "the product's unit " + Quote(p->unit) +
                               " is not within the issuer " + Quote(decision.issuer));
    }
    s = Authorize({Role::AUTHORITY}, p->unit, "revoke ratings");
    if (!s.ok()) return s;
    if (!who_.superuser && out_->unit != decision.issuer) {
      return Status::Forbidden(where + Quote(who_.id) + " signs for " + Quote(out_->unit) +
                               ", not for the issuer " + Quote(decision.issuer));
    }
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
  return ProductAct(c.getProduct().cStr(), {}, {Role::INSPECTOR}, "record inspections",
                    [&](schema::Payload::Builder p) { p.setInspectionRecorded(c); });
}

Status Decider::RecordPromotion(C::Body::Reader b) {
  auto c = b.getRecordPromotion();
  if (c.getChannel().size() == 0)
    return Status::InvalidArgument("field 'channel' must not be empty");
  Status s = RequireCertificateInForce(c.getProduct().cStr(), "record trade promotion");
  if (!s.ok()) return s;
  return ProductAct(c.getProduct().cStr(), {}, {Role::OFFICER}, "record trade promotion",
                    [&](schema::Payload::Builder p) { p.setPromotionRecorded(c); });
}

Status Decider::ImportCertificate(C::Body::Reader b) {
  auto c = b.getImportCertificate();
  std::string id = c.getProduct().cStr(), unit = c.getUnit().cStr(),
              subject = c.getSubject().cStr();
  if (id.empty()) return Status::InvalidArgument("field 'product' must not be empty");
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
    return Status::InvalidArgument(
        "field 'stars' must be from 3 to 5: only recognised products hold certificates");
  }
  if (c.getCertificate().size() == 0) {
    return Status::InvalidArgument("field 'certificate' must not be empty");
  }
  DecisionRef decision = ToDecisionRef(c.getDecision());
  const UnitState* issuer = nullptr;
  s = RequireUnit(decision.issuer, "decision.issuer", &issuer, /*allow_retired=*/true);
  if (!s.ok()) return s;
  // The group as the certifying decision classified it.
  std::string list;
  s = CheckGroup(c.getGroup(), c.getGroupList().cStr(), decision.date, &list);
  if (!s.ok()) return s;
  s = Authorize({Role::ADMIN, Role::AUTHORITY}, unit, "import certificates");
  if (!s.ok()) return s;
  auto rules = RulesInForce(decision.date);
  int months = rules ? rules->getValidityMonths() : 36;
  ExpectProduct(id, version);
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
    return Status::InvalidArgument("field 'reason' must say why the record is wrong");
  }
  EventInfo target;
  bool annulled = false;
  Status s = view_.Event(c.getTargetSeq(), &target, &annulled);
  if (s.IsNotFound()) {
    return Status::InvalidArgument("field 'target_seq': there is no event " +
                                   std::to_string(c.getTargetSeq()));
  }
  if (!s.ok()) return s;
  if (target.type == "EventAnnulled") {
    return Status::Refused("event " + std::to_string(target.seq) +
                           " is itself an annulment; record the act again instead");
  }
  if (annulled) {
    return Status::Refused("event " + std::to_string(target.seq) + " is already annulled");
  }
  s = Authorize({Role::ADMIN, Role::AUTHORITY}, target.actor_unit, "annul records");
  if (!s.ok()) return s;
  if (target.stream.rfind("product/", 0) == 0) {
    std::string id = target.stream.substr(8);
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
    if (target.type == "Certified" || target.type == "RatingRevoked") {
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
    ExpectProduct(id, version);
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
  if (id.empty()) return Status::InvalidArgument("field 'dispute' must not be empty");
  const DisputeState* d = nullptr;
  Status s = view_.Dispute(id, &d);
  if (!s.ok()) return s;
  if (d->exists) return Status::Refused("dispute " + Quote(id) + " is already filed");
  const ProductState* p = nullptr;
  s = RequireProduct(c.getProduct().cStr(), "product", &p);
  if (!s.ok()) return s;
  out_->expected.clear();  // the dispute's own stream is written, not the product's
  s = Authorize({Role::OFFICER, Role::AUTHORITY}, p->unit, "file disputes");
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
  if (!d->exists) return Status::InvalidArgument("field 'dispute': unknown dispute " + Quote(id));
  if (d->resolved) return Status::Refused("dispute " + Quote(id) + " is already resolved");
  const ProductState* p = nullptr;
  uint64_t version = 0;
  s = view_.Product(d->product, &p, &version);
  if (!s.ok()) return s;
  s = Authorize({Role::AUTHORITY}, p->unit, "resolve disputes");
  if (!s.ok()) return s;
  Emit(DisputeStream(id), [&](schema::Payload::Builder pb) { pb.setDisputeResolved(c); });
  return Status::OK();
}

Status Decider::SetTarget(C::Body::Reader b) {
  auto c = b.getSetTarget();
  if (c.getIndicator().size() == 0) {
    return Status::InvalidArgument("field 'indicator' must name what is targeted");
  }
  const UnitState* u = nullptr;
  Status s = RequireUnit(c.getUnit().cStr(), "unit", &u);
  if (!s.ok()) return s;
  s = Authorize({Role::ADMIN, Role::AUTHORITY}, c.getUnit().cStr(), "set targets");
  if (!s.ok()) return s;
  Emit(UnitStream(c.getUnit().cStr()), [&](schema::Payload::Builder pb) { pb.setTargetSet(c); });
  return Status::OK();
}

}  // namespace

Status Decide(View& view, const Principal& who, schema::Command::Reader command, Decided* out) {
  *out = Decided();
  Decider d(view, who, command, out);
  Status s = d.Run();
  if (!s.ok()) *out = Decided();
  return s;
}

}  // namespace ocop::workflow
