// RulesInForce: which national rules govern an act, chosen by its date.
//
// The rules themselves are data (workflow/rules.capnp); this header only
// selects an entry and answers the questions the decider asks of it.
#pragma once

#include <optional>
#include <string>

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

bool GroupExists(Rules rules, int group);
// "1–6 (1 Thực phẩm, 2 Đồ uống, …)": for messages that say what is allowed.
std::string DescribeGroups(Rules rules);

}  // namespace ocop::workflow
