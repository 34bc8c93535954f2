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
// A chart where people would rather look than read: drawn as SVG in the md
// form and as a native chart in the xlsx (query/charts.h).
struct Chart {
  enum class Kind { kColumn, kLine };
  std::string title;
  Kind kind = Kind::kColumn;
  std::vector<std::string> categories;
  std::vector<std::pair<std::string, std::vector<double>>> series;  // name, one value a category
};

struct ReportTable {
  std::string title;
  std::vector<ReportRow> rows;
  // Markdown that follows the rows in the md form (tables shaped as the
  // provinces print them, charts as inline SVG); empty for the other forms.
  std::string markdown_after;
  std::vector<Chart> charts;
};

// A label an official reads, in `lang` (the key itself when unknown).
std::string ReportLabel(const std::string& key, Lang lang);

ReportTable PeriodTable(const projections::Report& r, Lang lang);
// The re-recognition funnel of a yearly cohort; `head` is the signed head of
// the log it was computed from, as a period report carries.
ReportTable CohortTable(const projections::Cohort& c, const projections::Report::Head& head,
                        Lang lang);

// A CSV field (RFC 4180): quoted, its quotes doubled, when it holds a comma,
// a quote or a line break.
std::string CsvField(const std::string& s);
std::string RenderCsv(const ReportTable& t, Lang lang);
std::string RenderMarkdown(const ReportTable& t, Lang lang);
// Writes a workbook of one sheet to `path`: the title, a blank row, the
// headers, then the rows (cells that read as numbers written as numbers).
Status WriteXlsxSheet(const std::string& title, const std::string& sheet,
                      const std::vector<std::string>& headers,
                      const std::vector<std::vector<std::string>>& rows, const std::string& path);
// Writes a real .xlsx workbook (libxlsxwriter) to `path`.
Status WriteXlsx(const ReportTable& t, Lang lang, const std::string& path);

}  // namespace ocop::query
