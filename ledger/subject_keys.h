// SubjectKeys: erasable encryption of personal data in an append-only log
// (issue 17, item 5: Decree 13/2023/NĐ-CP on personal data).
//
// The log's stored bytes are hashed into the tree and can never change, so
// personal fields are stored there only as AES-256-GCM ciphertext, each data
// subject (a household producer) under a key of its own kept OUTSIDE the
// hashed bytes, in DIR/subject-keys/ (one file per subject, mode 0600).
// Erasing a subject's data destroys its key: the ciphertext stays in the log,
// so every root, proof, signed head and bundle stays valid, but nothing can
// read it any more, and no byte of the key is left in the directory.
//
// Promises:
//  * Seal is deterministic given its key and nonce: both come from a source
//    the caller passes (a CSPRNG in the program, fixed bytes in tests), never
//    from a clock. A sealed value is nonce (12) ‖ ciphertext ‖ tag (16); the
//    subject id is authenticated as associated data, so a value moved to
//    another subject does not open.
//  * Open of a value whose key was erased is NotFound (shown "[đã xoá]");
//    of a damaged value, Tampered.
//  * Erase removes the key file and fsyncs the directory before it returns;
//    erasing twice is not an error (the decision is recorded once in the log).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ocop::ledger {

// Fills `out` with `n` random bytes (keys and nonces).
using RandomSource = std::function<void(size_t n, std::string* out)>;
// OpenSSL's RAND_bytes.
RandomSource SystemRandom();

inline constexpr const char* kErased = "[đã xoá]";

class SubjectKeys {
 public:
  static constexpr const char* kDirName = "subject-keys";

  // The key store of data directory `dir` (its subject-keys/ made if missing).
  static Status Open(const std::string& dir, RandomSource random,
                     std::unique_ptr<SubjectKeys>* out);

  // Seals `plaintext` for `subject`, making its key first if it has none.
  Status Seal(const std::string& subject, std::string_view plaintext, std::string* sealed);
  // The plaintext of a value sealed for `subject`; NotFound once erased.
  Status Unseal(const std::string& subject, std::string_view sealed, std::string* plaintext);
  // Seal for a field of an event: base64 text, and deterministic, the nonce
  // being the first 12 bytes of HMAC-SHA256(key, subject ‖ 0 ‖ plaintext)
  // (a synthetic IV, as in RFC 5297): the same command seals to the same
  // bytes, so its idempotency digest holds when it is sent again, and a nonce
  // repeats only with its plaintext. Makes the subject's key if it has none.
  Status SealText(const std::string& subject, std::string_view plaintext, std::string* text);
  // The plaintext of a SealText value; NotFound once erased, Tampered if the
  // text is not one.
  Status UnsealText(const std::string& subject, std::string_view text, std::string* plaintext);
  // Destroys `subject`'s key: its file overwritten with zeros and synced,
  // then unlinked, and the directory synced.
  Status Erase(const std::string& subject);
  bool Has(const std::string& subject);

 private:
  SubjectKeys() = default;
  std::string PathOf(const std::string& subject) const;
  Status KeyOf(const std::string& subject, bool create, std::string* key);
  // Seals with the key and nonce given (`mu_` held).
  Status SealWith(const std::string& subject, const std::string& key, const std::string& nonce,
                  std::string_view plaintext, std::string* sealed);

  std::string dir_;
  RandomSource random_;
  std::mutex mu_;
};

}  // namespace ocop::ledger
