// Which roles may issue each command: what the dashboard offers a principal.
//
// The decider is the judge of every act (the unit, the council, the date and
// the product's state matter too); this table only says which roles it can
// ever accept a command from, so that a form nobody in that role could send
// is not offered. tests/command_roles_test.cc checks it against Decide.
#pragma once

#include <string_view>
#include <vector>

#include "workflow/ocop.capnp.h"

namespace ocop::workflow {

// The roles Decide may accept `type` (a command's JSON name, "RecordScore")
// from; empty for an unknown type.
const std::vector<schema::Role>& RolesFor(std::string_view type);

}  // namespace ocop::workflow
