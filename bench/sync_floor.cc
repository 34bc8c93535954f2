#include "sync_floor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "harness.h"

namespace ocop::bench {

SyncFloor MeasureSyncFloor(const std::string& dir, double seconds, size_t bytes) {
  constexpr size_t kFileBytes = 16 << 20;
  const std::string path = (std::filesystem::path(dir) / "sync-floor").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Fail("sync floor: cannot create " + path + ": " + std::strerror(errno));
  auto fail = [&](const char* what) {
    Fail(std::string("sync floor: ") + what + " " + path + ": " + std::strerror(errno));
  };
  // Written, not merely fallocated: an fallocated extent is "unwritten", and
  // the first write into it changes the file's metadata, which a sync must
  // then record as well.
  std::string zeros(1 << 20, '\0');
  for (size_t off = 0; off < kFileBytes; off += zeros.size()) {
    if (::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(off)) !=
        static_cast<ssize_t>(zeros.size())) {
      fail("writing");
    }
  }
  if (::fsync(fd) != 0) fail("syncing");

  std::string record(bytes, 'r');
  SyncFloor out;
  using Clock = std::chrono::steady_clock;
  const double deadline = NowSeconds() + seconds;
  size_t off = 0;
  while (NowSeconds() < deadline) {
    if (off + bytes > kFileBytes) off = 0;
    auto t0 = Clock::now();
    if (::pwrite(fd, record.data(), bytes, static_cast<off_t>(off)) !=
        static_cast<ssize_t>(bytes)) {
      fail("writing");
    }
    if (::fdatasync(fd) != 0) fail("syncing");
    out.us.push_back(std::chrono::duration<float, std::micro>(Clock::now() - t0).count());
    off += bytes;
  }
  ::close(fd);
  ::unlink(path.c_str());
  return out;
}

SyncFloor MeasureGrowingSync(const std::string& dir, double seconds, size_t bytes) {
  constexpr off_t kReserve = 4 << 20;
  const std::string path = (std::filesystem::path(dir) / "sync-growing").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Fail("sync floor: cannot create " + path + ": " + std::strerror(errno));
  std::string record(bytes, 'g');
  SyncFloor out;
  using Clock = std::chrono::steady_clock;
  const double deadline = NowSeconds() + seconds;
  off_t off = 0, reserved = 0;
  while (NowSeconds() < deadline) {
    if (off + static_cast<off_t>(bytes) > reserved) {
      // Failure to reserve is not fatal: the writes below still grow the file.
      (void)::fallocate(fd, FALLOC_FL_KEEP_SIZE, reserved, kReserve);
      reserved += kReserve;
    }
    auto t0 = Clock::now();
    if (::pwrite(fd, record.data(), bytes, off) != static_cast<ssize_t>(bytes) ||
        ::fdatasync(fd) != 0) {
      Fail("sync floor: writing " + path + ": " + std::strerror(errno));
    }
    out.us.push_back(std::chrono::duration<float, std::micro>(Clock::now() - t0).count());
    off += static_cast<off_t>(bytes);
  }
  ::close(fd);
  ::unlink(path.c_str());
  return out;
}

}  // namespace ocop::bench
