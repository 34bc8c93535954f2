#include "ledger/signed_heads.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "ledger/durable_file.h"

namespace ocop::ledger {

std::string HeadKindName(HeadKind kind) {
  switch (kind) {
    case HeadKind::kTreeHead:
      return "tree-head";
    case HeadKind::kCheckpoint:
      return "checkpoint";
    case HeadKind::kFollowedHead:
      return "followed-head";
  }
  return "tree-head";
}

// Reads the store at `path` into `by_kind` (a missing file is empty).
static Status ReadHeads(const std::string& path, std::map<std::string, RecordedHead>* by_kind) {
  by_kind->clear();
  std::string text;
  Status s = ReadWholeFile(path, &text);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  std::istringstream lines(text);
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    ++n;
    std::istringstream fields(line);
    RecordedHead r;
    std::string root, extra;
    fields >> r.kind >> r.size >> root >> extra;
    bool known = r.kind == "tree-head" || r.kind == "checkpoint" || r.kind == "followed-head";
    if (!known || !fields.eof() || !extra.empty() || !merkle::FromHex(root, &r.root) ||
        by_kind->count(r.kind)) {
      return Status::Corruption(path + ":" + std::to_string(n) +
                                ": not a recorded head ('KIND SIZE ROOT-HEX', each kind once); "
                                "the record of what this ledger signed is damaged: restore it "
                                "from a backup or a replica");
    }
    (*by_kind)[r.kind] = r;
  }
  return Status::OK();
}

Status SignedHeads::Open(const std::string& dir, std::unique_ptr<SignedHeads>* out) {
  std::unique_ptr<SignedHeads> h(new SignedHeads());
  h->path_ = (std::filesystem::path(dir) / kFileName).string();
  Status s = ReadHeads(h->path_, &h->by_kind_);
  if (!s.ok()) return s;
  *out = std::move(h);
  return Status::OK();
}

namespace {

// An exclusive flock on PATH.lock for as long as it lives: a reader beside
// `ocop serve` (a secondary) records the heads it gives out in the same file,
// so each read-merge-write of it is done under this lock by one process.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace

Status SignedHeads::Record(HeadKind kind, uint64_t size, const merkle::Hash& root) {
  const std::string name = HeadKindName(kind);
  std::lock_guard<std::mutex> l(mu_);
  FileLock file_lock(path_);
  if (!file_lock.held()) {
    return Status::IOError("cannot lock " + path_ + ".lock to record the signed head of size " +
                           std::to_string(size) +
                           ", so it is not given out: " + std::strerror(errno));
  }
  // What another process sharing the directory recorded meanwhile: kept,
  // the larger head of each kind winning.
  std::map<std::string, RecordedHead> on_disk;
  Status rs = ReadHeads(path_, &on_disk);
  if (!rs.ok()) return rs;
  for (const auto& [k, r] : on_disk) {
    auto mine = by_kind_.find(k);
    if (mine == by_kind_.end() || mine->second.size < r.size) by_kind_[k] = r;
  }
  for (const auto& [k, r] : by_kind_) {
    if (r.size == size && r.root != root) {
      return Status::Tampered("a head of size " + std::to_string(size) + " with root " +
                              merkle::ToHex(r.root) + " was recorded (" + k +
                              "); this log now has root " + merkle::ToHex(root) +
                              " at that size: refusing to sign a second history");
    }
  }
  auto it = by_kind_.find(name);
  if (it != by_kind_.end() && it->second.size >= size) return Status::OK();
  std::map<std::string, RecordedHead> next = by_kind_;
  next[name] = RecordedHead{name, size, root};
  std::string text;
  for (const auto& [k, r] : next) {
    text += k + " " + std::to_string(r.size) + " " + merkle::ToHex(r.root) + "\n";
  }
  Status s = WriteFileDurably(path_, text, 0644);
  if (!s.ok()) {
    std::string why = "cannot record the signed head of size " + std::to_string(size) +
                      ", so it is not given out: " + s.message();
    return s.IsNoSpace() ? Status::NoSpace(why) : Status::IOError(why);
  }
  by_kind_ = std::move(next);
  return Status::OK();
}

RecordedHead SignedHeads::Last() const {
  std::lock_guard<std::mutex> l(mu_);
  RecordedHead best;
  for (const auto& [k, r] : by_kind_) {
    if (r.size > best.size) best = r;
  }
  return best;
}

std::map<std::string, RecordedHead> SignedHeads::All() const {
  std::lock_guard<std::mutex> l(mu_);
  return by_kind_;
}

}  // namespace ocop::ledger
