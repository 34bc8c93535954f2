#include "ocop/backup.h"

#include <filesystem>

#include "ledger/merkle.h"
#include "ocop/open_ledger.h"

namespace ocop::cli {

// The server's tokens (hashes only) and the retired signing keys' public
// halves (ocop/key_commands.h), so that a restored directory serves the same
// principals and keeps verifying old checkpoints.
const char* const kBackupExtraFiles[] = {"tokens", "key-history", nullptr};

void RunBackupRequest(ledger::Ledger* l, const nlohmann::json& request, nlohmann::json* reply) {
  ledger::BackupOptions options;
  for (const char* const* f = kBackupExtraFiles; *f; ++f) options.extra_files.push_back(*f);
  Status s;
  std::string to;
  try {
    to = request.at("to").get<std::string>();
    options.keep = request.value("keep", 0u);
    options.rate_limit = request.value("rate_limit", uint64_t{0});
  } catch (const std::exception& e) {
    s = Status::InvalidArgument(std::string("a backup request names `to` (a directory), and "
                                            "optionally `keep` and `rate_limit`: ") +
                                e.what());
  }
  ledger::BackupResult r;
  if (s.ok()) s = ledger::BackupLedger(l, to, options, &r);
  if (!s.ok()) {
    *reply = {{"ok", false},
              {"error", {{"code", std::string(s.CodeName())}, {"message", s.message()}}},
              {"exit", ExitCode(s)}};
    return;
  }
  *reply = {{"ok", true},
            {"backup", r.id},
            {"to", to},
            {"size", r.head.size},
            {"root", ledger::merkle::ToHex(r.head.root)},
            {"key_id", r.head.key_id_hex},
            {"bytes_total", r.bytes_total},
            {"bytes_new", r.bytes_new},
            {"kept", r.kept}};
}

}  // namespace ocop::cli
