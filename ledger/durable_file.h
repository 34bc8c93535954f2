// Small files that must survive a crash whole or not at all: a key, a log's
// origin, a witness's last cosigned checkpoint.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ocop::ledger {

// Replaces `path` by `contents`: written to a temporary name in the same
// directory with `mode`, fsynced, renamed over `path`, then the directory
// fsynced. After a crash `path` holds the old contents or the new, never a
// mix, and once this returns OK the new contents are durable.
Status WriteFileDurably(const std::string& path, std::string_view contents, mode_t mode);
// fsyncs a directory, so that the names created or renamed in it are durable.
Status SyncDirectory(const std::string& dir);

// A file's permission bits as people write them: "0644", not 420.
std::string ModeText(mode_t mode);

// Reads a whole file; NotFound if it does not exist.
Status ReadWholeFile(const std::string& path, std::string* contents);

}  // namespace ocop::ledger
