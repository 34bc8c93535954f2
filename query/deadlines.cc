// deadlines: certificates ending soon and those lapsed unrenewed.
#include "query/queries.h"

#include <algorithm>
#include <climits>
#include <map>
#include <vector>

#include "query/arguments.h"

namespace ocop::query {

using workflow::Date;

Status QueryDeadlines(const Reader& r, const DeadlinesQuery& q, Json* out) {
  Date as_of;
  Status s = DateOr("as_of", q.as_of, r.today, &as_of);
  if (!s.ok()) return s;
  int within = 0;
  try {
    size_t used = 0;
    within = std::stoi(q.within_days, &used);
    if (used != q.within_days.size() || within < 0 || within > 36600) throw std::out_of_range("");
  } catch (const std::exception&) {
    return Status::InvalidArgument("within_days '" + q.within_days +
                                   "' must be a whole number of days, 0 to 36600");
  }
  std::unique_ptr<projections::UnitTree> tree;
  s = Tree(r, q.unit, &tree);
  if (!s.ok()) return s;
  Json rows = Json::array();
  auto row = [&](const std::string& product, const std::string& name, const std::string& unit,
                 int stars, const std::string& no, Date until) {
    rows.push_back(Json{{"product", product},
                        {"name", name},
                        {"unit", unit},
                        {"stars", stars},
                        {"certificate", no},
                        {"valid_until", workflow::FormatDate(until)},
                        {"days_left", until - as_of}});
  };
  if (q.known_at.empty() && q.as_of.empty()) {
    // Today, as known now: the deadlines read model, soonest first.
    Status inner;
    s = r.view->ForEachDeadline(as_of + within, [&](const std::string& id, uint32_t index) {
      workflow::ProductState p;
      inner = r.view->Product(id, &p);
      if (!inner.ok()) return false;
      if (index >= p.certificates.size()) return true;
      const auto& c = p.certificates[index];
      if (c.valid_from > as_of) return true;
      if (!q.unit.empty() && !tree->Within(p.unit, q.unit, as_of)) return true;
      row(p.id, p.name, p.unit, c.stars, c.no, c.valid_until);
      return true;
    });
    if (s.ok()) s = inner;
  } else {
    // Another date or recording point: from the certificate history. A
    // product's certificate then is its latest issued and not yet ended.
    uint64_t known_at = 0;
    s = KnownAtInView(r, q.known_at, &known_at);
    struct Latest {
      int32_t from = INT32_MIN;
      bool open = false;
      std::string name, unit, no;
      int stars = 0;
      int32_t until = 0;
    };
    std::map<std::string, Latest> latest;
    auto see = [&](projections::schema::CertificateFact::Reader f) {
      if (f.getValidFrom() > as_of.days) return;
      Latest& l = latest[f.getProduct().cStr()];
      if (f.getValidFrom() < l.from) return;
      l = Latest{f.getValidFrom(),   f.getEndedOn() > as_of.days,
                 f.getName().cStr(), f.getUnit().cStr(),
                 f.getNo().cStr(),   f.getStars(),
                 f.getValidUntil()};
    };
    if (s.ok()) {
      s = known_at ? r.view->ForEachFactKnownAt(known_at, see) : r.view->ForEachFact(see);
    }
    std::vector<std::pair<int32_t, std::string>> order;
    for (const auto& [id, l] : latest) {
      if (!l.open || l.until > (as_of + within).days) continue;
      if (!q.unit.empty() && !tree->Within(l.unit, q.unit, as_of)) continue;
      order.emplace_back(l.until, id);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [until, id] : order) {
      const Latest& l = latest[id];
      row(id, l.name, l.unit, l.stars, l.no, Date{until});
    }
  }
  if (!s.ok()) return s;
  // Who to tell: the producer, and the unit by name.
  for (Json& row : rows) {
    workflow::ProductState p;
    workflow::SubjectState subject;
    if (r.view->Product(row["product"], &p).ok() && r.view->Producer(p.subject, &subject).ok()) {
      row["subject"] = p.subject;
      row["subject_name"] = subject.name;
    }
    row["unit_name"] = tree->Name(row["unit"]);
  }
  *out = Json{{"as_of", workflow::FormatDate(as_of)},
              {"within_days", within},
              {"total", rows.size()},
              {"unit", q.unit.empty() ? Json(nullptr) : Json(q.unit)},
              {"rows", rows}};
  return Status::OK();
}

}  // namespace ocop::query
