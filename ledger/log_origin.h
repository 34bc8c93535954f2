// The origin of the log in a data directory: the identity its checkpoints
// carry on their first line and the name its key signs them under
// (ledger/checkpoint.h). Witnesses keep their state per origin, so a log's
// origin never changes, not even when its key is replaced.
//
// It is the one line of the file "origin" in the data directory, written when
// the directory is created: the origin the operator chose (`--origin`, or
// $OCOP_ORIGIN), or by default "ocop-ledger/" and the first 16 hexadecimal
// digits of the SHA-256 of the public key (the start of the key_id that
// `ocop tree-head` prints). A directory created before origins were recorded
// has the default origin of its key.
#pragma once

#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ocop::ledger {

constexpr const char* kOriginFile = "origin";

std::string DefaultOrigin(std::string_view public_key);

// A valid origin: a valid note key name (non-empty UTF-8 without spaces or
// '+'), since the log signs under it.
Status CheckOrigin(std::string_view origin);

// The origin of the log in `dir` whose key is `public_key`.
Status LoadOrigin(const std::string& dir, std::string_view public_key, std::string* origin);

// Records the origin of the log in `dir` if none is recorded yet: `chosen`,
// or the default if `chosen` is empty. A log that already holds events keeps
// the default it had, so only an empty log takes a chosen origin. Refused if
// `chosen` differs from the origin the log already has.
Status RecordOrigin(const std::string& dir, std::string_view chosen, std::string_view public_key,
                    bool log_is_empty);

}  // namespace ocop::ledger
