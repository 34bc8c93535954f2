// The RFC 6962 Merkle hash tree, as pure functions over hashes.
//
// Leaf i of a tree of size n has hash SHA-256(0x00 || bytes); an interior node
// is SHA-256(0x01 || left || right); MTH of n > 1 leaves splits at the largest
// power of two smaller than n. A "complete subtree" (level l, index i) covers
// leaves [i * 2^l, (i + 1) * 2^l); every proof and every root is assembled from
// such subtrees, so a store only needs to keep those (see NodeReader).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace ocop::ledger::merkle {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::string_view data);
Hash LeafHash(std::string_view leaf_bytes);
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of no bytes.
Hash EmptyRoot();

std::string ToHex(const Hash& h);
// Accepts exactly 64 hexadecimal digits, either case.
bool FromHex(std::string_view hex, Hash* out);

// Where proofs read complete subtrees from. Implementations return NotFound
// for a subtree that is not complete in the store.
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  virtual Status Node(int level, uint64_t index, Hash* out) = 0;
};

// MTH(D[begin:end]) for a range that is a subtree of the RFC's recursion
// (begin a multiple of a power of two not smaller than end - begin), which
// every range used by roots and proofs is. Requires begin < end.
Status RangeHash(NodeReader& nodes, uint64_t begin, uint64_t end, Hash* out);
Status RootAt(NodeReader& nodes, uint64_t size, Hash* out);

// RFC 6962 section 2.1.1: the audit path of leaf `index` in the tree of
// `size` leaves, nearest sibling first.
Status InclusionPath(NodeReader& nodes, uint64_t index, uint64_t size, std::vector<Hash>* path);
// RFC 6962 section 2.1.2: the consistency proof from tree size m to size n,
// 0 < m <= n. Empty when m == n.
Status ConsistencyPath(NodeReader& nodes, uint64_t m, uint64_t n, std::vector<Hash>* path);

// RFC 9162 section 2.1.3.2. True when `path` proves that `leaf_hash` is leaf
// `index` of the tree of `size` leaves whose root is `root`.
bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<Hash>& path, const Hash& root);
// RFC 9162 section 2.1.4.2. True when `path` proves that the tree of size m
// with root `root_m` is a prefix of the tree of size n with root `root_n`.
bool VerifyConsistency(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                       const std::vector<Hash>& path);

// The right edge of a growing tree: one complete-subtree hash per set bit of
// its size, largest first. Appending a leaf costs O(1) amortised hashes and
// reports each subtree it completes, so a store can keep them without ever
// recomputing the tree.
class Frontier {
 public:
  using NodeSink = std::function<void(int level, uint64_t index, const Hash& hash)>;

  Frontier() = default;
  // Rebuilds the frontier of a tree of `size` leaves from its stored subtrees.
  static Status Load(NodeReader& nodes, uint64_t size, Frontier* out);

  // Appends a leaf hash. `sink`, if set, is called for the leaf itself
  // (level 0) and for every subtree the leaf completes, lowest level first.
  void Append(const Hash& leaf_hash, const NodeSink& sink);
  uint64_t size() const { return size_; }
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> nodes_;  // complete subtrees, leftmost (largest) first
};

}  // namespace ocop::ledger::merkle
