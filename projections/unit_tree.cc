#include "projections/unit_tree.h"

#include <set>

#include "projections/read_view.h"

namespace ocop::projections {

Status UnitTree::Load(const ReadView& view, const std::string& unit, UnitTree* out) {
  std::map<std::string, workflow::UnitState> units;
  Status s = view.Units(&units);
  if (!s.ok()) return s;
  if (!unit.empty() && !units.count(unit)) {
    return Status::InvalidArgument("unknown unit '" + unit + "'");
  }
  *out = UnitTree(std::move(units));
  return Status::OK();
}

const workflow::UnitState* UnitTree::Find(const std::string& code) const {
  auto it = units_.find(code);
  return it == units_.end() ? nullptr : &it->second;
}

std::string UnitTree::Name(const std::string& code) const {
  const auto* u = Find(code);
  return u ? u->name : code;
}

std::string UnitTree::ChildUnder(const std::string& unit, const std::string& ancestor,
                                 workflow::Date at) const {
  // Walk up. `child` is the last unit reached by a containment step; a
  // succession step replaces the current unit without changing it.
  std::string cur = unit, child = unit;
  std::set<std::string> seen;
  while (!cur.empty() && seen.insert(cur).second) {
    if (cur == ancestor) return child == cur ? ancestor : child;
    const auto* u = Find(cur);
    if (!u) return "";
    if (u->retired && u->retired_on <= at && !u->successor.empty()) {
      if (child == cur) child = u->successor;
      cur = u->successor;
    } else {
      child = cur;
      cur = u->parent;
    }
  }
  return "";
}

bool UnitTree::Within(const std::string& unit, const std::string& ancestor,
                      workflow::Date at) const {
  return !ChildUnder(unit, ancestor, at).empty();
}

}  // namespace ocop::projections
