#include "ledger/witness.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ledger/durable_file.h"

namespace ocop::ledger {
namespace {

constexpr std::string_view kRecordHeader = "ocop-witness/v1\n";
constexpr std::string_view kLogKeyPrefix = "log-key ";

std::string Size(uint64_t n) { return "size " + std::to_string(n); }

bool SameKey(const note::VerifierKey& a, const note::VerifierKey& b) {
  return a.name == b.name && a.key_id == b.key_id && a.type == b.type &&
         a.public_key == b.public_key;
}

}  // namespace

Status CheckAppendOnly(const std::optional<WitnessRecord>& last, const note::VerifierKey& log_key,
                       const Checkpoint& next, const std::optional<ConsistencyProof>& proof) {
  const std::string& origin = next.origin;
  if (next.size == 0 && next.root != merkle::EmptyRoot()) {
    return Status::Refused("a checkpoint of size 0 must have the empty tree's root; this one of " +
                           origin + " has another");
  }
  if (!last) {
    if (proof) {
      return Status::Refused("this witness has never cosigned a checkpoint of " + origin +
                             ", so there is nothing to prove consistency with; present the first "
                             "checkpoint without --proof");
    }
    return Status::OK();
  }
  if (!SameKey(last->log_key, log_key)) {
    return Status::Refused("this witness knows the log " + origin + " by the key " +
                           note::FormatVerifierKey(last->log_key) +
                           "; the checkpoint was presented with another key (" +
                           note::FormatVerifierKey(log_key) +
                           "): another log under the same origin, or a replaced key");
  }
  const uint64_t old_size = last->checkpoint.size;
  const std::string old =
      "the last checkpoint this witness cosigned for " + origin + " (" + Size(old_size) + ")";
  if (next.size < old_size) {
    return Status::Refused("an older checkpoint: " + Size(next.size) + " is older than " + old +
                           "; a witness never goes back");
  }
  if (next.size == old_size) {
    if (next.root != last->checkpoint.root) {
      return Status::Refused("a fork: the checkpoint has another root at the same " +
                             Size(next.size) + " than " + old);
    }
    if (proof && (proof->from != old_size || proof->to != old_size || !proof->path.empty())) {
      return Status::Refused("the consistency proof is from size " + std::to_string(proof->from) +
                             " to " + std::to_string(proof->to) + ", but the checkpoint and " +
                             old + " are both of " + Size(old_size));
    }
    return Status::OK();
  }
  if (old_size == 0) return Status::OK();  // the empty tree is a prefix of every tree
  const std::string needed = "a consistency proof from size " + std::to_string(old_size) + " to " +
                             std::to_string(next.size);
  if (!proof) {
    return Status::Refused("the consistency proof is missing: cosigning " + Size(next.size) +
                           " after " + old + " needs " + needed +
                           " (--proof FILE, as `ocop consistency` prints it)");
  }
  if (proof->from != old_size || proof->to != next.size) {
    return Status::Refused("the consistency proof is from size " + std::to_string(proof->from) +
                           " to " + std::to_string(proof->to) + "; needed is " + needed +
                           ", since that is " + old);
  }
  if (!merkle::VerifyConsistency(old_size, next.size, last->checkpoint.root, next.root,
                                 proof->path)) {
    return Status::Refused("a fork: the checkpoint of " + Size(next.size) +
                           " is not consistent with " + old +
                           " (the consistency proof does not verify): the log changed its past, "
                           "or the proof is not of these trees");
  }
  return Status::OK();
}

std::string FormatWitnessRecord(const WitnessRecord& r) {
  return std::string(kRecordHeader) + std::string(kLogKeyPrefix) +
         note::FormatVerifierKey(r.log_key) + "\n" + r.checkpoint_note;
}

Status ParseWitnessRecord(std::string_view text, WitnessRecord* out) {
  if (text.substr(0, kRecordHeader.size()) != kRecordHeader) {
    return Status::Corruption("not a witness record (no " +
                              std::string(kRecordHeader.substr(0, kRecordHeader.size() - 1)) +
                              " header)");
  }
  text.remove_prefix(kRecordHeader.size());
  size_t eol = text.find('\n');
  if (text.substr(0, kLogKeyPrefix.size()) != kLogKeyPrefix || eol == std::string_view::npos) {
    return Status::Corruption("a witness record's second line is the log's key");
  }
  WitnessRecord r;
  Status s = note::ParseVerifierKey(text.substr(kLogKeyPrefix.size(), eol - kLogKeyPrefix.size()),
                                    &r.log_key);
  if (s.ok()) s = OpenCheckpoint(text.substr(eol + 1), r.log_key, &r.checkpoint);
  if (!s.ok()) return Status::Corruption("a witness record is damaged: " + s.message());
  r.checkpoint_note = std::string(text.substr(eol + 1));
  *out = std::move(r);
  return Status::OK();
}

std::string DefaultWitnessName(std::string_view public_key) {
  return "ocop-witness/" + merkle::ToHex(merkle::Sha256(public_key)).substr(0, 16);
}

Status CreateWitnessKey(const std::string& path, std::string_view name, std::string_view seed,
                        WitnessKey* out) {
  std::unique_ptr<Signer> signer;
  Status s = Signer::FromSeed(seed, &signer);
  if (!s.ok()) return s;
  const std::string n = name.empty() ? DefaultWitnessName(signer->public_key()) : std::string(name);
  s = note::CheckKeyName(n);
  if (!s.ok()) return Status::InvalidArgument("the witness's name: " + s.message());
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return Status::Refused(path + " exists; a key is never overwritten (choose another --out)");
  }
  s = WriteFileDurably(path, note::FormatSignerKey(n, note::kCosignatureV1, seed) + "\n", 0600);
  if (!s.ok()) return s;
  return LoadWitnessKey(path, out);
}

Status LoadWitnessKey(const std::string& path, WitnessKey* out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("cannot read the witness key " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::Refused("the witness key " + path + " is readable by other users (mode " +
                           ModeText(st.st_mode) + "); chmod 600 it");
  }
  std::string text;
  Status s = ReadWholeFile(path, &text);
  if (!s.ok()) return s;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  WitnessKey k;
  uint8_t type;
  std::string seed;
  s = note::ParseSignerKey(text, &k.name, &type, &seed);
  if (s.ok() && type != note::kCosignatureV1) {
    s = Status::InvalidArgument("it is of signature type " + std::to_string(type) +
                                ", not 4 (cosignature/v1)");
  }
  if (s.ok()) s = Signer::FromSeed(seed, &k.signer);
  if (!s.ok()) return Status::InvalidArgument(path + " is not a witness key: " + s.message());
  k.verifier = note::MakeVerifierKey(k.name, note::kCosignatureV1, k.signer->public_key());
  *out = std::move(k);
  return Status::OK();
}

WitnessStore::~WitnessStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status WitnessStore::Open(const std::string& dir, std::unique_ptr<WitnessStore>* out) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<WitnessStore> w(new WitnessStore());
  w->dir_ = dir;
  const std::string lock = (std::filesystem::path(dir) / "LOCK").string();
  w->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (w->lock_fd_ < 0) return Status::IOError("cannot open " + lock + ": " + std::strerror(errno));
  while (::flock(w->lock_fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return Status::IOError("cannot lock " + lock + ": " + std::strerror(errno));
  }
  *out = std::move(w);
  return Status::OK();
}

std::string WitnessStore::PathOf(std::string_view origin) const {
  // Origins may hold any character a name may, '/' included: name the file
  // by a hash and keep the origin inside it.
  return (std::filesystem::path(dir_) / ("log-" + merkle::ToHex(merkle::Sha256(origin)))).string();
}

Status WitnessStore::Load(std::string_view origin, std::optional<WitnessRecord>* out) {
  std::string text;
  Status s = ReadWholeFile(PathOf(origin), &text);
  if (s.IsNotFound()) {
    out->reset();
    return Status::OK();
  }
  if (!s.ok()) return s;
  WitnessRecord r;
  s = ParseWitnessRecord(text, &r);
  if (s.ok() && r.checkpoint.origin != origin) {
    s = Status::Corruption("the record " + PathOf(origin) + " is of origin " + r.checkpoint.origin);
  }
  if (!s.ok()) return Status::Corruption(PathOf(origin) + ": " + s.message());
  *out = std::move(r);
  return Status::OK();
}

Status WitnessStore::Store(const WitnessRecord& r) {
  return WriteFileDurably(PathOf(r.checkpoint.origin), FormatWitnessRecord(r), 0644);
}

Status VerifyCosigned(std::string_view message, const note::VerifierKey& log,
                      const std::vector<note::VerifierKey>& witnesses, size_t quorum,
                      CosignedCheckpoint* out) {
  for (const auto& w : witnesses) {
    if (w.type != note::kCosignatureV1) {
      return Status::InvalidArgument("the witness key " + note::FormatVerifierKey(w) +
                                     " is not of type 0x04 (cosignature/v1)");
    }
  }
  CosignedCheckpoint c;
  note::Note n;
  std::vector<note::Verified> verified;
  Status s = OpenCheckpoint(message, log, &c.checkpoint, &n);
  if (s.ok()) s = note::VerifyKnownSignatures(n, witnesses, &verified);
  if (!s.ok()) return s;
  if (verified.size() < quorum) {
    std::string names;
    for (const auto& v : verified) names += (names.empty() ? "" : ", ") + v.key.name;
    return Status::Refused("the checkpoint of " + c.checkpoint.origin + " at size " +
                           std::to_string(c.checkpoint.size) + " is cosigned by " +
                           std::to_string(verified.size()) + " of the " +
                           std::to_string(witnesses.size()) + " witnesses trusted" +
                           (names.empty() ? "" : " (" + names + ")") + "; " +
                           std::to_string(quorum) + " are required");
  }
  c.cosigners = std::move(verified);
  *out = std::move(c);
  return Status::OK();
}

}  // namespace ocop::ledger
