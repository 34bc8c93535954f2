// The write-ahead log's files, written over space that was made ready for
// them ahead of the writer (issue 18, BENCHMARKS.md), and read beside the
// writer up to their last whole record.
//
// A WAL file that grows costs every sync two writes instead of one: the
// records, and the inode whose size (and extents) changed, which fdatasync
// must also make durable before an append can be acknowledged. RocksDB's
// own remedy, recycling WAL files, is refused by RocksDB 7.8 in every
// recovery mode that refuses a damaged log. So the files are prepared here
// instead, as PostgreSQL prepares its WAL segments: a thread of each file
// writes zeros a chunk ahead of the records and syncs them, and the records
// are then written over those zeros, so that a sync of records changes no
// metadata and writes only the records' pages (already in the page cache).
//
// Promises of PreparedWalEnv:
// - What RocksDB reads back is what it wrote: the records, then zeros. Its
//   log reader passes over zeros where a record header should be (its mark
//   for space preallocated and never written) without a report, in every
//   recovery mode, so a log cut short by a crash reads as before, and a
//   damaged record is still refused (kAbsoluteConsistency,
//   tests/wal_damage_test.cc). Zeros followed by records again cannot come
//   from a SIGKILL (the page cache holds every write in order); a power cut
//   can leave them, as it can in RocksDB's own fallocated files (BENCHMARKS.md).
// - Zeros are never written over a record: a chunk is zeroed only beyond the
//   file's logical end, and a write that would reach a chunk being zeroed
//   waits for it.
// - The disk's reserve is left alone: no chunk is prepared while the file
//   system would be left with less than `reserve_bytes` and two chunks free
//   (Options::reserve_bytes; the ledger refuses appends below the reserve),
//   so a nearly full disk sees the WAL grow as RocksDB's own would.
// - The size RocksDB asks for (GetFileSize) of a WAL file open for writing
//   is that of its records, so that a backup or checkpoint copies the live
//   WAL up to its records, not its zeros. A closed WAL file is cut back to
//   its records, as RocksDB's own files are.
// - A failure to prepare space is not an error: the records are then
//   appended to a growing file as before (the write reports its own error).
//
// A reader beside the writer (a RocksDB secondary instance) must not take
// the zeros for the log's end, nor a record it sees half-copied into the page
// cache for a damaged one: RocksDB's tailing reader skips the first for good
// and reports the second. TailingWalEnv shows such a reader each WAL file up
// to the end of its last whole record (header, length and CRC32C as RocksDB's
// log format has them), which is how a growing file looks to it.
#pragma once

#include <rocksdb/env.h>

#include <cstdint>

namespace ocop::ledger {

// RocksDB's default Env, but its WAL files ("<number>.log") are prepared as
// above, keeping `reserve_bytes` free. One for each reserve in the process,
// never destroyed (a DB must not outlive its Env).
rocksdb::Env* PreparedWalEnv(uint64_t reserve_bytes);

// RocksDB's default Env, but WAL files are read up to their last whole
// record. For secondary instances only: the primary's own recovery must see
// (and refuse) a damaged record. One for the process, never destroyed.
rocksdb::Env* TailingWalEnv();

}  // namespace ocop::ledger
