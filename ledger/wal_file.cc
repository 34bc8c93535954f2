// WAL files written over zeros synced ahead of them (see wal_file.h).
#include "ledger/wal_file.h"

#include <fcntl.h>
#include <rocksdb/file_system.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
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

// "<dir>/<digits>.log": RocksDB's WAL files (its info log is "LOG").
bool IsWalFile(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".log") != 0) return false;
  return std::all_of(name.begin(), name.end() - 4, [](char c) { return c >= '0' && c <= '9'; });
}

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

  PreparedWalFile(int fd, const rocksdb::FileOptions& options)
      : rocksdb::FSWritableFile(options), fd_(fd) {
    filler_ = std::thread([this] { Fill(); });
    Request(0);  // the first chunk starts kGap in, so the first records need not wait
  }
  ~PreparedWalFile() override {
    if (fd_ >= 0) Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions&,
                           rocksdb::IODebugContext*) override {
    const uint64_t end = size_ + data.size();
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
    uint64_t at = size_;
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
    size_ = end;
    Request(end);
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions&,
                             rocksdb::IODebugContext*) override {
    StopFilling();
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return Errno("cutting the ledger's log", errno);
    size_ = size;
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus Close(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    StopFilling();
    rocksdb::IOStatus s;
    // Cut back to the records, as RocksDB does after its own preallocation.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0)
      s = Errno("closing the ledger's log", errno);
    if (::close(fd_) != 0 && s.ok()) s = Errno("closing the ledger's log", errno);
    fd_ = -1;
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
    return size_;
  }
  // Space is prepared by Fill, not by fallocate: an allocated but unwritten
  // extent changes metadata again at its first write.
  rocksdb::IOStatus Allocate(uint64_t, uint64_t, const rocksdb::IOOptions&,
                             rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }

 private:
  // Asks for zeros up to a chunk beyond `end`, unless they are there or
  // being written.
  void Request(uint64_t end) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!broken_ && !filling_ && !wanted_ && zeroed_ < end + kChunk) wake = wanted_ = true;
    }
    if (wake) cv_.notify_all();
  }

  void Fill() {
    std::vector<char> zeros(kChunk, 0);
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return wanted_ || stop_; });
      if (stop_) return;
      wanted_ = false;
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
      l.lock();
      filling_ = false;
      if (ok) {
        zeroed_ = from + kChunk;
      } else {
        broken_ = true;  // e.g. the disk is full: the file grows as before
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

  int fd_;
  std::atomic<uint64_t> size_{0};  // the records: RocksDB's view of the file
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t reserved_ = 0;   // the records' end, set before they are written
  uint64_t zeroed_ = 0;     // [fill_from_ of the first chunk, zeroed_) holds synced zeros
  uint64_t fill_from_ = 0;  // while filling_: zeros go to [fill_from_, +kChunk)
  bool filling_ = false, wanted_ = false, stop_ = false, broken_ = false;
  std::thread filler_;
};

class PreparedWalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  using rocksdb::FileSystemWrapper::FileSystemWrapper;
  const char* Name() const override { return "ocop.PreparedWalFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* out,
                                    rocksdb::IODebugContext* dbg) override {
    if (!IsWalFile(path) || options.use_direct_writes || options.use_mmap_writes) {
      return target()->NewWritableFile(path, options, out, dbg);
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("creating " + path, errno);
    *out = std::make_unique<PreparedWalFile>(fd, options);
    return rocksdb::IOStatus::OK();
  }
};

}  // namespace

rocksdb::Env* PreparedWalEnv() {
  static rocksdb::Env* env = rocksdb::NewCompositeEnv(std::make_shared<PreparedWalFileSystem>(
                                                          rocksdb::FileSystem::Default()))
                                 .release();
  return env;
}

}  // namespace ocop::ledger
