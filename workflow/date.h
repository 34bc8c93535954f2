// Date: a calendar date in Vietnam (no time, no zone), as days since
// 1970-01-01. Acts take legal effect on dates; the ledger never asks the
// clock what today is: every date is passed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ocop::workflow {

struct Date {
  int32_t days = 0;  // since 1970-01-01

  auto operator<=>(const Date&) const = default;
  Date operator+(int n) const { return Date{days + n}; }
  int operator-(const Date& o) const { return days - o.days; }
};

// Accepts exactly YYYY-MM-DD naming a real day (2023-02-29 is refused).
bool ParseDate(std::string_view text, Date* out);
std::string FormatDate(Date d);
Date FromCivil(int year, unsigned month, unsigned day);
void ToCivil(Date d, int* year, unsigned* month, unsigned* day);

// The same day `months` later, or the month's last day when it has no such
// day: 2020-08-31 + 36 months = 2023-08-31; 2020-02-29 + 36 = 2023-02-28.
Date AddMonths(Date d, int months);

}  // namespace ocop::workflow
