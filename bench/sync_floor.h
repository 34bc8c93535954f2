// The physical floor of a durable append on this disk: one fdatasync after a
// small write into a file that is preallocated and already written, so that
// the sync carries data only (no block allocation, no size change, nothing
// for the file system to record but the data). No log that appends to a
// growing file can beat it per sync; issue 18 asks the single-writer append's
// p50 to be within 1.3x of it, measured in the same run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ocop::bench {

struct SyncFloor {
  std::vector<float> us;  // one sample per pwrite + fdatasync
};

// Writes `bytes`-sized records one after another into DIR/sync-floor (16 MiB,
// zero-filled and synced first, then overwritten from the start, wrapping),
// each followed by fdatasync, for `seconds`; removes the file. Fails the
// bench on an I/O error.
SyncFloor MeasureSyncFloor(const std::string& dir, double seconds, size_t bytes);

// The same records appended to a new file that grows with each one, its space
// reserved ahead with fallocate(FALLOC_FL_KEEP_SIZE), as RocksDB 7.8 writes
// its WAL: each fdatasync must then also record the new size and the written
// extent. Not the floor the goal names; printed to show what a growing log
// costs per sync on this disk.
SyncFloor MeasureGrowingSync(const std::string& dir, double seconds, size_t bytes);

}  // namespace ocop::bench
