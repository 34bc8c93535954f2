// The past of one product, as it was and as it was known.
//
// Effective time: only events whose act took effect on or before `as_of`.
// Recording time: only events the ledger had recorded by `known_at` (a
// sequence number). An annulment known by then removes what it annuls from
// every effective date: a record that was wrong never took effect. The work
// is one read of the product's own stream, whatever the size of the log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ledger/ledger.h"
#include "workflow/date.h"
#include "workflow/state.h"

namespace ocop::replay {

struct PointInTime {
  std::optional<workflow::Date> as_of;  // effective time; none: every date
  uint64_t known_at = 0;                // recording time as a seq; 0: all recorded
};

Status ProductAt(ledger::Ledger* ledger, const std::string& product, const PointInTime& at,
                 workflow::ProductState* out);

// The last sequence number recorded at or before `micros` (microseconds since
// the epoch), by binary search over recording times, which the ledger assigns
// in commit order. 0 when nothing was recorded by then.
Status SeqKnownAt(ledger::Ledger* ledger, int64_t micros, uint64_t* seq);

// Parses --known-at: a sequence number, or an ISO 8601 timestamp with offset
// ("2024-06-30T17:00:00+07:00", or a date alone, meaning the end of that day in
// Vietnam).
Status ParseKnownAt(ledger::Ledger* ledger, const std::string& text, uint64_t* seq);

}  // namespace ocop::replay
