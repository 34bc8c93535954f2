#include "projections/notices.h"

#include <algorithm>
#include <set>

#include "projections/unit_tree.h"

namespace ocop::projections {

using workflow::Date;
using workflow::FormatDate;

namespace {

// Days before the last valid day on which officials are told, then the lapse.
constexpr int kAhead[] = {90, 30, 7};

}  // namespace

Status BuildNotices(const ReadView& projections, Date from, Date to, const std::string& unit,
                    std::vector<Notice>* out) {
  out->clear();
  UnitTree tree;
  Status s = UnitTree::Load(projections, unit, &tree);
  if (!s.ok()) return s;
  // A certificate gets a notice in [from, to] only if its last valid day is
  // within [from - 1, to + 90]: the read model is ordered by that day.
  std::vector<std::pair<std::string, uint32_t>> current;
  s = projections.ForEachDeadline(to + 90, [&](const std::string& product, uint32_t index) {
    current.emplace_back(product, index);
    return true;
  });
  if (!s.ok()) return s;
  for (const auto& [id, index] : current) {
    workflow::ProductState p;
    s = projections.Product(id, &p);
    if (!s.ok()) return s;
    if (index >= p.certificates.size()) continue;
    const workflow::Certificate& c = p.certificates[index];
    if (c.valid_until + 1 < from) continue;  // lapsed before the window
    if (!unit.empty() && !tree.Within(p.unit, unit, to)) continue;
    std::vector<std::pair<std::string, Date>> due;
    for (int days : kAhead) due.emplace_back(std::to_string(days) + "_days", c.valid_until + -days);
    due.emplace_back("lapsed", c.valid_until + 1);
    workflow::SubjectState subject;
    bool subject_read = false;
    for (const auto& [kind, day] : due) {
      if (day < from || to < day) continue;
      if (!subject_read) {
        Status ss = projections.Producer(p.subject, &subject);
        if (!ss.ok() && !ss.IsNotFound()) return ss;
        subject_read = true;
      }
      Notice n;
      n.id = p.id + "/" + c.no + "/" + kind;
      n.kind = kind;
      n.due = day;
      n.product = p.id;
      n.name = p.name;
      n.unit = p.unit;
      n.unit_name = tree.Name(p.unit);
      n.producer = p.subject;
      n.producer_name = subject.name;
      std::set<std::string> seen;
      for (std::string u = p.unit; !u.empty() && seen.insert(u).second;) {
        const workflow::UnitState* st = tree.Find(u);
        if (!st || st->level == workflow::UnitLevel::NATIONAL) break;
        n.tell.push_back(u);
        u = st->parent;
      }
      n.stars = c.stars;
      n.certificate = c.no;
      n.valid_until = c.valid_until;
      n.days_left = c.valid_until.days - day.days;
      out->push_back(std::move(n));
    }
  }
  std::sort(out->begin(), out->end(), [](const Notice& a, const Notice& b) {
    return std::tie(a.due, a.product, a.id) < std::tie(b.due, b.product, b.id);
  });
  return Status::OK();
}

nlohmann::ordered_json NoticeJson(const Notice& n) {
  return {{"id", n.id},
          {"notice", n.kind},
          {"due", FormatDate(n.due)},
          {"product", n.product},
          {"name", n.name},
          {"unit", n.unit},
          {"unit_name", n.unit_name},
          {"producer", n.producer},
          {"producer_name", n.producer_name},
          {"tell", n.tell},
          {"stars", n.stars},
          {"certificate", n.certificate},
          {"valid_until", FormatDate(n.valid_until)},
          {"days_left", n.days_left}};
}

}  // namespace ocop::projections
