// A write-ahead log whose last record was torn during its own write, told
// apart from a damaged one, and cut back to its last whole record.
//
// The ledger opens RocksDB with kAbsoluteConsistency, which refuses any WAL
// that does not read whole (ledger/open.cc): a flipped byte must stop the
// ledger, never shorten it. But a record can also be torn while it is being
// written: Linux copies a write(2) into the page cache a page at a time and
// stops between pages once the writer is killed (SIGKILL), and a power cut
// can leave a record's first pages on disk without the rest. Such a record
// was never acknowledged: an append is acknowledged only after fdatasync,
// which follows the whole write. Refusing to open over it stopped the ledger
// after an ordinary kill (tests/crash_test.cc met it in 1 run of 26 on a
// loaded machine; BENCHMARKS.md, issue 18).
//
// A tail is taken as torn only when all of this holds, in the newest WAL
// file, which is the only one a writer was writing:
// - every physical record before it is whole (type 1-4, CRC matches) and the
//   fragments of logical records pair up;
// - from a sector boundary (512 bytes) strictly inside the first record that is not
//   whole to the end of the file, every byte is zero (the page cache never
//   got them; zeros prepared ahead of the writer, ledger/wal_file.h) or
//   absent (the file ends there), and at least 8 of that record's own bytes
//   are missing, so that a record that was written whole and then damaged
//   (its bytes all there, a byte flipped) is never mistaken for a torn one;
//   or the file ends (in zeros or not) after whole first fragments of a
//   logical record whose last fragment never came.
// A flipped bit in the length field of the very last record could pass for
// a tear; what that record held is then cut like a torn one, and the
// signed-heads check refuses the open if a head covered it.
// Anything else (damage inside, records after the damage, another file) is
// left alone and the ledger refuses to open, as before.
//
// Cutting a torn tail: the bytes from the end of the last whole logical
// record to the last non-zero byte are first saved, durably, to
// DIR/torn-wal-tails/<wal name>.<offset> (for whoever looks into it later),
// then the WAL file is truncated to that end and synced. What the cut took
// was never acknowledged; the signed-heads check at open still refuses a log
// shorter than any head signed.
#pragma once

#include <cstdint>
#include <string>

#include "ledger/status.h"

namespace ocop::ledger {

struct TornTail {
  bool found = false;
  std::string wal;       // the WAL file cut
  uint64_t kept = 0;     // bytes kept: the end of its last whole record
  uint64_t removed = 0;  // bytes of torn records removed (zeros after them not counted)
  std::string saved_as;  // where the removed bytes were saved
};

// Looks at the newest WAL file of the RocksDB directory `dir`; if its tail is
// torn as above, saves and cuts it and sets out->found. Changes nothing and
// leaves out->found false otherwise. An error only for I/O failures.
Status CutTornWalTail(const std::string& dir, TornTail* out);

// The same judgement on the bytes of one WAL file, without touching any file:
// true if `wal` ends in a torn record, with *keep the end of its last whole
// logical record and *last_nonzero one past its last non-zero byte.
bool EndsInTornRecord(const std::string& wal, uint64_t* keep, uint64_t* last_nonzero);

}  // namespace ocop::ledger
