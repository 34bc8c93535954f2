#include "query/arguments.h"

#include <map>

#include "replay/as_of.h"

namespace ocop::query {

using workflow::Date;

Status DateOr(const std::string& name, const std::string& text, Date fallback, Date* out) {
  if (text.empty()) {
    *out = fallback;
    return Status::OK();
  }
  if (!workflow::ParseDate(text, out)) {
    return Status::InvalidArgument(name + " '" + text + "' is not a date; use YYYY-MM-DD");
  }
  return Status::OK();
}

Status KnownAt(const Reader& r, const std::string& text, uint64_t* seq) {
  *seq = 0;
  return text.empty() ? Status::OK() : replay::ParseKnownAt(r.ledger, text, seq);
}

Status KnownAtInView(const Reader& r, const std::string& text, uint64_t* seq) {
  Status s = KnownAt(r, text, seq);
  // The view holds nothing recorded after its checkpoint: a later point reads
  // as the checkpoint, and is named so.
  if (s.ok() && *seq > r.view->checkpoint()) *seq = r.view->checkpoint();
  return s;
}

Status Tree(const Reader& r, const std::string& unit, std::unique_ptr<projections::UnitTree>* out) {
  std::map<std::string, workflow::UnitState> units;
  Status s = r.view->Units(&units);
  if (!s.ok()) return s;
  if (!unit.empty() && !units.count(unit)) {
    return Status::InvalidArgument("unknown unit '" + unit + "'");
  }
  *out = std::make_unique<projections::UnitTree>(std::move(units));
  return Status::OK();
}

}  // namespace ocop::query
