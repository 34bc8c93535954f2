// Authority: who may act where and when (roles granted on units, held on the
// act's date), and which level certifies after a reform.
#include "workflow/decider.h"

#include <capnp/dynamic.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <set>

#include "workflow/admissible.h"
#include "workflow/command_roles.h"
#include "workflow/criteria.h"
#include "workflow/json.h"
#include "workflow/rules.h"

namespace ocop::workflow::internal {

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

Status Decider::AuthorizeIssuer(const std::string& where, const std::string& issuer,
                                const std::string& unit, const std::string& what,
                                const std::string& field) {
  bool inside = false;
  Status s = Contains(issuer, unit, &inside);
  if (!s.ok()) return s;
  if (!inside) {
    return Status::Forbidden(where + "its unit " + Quote(unit) + " is not within the issuer " +
                             Quote(issuer))
        .WithField(field);
  }
  s = Authorize(unit, what);
  if (!s.ok()) return s;
  if (!who_.superuser && out_->unit != issuer) {
    return Status::Forbidden(where + Quote(who_.id) + " signs for " + Quote(out_->unit) +
                             ", not for the issuer " + Quote(issuer))
        .WithField(field);
  }
  return Status::OK();
}

Status Decider::Authorize(const std::string& unit, const std::string& what,
                          const std::string& council, const Grant** used) {
  const std::vector<Role>& roles = RolesFor(CommandType(cmd_));
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
    out_->role = EnumName(g.role);
    out_->unit = g.unit;
    if (used) *used = &g;
    return Status::OK();
  }
  std::string allowed;
  for (Role r : roles) allowed += (allowed.empty() ? "" : " or ") + std::string(EnumName(r));
  std::string held;
  for (const Grant& g : p->grants) {
    held += (held.empty() ? "" : ", ") + std::string(EnumName(g.role)) + " of " + g.unit;
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

}  // namespace ocop::workflow::internal
