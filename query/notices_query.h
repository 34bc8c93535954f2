// Who must be told, and which reports are due: the questions of issue 15's
// notices and reporting calendar, answered as JSON for the command line and
// the HTTP server alike (arguments as typed or sent).
#pragma once

#include "query/queries.h"

namespace ocop::query {

// `ocop notices --as-of DATE [--since DATE] [--unit U]`, GET /v1/notices:
// {"as_of","since","unit","notices":[{"id","notice","due","product","name",
// "unit","unit_name","producer","producer_name","tell","stars","certificate",
// "valid_until","days_left"}]}: the notices due on a day from `since`
// (default: as_of itself) to `as_of` (default: today in Vietnam).
struct NoticesQuery {
  std::string as_of, since, unit;
};
Status QueryNotices(const Reader& r, const NoticesQuery& q, Json* out);

// `ocop reports-due [--from DATE] [--within-days N]`: the reports of the
// reporting calendar due from `from` (default today) within N days (default
// 45): {"from","to","reports":[{"period","kind","from","to","due","days_left"}]},
// by due date.
struct ReportsDueQuery {
  std::string from, within_days = "45";
};
Status QueryReportsDue(const Reader& r, const ReportsDueQuery& q, Json* out);

}  // namespace ocop::query
