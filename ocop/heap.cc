#include "ocop/heap.h"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#ifdef OCOP_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace ocop {
namespace {

// jemalloc's decay off in every arena there is and in those made later: a
// positive decay, even of minutes, had a whole block freed at once returned
// to the system at once (measured with jemalloc 5.3).
bool KeepFreedMemory() {
#ifdef OCOP_HAVE_JEMALLOC
  ssize_t never = -1;
  for (const char* name : {"arenas.dirty_decay_ms", "arenas.muzzy_decay_ms"}) {
    if (mallctl(name, nullptr, nullptr, &never, sizeof never) != 0) return false;
  }
  unsigned arenas = 0;
  size_t size = sizeof arenas;
  if (mallctl("arenas.narenas", &arenas, &size, nullptr, 0) != 0) return false;
  for (unsigned i = 0; i < arenas; ++i) {
    for (const char* kind : {"dirty_decay_ms", "muzzy_decay_ms"}) {
      const std::string name = "arena." + std::to_string(i) + "." + kind;
      // An arena not made yet (none is, past the first, with narenas:1)
      // takes the default set above when it is.
      mallctl(name.c_str(), nullptr, nullptr, &never, sizeof never);
    }
  }
  return true;
#else
  return false;
#endif
}

}  // namespace

bool PrefaultHeap(size_t bytes) {
  if (bytes == 0 || !KeepFreedMemory()) return false;
  // In blocks the size of a ledger memtable's arena blocks (a 32 MiB write
  // buffer allocates 4 MiB at a time), all held at once so that they are
  // distinct memory, then freed together.
  constexpr size_t kBlock = size_t{4} << 20;
  const long page = ::sysconf(_SC_PAGESIZE);
  const size_t step = page > 0 ? static_cast<size_t>(page) : 4096;
  std::vector<void*> blocks;
  for (size_t done = 0; done < bytes; done += kBlock) {
    void* block = std::malloc(kBlock);
    if (block == nullptr) break;  // less memory than asked: touch what there is
    // Volatile, so that the writes (and with them the faults) are not
    // optimised away with a block nobody reads.
    volatile char* p = static_cast<volatile char*>(block);
    for (size_t at = 0; at < kBlock; at += step) p[at] = 0;
    blocks.push_back(block);
  }
  for (void* block : blocks) std::free(block);
  return true;
}

}  // namespace ocop
