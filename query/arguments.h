// Private to query/: the arguments every query reads, parsed once, the same
// way, with the same errors.
#pragma once

#include <memory>
#include <string>

#include "projections/unit_tree.h"
#include "query/queries.h"

namespace ocop::query {

// `text` as a date named `name`; `fallback` when empty.
Status DateOr(const std::string& name, const std::string& text, workflow::Date fallback,
              workflow::Date* out);
// A recording point (a sequence number, an ISO 8601 timestamp or a date);
// 0 when empty.
Status KnownAt(const Reader& r, const std::string& text, uint64_t* seq);
// KnownAt for what the projections answer: a point after the view's
// checkpoint is the checkpoint (the view has folded nothing later).
Status KnownAtInView(const Reader& r, const std::string& text, uint64_t* seq);
// The unit tree; InvalidArgument if `unit` is given and unknown.
Status Tree(const Reader& r, const std::string& unit, std::unique_ptr<projections::UnitTree>* out);

}  // namespace ocop::query
