// Signer: the ledger's Ed25519 key, which signs tree heads.
//
// The key is made when a data directory is created and kept in a PEM file of
// mode 0600 beside the data. Its id is the SHA-256 of the raw 32-byte public
// key, so anyone holding the public key can tell which key signed a head.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ledger/merkle.h"
#include "ledger/status.h"

namespace ocop::ledger {

class Signer {
 public:
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // Reads the key at `path`; with `create`, makes a new one there first if no
  // file exists (written to a temporary name, then renamed, so a crash never
  // leaves half a key).
  static Status Open(const std::string& path, bool create, std::unique_ptr<Signer>* out);
  // A key from its 32-byte RFC 8032 private seed, for keys kept in another
  // format than PEM (a witness's note signer key, see ledger/note.h).
  static Status FromSeed(std::string_view seed, std::unique_ptr<Signer>* out);

  std::string Sign(std::string_view message) const;              // 64 raw bytes
  const std::string& public_key() const { return public_key_; }  // 32 raw bytes
  std::string PublicKeyPem() const;
  const std::string& key_id_hex() const { return key_id_hex_; }

  // Checks a signature against a raw 32-byte Ed25519 public key.
  static bool Verify(std::string_view public_key, std::string_view message,
                     std::string_view signature);

 private:
  Signer() = default;
  // Takes ownership of `key` (an EVP_PKEY*); `what` names it in errors.
  static Status Adopt(void* key, const std::string& what, std::unique_ptr<Signer>* out);
  void* pkey_ = nullptr;  // EVP_PKEY*
  std::string public_key_;
  std::string key_id_hex_;
};

// The bytes a tree head signature covers: the ASCII label
// "OCOP-TREE-HEAD-V1", a zero byte, the size as 8 bytes big-endian, and the
// 32-byte root. Published in the README so anyone can check a head.
std::string TreeHeadMessage(uint64_t size, const merkle::Hash& root);

}  // namespace ocop::ledger
