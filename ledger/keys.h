// The ledger's RocksDB key encodings. Big-endian numbers so that byte order is
// numeric order and iterators walk the log in sequence.
//
//   column family  key                                  value
//   default        "magic", "format"                    "ocop-ledger", "3"
//   events         first seq (8)                        stored event bytes, or a run of
//                                                       events first.. (format 3,
//                                                       ledger_internal.h; formats 1
//                                                       and 2 kept one per key)
//   streams        stream, 0x00, first version (8)      seqs (8 each) of versions first..
//                                                       (a run; format 1 kept one per key)
//   heads          stream                               version (8)
//   idem           idempotency key                      digest (32), first seq (8), count (8)
//   tree           level (1), first index (8)           hashes (32 each) of subtrees
//                                                       first.. of that level (a run,
//                                                       ledger_internal.h; format 1
//                                                       kept one per key)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ocop::ledger::keys {

// 3: the events family holds runs too (several events to a key); 2: the tree
// and streams families hold runs (several subtrees, several versions to a
// key); 1 held one of each per key, which later formats read as runs of one.
inline constexpr int kFormatVersion = 3;
inline constexpr std::string_view kMagic = "ocop-ledger";

inline void PutBE64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
inline uint64_t GetBE64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = v << 8 | static_cast<uint8_t>(s[i]);
  return v;
}
inline std::string Seq(uint64_t seq) {
  std::string k;
  k.reserve(8);
  PutBE64(&k, seq);
  return k;
}
inline std::string StreamEntry(std::string_view stream, uint64_t version) {
  std::string k(stream);
  k.push_back('\0');
  PutBE64(&k, version);
  return k;
}
inline std::string TreeNode(int level, uint64_t index) {
  std::string k(1, static_cast<char>(level));
  PutBE64(&k, index);
  return k;
}

}  // namespace ocop::ledger::keys
