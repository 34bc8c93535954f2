// The report's sections for provinces' own tables (projections/
// report_sections.h) as rows for CSV and XLSX, and as the tables and charts
// the Markdown form prints after its rows.
#pragma once

#include <string>
#include <vector>

#include "projections/report.h"
#include "query/report_format.h"

namespace ocop::query {

// Appends the round table, woman-owned products, producers by legal form,
// active products by named group, support by unit and ideas.
void AddSectionRows(const projections::Report& r, Lang lang, std::vector<ReportRow>* rows);

// The round table shaped as Đồng Tháp's plan 159 prints it, then the charts
// (star distribution, recognised and active by year, when the report has
// them): Markdown with inline SVG.
std::string SectionsMarkdown(const projections::Report& r, Lang lang);

// The star distribution (recognised in the period, active at its end), the
// yearly trend of recognised and active products, and the deadlines ahead by
// month.
std::vector<Chart> SectionCharts(const projections::Report& r, Lang lang);

}  // namespace ocop::query
