// How every subcommand opens the data directory: the wall clock enters the
// program here, at its edge, and nowhere deeper.
#pragma once

#include <memory>

#include "ledger/ledger.h"
#include "ocop/ledger_commands.h"

namespace ocop::cli {

int64_t WallClockMicros();
// `create`: make the directory and its signing key if missing (writers only).
Status OpenLedger(const GlobalOptions& g, bool create, std::unique_ptr<ledger::Ledger>* out);

}  // namespace ocop::cli
