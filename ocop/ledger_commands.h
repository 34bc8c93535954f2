// The subcommands that speak about the log itself: its hash tree, proofs and
// verification. Each prints one JSON object on stdout and returns an exit code
// of INTERFACE.md (0, 1 refused or tampered, 2 bad usage, 3 storage).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace ocop::cli {

// Shared by every subcommand: where the data directory is.
struct GlobalOptions {
  std::string data_dir = "./ocop-data";
  // The origin to record when a writer creates the data directory (empty:
  // the default of ledger/log_origin.h).
  std::string origin;
};

// A subcommand's body, run after parsing; returns the exit code.
using Runner = std::function<int()>;

void AddLedgerCommands(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
