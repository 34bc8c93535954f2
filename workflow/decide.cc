// Decide: one command judged against the ledger's state, and the Decider's
// reading, running and dispatching.
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

Status Decider::RequireUnit(const std::string& code, const std::string& field, const UnitState** u,
                            bool allow_retired) {
  Status s = view_.Unit(code, u);
  if (!s.ok()) return s;
  if (!(*u)->exists) {
    return Status::InvalidArgument("field '" + field + "': unknown unit " + Quote(code) +
                                   "; define it first with DefineUnit")
        .WithField(field);
  }
  if ((*u)->retired && !allow_retired && (*u)->retired_on <= effective_) {
    return Status::Refused("unit " + Quote(code) + " was retired on " +
                           FormatDate((*u)->retired_on) + "; act under its successor " +
                           Quote((*u)->successor))
        .WithField(field);
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
                                   "ImportCertificate")
        .WithField(field);
  }
  s = CheckExpectedVersion(id, version);
  if (!s.ok()) return s;
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
    return Status::Refused("product " + Quote(now.id) + ": " + replaced).WithField("product");
  }
  return Status::OK();
}

Status Decider::CheckLaterActs() {
  std::set<std::string> checked;
  for (const PendingEvent& e : out_->events) {
    StreamId stream = StreamId::Parse(e.stream);
    if (stream.kind != StreamId::Kind::kProduct || !checked.insert(e.stream).second) continue;
    const std::string& id = stream.id;
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
    // What makes the act illegal is its date: the refusal names `effective`.
    if (!s.ok()) {
      return Status::Refused("product " + Quote(id) + ": " + s.message()).WithField("effective");
    }
    // The stages follow one another in time: an act that moves the product
    // to another stage is not dated before the stage it would leave was
    // reached (the record would show the earlier act as the latest).
    for (const PendingEvent& x : out_->events) {
      if (x.stream == e.stream && SetsStage(x.payload->getRoot<schema::Payload>().asReader()) &&
          effective_ < p->stage_date) {
        return Status::Refused("product " + Quote(id) + " reached stage " +
                               std::string(StageName(p->stage)) + " on " +
                               FormatDate(p->stage_date) + "; an act that changes its stage (" +
                               x.type +
                               ") cannot be dated before that; to change the past, "
                               "annul the later record with AnnulEvent first")
            .WithField("effective");
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
    return BadField("subject",
                    ": unknown producer " + Quote(id) + "; register it first with RegisterSubject");
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

Status Decider::Run() {
  if (!ParseDate(cmd_.getEffective().cStr(), &effective_)) {
    return BadField("effective", " must be a date YYYY-MM-DD");
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
    case C::Body::ERASE_SUBJECT_DATA:
      return EraseSubjectData(b);
    case C::Body::REGISTER_OFFICIAL:
      return RegisterOfficial(b);
  }
  return Status::InvalidArgument("unknown command type");
}

}  // namespace ocop::workflow::internal

namespace ocop::workflow {

Status Decide(View& view, const Principal& who, schema::Command::Reader command, Decided* out) {
  *out = Decided();
  internal::Decider d(view, who, command, out);
  Status s = d.Run();
  if (!s.ok()) *out = Decided();
  return s;
}

}  // namespace ocop::workflow
