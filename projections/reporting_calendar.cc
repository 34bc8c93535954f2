#include "projections/reporting_calendar.h"

#include <algorithm>
#include <cstdio>

namespace ocop::projections {

using workflow::AddMonths;
using workflow::Date;
using workflow::FromCivil;

namespace {

// The reporting period of the civil one: from the 15th of the month before
// its first month to the 14th of its last month.
Period Shifted(const Period& civil) {
  int y;
  unsigned m, d;
  workflow::ToCivil(civil.to, &y, &m, &d);
  Date to = FromCivil(y, m, 14);
  Date from = AddMonths(civil.from, -1) + 14;  // the 15th of the month before
  return Period{from, to};
}

}  // namespace

Status ParsePeriodIn(const std::string& text, const std::string& calendar, Period* out) {
  if (!calendar.empty() && calendar != "civil" && calendar != "reporting") {
    return Status::InvalidArgument("calendar '" + calendar + "' is not one of civil, reporting");
  }
  Period civil;
  Status s = ParsePeriod(text, &civil);
  if (!s.ok()) return s;
  *out = calendar == "reporting" ? Shifted(civil) : civil;
  return Status::OK();
}

std::vector<DueReport> ReportsDue(Date from, Date to) {
  std::vector<DueReport> out;
  int y0, y1;
  unsigned m, d;
  workflow::ToCivil(from, &y0, &m, &d);
  workflow::ToCivil(to, &y1, &m, &d);
  auto add = [&](const std::string& text, const char* kind) {
    Period p;
    if (!ParsePeriodIn(text, "reporting", &p).ok()) return;
    Date due = p.to + 1;
    if (due < from || to < due) return;
    out.push_back(DueReport{text, kind, p, due});
  };
  for (int y = y0; y <= y1 + 1; ++y) {
    const std::string ys = std::to_string(y);
    add(ys, "year");
    add(ys + "-H1", "half");
    add(ys + "-H2", "half");
    for (int q = 1; q <= 4; ++q) add(ys + "-Q" + std::to_string(q), "quarter");
    for (int mo = 1; mo <= 12; ++mo) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "-%02d", mo);
      add(ys + buf, "month");
    }
  }
  static const char* kOrder[] = {"year", "half", "quarter", "month"};
  auto rank = [](const std::string& k) {
    return std::find(std::begin(kOrder), std::end(kOrder), k) - std::begin(kOrder);
  };
  std::stable_sort(out.begin(), out.end(), [&](const DueReport& a, const DueReport& b) {
    return a.due < b.due || (a.due == b.due && rank(a.kind) < rank(b.kind));
  });
  return out;
}

}  // namespace ocop::projections
