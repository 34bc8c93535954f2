// The provable history of one product: every event of its stream, oldest
// first, with who acted, on which decision, when it took effect and when it
// was recorded; annulments beside what they annul; and, if asked, each
// event's inclusion proof in one signed tree head. An actor whose account
// has an official record (RegisterOfficial) also carries "name", "title" and
// "office": the record in force on the act's date, as known at the same point.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ledger/ledger.h"
#include "replay/as_of.h"

namespace ocop::replay {

struct HistoryOptions {
  PointInTime at;       // as_of filters by effective date, known_at by seq
  bool proofs = false;  // add inclusion proofs against the head at known_at (or now)
};

Status ProductHistory(ledger::Ledger* ledger, const std::string& product,
                      const HistoryOptions& options, nlohmann::ordered_json* out);

// "2024-06-30T17:00:00.123456+07:00": recording times are shown in Vietnam.
std::string FormatTimestamp(int64_t micros);

// The JSON of a stored OCOP event (envelope and typed payload).
nlohmann::ordered_json EventJson(std::string_view bytes);

}  // namespace ocop::replay
