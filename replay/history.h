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
#include "workflow/stream_fold.h"

namespace ocop::replay {

struct HistoryOptions {
  PointInTime at;       // as_of filters by effective date, known_at by seq
  bool proofs = false;  // add inclusion proofs against the head at known_at (or now)
};

Status ProductHistory(ledger::Ledger* ledger, const std::string& product,
                      const HistoryOptions& options, nlohmann::ordered_json* out);

// "2024-06-30T17:00:00.123456+07:00": recording times are shown in Vietnam.
std::string FormatTimestamp(int64_t micros);

// The producer of the product whose stream is `product` (up to `known_at`,
// 0: all), with its personal fields as a reader is shown them (plaintext
// while its key exists, "[đã xoá]" once erased: workflow/personal_data.h),
// when those fields are sealed in the log; null otherwise, so that the answer
// about a legal person's product is what it always was. Not proved: the
// proofs cover the product's events, and the fields are read with a key that
// is outside the log by design.
nlohmann::ordered_json SealedProducer(ledger::Ledger* ledger, const workflow::StreamFold& product,
                                      uint64_t known_at);

// The JSON of a stored OCOP event (envelope and typed payload).
nlohmann::ordered_json EventJson(std::string_view bytes);

}  // namespace ocop::replay
