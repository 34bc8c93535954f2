// Renders a period report for people: CSV, Markdown or an XLSX workbook, with
// headings in Vietnamese (default) or English. JSON is projections::ReportJson.
#pragma once

#include <string>
#include <vector>

#include "ledger/status.h"
#include "projections/report.h"

namespace ocop::query {

enum class Lang { kVi, kEn };

// One line of a rendered report: section, breakdown, item, value.
struct ReportRow {
  std::string section, breakdown, item;
  std::string value;
};

// What every format renders: a title and its rows. The period report and the
// cohort funnel both become one, so CSV, Markdown and XLSX are written once.
struct ReportTable {
  std::string title;
  std::vector<ReportRow> rows;
};

ReportTable PeriodTable(const projections::Report& r, Lang lang);
// The re-recognition funnel of a yearly cohort; `head` is the signed head of
// the log it was computed from, as a period report carries.
ReportTable CohortTable(const projections::Cohort& c, const projections::Report::Head& head,
                        Lang lang);

std::string RenderCsv(const ReportTable& t, Lang lang);
std::string RenderMarkdown(const ReportTable& t, Lang lang);
// Writes a real .xlsx workbook (libxlsxwriter) to `path`.
Status WriteXlsx(const ReportTable& t, Lang lang, const std::string& path);

}  // namespace ocop::query
