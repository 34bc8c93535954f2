// SignedHeads: what the ledger has vouched for, kept apart from RocksDB.
//
// The WAL is where events are made durable, so it cannot also be the witness
// of what they were: a damaged WAL that RocksDB cut short on recovery once
// left a shorter log that verified intact and then signed heads forking from
// those signed before. This store is that witness. It holds, per kind, the
// largest head recorded (size and root); a smaller head of the same log is
// implied by it, since a tree's root fixes every prefix's root.
//
// Promises:
//  * Record returns only once the head is durable (written to a temporary
//    file, fsynced, renamed, directory fsynced: ledger/durable_file.h), so a
//    head given out is never forgotten by a crash.
//  * A head of a size already recorded with another root is refused
//    (Tampered): the ledger never signs two histories.
//  * The file is text, one line per kind: "KIND SIZE ROOT-HEX". A file that
//    does not parse is refused (Corruption): forgetting is never the default.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ledger/merkle.h"
#include "ledger/status.h"

namespace ocop::ledger {

enum class HeadKind {
  kTreeHead,      // `ocop tree-head`, GET /v1/tree-head, bundles, reports
  kCheckpoint,    // `ocop checkpoint`: the C2SP signed note
  kFollowedHead,  // a replica's verified head of its primary
};
std::string HeadKindName(HeadKind kind);  // "tree-head", "checkpoint", "followed-head"

struct RecordedHead {
  std::string kind;  // HeadKindName
  uint64_t size = 0;
  merkle::Hash root{};
};

class SignedHeads {
 public:
  // The store of the data directory `dir` (file `dir`/signed-heads); a
  // missing file is an empty store.
  static Status Open(const std::string& dir, std::unique_ptr<SignedHeads>* out);
  static constexpr const char* kFileName = "signed-heads";

  // Records the head unless one of this kind at least as large is recorded.
  Status Record(HeadKind kind, uint64_t size, const merkle::Hash& root);
  // The largest head of any kind (size 0: none).
  RecordedHead Last() const;
  // Every kind's largest head.
  std::map<std::string, RecordedHead> All() const;

 private:
  SignedHeads() = default;
  std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, RecordedHead> by_kind_;
};

}  // namespace ocop::ledger
