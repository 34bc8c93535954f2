// `ocop backup` and `ocop restore` (issue 17): verified, incremental backups,
// also while `ocop serve` holds the data directory.
#pragma once

#include <CLI/CLI.hpp>

#include "ocop/ledger_commands.h"

namespace ocop::cli {

void AddBackupCommands(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
