// Signed notes (c2sp.org/signed-note): a text, a blank line, and one or more
// signature lines "— NAME BASE64(key id || signature)".
//
// Promises:
//  * ParseNote accepts exactly the notes the spec allows (valid UTF-8, no
//    control character but newline, text ending in a newline and split from
//    the signatures at the last blank line, key names non-empty without
//    spaces or '+', canonical base64 of at least 5 bytes) and refuses any
//    other with InvalidArgument naming the first fault and its line.
//  * OpenNote verifies every signature whose (name, key id) is a known key,
//    ignores the others, refuses the whole note (Tampered) if a known key's
//    signature fails, and refuses it if none verifies.
//  * FormatNote(ParseNote(m)) == m for every note ParseNote accepts.
//
// Two signature types are supported: 0x01, Ed25519 over the note text, which
// a log uses, and 0x04, the timestamped Ed25519 cosignature of
// c2sp.org/tlog-cosignature, which a witness uses. Key ids are the spec's
// recommended SHA-256(name || "\n" || type || public key)[:4].
//
// Pure functions over values; Ed25519 is OpenSSL's, through ledger::Signer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/signer.h"
#include "ledger/status.h"

namespace ocop::ledger::note {

constexpr uint8_t kEd25519 = 0x01;
constexpr uint8_t kCosignatureV1 = 0x04;
// More than any real note carries; the spec asks verifiers to take 16.
constexpr size_t kMaxSignatures = 100;

struct Signature {
  std::string name;
  uint32_t key_id = 0;
  std::string bytes;  // what follows the key id (for 0x04: timestamp || sig)
};

struct Note {
  std::string text;  // ends in "\n"; what the signatures cover
  std::vector<Signature> signatures;
};

// A public key as verifiers are configured with it. Its text form, the
// "vkey", is NAME+HEX(key id)+BASE64(type || public key).
struct VerifierKey {
  std::string name;
  uint32_t key_id = 0;
  uint8_t type = 0;
  std::string public_key;  // 32 raw bytes
};

uint32_t KeyId(std::string_view name, uint8_t type, std::string_view public_key);
// Non-empty, valid UTF-8, no Unicode space and no '+'.
Status CheckKeyName(std::string_view name);

VerifierKey MakeVerifierKey(std::string_view name, uint8_t type, std::string_view public_key);
std::string FormatVerifierKey(const VerifierKey& key);
// Accepts a vkey of type 0x01 or 0x04 whose key id is the one its name, type
// and key give.
Status ParseVerifierKey(std::string_view vkey, VerifierKey* out);

// Private keys in the text form of Go's golang.org/x/mod/sumdb/note:
// PRIVATE+KEY+NAME+HEX(key id)+BASE64(type || 32-byte Ed25519 seed).
std::string FormatSignerKey(std::string_view name, uint8_t type, std::string_view seed);
Status ParseSignerKey(std::string_view skey, std::string* name, uint8_t* type, std::string* seed);

Status ParseNote(std::string_view message, Note* out);
std::string FormatNote(const Note& note);
std::string SignatureLine(const Signature& sig);

// A type 0x01 signature of `text` by `signer` under `name`.
Signature SignEd25519(const Signer& signer, std::string_view name, std::string_view text);

// Checks one signature made by `key` (whose name and id it carries) over
// `text`. For a cosignature, *timestamp receives its time.
Status VerifySignature(const VerifierKey& key, std::string_view text, const Signature& sig,
                       uint64_t* timestamp);

struct Verified {
  VerifierKey key;
  uint64_t timestamp = 0;  // cosignatures only
};

// Verifies every signature of `note` by a key in `known` and lists those keys
// in *verified (each once, in note order; possibly none). Tampered if one of
// them fails.
Status VerifyKnownSignatures(const Note& note, const std::vector<VerifierKey>& known,
                             std::vector<Verified>* verified);

// Parses `message` and verifies it against `known` (see the promises above).
// *verified lists the known keys whose signatures verified, in note order.
Status OpenNote(std::string_view message, const std::vector<VerifierKey>& known, Note* note,
                std::vector<Verified>* verified);

// `note` with `sig` added last; a signature by the same key (name and id)
// already present is dropped first, so signing again replaces.
Note AddSignature(Note note, Signature sig);

}  // namespace ocop::ledger::note
