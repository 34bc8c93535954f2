// The reporting calendar: provinces close their figures before the calendar
// period ends, so that the report is filed on time (Đồng Tháp: the six-month
// report before 15/6, the annual one before 15/12). In it every period closes
// on the 14th: a year runs 15/12 of the year before to 14/12, a half 15/12 to
// 14/6 and 15/6 to 14/12, a quarter and a month likewise (INTERFACE.md).
#pragma once

#include <string>
#include <vector>

#include "ledger/status.h"
#include "projections/report.h"

namespace ocop::projections {

// `calendar` "civil" (or empty) or "reporting"; `text` as ParsePeriod takes.
Status ParsePeriodIn(const std::string& text, const std::string& calendar, Period* out);

// A report that falls due: its period (in the reporting calendar) and the
// day it is due, the day after its period closes (15/6 for the first half).
struct DueReport {
  std::string period;  // "2022-H1"
  std::string kind;    // year, half, quarter, month
  Period span;
  workflow::Date due;
};

// The reports of every kind due within [from, to], by due date (the annual
// report before the half, the half before the quarter, before the month).
std::vector<DueReport> ReportsDue(workflow::Date from, workflow::Date to);

}  // namespace ocop::projections
