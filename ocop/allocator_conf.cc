// jemalloc's settings for every program that links it (ocop_link_allocator in
// the top CMakeLists.txt adds this file to each). jemalloc reads the global
// `malloc_conf` once, before main; $MALLOC_CONF still overrides it.
//
// They let `ocop serve` keep its memory mapped (ocop/heap.h): on the 2-core
// VMs this project is measured on, a first touch of a 4 KiB page costs
// 12.9 us of CPU (a fault taken through the hypervisor), and `ocop serve`
// under bench/http_load.sh --post-only took about 47,000 of them in 10 s as
// its memtables filled (BENCHMARKS.md, issue 18, eighth session):
//  - narenas:1: one arena for all threads, so that the committer and the
//    follower allocate from the memory the main thread touched at start;
//    per-thread arenas would each map their own. Small allocations still
//    come from each thread's cache.
//  - oversize_threshold:0: no separate arena for allocations of 8 MiB and
//    more (a projections memtable's blocks), which would return them to the
//    system at once on free, to be faulted in again by the next memtable.
//  - lg_extent_max_active_fit:20: a small allocation's slab may be cut from
//    a large free extent (by default only from one at most 64 times its
//    size), so that memory touched in large blocks serves every size.
extern "C" {
// The name jemalloc looks for.
const char* malloc_conf = "narenas:1,oversize_threshold:0,lg_extent_max_active_fit:20";
}
