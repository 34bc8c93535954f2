// WAL files written over zeros synced ahead of them, and read beside their
// writer up to their last whole record (see wal_file.h).
#include "ledger/wal_file.h"

#include "ledger/log_format.h"

#include <fcntl.h>
#include <rocksdb/file_system.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/crc.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ocop::ledger {
namespace {

rocksdb::IOStatus Errno(const std::string& what, int err) {
  if (err == ENOSPC) return rocksdb::IOStatus::NoSpace(what, std::strerror(err));
  return rocksdb::IOStatus::IOError(what, std::strerror(err));
}

// "<dir>/<digits>.log": RocksDB's WAL files.
bool IsWalFile(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return log_format::IsWalFileName(slash == std::string::npos
                                       ? std::string_view(path)
                                       : std::string_view(path).substr(slash + 1));
}

std::string Normal(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

class PreparedWalFile;

// The WAL files open for writing, by path, so that GetFileSize can answer
// with their records' size. Shared by the file system and its files.
struct OpenWals {
  std::mutex mu;
  std::map<std::string, const PreparedWalFile*> files;
};

class PreparedWalFile : public rocksdb::FSWritableFile {
 public:
  // How far ahead of the records zeros are kept, and how much is zeroed at
  // a time: a megabyte is about 3,500 single appends or two 1000-event
  // batches, and writing it out takes a few milliseconds on this disk.
  static constexpr uint64_t kChunk = 1 << 20;
  // Zeros start at least this far beyond the records: a chunk chosen just
  // after them would hold the next append back until it is written. Only
  // the first kGap bytes of a file are appended growing it.
  static constexpr uint64_t kGap = 256 << 10;
  // Writes from this size on are started on their way to the disk at once
  // (Append).
  static constexpr size_t kEarlyWriteback = 64 << 10;

  PreparedWalFile(int fd, std::string path, uint64_t reserve_bytes, std::shared_ptr<OpenWals> open,
                  const rocksdb::FileOptions& options)
      : rocksdb::FSWritableFile(options),
        fd_(fd),
        path_(std::move(path)),
        reserve_bytes_(reserve_bytes),
        open_(std::move(open)) {
    {
      std::lock_guard<std::mutex> l(open_->mu);
      open_->files[path_] = this;
    }
    filler_ = std::thread([this] { Fill(); });
    Request(0);  // the first chunk starts kGap in, so the first records need not wait
  }
  ~PreparedWalFile() override {
    if (fd_ >= 0) Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
    Forget();
  }

  // The records' size: what RocksDB has appended.
  uint64_t records() const { return size_.load(std::memory_order_acquire); }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions&,
                           rocksdb::IODebugContext*) override {
    const uint64_t start = size_.load(std::memory_order_relaxed);
    const uint64_t end = start + data.size();
    {
      // Never write where zeros are being written (they could land after
      // the records), and mark where the records will reach before writing
      // them, so that no chunk is chosen below it.
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !filling_ || end <= fill_from_; });
      reserved_ = end;
    }
    const char* p = data.data();
    size_t left = data.size();
    uint64_t at = start;
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("writing the ledger's log", errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      at += static_cast<uint64_t>(n);
    }
    // A large write (a batch's record) is handed to the disk at once, not
    // at the sync: the disk writes it while RocksDB inserts the same batch
    // into its memtables, and the sync that follows (still before any
    // acknowledgement) waits for less. Small writes are left to their sync,
    // which comes straight after them. Only a start: nothing is promised
    // until the sync, so a failure here changes nothing.
    if (data.size() >= kEarlyWriteback) {
      ::sync_file_range(fd_, static_cast<off_t>(start), static_cast<off_t>(data.size()),
                        SYNC_FILE_RANGE_WRITE);
    }
    size_.store(end, std::memory_order_release);
    Request(end);
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions&,
                             rocksdb::IODebugContext*) override {
    StopFilling();
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return Errno("cutting the ledger's log", errno);
    size_.store(size, std::memory_order_release);
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus Close(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    StopFilling();
    rocksdb::IOStatus s;
    // Cut back to the records, as RocksDB does after its own preallocation.
    if (::ftruncate(fd_, static_cast<off_t>(records())) != 0)
      s = Errno("closing the ledger's log", errno);
    if (::close(fd_) != 0 && s.ok()) s = Errno("closing the ledger's log", errno);
    fd_ = -1;
    Forget();
    return s;
  }

  rocksdb::IOStatus Flush(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();  // every Append is already a write(2)
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    if (::fdatasync(fd_) != 0) return Errno("syncing the ledger's log", errno);
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    if (::fsync(fd_) != 0) return Errno("syncing the ledger's log", errno);
    return rocksdb::IOStatus::OK();
  }
  // The ledger syncs while the next group is written (ledger/append.cc).
  bool IsSyncThreadSafe() const override { return true; }
  uint64_t GetFileSize(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return records();
  }
  // Space is prepared by Fill, not by fallocate: an allocated but unwritten
  // extent changes metadata again at its first write.
  rocksdb::IOStatus Allocate(uint64_t, uint64_t, const rocksdb::IOOptions&,
                             rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }

 private:
  // Asks for zeros up to a chunk beyond `end`, unless they are there or
  // being written, or the disk was too full for them a moment ago.
  void Request(uint64_t end) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!broken_ && !filling_ && !wanted_ && zeroed_ < end + kChunk && end >= retry_at_) {
        wake = wanted_ = true;
      }
    }
    if (wake) cv_.notify_all();
  }

  // Whether a chunk leaves the reserve and a chunk more free: the zeros
  // must never be what brings the disk down to the ledger's reserve, nor
  // take the room RocksDB needs to open and flush on a nearly full disk.
  bool RoomForChunk() const {
    struct statvfs st;
    if (::fstatvfs(fd_, &st) != 0) return false;
    const uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    return free_bytes >= reserve_bytes_ + 2 * kChunk;
  }

  void Fill() {
    std::vector<char> zeros(kChunk, 0);
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return wanted_ || stop_; });
      if (stop_) return;
      wanted_ = false;
      if (!RoomForChunk()) {
        // Grown as RocksDB's own file would be; looked at again once the
        // records have grown by a chunk.
        retry_at_ = reserved_ + kChunk;
        continue;
      }
      // Beyond the records, always: reserved_ covers every record written
      // or being written, and Append waits while its records would reach
      // the range chosen here.
      fill_from_ = std::max(zeroed_, reserved_ + kGap);
      filling_ = true;
      const uint64_t from = fill_from_;
      l.unlock();
      bool ok = true;
      for (uint64_t at = from; ok && at < from + kChunk;) {
        ssize_t n = ::pwrite(fd_, zeros.data(), from + kChunk - at, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) at += static_cast<uint64_t>(n);
      }
      // Written out now, so that a sync of records that comes later does
      // not carry these pages, and durable with the size they give the file.
      ok = ok &&
           ::sync_file_range(fd_, static_cast<off_t>(from), kChunk,
                             SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                 SYNC_FILE_RANGE_WAIT_AFTER) == 0 &&
           ::fdatasync(fd_) == 0;
      if (!ok) {
        // e.g. the disk filled meanwhile: give back what this chunk took.
        // No record lies at or beyond `from` (appends reaching it wait).
        struct stat st;
        if (::fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) > from) {
          if (::ftruncate(fd_, static_cast<off_t>(from)) != 0) {
            // Left as it is: zeros after the records, as a crash would leave.
          }
        }
      }
      l.lock();
      filling_ = false;
      if (ok) {
        zeroed_ = from + kChunk;
      } else {
        broken_ = true;  // the file grows as before from here on
      }
      cv_.notify_all();
      if (!broken_ && zeroed_ < reserved_ + kChunk) wanted_ = true;
    }
  }

  void StopFilling() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (filler_.joinable()) filler_.join();
  }

  void Forget() {
    std::lock_guard<std::mutex> l(open_->mu);
    auto it = open_->files.find(path_);
    if (it != open_->files.end() && it->second == this) open_->files.erase(it);
  }

  int fd_;
  const std::string path_;
  const uint64_t reserve_bytes_;
  const std::shared_ptr<OpenWals> open_;
  std::atomic<uint64_t> size_{0};  // the records: RocksDB's view of the file
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t reserved_ = 0;   // the records' end, set before they are written
  uint64_t zeroed_ = 0;     // [fill_from_ of the first chunk, zeroed_) holds synced zeros
  uint64_t fill_from_ = 0;  // while filling_: zeros go to [fill_from_, +kChunk)
  uint64_t retry_at_ = 0;   // no chunk is asked for before the records reach it
  bool filling_ = false, wanted_ = false, stop_ = false, broken_ = false;
  std::thread filler_;
};

class PreparedWalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  PreparedWalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, uint64_t reserve_bytes)
      : rocksdb::FileSystemWrapper(base), reserve_bytes_(reserve_bytes) {}
  const char* Name() const override { return "ocop.PreparedWalFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* out,
                                    rocksdb::IODebugContext* dbg) override {
    if (!IsWalFile(path) || options.use_direct_writes || options.use_mmap_writes) {
      return target()->NewWritableFile(path, options, out, dbg);
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("creating " + path, errno);
    *out = std::make_unique<PreparedWalFile>(fd, Normal(path), reserve_bytes_, open_, options);
    return rocksdb::IOStatus::OK();
  }

  // A WAL file being written is as long as its records: RocksDB sizes the
  // live WAL it copies into a backup or checkpoint with this.
  rocksdb::IOStatus GetFileSize(const std::string& path, const rocksdb::IOOptions& options,
                                uint64_t* size, rocksdb::IODebugContext* dbg) override {
    if (IsWalFile(path)) {
      std::lock_guard<std::mutex> l(open_->mu);
      auto it = open_->files.find(Normal(path));
      if (it != open_->files.end()) {
        *size = it->second->records();
        return rocksdb::IOStatus::OK();
      }
    }
    return target()->GetFileSize(path, options, size, dbg);
  }

 private:
  const uint64_t reserve_bytes_;
  const std::shared_ptr<OpenWals> open_ = std::make_shared<OpenWals>();
};

using log_format::kBlock;
using log_format::kHeader;

// A WAL file as a tailing reader should see it: up to the end of its last
// whole record, so that zeros ahead of the records, or a record still being
// copied into the page cache, look like the end of a growing file.
class WholeRecordsFile : public rocksdb::FSSequentialFile {
 public:
  explicit WholeRecordsFile(int fd) : fd_(fd), block_(kBlock) {}
  ~WholeRecordsFile() override { ::close(fd_); }

  rocksdb::IOStatus Read(size_t n, const rocksdb::IOOptions&, rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext*) override {
    if (end_ < pos_ + n) Extend(pos_ + n);
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, end_ > pos_ ? end_ - pos_ : 0));
    size_t got = 0;
    while (got < want) {
      ssize_t r = ::pread(fd_, scratch + got, want - got, static_cast<off_t>(pos_ + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Errno("reading the ledger's log", errno);
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    pos_ += got;
    *result = rocksdb::Slice(scratch, got);
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus Skip(uint64_t n) override {
    if (end_ < pos_ + n) Extend(pos_ + n);
    pos_ = std::min(pos_ + n, std::max(pos_, end_));
    return rocksdb::IOStatus::OK();
  }

 private:
  // Moves end_ over whole records until it reaches `want` or a record that
  // is not (yet) whole: zeros for a header, a header or payload not all
  // there, or a CRC that does not match.
  void Extend(uint64_t want) {
    // Read afresh: what was zeros, or half a record, may be whole now.
    loaded_block_ = UINT64_MAX;
    while (end_ < want) {
      uint64_t at = end_;
      if (kBlock - at % kBlock < kHeader) at += kBlock - at % kBlock;
      const uint64_t block = at / kBlock, in = at % kBlock;
      if (!Load(block, in + kHeader)) return;
      const char* h = block_.data() + in;
      const log_format::Header header = log_format::ReadHeader(h);
      // Types 1-4 are the ones the ledger's writer emits (no recycled logs,
      // no compressed ones); anything else, zeros included, ends it here.
      if (header.type < log_format::kFull || header.type > log_format::kLast ||
          in + kHeader + header.length > kBlock)
        return;
      if (!Load(block, in + kHeader + header.length)) return;
      if (header.crc != log_format::RecordCrc(h + 6, 1 + header.length)) return;
      const uint64_t length = header.length;
      end_ = at + kHeader + length;
    }
  }

  // Holds block `block` in block_ with at least `need` of its bytes (read
  // once an Extend).
  bool Load(uint64_t block, uint64_t need) {
    if (loaded_block_ == block && loaded_ >= need) return true;
    size_t got = 0;
    while (got < kBlock) {
      ssize_t r =
          ::pread(fd_, block_.data() + got, kBlock - got, static_cast<off_t>(block * kBlock + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    loaded_block_ = block;
    loaded_ = got;
    return loaded_ >= need;
  }

  int fd_;
  uint64_t pos_ = 0;  // the next byte Read returns
  uint64_t end_ = 0;  // the end of the whole records found so far
  std::vector<char> block_;
  uint64_t loaded_block_ = UINT64_MAX, loaded_ = 0;
};

class TailingWalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  using rocksdb::FileSystemWrapper::FileSystemWrapper;
  const char* Name() const override { return "ocop.TailingWalFileSystem"; }

  rocksdb::IOStatus NewSequentialFile(const std::string& path, const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* out,
                                      rocksdb::IODebugContext* dbg) override {
    if (!IsWalFile(path) || options.use_direct_reads) {
      return target()->NewSequentialFile(path, options, out, dbg);
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return rocksdb::IOStatus::PathNotFound(path, std::strerror(errno));
      return Errno("opening " + path, errno);
    }
    *out = std::make_unique<WholeRecordsFile>(fd);
    return rocksdb::IOStatus::OK();
  }
};

rocksdb::Env* NewEnvOver(std::shared_ptr<rocksdb::FileSystem> fs) {
  return rocksdb::NewCompositeEnv(std::move(fs)).release();
}

}  // namespace

namespace log_format {
uint32_t RecordCrc(const char* type_and_payload, size_t n) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;  // CRC32C
  crc.process_bytes(type_and_payload, n);
  uint32_t c = crc.checksum();
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;  // RocksDB's crc32c::Mask
}
}  // namespace log_format

rocksdb::Env* PreparedWalEnv(uint64_t reserve_bytes) {
  static std::mutex mu;
  static std::map<uint64_t, rocksdb::Env*>* envs = new std::map<uint64_t, rocksdb::Env*>();
  std::lock_guard<std::mutex> l(mu);
  rocksdb::Env*& env = (*envs)[reserve_bytes];
  if (env == nullptr) {
    env = NewEnvOver(
        std::make_shared<PreparedWalFileSystem>(rocksdb::FileSystem::Default(), reserve_bytes));
  }
  return env;
}

rocksdb::Env* TailingWalEnv() {
  static rocksdb::Env* env =
      NewEnvOver(std::make_shared<TailingWalFileSystem>(rocksdb::FileSystem::Default()));
  return env;
}

}  // namespace ocop::ledger
