// A witness of logs (c2sp.org/tlog-witness's rules, run as a command): it
// keeps, per log origin, the last checkpoint it cosigned and the log key that
// signed it, and cosigns a new checkpoint of that log only if it is not older
// and a consistency proof shows the old tree is a prefix of the new one. Its
// cosignatures are c2sp.org/tlog-cosignature's (ledger/cosignature.h).
//
// CheckAppendOnly is the decision, a pure function over values; WitnessStore
// is the state on disk; the time of a cosignature is the caller's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/signer.h"
#include "ledger/status.h"

namespace ocop::ledger {

// RFC 6962's consistency proof between tree sizes `from` and `to`.
struct ConsistencyProof {
  uint64_t from = 0;
  uint64_t to = 0;
  std::vector<merkle::Hash> path;
};

// What a witness keeps for one log.
struct WitnessRecord {
  note::VerifierKey log_key;
  Checkpoint checkpoint;
  std::string checkpoint_note;  // the log's signed note of `checkpoint`
};

// May `next` (already verified with OpenCheckpoint against `log_key`) be
// cosigned after `last` (nullopt: this witness never cosigned this origin)?
// Refused, naming the fault, when `next` is older than `last`, has another
// root at the same size (a fork), lacks the proof it needs, carries a proof
// between other sizes or one that does not verify (a fork), or when the log
// key is not the one `last` was verified with. A checkpoint of size 0 must
// have the empty tree's root.
Status CheckAppendOnly(const std::optional<WitnessRecord>& last, const note::VerifierKey& log_key,
                       const Checkpoint& next, const std::optional<ConsistencyProof>& proof);

std::string FormatWitnessRecord(const WitnessRecord& r);
// Re-verifies the stored note with the stored key.
Status ParseWitnessRecord(std::string_view text, WitnessRecord* out);

// The witness's signing key: a note signer key of type 0x04
// (PRIVATE+KEY+NAME+KEYID+BASE64(0x04 || seed)) in a file of mode 0600.
struct WitnessKey {
  std::string name;
  std::unique_ptr<Signer> signer;
  note::VerifierKey verifier;  // type 0x04: what clients trust
};
// "ocop-witness/" and 16 hexadecimal digits of the SHA-256 of the key.
std::string DefaultWitnessName(std::string_view public_key);
// Writes a new key from `seed` (32 random bytes) to `path`; refuses to
// replace an existing file.
Status CreateWitnessKey(const std::string& path, std::string_view name, std::string_view seed,
                        WitnessKey* out);
// Refuses a key file others can read.
Status LoadWitnessKey(const std::string& path, WitnessKey* out);

// The witness's state directory. Holding it is holding its lock: check and
// update are one atomic step even when several cosign commands run at once
// (otherwise a slower, older request could roll the state back).
class WitnessStore {
 public:
  ~WitnessStore();
  WitnessStore(const WitnessStore&) = delete;
  WitnessStore& operator=(const WitnessStore&) = delete;

  // Creates `dir` if missing; waits for the lock.
  static Status Open(const std::string& dir, std::unique_ptr<WitnessStore>* out);
  Status Load(std::string_view origin, std::optional<WitnessRecord>* out);
  // Durable when it returns OK (ledger/durable_file.h).
  Status Store(const WitnessRecord& r);

 private:
  WitnessStore() = default;
  std::string PathOf(std::string_view origin) const;
  std::string dir_;
  int lock_fd_ = -1;
};

// Checks a cosigned checkpoint: the log's signature, and cosignatures of at
// least `quorum` distinct keys among `witnesses` (vkeys of type 0x04). A
// cosignature by a trusted witness that fails refuses the whole note.
struct CosignedCheckpoint {
  Checkpoint checkpoint;
  std::vector<note::Verified> cosigners;  // the trusted witnesses that cosigned
};
Status VerifyCosigned(std::string_view message, const note::VerifierKey& log,
                      const std::vector<note::VerifierKey>& witnesses, size_t quorum,
                      CosignedCheckpoint* out);

}  // namespace ocop::ledger
