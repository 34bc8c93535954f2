#include "ocop/open_ledger.h"

#include <chrono>

#include "ledger/log_origin.h"

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
  if (s.ok() && create) {
    // Writers record the log's origin when they create it (and check one
    // asked for against the one recorded).
    s = ledger::RecordOrigin(g.data_dir, g.origin, (*out)->signer().public_key(),
                             (*out)->Size() == 0);
    if (!s.ok()) out->reset();
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
  s = projections::Projections::Open(ctx->ledger.get(), &ctx->projections);
  if (!s.ok() || !catch_up) return s;
  s = ctx->projections->CatchUp();
  if (!s.ok()) return s;
  ctx->view = ctx->projections->View();
  return ctx->view->status();
}

}  // namespace ocop::cli
