#include "query/notices_query.h"

#include "projections/notices.h"
#include "projections/reporting_calendar.h"
#include "query/arguments.h"

namespace ocop::query {

using workflow::Date;
using workflow::FormatDate;

Status QueryNotices(const Reader& r, const NoticesQuery& q, Json* out) {
  Date as_of, since;
  Status s = DateOr("as_of", q.as_of, r.today, &as_of);
  if (s.ok()) s = DateOr("since", q.since, as_of, &since);
  if (!s.ok()) return s;
  if (as_of < since) return Status::InvalidArgument("since is after as_of");
  if (as_of.days - since.days > 366) {
    return Status::InvalidArgument("since may be at most 366 days before as_of");
  }
  std::vector<projections::Notice> notices;
  s = projections::BuildNotices(*r.view, since, as_of, q.unit, &notices);
  if (!s.ok()) return s;
  Json list = Json::array();
  for (const auto& n : notices) list.push_back(projections::NoticeJson(n));
  *out = Json{{"as_of", FormatDate(as_of)},
              {"since", FormatDate(since)},
              {"unit", q.unit.empty() ? Json(nullptr) : Json(q.unit)},
              {"notices", list}};
  return Status::OK();
}

Status QueryReportsDue(const Reader& r, const ReportsDueQuery& q, Json* out) {
  Date from;
  Status s = DateOr("from", q.from, r.today, &from);
  if (!s.ok()) return s;
  int within = 0;
  try {
    size_t used = 0;
    within = std::stoi(q.within_days, &used);
    if (used != q.within_days.size() || within < 0 || within > 3660) throw std::out_of_range("");
  } catch (const std::exception&) {
    return Status::InvalidArgument("within_days '" + q.within_days +
                                   "' must be a whole number of days from 0 to 3660");
  }
  Date to = from + within;
  Json reports = Json::array();
  for (const auto& d : projections::ReportsDue(from, to)) {
    reports.push_back(Json{{"period", d.period},
                           {"kind", d.kind},
                           {"from", FormatDate(d.span.from)},
                           {"to", FormatDate(d.span.to)},
                           {"due", FormatDate(d.due)},
                           {"days_left", d.due.days - from.days}});
  }
  *out = Json{{"from", FormatDate(from)}, {"to", FormatDate(to)}, {"reports", reports}};
  return Status::OK();
}

}  // namespace ocop::query
