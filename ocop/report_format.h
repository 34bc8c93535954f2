// Renders a period report for people: CSV, Markdown or an XLSX workbook, with
// headings in Vietnamese (default) or English. JSON is projections::ReportJson.
#pragma once

#include <string>
#include <vector>

#include "ledger/status.h"
#include "projections/report.h"

namespace ocop::cli {

enum class Lang { kVi, kEn };

// One line of a rendered report: section, breakdown, item, value.
struct ReportRow {
  std::string section, breakdown, item;
  std::string value;
};

std::vector<ReportRow> ReportRows(const projections::Report& r, Lang lang);
std::string ReportTitle(const projections::Report& r, Lang lang);

std::string RenderCsv(const projections::Report& r, Lang lang);
std::string RenderMarkdown(const projections::Report& r, Lang lang);
// Writes a real .xlsx workbook (libxlsxwriter) to `path`.
Status WriteXlsx(const projections::Report& r, Lang lang, const std::string& path);

}  // namespace ocop::cli
