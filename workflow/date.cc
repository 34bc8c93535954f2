#include "workflow/date.h"

#include <cstdio>

namespace ocop::workflow {
namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

// Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar.
Date FromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return Date{era * 146097 + static_cast<int>(doe) - 719468};
}

void ToCivil(Date date, int* year, unsigned* month, unsigned* day) {
  int z = date.days + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (*month <= 2);
}

bool ParseDate(std::string_view t, Date* out) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return false;
  int v[3] = {0, 0, 0};
  const int starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (int i = 0; i < lens[f]; ++i) {
      char c = t[starts[f] + i];
      if (c < '0' || c > '9') return false;
      v[f] = v[f] * 10 + (c - '0');
    }
  }
  if (v[1] < 1 || v[1] > 12 || v[2] < 1) return false;
  if (static_cast<unsigned>(v[2]) > DaysInMonth(v[0], static_cast<unsigned>(v[1]))) return false;
  *out = FromCivil(v[0], static_cast<unsigned>(v[1]), static_cast<unsigned>(v[2]));
  return true;
}

std::string FormatDate(Date d) {
  int y;
  unsigned m, day;
  ToCivil(d, &y, &m, &day);
  char buf[32];  // room for any int year; real dates use 10
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, day);
  return buf;
}

Date AddMonths(Date d, int months) {
  int y;
  unsigned m, day;
  ToCivil(d, &y, &m, &day);
  int total = y * 12 + static_cast<int>(m - 1) + months;
  int ny = total / 12;
  unsigned nm = static_cast<unsigned>(total % 12) + 1;
  unsigned nd = day < DaysInMonth(ny, nm) ? day : DaysInMonth(ny, nm);
  return FromCivil(ny, nm, nd);
}

}  // namespace ocop::workflow
