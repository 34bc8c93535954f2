// The subcommands of C2SP checkpoints and witnesses:
//   ocop checkpoint [--size N]      the log's signed checkpoint (a signed note)
//   ocop witness key --out FILE [--name NAME]
//   ocop witness cosign --state DIR --key FILE --log-vkey VKEY --checkpoint NOTE
//                       [--proof FILE] [--time SECONDS]
//   ocop witness verify --log-vkey VKEY --witness-vkey VKEY... --checkpoint NOTE
//                       [--quorum K]
// Notes are printed as they are (text, not JSON), so that they can be passed
// on and checked byte for byte; `witness verify` prints JSON.
#pragma once

#include <CLI/CLI.hpp>

#include "ocop/ledger_commands.h"

namespace ocop::cli {

void AddCheckpointCommands(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
