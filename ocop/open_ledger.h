// How every subcommand opens the data directory: the wall clock enters the
// program here, at its edge, and nowhere deeper.
#pragma once

#include <iostream>
#include <memory>
#include <string>

#include "ledger/ledger.h"
#include "ocop/ledger_commands.h"
#include "projections/projections.h"
#include "query/queries.h"

namespace ocop::cli {

int64_t WallClockMicros();
// `create`: make the directory and its signing key if missing (writers only).
// A reader (`create` false) of a directory another process holds (usually
// `ocop serve`) gets a secondary instance instead (Ledger::OpenSecondary),
// caught up with it at open: every read answers as it would without the
// server, at the size the server had reached.
Status OpenLedger(const GlobalOptions& g, bool create, std::unique_ptr<ledger::Ledger>* out);
// The projections of `l` for a reader: the directory's own, or, when `l` is a
// secondary (the server holds those), the readers' copy in
// DIR/projections-reader, folded by the same code from the same log (so the
// same answers) and caught up incrementally by each read. Readers take turns
// on it (a lock held until the process ends).
Status OpenReadProjections(ledger::Ledger* l, std::unique_ptr<projections::Projections>* out);
// A writer's open: OpenLedger(create) and then the schema recorded in the log
// (replay/schema_event.h) if this program's differs from the last recorded.
// `ocop follow` does not use it: a replica holds its primary's events only.
Status OpenWriter(const GlobalOptions& g, std::unique_ptr<ledger::Ledger>* out);
// Records this program's schema in the log, dated today in Vietnam.
Status RecordSchemaToday(ledger::Ledger* l);

// Busy when `l` is a secondary, i.e. another process (usually `ocop serve`)
// holds the directory and a command that needs it to itself must wait: the
// message names the directory and says why (`why`, e.g. "which signs with the
// key it loaded") and what to do ("stop it first, then compact").
Status RequireSoleOwner(const GlobalOptions& g, const ledger::Ledger& l, const std::string& why,
                        const std::string& then);

// The origin of the open ledger's log (ledger/log_origin.h); refused if
// `--origin` names another, since it cannot change.
Status LedgerOrigin(const GlobalOptions& g, const ledger::Ledger& l, std::string* origin);

// The process exit code of INTERFACE.md for `s`: 0 success; 1 understood and
// refused (conflict, refusal, tampering); 2 bad usage or unreadable input
// (asking for what is not there included); 3 storage or internal failure.
int ExitCode(const Status& s);

// Says on stderr why `command` failed; returns its exit code.
int Fail(const std::string& command, const Status& s);

// What a reading subcommand opens: the ledger, its projections caught up,
// and one view of them that every read of the subcommand goes through.
struct ReadContext {
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<projections::Projections> projections;
  std::unique_ptr<projections::ReadView> view;
  query::Reader Reader() const {
    return query::Reader{ledger.get(), view.get(), query::TodayInVietnam()};
  }
};
// `catch_up` false: opens only (rebuild), with no view.
Status OpenForRead(const GlobalOptions& g, ReadContext* ctx, bool catch_up = true);

// Opens, catches up, runs a query and prints its JSON.
template <typename Query>
int RunJsonQuery(const GlobalOptions& g, const char* name, const Query& q,
                 Status (*query)(const query::Reader&, const Query&, query::Json*)) {
  ReadContext ctx;
  Status s = OpenForRead(g, &ctx);
  if (!s.ok()) return Fail(name, s);
  query::Json out;
  s = query(ctx.Reader(), q, &out);
  if (!s.ok()) return Fail(name, s);
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ocop::cli
