#include "ledger/signed_heads.h"

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

Status SignedHeads::Open(const std::string& dir, std::unique_ptr<SignedHeads>* out) {
  std::unique_ptr<SignedHeads> h(new SignedHeads());
  h->path_ = (std::filesystem::path(dir) / kFileName).string();
  std::string text;
  Status s = ReadWholeFile(h->path_, &text);
  if (s.IsNotFound()) {
    *out = std::move(h);
    return Status::OK();
  }
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
        h->by_kind_.count(r.kind)) {
      return Status::Corruption(h->path_ + ":" + std::to_string(n) +
                                ": not a recorded head ('KIND SIZE ROOT-HEX', each kind once); "
                                "the record of what this ledger signed is damaged: restore it "
                                "from a backup or a replica");
    }
    h->by_kind_[r.kind] = r;
  }
  *out = std::move(h);
  return Status::OK();
}

Status SignedHeads::Record(HeadKind kind, uint64_t size, const merkle::Hash& root) {
  const std::string name = HeadKindName(kind);
  std::lock_guard<std::mutex> l(mu_);
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
