// Backups as the command line and the server's control socket both take
// them (ledger/backup.h does the work): a request and its JSON answer.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ledger/backup.h"

namespace ocop::cli {

// The files of a data directory a backup carries beside the ledger's own.
extern const char* const kBackupExtraFiles[];

// Backs `l` up as `request` says ({"to":DIR,"keep":N,"rate_limit":BYTES_PER_S})
// and describes the result in `reply`: {"ok":true,"backup":ID,"to":DIR,
// "size":N,"root":HEX,"bytes_total","bytes_new","kept"}, or {"ok":false,
// "error":{"code","message"},"exit":N}.
void RunBackupRequest(ledger::Ledger* l, const nlohmann::json& request, nlohmann::json* reply);

}  // namespace ocop::cli
