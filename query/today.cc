#include "query/queries.h"

#include <chrono>

namespace ocop::query {

workflow::Date TodayInVietnam() {
  int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() +
                 7 * 3600;
  return workflow::Date{static_cast<int32_t>(secs / 86400)};
}

}  // namespace ocop::query
