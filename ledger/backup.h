// Backups of a ledger with RocksDB's BackupEngine: incremental, consistent,
// checked whole before anything is restored.
//
// A backup directory holds
//   engine/          BackupEngine's store: each table file once, shared by
//                    every backup that holds it (so a backup copies only what
//                    the previous ones lack), with its size and CRC32C
//   files/ID/        the files beside the database that backup ID needs:
//                    signing-key.pem, origin, signed-heads, those the caller
//                    names, and head.json (the head signed at the backup)
//   backup.lock      held while a process writes or reads the directory
//
// Promises:
//  * Consistent: the backup is the database at one point (RocksDB copies
//    whole table files and the live WAL under disabled file deletions), so
//    each group's events arrive with their subtrees, or not at all.
//  * The signed head in files/ID/head.json, and every head in its
//    signed-heads, were signed before the copy began, so the backup holds at
//    least the events each covers.
//  * Crash-safe: files/ID is written under a temporary name and renamed once
//    the engine's backup is complete; an engine backup without its files
//    (the process was killed between the two) is not a backup and is deleted
//    by the next one. A killed backup never changes the data directory and
//    never touches a finished backup.
//  * Restore refuses (Tampered) a backup whose files fail their checksums,
//    whose head's signature does not verify with its key, or whose events do
//    not hash to that head, naming what is wrong; it writes only into a
//    directory that did not exist.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/ledger.h"

namespace ocop::ledger {

struct BackupOptions {
  // Files of the data directory copied beside the ones the ledger needs
  // (e.g. the server's tokens), if they exist.
  std::vector<std::string> extra_files;
  // Backups kept after this one (0: all).
  uint32_t keep = 0;
  // Bytes per second the copy may take (0: no limit), so that a backup
  // while serving leaves the disk to appends.
  uint64_t rate_limit = 0;
};

struct BackupResult {
  uint32_t id = 0;
  SignedTreeHead head;       // signed just before the copy
  uint64_t bytes_total = 0;  // of this backup's files
  uint64_t bytes_new = 0;    // copied by this backup (the rest were shared)
  uint32_t kept = 0;         // backups in the directory afterwards
};

struct RestoreResult {
  uint32_t id = 0;
  uint64_t events = 0;  // in the restored log
  SignedTreeHead head;  // the backup's signed head, checked
  VerifyResult verify;
};

// Backs up `ledger` into `backup_dir` (created if missing).
Status BackupLedger(Ledger* ledger, const std::string& backup_dir, const BackupOptions& options,
                    BackupResult* out);

// Restores backup `id` (0: the latest) of `backup_dir` into `data_dir`, which
// must not exist, and checks it: the engine's checksums of every file, the
// head's signature, then the restored ledger opened (its signed heads
// checked) and verified (every event re-hashed, every subtree, the head's
// root). On any failure `data_dir` is removed again. `options` opens it.
Status RestoreLedger(const std::string& backup_dir, uint32_t id, const std::string& data_dir,
                     const Options& options, RestoreResult* out);

// The ids of the complete backups in `backup_dir`, oldest first.
Status ListBackups(const std::string& backup_dir, std::vector<uint32_t>* ids);

}  // namespace ocop::ledger
