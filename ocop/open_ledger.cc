#include "ocop/open_ledger.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "ledger/log_origin.h"
#include "query/queries.h"
#include "replay/schema_event.h"
#include "workflow/date.h"

namespace ocop::cli {

int64_t WallClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status OpenLedger(const GlobalOptions& g, bool create, std::unique_ptr<ledger::Ledger>* out) {
  ledger::Options options;
  options.create_if_missing = create;
  options.clock = WallClockMicros;
  options.reserve_bytes = g.reserve_mb << 20;
  options.refuse_lost_heads = !g.verifying;
  Status s = ledger::Ledger::Open(g.data_dir, options, out);
  if (s.ok() && (*out)->torn_tail().found) {
    const ledger::TornTail& t = (*out)->torn_tail();
    spdlog::warn(
        "the write-ahead log ended in a record torn during its own write (never acknowledged): "
        "{} bytes cut from {} after its last whole record at byte {}, saved to {}",
        t.removed, t.wal, t.kept, t.saved_as);
  }
  if (s.ok() && create) {
    // Writers record the log's origin when they create it (and check one
    // asked for against the one recorded).
    s = ledger::RecordOrigin(g.data_dir, g.origin, (*out)->signer().public_key(),
                             (*out)->Size() == 0);
    if (!s.ok()) out->reset();
  }
  if (s.IsBusy() && !create) {
    out->reset();
    s = ledger::Ledger::OpenSecondary(g.data_dir, options, out);
    if (s.ok()) return s;
    return Status::IOError(
        "the data directory " + g.data_dir +
        " is in use by another process, and reading beside it failed: " + s.message());
  }
  if (s.IsBusy()) {
    // Usually a running `ocop serve`: RocksDB admits one process, so point
    // officials to the questions the server answers meanwhile.
    return Status::Busy(s.message() +
                        ". If `ocop serve` is running on it, ask the server instead: "
                        "GET /v1/products/ID, /v1/reports, /v1/deadlines, /v1/tree-head");
  }
  return s;
}

Status OpenReadProjections(ledger::Ledger* l, std::unique_ptr<projections::Projections>* out) {
  if (!l->secondary()) return projections::Projections::Open(l, out);
  const std::string dir = (std::filesystem::path(l->dir()) / "projections-reader").string();
  // Held until the process exits (a CLI read is one process): two readers
  // never fold into the copy at once. Opened once per process.
  static int lock_fd = -1;
  if (lock_fd < 0) {
    int fd = ::open((dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
      if (fd >= 0) ::close(fd);
      return Status::IOError("cannot lock " + dir + ".lock: " + std::strerror(errno));
    }
    lock_fd = fd;
  }
  return projections::Projections::OpenAt(l, dir, out);
}

Status RecordSchemaToday(ledger::Ledger* l) {
  return replay::RecordSchema(l, workflow::FormatDate(query::TodayInVietnam()));
}

Status OpenWriter(const GlobalOptions& g, std::unique_ptr<ledger::Ledger>* out) {
  Status s = OpenLedger(g, /*create=*/true, out);
  // A read-only replica (REPLICA_OF) holds its primary's events only.
  if (s.ok() && !std::filesystem::exists(std::filesystem::path(g.data_dir) / "REPLICA_OF"))
    s = RecordSchemaToday(out->get());
  if (!s.ok()) out->reset();
  return s;
}

Status RequireSoleOwner(const GlobalOptions& g, const ledger::Ledger& l, const std::string& why,
                        const std::string& then) {
  if (!l.secondary()) return Status::OK();
  return Status::Busy("the data directory " + g.data_dir +
                      " is held by another process (`ocop serve`?)" + (why.empty() ? "" : ", ") +
                      why + "; stop it first, then " + then);
}

Status LedgerOrigin(const GlobalOptions& g, const ledger::Ledger& l, std::string* origin) {
  Status s = ledger::LoadOrigin(l.dir(), l.signer().public_key(), origin);
  if (s.ok() && !g.origin.empty() && g.origin != *origin) {
    return Status::Refused("the log in " + l.dir() + " has the origin '" + *origin +
                           "', recorded when it was created; it cannot be '" + g.origin + "'");
  }
  return s;
}

int ExitCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return 0;
    case Status::Code::kConflict:
    case Status::Code::kRefused:
    case Status::Code::kForbidden:
    case Status::Code::kTampered:
      return 1;
    case Status::Code::kNotFound:  // asked for what is not there: bad usage
    case Status::Code::kInvalidArgument:
      return 2;
    case Status::Code::kBusy:
    case Status::Code::kCorruption:
    case Status::Code::kIOError:
    case Status::Code::kNoSpace:
      return 3;
  }
  return 3;
}

int Fail(const std::string& command, const Status& s) {
  std::cerr << "ocop " << command << ": " << s.message() << "\n";
  return ExitCode(s);
}

Status OpenForRead(const GlobalOptions& g, ReadContext* ctx, bool catch_up) {
  Status s = OpenLedger(g, /*create=*/false, &ctx->ledger);
  if (!s.ok()) return s;
  // A secondary reader's own copy when the server holds the directory.
  s = OpenReadProjections(ctx->ledger.get(), &ctx->projections);
  if (!s.ok() || !catch_up) return s;
  s = ctx->projections->CatchUp();
  if (!s.ok()) return s;
  ctx->view = ctx->projections->View();
  return ctx->view->status();
}

}  // namespace ocop::cli
