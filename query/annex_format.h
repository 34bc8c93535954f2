// `ocop report --list recognised|revoked|active|expiring`: the annex of a
// period, one row per product (projections/annex.h), in every format. The
// xlsx is a sheet an official pastes into a decision's annex: a title naming
// the list, period and unit, Vietnamese headers, set column widths, the
// decision cited on every row (number, date, issuer), stars as numbers.
// JSON carries the signed tree head like the report; `ocop verify-report`
// recomputes it.
#pragma once

#include "projections/annex.h"
#include "query/queries.h"
#include "query/report_format.h"

namespace ocop::query {

// q.list names the list; period as for the report (after ApplyCalendar).
Status QueryAnnex(const Reader& r, const ReportQueryText& q, RenderedReport* out);

// With q->calendar "reporting", the period (2022, 2022-H1, ...) read in the
// reporting calendar becomes q->from and q->to; "civil" or empty leaves it.
Status ApplyCalendar(ReportQueryText* q);

// A date as officials write it: 15/11/2022 (from a Date or ISO text).
std::string VnDate(workflow::Date d);
std::string VnDateText(const std::string& iso);

std::string AnnexCsv(const projections::Annex& a, Lang lang);
std::string AnnexMarkdown(const projections::Annex& a, Lang lang);
Status WriteAnnexXlsx(const projections::Annex& a, Lang lang, const std::string& path);

}  // namespace ocop::query
