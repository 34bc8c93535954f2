// RulesInForce: which national rules govern an act, chosen by its date.
//
// The rules themselves are data (workflow/rules.capnp); this header only
// selects an entry and answers the questions the decider asks of it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ledger/status.h"
#include "workflow/date.h"
#include "workflow/rules.capnp.h"

namespace ocop::workflow {

using Rules = schema::Rules::Reader;

// The entry governing acts dated `date`: the last whose inForceFrom is on or
// before it. Empty for dates before the first rules (2019-08-21).
std::optional<Rules> RulesInForce(Date date);

// Stars for a total score: the band of the total, one star less when the
// rules have mandatory criteria per star level and the product misses those
// of its band (it cannot get that star whatever its total).
int StarsFor(Rules rules, double total, bool mandatory_met);

// The council level whose People's Committee certifies `stars`, if any.
std::optional<schema::CouncilLevel> CertifyingLevel(Rules rules, int stars);

using GroupList = schema::GroupList::Reader;

// Whether `group` is a code of the rules' default group list.
bool GroupExists(Rules rules, int group);
// "1 Thực phẩm, 2 Đồ uống, …" of the rules' default list: for messages that
// say what is allowed.
std::string DescribeGroups(Rules rules);

// The group list with this id ("QD1048", "QD919"), if any.
std::optional<GroupList> FindGroupList(std::string_view id);
bool GroupExists(GroupList list, int group);
std::string DescribeGroups(GroupList list);
// The list a product is classified under on `date` when the act names none:
// the default of the rules in force (QD1048 before any rules, as the first).
std::string DefaultGroupList(Date date);
// The list named `id`, or the default on `date` when `id` is empty;
// InvalidArgument naming the lists there are otherwise.
Status ChooseGroupList(const std::string& id, Date date, std::string* out);

// A group by its list: its name in that list ("" if unknown), and the code
// and name it has in the list reports count by (QĐ 919), through the
// mapping; code 0 when it has none there.
std::string GroupName(std::string_view list, int code);
struct ReportGroup {
  int code = 0;
  std::string name;
};
ReportGroup ReportGroupOf(std::string_view list, int code);

}  // namespace ocop::workflow
