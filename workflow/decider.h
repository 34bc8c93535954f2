// Private to workflow/: the Decider, which decides one command for Decide
// (decide.h). Its parts live by concern: decide.cc (reading, running and
// dispatching), authority.cc (who may act where), decide_directory.cc (units,
// roles, producers, councils), decide_cycle.cc (ideas, plans, support),
// decide_certification.cc (dossiers, scores, decisions, revocations) and
// decide_records.cc (inspections, promotions, imports, annulments, disputes,
// targets).
#pragma once

#include <algorithm>
#include <deque>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "workflow/criteria.h"
#include "workflow/decide.h"
#include "workflow/json.h"
#include "workflow/rules.h"

namespace ocop::workflow::internal {

using C = schema::Command;

// The council level that corresponds to an administrative unit's level.
CouncilLevel LevelOfUnit(UnitLevel l);
std::string Quote(const std::string& s);
// A score as officials write it: "87", "87.5", never "87.500000".
std::string Points(double v);
std::string Join(const std::vector<std::string>& items);
// An amount as officials write it: "300.000.000 VND".
std::string Vnd(uint64_t v);

// InvalidArgument about the command's field `path`: "field 'PATH'" followed
// by `what` (": unknown unit 'X'", " must not be empty"), naming the path
// in Status::field() as well.
inline Status BadField(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("field '" + path + "'" + what).WithField(path);
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

  // --- authority: finds a grant of one of the roles that may send this
  // command (RolesFor, workflow/command_roles.h: the one table the dashboard
  // offers forms by) whose unit contains `unit` (and, for councils, names
  // `council`), and records it as the actor.
  Status Authorize(const std::string& unit, const std::string& what,
                   const std::string& council = "", const Grant** used = nullptr);

  // A decision of `issuer` acting on a product of `unit`: the unit lies within
  // the issuer, the actor holds a role that may do `what` there, and signs
  // for the issuer itself (a superuser excepted). `where` prefixes refusals,
  // which name `field` (the command's field the unit came from).
  Status AuthorizeIssuer(const std::string& where, const std::string& issuer,
                         const std::string& unit, const std::string& what,
                         const std::string& field = "");

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
  // Emit, as an entry (PendingEvent::entry): for a stream this decision
  // does not read.
  template <typename Fill>
  void EmitEntry(const std::string& stream, Fill fill) {
    Emit(stream, fill);
    out_->events.back().entry = true;
  }
  Status CheckExpectedVersion(const std::string& id, uint64_t version);

  // --- one per command
  Status DefineUnit(C::Body::Reader);
  Status RetireUnit(C::Body::Reader);
  Status GrantRole(C::Body::Reader);
  Status RevokeRole(C::Body::Reader);
  Status RegisterOfficial(C::Body::Reader);
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
  Status EraseSubjectData(C::Body::Reader);
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
                    const std::string& what, Fill fill);

  View& view_;
  const Principal& who_;
  C::Reader cmd_;
  Decided* out_;
  Date effective_;
  std::deque<ProductState> on_dates_;  // states ProductOnDate folded, kept for their pointers
};

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

template <typename Fill>
Status Decider::ProductAct(const std::string& product, std::initializer_list<Stage> stages,
                           const std::string& what, Fill fill) {
  const ProductState* p = nullptr;
  Status s = RequireProduct(product, "product", &p);
  if (!s.ok()) return s;
  s = Authorize(p->unit, what);
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
                           FormatDate(effective_) + "; this is allowed only at " + allowed)
        .WithField("product");
  }
  Emit(ProductStream(product), fill);
  return Status::OK();
}

}  // namespace ocop::workflow::internal
