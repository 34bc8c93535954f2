// The status of one product as INTERFACE.md publishes it, computed for a date
// from the folded state (expiry is never stored: it is a matter of the date).
#pragma once

#include <nlohmann/json.hpp>

#include "workflow/state.h"

namespace ocop::projections {

// product, name, subject, unit, group, stage, stars, certificate
// {no, decision, valid_from, valid_until} or null, and star_history
// [{stars, from, to, decision, seq}] where `to` is the first day the
// certificate was no longer in force (null while it is).
nlohmann::ordered_json StatusJson(const workflow::ProductState& p, workflow::Date as_of);

}  // namespace ocop::projections
