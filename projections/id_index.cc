#include "projections/id_index.h"

#include <functional>

namespace ocop::projections {

IdIndex::IdIndex() : cells_(1024, 0) {}

uint64_t IdIndex::Hash(std::string_view id) { return std::hash<std::string_view>()(id); }

std::optional<uint32_t> IdIndex::Find(std::string_view id) const {
  const uint64_t h = Hash(id), tag = h >> 32, mask = cells_.size() - 1;
  for (uint64_t i = h & mask;; i = (i + 1) & mask) {
    const uint64_t cell = cells_[i];
    if (cell == 0) return std::nullopt;
    if (cell >> 32 == tag) {
      const uint32_t slot = static_cast<uint32_t>(cell) - 1;
      if (ids_[slot] == id) return slot;
    }
  }
}

uint32_t IdIndex::Add(std::string_view id) {
  // At most half full: probes stay short.
  if (2 * (ids_.size() + 1) > cells_.size()) Grow();
  const uint32_t slot = static_cast<uint32_t>(ids_.size());
  ids_.emplace_back(id);
  const uint64_t h = Hash(id), mask = cells_.size() - 1;
  uint64_t i = h & mask;
  while (cells_[i] != 0) i = (i + 1) & mask;
  cells_[i] = (h >> 32) << 32 | (uint64_t{slot} + 1);
  return slot;
}

void IdIndex::Grow() {
  std::vector<uint64_t> old(cells_.size() * 2, 0);
  old.swap(cells_);
  const uint64_t mask = cells_.size() - 1;
  for (uint64_t cell : old) {
    if (cell == 0) continue;
    const uint64_t h = Hash(ids_[static_cast<uint32_t>(cell) - 1]);
    uint64_t i = h & mask;
    while (cells_[i] != 0) i = (i + 1) & mask;
    cells_[i] = cell;
  }
}

}  // namespace ocop::projections
