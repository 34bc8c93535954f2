// IdIndex: ids to dense slot numbers, for folding millions of events over a
// few hundred thousand states.
//
// A node-based hash map costs a fold two or three cache misses per lookup
// (the bucket, the node before it, the node), each far from the last on a
// national ledger's states. Here a lookup reads one 8-byte cell of an
// open-addressed table small enough to stay in cache, then the id itself.
//
// Invariants: slots are numbered 0, 1, ... in the order ids were added and
// never change; an id is added at most once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocop::projections {

class IdIndex {
 public:
  IdIndex();

  // The slot of `id`, if it was added.
  std::optional<uint32_t> Find(std::string_view id) const;
  // Adds `id`, which must not be present, and returns its slot: size() - 1.
  uint32_t Add(std::string_view id);

  size_t size() const { return ids_.size(); }
  const std::string& id(uint32_t slot) const { return ids_[slot]; }

 private:
  static uint64_t Hash(std::string_view id);
  void Grow();

  std::vector<std::string> ids_;
  // Each cell: 0 when empty, else the hash's top 32 bits, then slot + 1.
  std::vector<uint64_t> cells_;
};

}  // namespace ocop::projections
