// The subcommands that answer disputes and audits: history (with proofs),
// bundle and verify-bundle, changes, and verify-report.
#pragma once

#include <CLI/CLI.hpp>

#include "ocop/ledger_commands.h"

namespace ocop::cli {

void AddReplayCommands(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
