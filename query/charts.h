// Charts of a report (report_format.h Chart): an SVG drawing for the md form
// (and any page that shows one), native charts for the xlsx workbook.
#pragma once

#include <string>
#include <vector>

#include "query/report_format.h"

struct lxw_workbook;

namespace ocop::query {

// A self-contained <svg> element (no script, no external reference), with the
// values written on the bars or points, so that it reads without hovering.
std::string SvgChart(const Chart& c);

// A sheet "Biểu đồ" ("Charts") with each chart's data and a native chart
// (column or line) drawn from it. Nothing when there are no charts.
void AddXlsxCharts(lxw_workbook* wb, const std::vector<Chart>& charts, Lang lang);

}  // namespace ocop::query
