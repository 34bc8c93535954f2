// How every subcommand opens the data directory: the wall clock enters the
// program here, at its edge, and nowhere deeper.
#pragma once

#include <memory>

#include "ledger/ledger.h"
#include "ocop/ledger_commands.h"
#include "projections/projections.h"

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

// The origin of the open ledger's log (ledger/log_origin.h); refused if
// `--origin` names another, since it cannot change.
Status LedgerOrigin(const GlobalOptions& g, const ledger::Ledger& l, std::string* origin);

}  // namespace ocop::cli
