// ocop: the OCOP audit ledger's command line. Wires the layers to arguments;
// every subcommand prints JSON for machines on stdout and messages for people
// on stderr, and exits 0, 1 (refused), 2 (bad usage) or 3 (storage failure).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "ocop/backup_commands.h"
#include "ocop/checkpoint_commands.h"
#include "ocop/key_commands.h"
#include "ocop/ledger_commands.h"
#include "ocop/read_commands.h"
#include "ocop/replay_commands.h"
#include "ocop/serve_command.h"
#include "ocop/submit_command.h"

int main(int argc, char** argv) {
  CLI::App app{"ocop: the audit ledger of the OCOP programme (Mỗi xã một sản phẩm)"};
  app.require_subcommand(1);
  app.fallthrough();  // --data may come before or after the subcommand
  ocop::cli::GlobalOptions global;
  if (const char* env = std::getenv("OCOP_DATA"); env && *env) global.data_dir = env;
  app.add_option("--data", global.data_dir,
                 "The ledger's data directory (default ./ocop-data, or $OCOP_DATA)");
  if (const char* env = std::getenv("OCOP_ORIGIN"); env && *env) global.origin = env;
  app.add_option("--origin", global.origin,
                 "The log's origin, recorded when the data directory is created, e.g. "
                 "ocop.camau.gov.vn/ledger (or $OCOP_ORIGIN; default: from the key)");
  app.add_option("--reserve-mb", global.reserve_mb,
                 "Refuse writes (exit 3, HTTP 507) while the data directory's disk has less "
                 "than this many MiB free, so the storage engine never runs out mid-write "
                 "(default 64)");

  ocop::cli::Runner selected;
  ocop::cli::AddLedgerCommands(app, global, &selected);
  ocop::cli::AddCheckpointCommands(app, global, &selected);
  ocop::cli::AddSubmitCommand(app, global, &selected);
  ocop::cli::AddReadCommands(app, global, &selected);
  ocop::cli::AddReplayCommands(app, global, &selected);
  ocop::cli::AddServeCommands(app, global, &selected);
  ocop::cli::AddBackupCommands(app, global, &selected);
  ocop::cli::AddKeyCommands(app, global, &selected);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help (code 0) or the usage error
    return code == 0 ? 0 : 2;
  }
  try {
    return selected ? selected() : 2;
  } catch (const std::exception& e) {
    std::cerr << "ocop: internal error: " << e.what() << "\n";
    return 3;
  }
}
