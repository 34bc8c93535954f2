#include "query/arguments.h"

#include <cctype>
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

Status ProductId(const Reader& r, const std::string& id, std::string* out) {
  *out = id;
  workflow::ProductState p;
  Status s = r.view->Product(id, &p);
  if ((s.ok() && p.exists) || (!s.ok() && !s.IsNotFound())) return s;
  auto lower = [](std::string t) {
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  const std::string want = lower(id);
  return r.view->ForEachProduct([&](const workflow::ProductState& q) {
    if (lower(q.id) != want) return true;
    *out = q.id;
    return false;
  });
}

}  // namespace ocop::query
