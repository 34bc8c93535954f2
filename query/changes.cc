// changes: what happened in a period, by decision and by product, and the
// criteria each district scored lowest.
#include "query/queries.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "workflow/criteria.h"

#include "query/arguments.h"
#include "replay/officials.h"

namespace ocop::query {

using workflow::Date;

namespace {

// The district a unit reports under: itself or its district-level ancestor
// (the unit itself where there is none: a province, or a commune after 2025).
std::string DistrictOf(const projections::UnitTree& tree, const std::string& unit) {
  std::string cur = unit;
  for (int guard = 0; guard < 8 && !cur.empty(); ++guard) {
    const workflow::UnitState* u = tree.Find(cur);
    if (!u) break;
    if (u->level == workflow::UnitLevel::DISTRICT) return cur;
    cur = u->parent;
  }
  return unit;
}

// Each district's criteria with the lowest mean share of their maximum over
// the sheets scored in a period: what producers and advisers work on.
class WeakestCriteria {
 public:
  static constexpr size_t kPerUnit = 5;

  void Add(uint64_t seq, const std::string& unit, projections::schema::Change::Reader c) {
    const workflow::CriteriaSet* set = workflow::FindCriteriaSet(c.getSheetSet().cStr());
    if (!set) return;
    for (auto k : c.getCriteria()) {
      const workflow::Criterion* crit = set->Find(k.getId().cStr());
      if (!crit || crit->max <= 0) continue;
      sheets_.push_back(Point{seq, unit, set, crit, k.getPoints() / crit->max});
    }
  }

  Json ToJson(const std::set<uint64_t>& annulled, const projections::UnitTree& tree) const {
    struct Mean {
      double sum = 0;
      uint64_t n = 0;
    };
    // unit -> (set, criterion) -> mean share
    std::map<std::string,
             std::map<std::pair<const workflow::CriteriaSet*, const workflow::Criterion*>, Mean>>
        by_unit;
    for (const Point& p : sheets_) {
      if (annulled.count(p.seq)) continue;
      Mean& m = by_unit[p.unit][{p.set, p.criterion}];
      m.sum += p.share;
      ++m.n;
    }
    Json out = Json::object();
    for (const auto& [unit, criteria] : by_unit) {
      std::vector<std::pair<double, Json>> rows;
      for (const auto& [key, m] : criteria) {
        double mean = m.sum / static_cast<double>(m.n);
        rows.emplace_back(mean, Json{{"set", key.first->id},
                                     {"criterion", key.second->id},
                                     {"text_vi", key.second->text_vi},
                                     {"max", key.second->max},
                                     {"mean_share", std::round(mean * 1000) / 1000},
                                     {"sheets", m.n}});
      }
      std::stable_sort(rows.begin(), rows.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      Json list = Json::array();
      for (size_t i = 0; i < rows.size() && i < kPerUnit; ++i) list.push_back(rows[i].second);
      out[unit] = Json{{"name", tree.Name(unit)}, {"criteria", list}};
    }
    return out;
  }

 private:
  struct Point {
    uint64_t seq;
    std::string unit;
    const workflow::CriteriaSet* set;
    const workflow::Criterion* criterion;
    double share;
  };
  std::vector<Point> sheets_;
};

}  // namespace

Status QueryChanges(const Reader& r, const ChangesQuery& q, Json* out) {
  Date from, to;
  if (!workflow::ParseDate(q.from, &from) || !workflow::ParseDate(q.to, &to) || to < from) {
    return Status::InvalidArgument("from and to must be dates YYYY-MM-DD, to not before from");
  }
  uint64_t known_at = 0;
  Status s = KnownAtInView(r, q.known_at, &known_at);
  if (!s.ok()) return s;
  std::unique_ptr<projections::UnitTree> tree;
  s = Tree(r, q.unit, &tree);
  if (!s.ok()) return s;
  // Grouped twice, as a meeting reads it: by decision, then by product.
  std::map<std::string, Json> decisions;
  std::map<std::string, Json> products;
  uint64_t count = 0;
  WeakestCriteria weakest;
  std::set<uint64_t> annulled;  // scores annulled within the period leave the means
  replay::Officials people(r.ledger, known_at ? known_at : r.view->checkpoint());
  Status named;  // the first failure to read who signed, if any
  s = r.view->ForEachChange(
      from, to, known_at, [&](uint64_t seq, Date effective, projections::schema::Change::Reader c) {
        if (!q.unit.empty() && !tree->Within(c.getUnit().cStr(), q.unit, to)) return;
        if (!q.principal.empty() && q.principal != c.getPrincipal().cStr()) return;
        ++count;
        Json item{{"seq", seq},
                  {"effective", workflow::FormatDate(effective)},
                  {"type", c.getType().cStr()},
                  {"by", {{"principal", c.getPrincipal().cStr()}, {"role", c.getRole().cStr()}}}};
        if (c.getStars()) item["stars"] = c.getStars();
        if (c.getAnnuls()) item["annuls"] = c.getAnnuls();
        if (c.getAnnuls()) annulled.insert(c.getAnnuls());
        if (c.hasCriteria() && c.getCriteria().size()) {
          weakest.Add(seq, DistrictOf(*tree, c.getUnit().cStr()), c);
        }
        std::string decision_no = c.hasDecision() ? c.getDecision().getNo().cStr() : "";
        if (!decision_no.empty()) {
          item["decision"] = decision_no;
          Json& d = decisions[decision_no + "|" + c.getDecision().getIssuer().cStr()];
          if (d.is_null()) {
            d = Json{{"decision", decision_no},
                     {"date", c.getDecision().getDate().cStr()},
                     {"issuer", c.getDecision().getIssuer().cStr()},
                     {"type", c.getType().cStr()},
                     {"by", c.getPrincipal().cStr()},
                     {"products", Json::array()}};
            // Who signed, by name and position, when the office recorded them.
            Json who = Json::object();
            if (named.ok()) named = people.Name(c.getPrincipal().cStr(), effective, &who);
            if (!who.empty()) d["by_official"] = who;
          }
          d["products"].push_back(Json{{"product", c.getProduct().cStr()},
                                       {"name", c.getName().cStr()},
                                       {"stars", c.getStars()},
                                       {"seq", seq}});
        }
        Json& pr = products[c.getProduct().cStr()];
        if (pr.is_null()) {
          pr = Json{{"product", c.getProduct().cStr()},
                    {"name", c.getName().cStr()},
                    {"unit", c.getUnit().cStr()},
                    {"events", Json::array()}};
        }
        pr["events"].push_back(std::move(item));
      });
  if (!s.ok()) return s;
  if (!named.ok()) return named;
  Json d = Json::array(), pr = Json::array();
  for (auto& [k, v] : decisions) d.push_back(std::move(v));
  for (auto& [k, v] : products) pr.push_back(std::move(v));
  *out = Json{{"from", q.from},
              {"to", q.to},
              {"unit", q.unit.empty() ? Json(nullptr) : Json(q.unit)},
              {"principal", q.principal.empty() ? Json(nullptr) : Json(q.principal)},
              {"known_at", known_at ? Json(known_at) : Json(nullptr)},
              {"changes", count},
              {"decisions", d},
              {"products", pr},
              {"weakest_criteria", weakest.ToJson(annulled, *tree)}};
  return Status::OK();
}

}  // namespace ocop::query
