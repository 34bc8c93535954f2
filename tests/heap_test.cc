// The heap of the project's programs (ocop/allocator_conf.cc, ocop/heap.h):
// jemalloc runs with the project's settings, and memory touched once by
// PrefaultHeap serves later allocations of any thread and any size without
// a page fault.
#include <jemalloc/jemalloc.h>
#include <sys/resource.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <thread>
#include <vector>

#include "ocop/heap.h"

namespace {

template <typename T>
T Opt(const char* name) {
  T value{};
  size_t size = sizeof value;
  REQUIRE(mallctl(name, &value, &size, nullptr, 0) == 0);
  return value;
}

long ThreadFaults() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_minflt;
}

}  // namespace

TEST_CASE("jemalloc runs with the project's settings") {
  // Unless $MALLOC_CONF says otherwise, as it may for an experiment.
  if (std::getenv("MALLOC_CONF") != nullptr) return;
  CHECK(Opt<unsigned>("opt.narenas") == 1);
  CHECK(Opt<size_t>("opt.oversize_threshold") == 0);
  CHECK(Opt<size_t>("opt.lg_extent_max_active_fit") == 20);
  // `ocop serve --prefault-mb 0`: nothing touched, and freed memory is
  // returned as jemalloc always does.
  CHECK_FALSE(ocop::PrefaultHeap(0));
  CHECK(Opt<ssize_t>("arena.0.dirty_decay_ms") == Opt<ssize_t>("opt.dirty_decay_ms"));
  CHECK(Opt<ssize_t>("opt.dirty_decay_ms") >= 0);
}

TEST_CASE("memory PrefaultHeap touched serves another thread's allocations without page faults") {
  if (std::getenv("MALLOC_CONF") != nullptr) return;
  REQUIRE(ocop::PrefaultHeap(size_t{96} << 20));
  // Freed memory is kept from now on, in the arena there is and in any made later.
  CHECK(Opt<ssize_t>("arena.0.dirty_decay_ms") == -1);
  CHECK(Opt<ssize_t>("arenas.dirty_decay_ms") == -1);
  // Another thread, as the committer and the follower are: large blocks (a
  // ledger memtable's 4 MiB and a projections memtable's 8 MiB arena blocks)
  // and many small objects (states, strings), each page written.
  long faults = -1;
  size_t pages = 0;
  std::thread other([&] {
    const long before = ThreadFaults();
    std::vector<char*> large, small;
    for (size_t mib : {4, 4, 4, 4, 8, 8})
      large.push_back(static_cast<char*>(std::malloc(mib << 20)));
    for (int i = 0; i < 100000; ++i) small.push_back(static_cast<char*>(std::malloc(200)));
    for (size_t i = 0; i < large.size(); ++i) {
      const size_t bytes = (i < 4 ? size_t{4} : size_t{8}) << 20;
      for (size_t at = 0; at < bytes; at += 4096, ++pages) large[i][at] = 1;
    }
    for (char* b : small) b[0] = 1;
    pages += 100000 * 200 / 4096;
    faults = ThreadFaults() - before;
    for (char* b : large) std::free(b);
    for (char* b : small) std::free(b);
  });
  other.join();
  INFO("pages written: " << pages << ", page faults taken: " << faults);
  REQUIRE(pages > 12000);
  // Without the settings, every page written is a fault: per-thread arenas
  // map their own memory, 8 MiB blocks are returned to the system on free,
  // small slabs are not cut from large free extents, and a freed block is
  // returned at once.
  CHECK(faults < static_cast<long>(pages / 20));
}
