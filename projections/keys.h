// Private to projections/: how the read models' keys and values are laid out
// in RocksDB. Keys sort as the readers need them (big-endian numbers; day
// numbers with the sign bit flipped so that they order as unsigned bytes).
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "workflow/date.h"

namespace ocop::projections {

void PutBE32(std::string* s, uint32_t v);
uint32_t GetBE32(std::string_view s);

// product id, 0x00, index
std::string FactKey(const std::string& product, uint32_t index);
// last valid day, product id
std::string DeadlineKey(workflow::Date until, const std::string& product);
// unit, 0x00, year, indicator
std::string TargetKey(const std::string& unit, int year, const std::string& indicator);
// FactKey, seq
std::string VersionKey(const std::string& product, uint32_t index, uint64_t seq);
// effective day, seq
std::string ChangeKey(workflow::Date effective, uint64_t seq);
// In "report_changes", every annulment again under the last representable
// day, which no act takes effect on: ChangeKey(kAnnulmentDay, seq).
inline constexpr workflow::Date kAnnulmentDay{INT32_MAX};
std::string AnnulmentKey(uint64_t seq);

// What messageToFlatArray gives (the segment table, then the segments),
// written into *out, whose storage is reused from event to event.
void FlatInto(capnp::MessageBuilder& msg, std::string* out);
std::string Flat(capnp::MallocMessageBuilder& msg);

// Reads a stored value as a T; *words and *reader keep it alive.
template <typename T>
typename T::Reader Read(const std::string& bytes, kj::Array<capnp::word>* words,
                        std::optional<capnp::FlatArrayMessageReader>* reader) {
  *words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words->begin(), bytes.data(), words->size() * sizeof(capnp::word));
  reader->emplace(*words);
  return (*reader)->getRoot<T>();
}

}  // namespace ocop::projections
