// The directory: units, roles, producers and councils.
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
#include "workflow/personal_data.h"
#include "workflow/rules.h"

namespace ocop::workflow::internal {

Status Decider::DefineUnit(C::Body::Reader b) {
  auto c = b.getDefineUnit();
  std::string code = c.getUnit().cStr(), parent = c.getParent().cStr();
  if (code.empty()) return BadField("unit", " must not be empty");
  if (c.getName().size() == 0) return BadField("name", " must not be empty");
  const UnitState* existing = nullptr;
  Status s = view_.Unit(code, &existing);
  if (!s.ok()) return s;
  if (existing->exists) return Status::Refused("unit " + Quote(code) + " is already defined");
  UnitLevel level = c.getLevel();
  if (parent.empty()) {
    if (level != UnitLevel::PROVINCE && level != UnitLevel::NATIONAL) {
      return BadField("parent", ": a district or commune needs a parent unit");
    }
    s = Authorize(code, "define a top-level unit");
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
      return BadField(
          "parent",
          ": a unit of this level cannot sit under " + Quote(parent) +
              "; provinces sit under the country, districts under provinces, communes under "
              "districts or (since 2025) provinces");
    }
    s = Authorize(parent, "define units");
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
  if (successor == code) return BadField("successor", " must be another unit");
  s = RequireUnit(successor, "successor", &succ);
  if (!s.ok()) return s;
  bool loop = false;
  s = Contains(code, successor, &loop);
  if (!s.ok()) return s;
  if (loop) {
    return BadField("successor", ": " + Quote(successor) + " lies within " + Quote(code) +
                                     " and cannot succeed it");
  }
  s = Authorize(code, "retire units");
  if (!s.ok()) return s;
  Emit(UnitStream(code), [&](schema::Payload::Builder p) { p.setUnitRetired(c); });
  return Status::OK();
}

Status Decider::GrantRole(C::Body::Reader b) {
  auto c = b.getGrantRole();
  std::string principal = c.getPrincipal().cStr(), unit = c.getUnit().cStr(),
              council = c.getCouncil().cStr();
  if (principal.empty()) return BadField("principal", " must not be empty");
  const UnitState* u = nullptr;
  Status s = RequireUnit(unit, "unit", &u);
  if (!s.ok()) return s;
  if (c.getRole() == Role::COUNCIL) {
    if (council.empty()) {
      return BadField("council", " is required for the role council");
    }
    const CouncilState* k = nullptr;
    s = view_.Council(council, &k);
    if (!s.ok()) return s;
    if (!k->exists) {
      return BadField("council", ": unknown council " + Quote(council) +
                                     "; constitute it first with ConstituteCouncil");
    }
  } else if (!council.empty()) {
    return BadField("council", " is only for the role council");
  }
  s = Authorize(unit, "grant roles");
  if (!s.ok()) return s;
  Emit(PrincipalStream(principal), [&](schema::Payload::Builder p) { p.setRoleGranted(c); });
  return Status::OK();
}

Status Decider::RevokeRole(C::Body::Reader b) {
  auto c = b.getRevokeRole();
  std::string principal = c.getPrincipal().cStr(), unit = c.getUnit().cStr();
  if (principal.empty()) return BadField("principal", " must not be empty");
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
                           std::string(EnumName(c.getRole())) + " in unit " + Quote(unit) +
                           " in force on " + FormatDate(effective_) + " to revoke");
  }
  s = Authorize(unit, "revoke roles");
  if (!s.ok()) return s;
  Emit(PrincipalStream(principal), [&](schema::Payload::Builder pb) { pb.setRoleRevoked(c); });
  return Status::OK();
}

// The name and position shown beside an account's acts; by an admin of the
// unit the official works in.
Status Decider::RegisterOfficial(C::Body::Reader b) {
  auto c = b.getRegisterOfficial();
  if (c.getPrincipal().size() == 0) return BadField("principal", " must not be empty");
  if (c.getName().size() == 0) {
    return BadField("full_name", " must not be empty: the official's name as it is signed");
  }
  if (c.getTitle().size() == 0) {
    return BadField("title", " must not be empty: the position, e.g. Chuyên viên");
  }
  const UnitState* u = nullptr;
  Status s = RequireUnit(c.getUnit().cStr(), "unit", &u);
  if (!s.ok()) return s;
  s = Authorize(c.getUnit().cStr(), "register officials");
  if (!s.ok()) return s;
  Emit(PrincipalStream(c.getPrincipal().cStr()),
       [&](schema::Payload::Builder p) { p.setOfficialRegistered(c); });
  return Status::OK();
}

Status Decider::RegisterSubject(C::Body::Reader b) {
  auto c = b.getRegisterSubject();
  std::string id = c.getSubject().cStr(), unit = c.getUnit().cStr();
  if (id.empty()) return BadField("subject", " must not be empty");
  const SubjectState* existing = nullptr;
  Status s = view_.Subject(id, &existing);
  if (!s.ok()) return s;
  if (existing->exists) return Status::Refused("producer " + Quote(id) + " is already registered");
  const UnitState* u = nullptr;
  s = RequireUnit(unit, "unit", &u);
  if (!s.ok()) return s;
  s = Authorize(unit, "register producers");
  if (!s.ok()) return s;
  Emit(SubjectStream(id), [&](schema::Payload::Builder p) { p.setSubjectRegistered(c); });
  return Status::OK();
}

Status Decider::EraseSubjectData(C::Body::Reader b) {
  auto c = b.getEraseSubjectData();
  std::string id = c.getSubject().cStr();
  if (id.empty()) return Status::InvalidArgument("field 'subject' must not be empty");
  const SubjectState* subject = nullptr;
  Status s = view_.Subject(id, &subject);
  if (!s.ok()) return s;
  if (!subject->exists) {
    return Status::InvalidArgument("field 'subject': unknown producer " + Quote(id));
  }
  if (subject->erased) {
    return Status::Refused("the personal data of producer " + Quote(id) +
                           " was already erased; there is nothing left to erase");
  }
  if (!IsPersonalForm(subject->legal_form)) {
    return Status::Refused("producer " + Quote(id) + " is a legal person (" +
                           std::string(EnumName(subject->legal_form)) +
                           "): its name is public, not personal data; only a household "
                           "business (HKD), a cooperative group (THT) or a production "
                           "facility (CSSX) has personal data to erase");
  }
  if (subject->personal != schema::PersonalFields::SEALED) {
    return Status::Refused("the personal data of producer " + Quote(id) +
                           " was recorded unsealed (before sealing existed): the log cannot "
                           "forget it, and erasing a key would hide nothing");
  }
  DecisionRef decision = ToDecisionRef(c.getDecision());
  if (decision.no.empty()) return Status::InvalidArgument("field 'decision.no' must not be empty");
  const UnitState* issuer = nullptr;
  s = RequireUnit(decision.issuer, "decision.issuer", &issuer, /*allow_retired=*/true);
  if (!s.ok()) return s;
  s = AuthorizeIssuer("producer " + Quote(id) + ": ", decision.issuer, subject->unit,
                      "erase producers' personal data");
  if (!s.ok()) return s;
  Emit(SubjectStream(id), [&](schema::Payload::Builder p) { p.setSubjectDataErased(c); });
  return Status::OK();
}

Status Decider::ConstituteCouncil(C::Body::Reader b) {
  auto c = b.getConstituteCouncil();
  std::string id = c.getCouncil().cStr(), unit = c.getUnit().cStr();
  if (id.empty()) return BadField("council", " must not be empty");
  const CouncilState* existing = nullptr;
  Status s = view_.Council(id, &existing);
  if (!s.ok()) return s;
  if (existing->exists) return Status::Refused("council " + Quote(id) + " is already constituted");
  const UnitState* u = nullptr;
  s = RequireUnit(unit, "unit", &u);
  if (!s.ok()) return s;
  if (LevelOfUnit(u->level) != c.getLevel()) {
    return BadField("level", ": a council of unit " + Quote(unit) + " is at level " +
                                 std::string(EnumName(LevelOfUnit(u->level))) +
                                 ", its People's Committee's level");
  }
  s = Authorize(unit, "constitute councils");
  if (!s.ok()) return s;
  Emit(CouncilStream(id), [&](schema::Payload::Builder p) { p.setCouncilConstituted(c); });
  return Status::OK();
}

}  // namespace ocop::workflow::internal
