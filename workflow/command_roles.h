// Which roles may issue each command: the one table both the decider
// authorises by (Decider::Authorize looks up the command being decided) and
// the dashboard offers forms by (GET /v1/forms).
//
// The role is necessary, not sufficient: Decide also asks for a grant in a
// unit containing the act's, in force on its date, and (for councils) naming
// the council. tests/command_roles_test.cc checks the table against Decide.
#pragma once

#include <string_view>
#include <vector>

#include "workflow/ocop.capnp.h"

namespace ocop::workflow {

// The roles Decide may accept `type` (a command's JSON name, "RecordScore")
// from; empty for an unknown type.
const std::vector<schema::Role>& RolesFor(std::string_view type);

}  // namespace ocop::workflow
