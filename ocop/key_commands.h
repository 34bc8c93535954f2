// `ocop key rotate` and `ocop key list`: the signing key changes, what the
// old one signed keeps verifying (ledger/key_history.h).
#pragma once

#include <CLI/CLI.hpp>

#include "ocop/ledger_commands.h"

namespace ocop::cli {

void AddKeyCommands(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
