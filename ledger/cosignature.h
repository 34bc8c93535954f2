// Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519, note signature
// type 0x04): the witness signs
//
//   "cosignature/v1\n" "time " DECIMAL(timestamp) "\n" || checkpoint note text
//
// and its signature is timestamp (8 bytes, big-endian) || Ed25519 signature.
// The name is not signed, so one key must never serve two witness names.
// The time is the caller's (seconds since the Epoch): nothing here reads a
// clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/note.h"
#include "ledger/signer.h"

namespace ocop::ledger::note {

// The spec's bound: a timestamp fits in 63 bits.
constexpr uint64_t kMaxTimestamp = (uint64_t{1} << 63) - 1;

std::string CosignatureMessage(uint64_t timestamp, std::string_view text);

// The cosignature of checkpoint `text` by `signer` under `name` at
// `timestamp` (at most kMaxTimestamp).
Signature Cosign(const Signer& signer, std::string_view name, uint64_t timestamp,
                 std::string_view text);

}  // namespace ocop::ledger::note
