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
  // Writes are refused (exit 3, HTTP 507) while the data directory's disk
  // has less than this many MiB free (ledger::Options::reserve_bytes).
  uint64_t reserve_mb = 64;
  // `ocop verify` opens a log shorter than its signed heads to report it
  // itself, with everything else it finds (ledger::Options::refuse_lost_heads).
  bool verifying = false;
};

// A subcommand's body, run after parsing; returns the exit code.
using Runner = std::function<int()>;

void AddLedgerCommands(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
