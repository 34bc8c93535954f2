// Telling a WAL record torn during its own write from damage (torn_tail.h).
#include "ledger/torn_tail.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ledger/durable_file.h"
#include "ledger/log_format.h"

namespace ocop::ledger {
namespace fs = std::filesystem;
using log_format::kBlock;
using log_format::kHeader;

namespace {

// Writes are cut at page boundaries (SIGKILL) or, by a power cut, at sector
// boundaries; every page boundary is a sector boundary.
constexpr uint64_t kSector = 512;
// A record is torn only if at least this many of its own bytes are missing:
// a whole record ends in at most a few zero bytes (its last value is a
// stream's version, big-endian), never in eight.
constexpr uint64_t kMinMissing = 8;

bool AllZero(const std::string& s, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; ++i)
    if (s[i] != 0) return false;
  return true;
}

}  // namespace

bool EndsInTornRecord(const std::string& wal, uint64_t* keep, uint64_t* last_nonzero) {
  const uint64_t size = wal.size();
  uint64_t z = size;
  while (z > 0 && wal[z - 1] == 0) --z;
  *last_nonzero = z;
  uint64_t pos = 0, boundary = 0;
  bool in_fragments = false;
  while (pos < size) {
    const uint64_t room = kBlock - pos % kBlock;
    if (room < kHeader) {  // a block's trailer: zeros
      if (!AllZero(wal, pos, std::min(size, pos + room))) return false;
      pos += room;
      continue;
    }
    if (pos >= z) {
      // Only zeros from here: the log ends. Torn if a logical record's
      // first fragments are all that was written of it.
      if (!in_fragments) return false;
      *keep = boundary;
      return true;
    }
    uint64_t end;  // where the record at pos claims to end
    bool whole = false;
    log_format::Header h{};
    if (pos + kHeader > size) {
      end = pos + kHeader;
    } else {
      h = log_format::ReadHeader(wal.data() + pos);
      end = pos + kHeader + h.length;
      if (h.type == log_format::kZero && h.length == 0 && h.crc == 0) {
        return false;  // zeros, then something not zero: not a torn tail
      }
      whole = h.type >= log_format::kFull && h.type <= log_format::kLast && end <= size &&
              h.length <= room - kHeader &&
              h.crc == log_format::RecordCrc(wal.data() + pos + 6, 1 + h.length);
    }
    if (whole) {
      const bool starts = h.type == log_format::kFull || h.type == log_format::kFirst;
      if (starts == in_fragments) return false;  // fragments that do not pair up: damage
      in_fragments = h.type == log_format::kFirst || h.type == log_format::kMiddle;
      pos = end;
      if (!in_fragments) boundary = pos;
      continue;
    }
    // The first record not whole. Torn: its bytes from a page boundary inside
    // it on are zero or absent, at least kMinMissing of them, and nothing
    // follows.
    const uint64_t t = (std::max(z, pos + 1) + kSector - 1) / kSector * kSector;
    if (t >= end || end - t < kMinMissing) return false;
    *keep = boundary;
    return true;
  }
  if (!in_fragments) return false;  // every record whole
  *keep = boundary;                 // the file ends after a logical record's first fragments
  return true;
}

Status CutTornWalTail(const std::string& dir, TornTail* out) {
  *out = TornTail{};
  std::error_code ec;
  fs::path newest;
  uint64_t newest_number = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!log_format::IsWalFileName(name)) continue;
    uint64_t number = std::stoull(name.substr(0, name.size() - 4));
    if (newest.empty() || number > newest_number) {
      newest = entry.path();
      newest_number = number;
    }
  }
  if (ec) return Status::IOError("listing " + dir + ": " + ec.message());
  if (newest.empty()) return Status::OK();
  std::string wal;
  Status s = ReadWholeFile(newest.string(), &wal);
  if (!s.ok()) return s;
  uint64_t keep = 0, z = 0;
  if (!EndsInTornRecord(wal, &keep, &z)) return Status::OK();

  // Save what is cut before cutting it.
  const fs::path saved_dir = fs::path(dir) / "torn-wal-tails";
  fs::create_directories(saved_dir, ec);
  if (ec) return Status::IOError("creating " + saved_dir.string() + ": " + ec.message());
  const std::string saved =
      (saved_dir / (newest.filename().string() + "." + std::to_string(keep))).string();
  s = WriteFileDurably(saved, std::string_view(wal).substr(keep, z - keep), 0600);
  if (s.ok()) s = SyncDirectory(dir);
  if (!s.ok()) return s;

  int fd = ::open(newest.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("opening " + newest.string() + ": " + std::strerror(errno));
  int rc = ::ftruncate(fd, static_cast<off_t>(keep));
  if (rc == 0) rc = ::fdatasync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError("cutting " + newest.string() + ": " + std::strerror(err));
  out->found = true;
  out->wal = newest.string();
  out->kept = keep;
  out->removed = z - keep;
  out->saved_as = saved;
  return Status::OK();
}

}  // namespace ocop::ledger
