// Checkpoints (c2sp.org/tlog-checkpoint): a log's tree head as the text of a
// signed note (ledger/note.h),
//
//   ORIGIN\n  SIZE (decimal, no leading zero)\n  BASE64(RFC 6962 root)\n
//   [EXTENSION\n]...
//
// signed by the log's Ed25519 key under the name ORIGIN. The origin names the
// log for good: witnesses keep their state per origin, so one log keeps one
// origin for its whole life (see ledger/log_origin.h for this ledger's).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/signer.h"
#include "ledger/status.h"

namespace ocop::ledger {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  merkle::Hash root{};
  std::vector<std::string> extensions;  // each non-empty, without its newline
};

std::string CheckpointText(const Checkpoint& c);
// Refuses (InvalidArgument, naming the line) any text that is not a checkpoint.
Status ParseCheckpoint(std::string_view text, Checkpoint* out);

// The log's verifier key: its origin as the key name, type 0x01.
note::VerifierKey LogVerifierKey(std::string_view origin, const Signer& log_key);
// The signed note of `c`, signed by the log's key under the name c.origin.
std::string SignCheckpoint(const Checkpoint& c, const Signer& log_key);

// Verifies a checkpoint note against the log's key, and checks that it is a
// checkpoint of that log: its origin is the key's name (a head of another
// log, or a changed origin line, is refused naming both). Signatures of other
// keys (witnesses) are ignored here.
Status OpenCheckpoint(std::string_view message, const note::VerifierKey& log, Checkpoint* out,
                      note::Note* note = nullptr);

}  // namespace ocop::ledger
