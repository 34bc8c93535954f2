// The reading subcommands: status, deadlines, report and rebuild. Each folds
// the projections up to the last append before it answers, so a read always
// sees the writes that returned before it.
#pragma once

#include <CLI/CLI.hpp>

#include "ocop/ledger_commands.h"

namespace ocop::cli {

void AddReadCommands(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
