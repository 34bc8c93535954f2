// StreamMap: the heads of a log's streams (each stream's last version and the
// seq of that event) as a verifiable map, so that a signed checkpoint can
// commit to all of them with one hash and a proof can show one stream's head,
// or that a stream has no event, at that checkpoint.
//
// The map is a sparse Merkle tree over key = SHA-256(stream name), bit 0 the
// most significant bit of the key's first byte, with subtrees of at most one
// leaf collapsed (the tree of Diem's Jellyfish and of RFC 9162's successors):
//
//   hash(empty subtree)          = 32 zero bytes
//   hash(subtree of one leaf)    = SHA-256(0x02 || key || be64(version) || be64(seq))
//   hash(subtree of 2 or more)   = SHA-256(0x03 || hash(left) || hash(right))
//
// so the root depends only on the set of (stream, head) pairs, never on the
// order they were set in. 0x02 and 0x03 keep these hashes apart from the log's
// RFC 6962 leaves (0x00) and nodes (0x01).
//
// A proof walks from the root to the first node on the key's path that holds
// at most one leaf: the siblings met on the way, and what that node holds (the
// stream's own head, nothing, or another stream's leaf). Every node above it
// holds two or more leaves, so a verifier folds the siblings with 0x03 only.
//
// Cost: Set is O(log n) (a std::map insert and 17 memo invalidations); Root
// after k Sets rehashes only the k paths through the memoised top 16 levels
// and the small subtrees below them; Prove is O(log n) hashes plus the
// subtrees of the bottom levels, a few dozen leaves at a million streams.
//
// Thread-safety: none; callers serialise (ledger/stream_heads.h does).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/merkle.h"
#include "ledger/status.h"

namespace ocop::ledger {

struct StreamHead {
  uint64_t version = 0;  // 0: the stream has no event
  uint64_t seq = 0;
  bool operator==(const StreamHead&) const = default;
};

struct HeadProof {
  enum class End {
    kHead,   // the node holds the stream's own leaf: `head`
    kEmpty,  // the node holds nothing: the stream has no event
    kOther,  // the node holds another stream's leaf: the stream has no event
  };
  std::vector<merkle::Hash> siblings;  // root side first; siblings[i] is at depth i + 1
  End end = End::kEmpty;
  StreamHead head;           // kHead
  merkle::Hash other_key{};  // kOther: SHA-256 of the other stream's name
  StreamHead other;          // kOther
};

class StreamMap {
 public:
  static merkle::Hash Key(std::string_view stream);
  static merkle::Hash LeafHash(const merkle::Hash& key, const StreamHead& head);
  static merkle::Hash NodeHash(const merkle::Hash& left, const merkle::Hash& right);

  StreamMap();
  // Sets the head of a stream (version > 0).
  void Set(std::string_view stream, const StreamHead& head) { SetKey(Key(stream), head); }
  void SetKey(const merkle::Hash& key, const StreamHead& head);
  // The head of a stream; version 0 when it has none.
  StreamHead Get(std::string_view stream) const;
  size_t streams() const { return leaves_.size(); }
  const std::map<merkle::Hash, StreamHead>& leaves() const { return leaves_; }

  merkle::Hash Root();
  HeadProof Prove(std::string_view stream);

 private:
  using It = std::map<merkle::Hash, StreamHead>::const_iterator;
  static constexpr int kMemoDepth = 16;
  merkle::Hash Subtree(int depth, It lo, It hi);
  It Split(int depth, It lo, It hi) const;

  std::map<merkle::Hash, StreamHead> leaves_;
  // memo_[d][prefix]: the hash of the node at depth d <= kMemoDepth, valid
  // while its flag is set; Set clears the flags on its key's path.
  std::vector<std::vector<merkle::Hash>> memo_;
  std::vector<std::vector<bool>> memo_ok_;
};

// Checks `proof` for `stream` against a map root. OK with *head set to the
// stream's head (version 0 when the proof shows it has no event), or
// Tampered saying what does not hold.
Status VerifyHeadProof(std::string_view stream, const HeadProof& proof, const merkle::Hash& root,
                       StreamHead* head);

}  // namespace ocop::ledger
