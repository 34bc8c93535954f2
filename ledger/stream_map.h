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
// Layout and cost. The leaves are kept in 65,536 buckets by the top 16 bits
// of their key, each a vector sorted by key, and the hashes and leaf counts of
// the top 16 levels of the tree are kept beside them. Set is a binary search
// in one bucket (a few leaves per bucket at 100,000 streams) and marks the
// bucket dirty; Root rehashes the leaves set since (each leaf keeps its hash),
// the dirty buckets and, level by level, only their ancestors, once each
// however many Sets touched them; Prove reads the
// kept levels and hashes only within the stream's bucket. Nothing is
// allocated per Set but a new stream's place in its bucket. (A std::map of
// every leaf and 17 flags cleared per Set took 1.5 to 1.7 times as long per
// event folded, and 5 times as long per proof: BENCHMARKS.md.)
//
// Thread-safety: none; callers serialise (ledger/stream_heads.h does).
#pragma once

#include <cstdint>
#include <functional>
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
  StreamHead Get(std::string_view stream) const { return GetKey(Key(stream)); }
  StreamHead GetKey(const merkle::Hash& key) const;
  size_t streams() const { return streams_; }
  // Every (key, head), in key order.
  void ForEach(const std::function<void(const merkle::Hash&, const StreamHead&)>& fn) const;
  // The same leaves (whatever the state of the kept hashes).
  bool operator==(const StreamMap& other) const { return buckets_ == other.buckets_; }

  merkle::Hash Root();
  HeadProof Prove(std::string_view stream);

 private:
  struct Leaf {
    merkle::Hash key;
    StreamHead head;
    merkle::Hash hash;  // LeafHash(key, head), unless stale
    bool stale = true;  // set since the last Refresh
    bool operator==(const Leaf& o) const { return key == o.key && head == o.head; }
  };
  using It = std::vector<Leaf>::const_iterator;
  static constexpr int kTop = 16;  // levels kept; 2^kTop buckets
  // The hash of the subtree at `depth` (>= kTop) of the sorted leaves [lo, hi).
  static merkle::Hash Subtree(int depth, It lo, It hi);
  // Rehashes the dirty buckets and their ancestors.
  void Refresh();

  std::vector<std::vector<Leaf>> buckets_;
  size_t streams_ = 0;
  // hash_[d][i], count_[d][i]: the node at depth d <= kTop whose path is the
  // d bits of i; its hash, and how many leaves are below it (0, 1 or more
  // decide whether it is collapsed). Valid once Refresh has run.
  std::vector<std::vector<merkle::Hash>> hash_;
  std::vector<std::vector<uint32_t>> count_;
  std::vector<uint32_t> dirty_;   // buckets set since the last Refresh
  std::vector<bool> dirty_flag_;  // the same, by bucket
};

// Stream names and their keys, so that a name is hashed once rather than once
// per event (a fold of 10 M events over 100,000 streams hashes 100,000 names).
// An open-addressing table of one cache line per name (names of up to 16
// bytes inline, longer ones beside it), since a fold looks up one name per
// event and std::unordered_map's chains and prime moduli cost more than the
// rest of setting a head. Keeps up to `limit` names, 128 to 256 bytes each
// (the table is at most half full) plus long names, then starts over empty.
// Thread-safety: none.
class StreamKeys {
 public:
  explicit StreamKeys(size_t limit = size_t{1} << 18) : limit_(limit) {}
  // The key of `stream`; the reference is valid until the next call.
  const merkle::Hash& Of(std::string_view stream);
  size_t size() const { return used_; }

 private:
  static constexpr size_t kInline = 16;
  struct alignas(64) Slot {
    uint64_t hash = 0;
    uint32_t size = 0;  // of the name; 0: an empty slot (stream names are never empty)
    uint32_t at = 0;    // in long_names_, when size > kInline
    char name[kInline];
    merkle::Hash key;
  };
  std::string_view NameOf(const Slot& s) const;
  void Grow();

  size_t limit_;
  size_t used_ = 0;
  std::vector<Slot> slots_;  // a power of two, at most half full
  std::string long_names_;
};

// Checks `proof` for `stream` against a map root. OK with *head set to the
// stream's head (version 0 when the proof shows it has no event), or
// Tampered saying what does not hold.
Status VerifyHeadProof(std::string_view stream, const HeadProof& proof, const merkle::Hash& root,
                       StreamHead* head);

}  // namespace ocop::ledger
