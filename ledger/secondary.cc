// Ledger::OpenSecondary: reading a data directory that another process
// (usually `ocop serve`) holds, through a RocksDB secondary instance.
//
// Why a secondary rather than a read-only open: RocksDB's read-only open
// refuses a directory whose LOCK another process holds only on some builds,
// and it replays the primary's WAL into a private memtable once without ever
// seeing later writes; a secondary is made for exactly this (it tails the
// primary's MANIFEST and WAL, takes no lock, writes nothing in the primary's
// directory) and can catch up again.
#include <rocksdb/db.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>

#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"
#include "ledger/wal_file.h"

namespace ocop::ledger {
namespace fs = std::filesystem;

namespace {

// The families of open.cc's Open, in its order (handles_[1] is events, and
// so on), so that every method reads the same handles.
const char* const kFamilies[] = {"default", kEventsCf, kStreamsCf, kHeadsCf, kIdemCf, kTreeCf};

Status SecondaryError(const std::string& dir, const rocksdb::Status& s, const std::string& what) {
  return Status::IOError("cannot read " + dir + " beside the process that holds it (" + what +
                         "): " + s.ToString());
}

}  // namespace

Status Ledger::OpenSecondary(const std::string& dir, const Options& options,
                             std::unique_ptr<Ledger>* out) {
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
    return Status::NotFound("no ledger at " + dir + " (nothing has been written there yet)");
  }
  std::unique_ptr<Ledger> l(new Ledger());
  l->dir_ = dir;
  l->options_ = options;
  if (!l->options_.clock) {
    return Status::InvalidArgument(
        "Options::clock is required: the ledger never reads the wall clock");
  }
  Status s = Signer::Open((fs::path(dir) / kKeyFile).string(), false, &l->signer_);
  if (!s.ok()) return s;
  // Before catching up: every head recorded so far covers events already
  // durable in the primary, which the catch-up below then sees.
  s = SignedHeads::Open(dir, &l->heads_);
  if (!s.ok()) return s;
  s = SubjectKeys::Open(dir, SystemRandom(), &l->subject_keys_);
  if (!s.ok()) return s;

  std::string scratch = (fs::temp_directory_path(ec) / "ocop-secondary-XXXXXX").string();
  if (::mkdtemp(scratch.data()) == nullptr) {
    return Status::IOError("cannot make a scratch directory for reading " + dir + ": " +
                           std::strerror(errno));
  }
  l->secondary_scratch_ = std::shared_ptr<void>(new std::string(scratch), [](void* p) {
    auto* path = static_cast<std::string*>(p);
    std::error_code ignored;
    fs::remove_all(*path, ignored);
    delete path;
  });

  rocksdb::Options db_options;
  db_options.max_open_files = -1;  // keeps every table open: the primary may delete it
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 1;
  // The primary's live WAL ends in zeros prepared for it (ledger/wal_file.h):
  // read it up to its last whole record, as a growing file.
  db_options.env = TailingWalEnv();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kFamilies) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::Status os =
      rocksdb::DB::OpenAsSecondary(db_options, dir, scratch, descriptors, &l->handles_, &l->db_);
  if (!os.ok()) return SecondaryError(dir, os, "opening a secondary instance");
  l->events_cf_ = l->handles_[1];
  l->streams_cf_ = l->handles_[2];
  l->heads_cf_ = l->handles_[3];
  l->idem_cf_ = l->handles_[4];
  l->tree_cf_ = l->handles_[5];

  s = l->CheckFormat();
  if (!s.ok()) return s;
  s = l->CatchUpWithPrimary();
  if (!s.ok()) return s;
  if (options.refuse_lost_heads) {
    s = l->CheckSignedHeads(l->Size());
    if (!s.ok()) return s;
  }
  *out = std::move(l);
  return Status::OK();
}

Status Ledger::CatchUpWithPrimary() {
  if (!secondary()) return Status::OK();
  rocksdb::Status cs = db_->TryCatchUpWithPrimary();
  if (!cs.ok()) return SecondaryError(dir_, cs, "catching up with the primary");
  return LoadSize();
}

}  // namespace ocop::ledger
