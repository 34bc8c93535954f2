// Private to ledger/: what the files of Ledger share (ledger.h's promises are
// kept by open.cc, append.cc, read.cc and tree_store.cc together).
#pragma once

#include <capnp/message.h>
#include <rocksdb/db.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ledger/keys.h"
#include "ledger/ledger.h"

namespace ocop::ledger {

inline constexpr const char* kEventsCf = "events";
inline constexpr const char* kStreamsCf = "streams";
inline constexpr const char* kHeadsCf = "heads";
inline constexpr const char* kIdemCf = "idem";
inline constexpr const char* kTreeCf = "tree";
inline constexpr const char* kLockFile = "ocop.lock";
inline constexpr const char* kKeyFile = "signing-key.pem";

Status FromRocks(const rocksdb::Status& s, const std::string& what);
inline std::string_view AsView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// One caller of Append, waiting in the queue. The envelopes are built by the
// caller's own thread before it queues; the group's writer only fills in the
// numbers it assigns (seq, version, recording time), which are fixed-width
// fields and never reallocate the message.
struct Ledger::Writer {
  const AppendRequest* request = nullptr;
  const std::vector<std::string>* replicated = nullptr;  // AppendReplicated's events
  AppendResult* result = nullptr;
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> envelopes;
  std::string digest;  // what the idempotency key is bound to
  size_t bytes = 0;
  Status status;
  bool done = false;
  std::condition_variable cv;
  std::thread::id thread;  // the caller's, for the wait for returners (append.cc)
};

// The writer's view of state that this group changes but has not committed.
struct Ledger::GroupState {
  uint64_t next_seq = 0;
  merkle::Frontier frontier;
  int64_t recorded_at = 0;
  std::unordered_map<std::string, uint64_t> versions;  // stream -> version after this group
  std::unordered_map<std::string, std::pair<std::string, std::vector<uint64_t>>> keys;
};

class Ledger::TreeReader : public merkle::NodeReader {
 public:
  explicit TreeReader(Ledger* l) : l_(l) {}
  Status Node(int level, uint64_t index, merkle::Hash* out) override {
    std::string v;
    rocksdb::Status s =
        l_->db_->Get(rocksdb::ReadOptions(), l_->tree_cf_, keys::TreeNode(level, index), &v);
    if (s.IsNotFound()) {
      return Status::Corruption("hash tree node (level " + std::to_string(level) + ", index " +
                                std::to_string(index) + ") is missing");
    }
    if (!s.ok()) return FromRocks(s, "reading the hash tree");
    if (v.size() != 32)
      return Status::Corruption("hash tree node has " + std::to_string(v.size()) +
                                " bytes, not 32");
    std::memcpy(out->data(), v.data(), 32);
    return Status::OK();
  }

 private:
  Ledger* l_;
};

}  // namespace ocop::ledger
