// `ocop submit`: applies commands, one JSON object a line (INTERFACE.md).
#pragma once

#include <CLI/CLI.hpp>

#include "ocop/ledger_commands.h"

namespace ocop::cli {

void AddSubmitCommand(CLI::App& app, const GlobalOptions& global, Runner* selected);

}  // namespace ocop::cli
