#include "projections/keys.h"

#include "ledger/keys.h"

namespace ocop::projections {

using ledger::keys::PutBE64;
using workflow::Date;

void PutBE32(std::string* s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetBE32(std::string_view s) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4 && i < s.size(); ++i) v = v << 8 | static_cast<uint8_t>(s[i]);
  return v;
}

std::string FactKey(const std::string& product, uint32_t index) {
  std::string k = product;
  k.push_back('\0');
  PutBE32(&k, index);
  return k;
}

// Day numbers ordered as unsigned bytes: flip the sign bit.
std::string DeadlineKey(Date until, const std::string& product) {
  std::string k;
  PutBE32(&k, static_cast<uint32_t>(until.days) ^ 0x80000000u);
  k += product;
  return k;
}

std::string TargetKey(const std::string& unit, int year, const std::string& indicator) {
  std::string k = unit;
  k.push_back('\0');
  PutBE32(&k, static_cast<uint32_t>(year));
  k += indicator;
  return k;
}

std::string VersionKey(const std::string& product, uint32_t index, uint64_t seq) {
  std::string k = FactKey(product, index);
  PutBE64(&k, seq);
  return k;
}

std::string ChangeKey(Date effective, uint64_t seq) {
  std::string k;
  PutBE32(&k, static_cast<uint32_t>(effective.days) ^ 0x80000000u);
  PutBE64(&k, seq);
  return k;
}

std::string AnnulmentKey(uint64_t seq) { return ChangeKey(kAnnulmentDay, seq); }

void FlatInto(capnp::MessageBuilder& msg, std::string* out) {
  auto segments = msg.getSegmentsForOutput();
  out->clear();
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));  // little-endian
  };
  put32(static_cast<uint32_t>(segments.size() - 1));
  for (auto segment : segments) put32(static_cast<uint32_t>(segment.size()));
  if (segments.size() % 2 == 0) put32(0);  // the table is padded to a whole word
  for (auto segment : segments) {
    out->append(reinterpret_cast<const char*>(segment.begin()),
                segment.size() * sizeof(capnp::word));
  }
}

std::string Flat(capnp::MallocMessageBuilder& msg) {
  std::string out;
  FlatInto(msg, &out);
  return out;
}

}  // namespace ocop::projections
