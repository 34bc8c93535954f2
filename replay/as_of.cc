#include "replay/as_of.h"

#include <algorithm>
#include <climits>

#include "ledger/event_view.h"
#include "replay/history.h"
#include "workflow/decide.h"
#include "workflow/stream_fold.h"

namespace ocop::replay {

Status ProductAt(ledger::Ledger* ledger, const std::string& product, const PointInTime& at,
                 workflow::ProductState* out) {
  workflow::StreamFold fold;
  Status s = workflow::LoadStream(ledger, workflow::ProductStream(product), &fold, at.known_at);
  if (!s.ok()) return s;
  if (fold.events.empty()) {
    return Status::NotFound(
        "no product '" + product + "'" +
        (at.known_at ? " recorded by event " + std::to_string(at.known_at) : ""));
  }
  *out = workflow::ProductState();
  bool any_in_force = false;  // an event neither annulled nor an annulment
  for (const std::string& bytes : fold.events) {
    ledger::EventView view(bytes);
    auto e = view.As<workflow::schema::OcopEvent>();
    if (fold.annulled.count(e.getSeq()) || e.getPayload().isEventAnnulled()) continue;
    any_in_force = true;
    workflow::EventRef ref = workflow::StreamFold::ToEventRef(e);
    if (at.as_of && ref.effective > *at.as_of) continue;
    *out = workflow::Evolve(std::move(*out), ref);
  }
  if (!out->exists) {
    // Every record of it annulled (and then as_of may be unset), or none of
    // those in force had taken effect by the date asked.
    if (!any_in_force) {
      std::string when =
          at.known_at ? " (as recorded by event " + std::to_string(at.known_at) + ")" : "";
      return Status::NotFound("every recorded event of product '" + product + "' was annulled" +
                              when);
    }
    return Status::NotFound("product '" + product + "' did not exist yet" +
                            (at.as_of ? " on " + workflow::FormatDate(*at.as_of) : ""));
  }
  return Status::OK();
}

Status SeqKnownAt(ledger::Ledger* ledger, int64_t micros, uint64_t* seq) {
  uint64_t lo = 0, hi = ledger->Size();  // answer in [lo, hi]
  std::string bytes;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    Status s = ledger->Get(mid, &bytes);
    if (!s.ok()) return s;
    ledger::EventView view(bytes);
    if (!view.ok()) return Status::Corruption("event " + std::to_string(mid) + ": " + view.error());
    if (view.event().getRecordedAt() <= micros) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  *seq = lo;
  return Status::OK();
}

Status ParseKnownAt(ledger::Ledger* ledger, const std::string& text, uint64_t* seq) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    // At most 19 digits always fits in 64 bits; longer is out of range anyway.
    size_t digits = text.size() - std::min(text.find_first_not_of('0'), text.size());
    *seq = digits <= 19 ? std::stoull(text) : UINT64_MAX;
    if (*seq == 0 || *seq > ledger->Size()) {
      return Status::InvalidArgument("--known-at " + text + " is not a recorded event (1.." +
                                     std::to_string(ledger->Size()) + ")");
    }
    return Status::OK();
  }
  workflow::Date day;
  int64_t micros = 0;
  if (text.size() == 10 && workflow::ParseDate(text, &day)) {
    // The end of that day in Vietnam (UTC+7).
    micros = (static_cast<int64_t>(day.days + 1) * 86400 - 7 * 3600) * 1000000 - 1;
  } else if (text.size() >= 20 && workflow::ParseDate(text.substr(0, 10), &day) &&
             text[10] == 'T') {
    int h, m, sec, oh = 0, om = 0;
    char sign = 'Z';
    int n = std::sscanf(text.c_str() + 11, "%2d:%2d:%2d", &h, &m, &sec);
    size_t tz = text.find_first_of("Z+-", 19);
    if (n != 3 || tz == std::string::npos) {
      return Status::InvalidArgument("--known-at '" + text +
                                     "' is neither a sequence number nor an ISO 8601 timestamp "
                                     "with offset, e.g. 2024-06-30T17:00:00+07:00");
    }
    sign = text[tz];
    if (sign != 'Z' && std::sscanf(text.c_str() + tz + 1, "%2d:%2d", &oh, &om) != 2) {
      return Status::InvalidArgument("--known-at '" + text + "' has an unreadable offset");
    }
    int64_t offset = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
    int64_t secs = static_cast<int64_t>(day.days) * 86400 + h * 3600 + m * 60 + sec - offset;
    micros = secs * 1000000 + 999999;
  } else {
    return Status::InvalidArgument("--known-at '" + text +
                                   "' is neither a sequence number nor a timestamp like "
                                   "2024-06-30T17:00:00+07:00 or a date 2024-06-30");
  }
  Status s = SeqKnownAt(ledger, micros, seq);
  if (s.ok() && *seq == 0) {
    // Seq 0 means "no limit" to every reader, so it must never stand for
    // "nothing yet": a record that held nothing is said plainly instead.
    std::string first = "nothing has been recorded yet";
    std::string bytes;
    if (ledger->Size() > 0 && ledger->Get(1, &bytes).ok()) {
      ledger::EventView view(bytes);
      if (view.ok()) {
        first = "the first event was recorded at " + FormatTimestamp(view.event().getRecordedAt());
      }
    }
    return Status::NotFound("--known-at " + text + ": the ledger held no events then (" + first +
                            "); ask for a later point");
  }
  return s;
}

}  // namespace ocop::replay
