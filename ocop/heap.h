// The heap of a long-running ledger process, made ready before it serves.
#pragma once

#include <cstddef>

namespace ocop {

// From now on has the allocator keep the memory freed to it, mapped, for the
// next allocation (jemalloc's decay off, in every arena), and touches `bytes`
// of heap now, one write a page, and frees it. With the project's jemalloc
// settings (ocop/allocator_conf.cc: one arena), the memory the memtables take
// as they fill is then already mapped, at start and after each flush, and no
// request pays for a page fault (12.9 us each on the project's VMs). The cost:
// about bytes / 4 KiB faults now, and a resident size that does not shrink
// after a peak (memory kept is reused, not returned). The JVM's
// -XX:+AlwaysPreTouch is the same idea.
//
// False, changing and touching nothing, for 0 bytes (the allocator then
// returns freed memory as it always does), and where the allocator is not
// jemalloc (the fuzzers' build) or would not keep the memory.
bool PrefaultHeap(size_t bytes);

}  // namespace ocop
