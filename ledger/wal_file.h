// The write-ahead log's files, written over space that was made ready for
// them ahead of the writer (issue 18, BENCHMARKS.md).
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
// Promises:
// - What RocksDB reads back is what it wrote: the records, then zeros. Its
//   log reader ends a log at zeros (a zero header is its mark for space
//   preallocated and never written) in every recovery mode, so the
//   recovery of a log cut short by a crash is unchanged, and a damaged
//   record is still refused (kAbsoluteConsistency, tests/wal_damage_test.cc).
// - Zeros are never written over a record: a chunk is zeroed only beyond the
//   file's logical end, and a write that would reach a chunk being zeroed
//   waits for it.
// - A closed WAL file is cut back to its records, as RocksDB's own files are.
// - A failure to prepare space is not an error: the records are then
//   appended to a growing file as before (the write reports its own error).
#pragma once

#include <rocksdb/env.h>

namespace ocop::ledger {

// RocksDB's default Env, but its WAL files ("<number>.log") are prepared as
// above. One for the process, never destroyed (a DB must not outlive its Env).
rocksdb::Env* PreparedWalEnv();

}  // namespace ocop::ledger
