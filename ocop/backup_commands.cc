#include "ocop/backup_commands.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ledger/backup.h"
#include "ocop/backup.h"
#include "ocop/open_ledger.h"
#include "projections/projections.h"
#include "server/control_socket.h"

namespace ocop::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct BackupArgs {
  std::string to;
  uint32_t keep = 0;
  uint64_t rate_mb = 0;
};

// Taken by this process when it can open the directory, else by the process
// holding it (`ocop serve`), asked through its control socket: RocksDB's
// BackupEngine needs the writer's own database handle for a consistent copy,
// and a secondary reader's files may be deleted under it by the writer's
// compactions.
int RunBackup(const GlobalOptions& g, const BackupArgs& a) {
  std::error_code ec;
  nlohmann::json request = {{"op", "backup"},
                            {"to", fs::absolute(a.to, ec).string()},
                            {"keep", a.keep},
                            {"rate_limit", a.rate_mb << 20}};
  nlohmann::json reply;
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, /*create=*/false, &l);
  if (!s.ok()) return Fail("backup", s);
  if (l->secondary()) {
    l.reset();
    std::string line;
    s = server::ControlSocket::Ask(g.data_dir, request.dump(), &line);
    if (!s.ok()) {
      return Fail("backup", Status::Busy("the data directory " + g.data_dir +
                                         " is held by another process that takes no backup "
                                         "requests (" +
                                         s.message() +
                                         "); run the backup while it is stopped, "
                                         "or against `ocop serve`"));
    }
    try {
      reply = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      return Fail("backup", Status::IOError("the server answered '" + line + "'"));
    }
  } else {
    RunBackupRequest(l.get(), request, &reply);
  }
  if (!reply.value("ok", false)) {
    std::cerr << "ocop backup: " << reply["error"].value("message", "failed") << "\n";
    return reply.value("exit", 3);
  }
  reply.erase("ok");
  std::cout << reply.dump() << std::endl;
  std::cerr << "ocop backup: backup " << reply["backup"] << " of " << reply["size"] << " events in "
            << reply["to"] << " (" << reply["bytes_new"] << " bytes new)\n";
  return 0;
}

struct RestoreArgs {
  std::string from;
  std::string to;  // default: --data
  uint32_t backup = 0;
};

int RunRestore(const GlobalOptions& g, const RestoreArgs& a) {
  const std::string target = a.to.empty() ? g.data_dir : a.to;
  std::error_code ec;
  if (fs::exists(target, ec) && !fs::is_empty(target, ec)) {
    return Fail("restore", Status::Refused(target + " is not empty; restore into a new directory "
                                                    "(the current one is never overwritten)"));
  }
  // Restored and checked beside the target, renamed into place only whole.
  const std::string staging =
      fs::path(target).lexically_normal().string() + ".restoring-" + std::to_string(::getpid());
  fs::remove_all(staging, ec);
  ledger::Options options;
  options.clock = WallClockMicros;
  options.reserve_bytes = g.reserve_mb << 20;
  ledger::RestoreResult r;
  auto start = std::chrono::steady_clock::now();
  Status s = ledger::RestoreLedger(a.from, a.backup, staging, options, &r);
  if (!s.ok()) return Fail("restore", s);
  // The projections are not in a backup: folded again from the log restored.
  std::map<std::string, std::string> digests;
  {
    std::unique_ptr<ledger::Ledger> l;
    s = ledger::Ledger::Open(staging, options, &l);
    std::unique_ptr<projections::Projections> p;
    if (s.ok()) s = projections::Projections::Open(l.get(), &p);
    if (s.ok()) s = p->CatchUp();
    if (s.ok()) s = p->Digests(&digests);
  }
  if (s.ok()) {
    fs::remove(target, ec);  // an empty directory, if any
    fs::rename(staging, target, ec);
    if (ec) s = Status::IOError("cannot rename " + staging + " to " + target + ": " + ec.message());
  }
  if (!s.ok()) {
    fs::remove_all(staging, ec);
    return Fail("restore", s);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  json out = {{"restored", target},
              {"backup", r.id},
              {"events", r.events},
              {"head", {{"size", r.head.size}, {"root", ledger::merkle::ToHex(r.head.root)}}},
              {"verified", r.verify.checked},
              {"projections", digests}};
  std::cout << out.dump() << std::endl;
  std::fprintf(stderr,
               "ocop restore: backup %u: %llu events verified, projections folded, %.1f s\n", r.id,
               static_cast<unsigned long long>(r.events), secs);
  return 0;
}

}  // namespace

void AddBackupCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto* backup = app.add_subcommand(
      "backup",
      "Back the data directory up into DIR (incremental, consistent; also while `ocop serve` "
      "holds it)");
  auto b = std::make_shared<BackupArgs>();
  backup->add_option("--to", b->to, "The backup directory (created if missing)")->required();
  backup->add_option("--keep", b->keep, "Keep only the newest N backups (default: all)");
  backup->add_option("--rate-mb", b->rate_mb,
                     "Copy at most this many MiB per second, to leave the disk to writes "
                     "(default: no limit)");
  backup->callback(
      [&global, selected, b] { *selected = [&global, b] { return RunBackup(global, *b); }; });

  auto* restore = app.add_subcommand(
      "restore",
      "Restore a backup into a new data directory, after checking every file, every event and "
      "the signed head; exit 1 naming what is wrong");
  auto r = std::make_shared<RestoreArgs>();
  restore->add_option("--from", r->from, "The backup directory")->required();
  restore->add_option("--to", r->to, "The new data directory (default: --data)");
  restore->add_option("--backup", r->backup, "Which backup (default: the latest complete one)");
  restore->callback(
      [&global, selected, r] { *selected = [&global, r] { return RunRestore(global, *r); }; });
}

}  // namespace ocop::cli
