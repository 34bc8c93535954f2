// KeyHistory: the ledger's retired signing keys, so that what they signed
// keeps verifying after the key is rotated (`ocop key rotate`).
//
// File DIR/key-history, text, one line per retired key, oldest first:
//   KEY_ID_HEX PUBLIC_KEY_BASE64 SIZE ROOT_HEX HANDOVER_SIGNATURE_BASE64
// SIZE and ROOT are the last tree head the key signed; the handover
// signature is the retired key's Ed25519 signature over
// RotationMessage(size, root, next public key): the old key vouches for its
// successor at that point of the log, so a verifier who trusted the old key
// can come to trust the new one from the log's own files.
//
// Promises: only public halves are kept (the retired private key is removed
// by the rotation); the file is replaced whole and durably (durable_file.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/merkle.h"
#include "ledger/status.h"

namespace ocop::ledger {

struct RetiredKey {
  std::string key_id_hex;
  std::string public_key;  // 32 raw bytes
  uint64_t last_size = 0;
  merkle::Hash last_root{};
  std::string handover;  // 64 raw bytes
};

constexpr const char* kKeyHistoryFile = "key-history";

// "OCOP-KEY-ROTATION-V1" 0x00 size (8, big-endian) root (32) next key (32).
std::string RotationMessage(uint64_t size, const merkle::Hash& root, std::string_view next_key);

// The retired keys of `dir` (none if the file does not exist).
Status LoadKeyHistory(const std::string& dir, std::vector<RetiredKey>* out);
// Appends `key` to the history of `dir`.
Status AppendKeyHistory(const std::string& dir, const RetiredKey& key);

}  // namespace ocop::ledger
