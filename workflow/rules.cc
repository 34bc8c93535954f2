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

std::optional<GroupList> FindGroupList(std::string_view id) {
  for (GroupList l : schema::GROUP_LISTS.get()) {
    if (std::string_view(l.getId().cStr()) == id) return l;
  }
  return std::nullopt;
}

bool GroupExists(GroupList list, int group) {
  for (auto g : list.getGroups()) {
    if (g.getCode() == group) return true;
  }
  return false;
}

std::string DescribeGroups(GroupList list) {
  std::string s;
  for (auto g : list.getGroups()) {
    if (!s.empty()) s += ", ";
    s += std::to_string(g.getCode()) + " " + g.getName().cStr();
  }
  return s + " (" + list.getName().cStr() + ")";
}

bool GroupExists(Rules rules, int group) {
  auto list = FindGroupList(rules.getGroupList().cStr());
  return list && GroupExists(*list, group);
}

std::string DescribeGroups(Rules rules) {
  auto list = FindGroupList(rules.getGroupList().cStr());
  return list ? DescribeGroups(*list) : std::string();
}

std::string DefaultGroupList(Date date) {
  auto rules = RulesInForce(date);
  if (!rules) rules = schema::RULES_IN_FORCE.get()[0];
  return rules->getGroupList().cStr();
}

Status ChooseGroupList(const std::string& id, Date date, std::string* out) {
  if (id.empty()) {
    *out = DefaultGroupList(date);
    return Status::OK();
  }
  // Any list may be named: a province records the code its own documents
  // use (Trà Vinh's plan of November 2022 used QĐ 919's before QĐ 148).
  if (FindGroupList(id)) {
    *out = id;
    return Status::OK();
  }
  std::string known;
  for (GroupList l : schema::GROUP_LISTS.get()) {
    known += (known.empty() ? "" : ", ") + std::string(l.getId().cStr()) + " (" +
             l.getName().cStr() + ")";
  }
  return Status::InvalidArgument("field 'group_list' must name a list of product groups: " + known +
                                 "; got '" + id + "'");
}

std::string GroupName(std::string_view list, int code) {
  auto l = FindGroupList(list);
  if (!l) return "";
  for (auto g : l->getGroups()) {
    if (g.getCode() == code) return g.getName().cStr();
  }
  return "";
}

ReportGroup ReportGroupOf(std::string_view list, int code) {
  std::string_view target = schema::REPORT_GROUP_LIST.get().cStr();
  int mapped = list == target ? code : 0;
  for (auto m : schema::GROUP_MAPPINGS.get()) {
    if (std::string_view(m.getFromList().cStr()) == list && m.getFromCode() == code &&
        std::string_view(m.getToList().cStr()) == target) {
      mapped = m.getToCode();
    }
  }
  ReportGroup g{mapped, mapped ? GroupName(target, mapped) : std::string()};
  if (g.name.empty()) g.code = 0;
  return g;
}

}  // namespace ocop::workflow
