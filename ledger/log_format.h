// RocksDB's write-ahead log format (db/log_format.h in RocksDB 7.8), as far
// as the ledger reads WAL files itself: beside a writer (wal_file.cc) and to
// tell a record torn during its own write from damage (torn_tail.cc).
//
// A WAL file is a sequence of 32 KiB blocks of physical records, each a
// 7-byte header (masked CRC32C of type and payload, 2-byte little-endian
// length, type) and its payload; a block's last bytes too few for a header
// are zeros. A logical record (one WriteBatch) is one FULL record, or FIRST,
// MIDDLE..., LAST fragments. The ledger's writer emits types 1-4 only (no
// recycled, no compressed logs).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ocop::ledger::log_format {

inline constexpr uint64_t kBlock = 32768;
inline constexpr uint64_t kHeader = 7;
enum Type : uint8_t { kZero = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4 };

// RocksDB's masked CRC32C of a record's type byte and payload.
uint32_t RecordCrc(const char* type_and_payload, size_t n);

// "<digits>.log": RocksDB's WAL files (its info log is "LOG").
inline bool IsWalFileName(std::string_view name) {
  if (name.size() <= 4 || name.substr(name.size() - 4) != ".log") return false;
  return std::all_of(name.begin(), name.end() - 4, [](char c) { return c >= '0' && c <= '9'; });
}

// The header at `h`, which has at least kHeader bytes.
struct Header {
  uint32_t crc;
  uint32_t length;
  uint8_t type;
};
inline Header ReadHeader(const char* h) {
  Header r;
  std::memcpy(&r.crc, h, 4);  // little-endian, as RocksDB's EncodeFixed32
  r.length = static_cast<uint8_t>(h[4]) | (static_cast<uint8_t>(h[5]) << 8);
  r.type = static_cast<uint8_t>(h[6]);
  return r;
}

}  // namespace ocop::ledger::log_format
