#include "workflow/rules.h"

namespace ocop::workflow {

std::optional<Rules> RulesInForce(Date date) {
  std::optional<Rules> found;
  for (Rules r : schema::RULES_IN_FORCE.get()) {
    Date from;
    if (ParseDate(r.getInForceFrom().cStr(), &from) && from <= date) found = r;
  }
  return found;
}

int StarsFor(Rules rules, double total, bool mandatory_met) {
  int stars = 0;
  for (auto band : rules.getBands()) {
    if (total >= band.getMinTotal()) stars = band.getStars();
  }
  if (rules.getMandatoryCriteria() && !mandatory_met && stars > 1) --stars;
  return stars;
}

std::optional<schema::CouncilLevel> CertifyingLevel(Rules rules, int stars) {
  for (auto c : rules.getCertifiers()) {
    if (c.getStars() == stars) return c.getLevel();
  }
  return std::nullopt;
}

bool GroupExists(Rules rules, int group) {
  for (auto g : rules.getGroups()) {
    if (g.getCode() == group) return true;
  }
  return false;
}

std::string DescribeGroups(Rules rules) {
  std::string s;
  for (auto g : rules.getGroups()) {
    if (!s.empty()) s += ", ";
    s += std::to_string(g.getCode()) + " " + g.getName().cStr();
  }
  return s;
}

}  // namespace ocop::workflow
