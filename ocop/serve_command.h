// `ocop serve`, `ocop token add` and `ocop demo`: the ledger over HTTP.
#pragma once

#include <CLI/CLI.hpp>

#include "ocop/ledger_commands.h"

namespace ocop::cli {

void AddServeCommands(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
