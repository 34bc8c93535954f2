#include "ledger/subject_keys.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <filesystem>

#include "ledger/durable_file.h"
#include "ledger/encoding.h"
#include "ledger/merkle.h"

namespace ocop::ledger {
namespace fs = std::filesystem;

namespace {

constexpr size_t kKeyBytes = 32, kNonceBytes = 12, kTagBytes = 16;

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

RandomSource SystemRandom() {
  return [](size_t n, std::string* out) {
    out->assign(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out->data()), static_cast<int>(n)) != 1) {
      throw std::runtime_error("RAND_bytes failed");
    }
  };
}

Status SubjectKeys::Open(const std::string& dir, RandomSource random,
                         std::unique_ptr<SubjectKeys>* out) {
  std::unique_ptr<SubjectKeys> k(new SubjectKeys());
  k->dir_ = (fs::path(dir) / kDirName).string();
  k->random_ = std::move(random);
  std::error_code ec;
  fs::create_directories(k->dir_, ec);
  if (ec) return Status::IOError("cannot create " + k->dir_ + ": " + ec.message());
  fs::permissions(k->dir_, fs::perms::owner_all, ec);
  *out = std::move(k);
  return Status::OK();
}

// A file per subject named by the hash of its id: ids are free text, and the
// name of a file must not itself be the personal data it protects.
std::string SubjectKeys::PathOf(const std::string& subject) const {
  return (fs::path(dir_) / merkle::ToHex(merkle::Sha256(subject))).string();
}

Status SubjectKeys::KeyOf(const std::string& subject, bool create, std::string* key) {
  Status s = ReadWholeFile(PathOf(subject), key);
  if (s.IsNotFound() && create) {
    random_(kKeyBytes, key);
    return WriteFileDurably(PathOf(subject), *key, 0600);
  }
  if (s.IsNotFound()) return Status::NotFound("the key of " + subject + " was erased");
  if (s.ok() && key->size() != kKeyBytes) {
    return Status::Corruption(PathOf(subject) + " is not a 32-byte key");
  }
  return s;
}

bool SubjectKeys::Has(const std::string& subject) {
  std::error_code ec;
  return fs::exists(PathOf(subject), ec);
}

Status SubjectKeys::Seal(const std::string& subject, std::string_view plaintext,
                         std::string* sealed) {
  std::lock_guard<std::mutex> l(mu_);
  std::string key, nonce;
  Status s = KeyOf(subject, /*create=*/true, &key);
  if (!s.ok()) return s;
  random_(kNonceBytes, &nonce);
  return SealWith(subject, key, nonce, plaintext, sealed);
}

Status SubjectKeys::SealText(const std::string& subject, std::string_view plaintext,
                             std::string* text) {
  std::lock_guard<std::mutex> l(mu_);
  std::string key;
  Status s = KeyOf(subject, /*create=*/true, &key);
  if (!s.ok()) return s;
  std::string message = subject;
  message.push_back('\0');
  message.append(plaintext);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), U(message), message.size(), mac,
           &mac_len) == nullptr) {
    return Status::IOError("HMAC-SHA256 failed (OpenSSL)");
  }
  std::string nonce(reinterpret_cast<const char*>(mac), kNonceBytes), sealed;
  s = SealWith(subject, key, nonce, plaintext, &sealed);
  if (s.ok()) *text = Base64(sealed);
  return s;
}

Status SubjectKeys::UnsealText(const std::string& subject, std::string_view text,
                               std::string* plaintext) {
  std::string sealed;
  if (!FromBase64(text, &sealed)) {
    return Status::Tampered("a sealed field of " + subject + " is not base64");
  }
  return Unseal(subject, sealed, plaintext);
}

Status SubjectKeys::SealWith(const std::string& subject, const std::string& key,
                             const std::string& nonce, std::string_view plaintext,
                             std::string* sealed) {
  CipherCtx c;
  std::string out(plaintext.size() + kTagBytes, '\0');
  int n = 0, m = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  bool ok =
      c.ctx && EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
      EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, U(key), U(nonce)) == 1 &&
      EVP_EncryptUpdate(c.ctx, nullptr, &n, U(subject), static_cast<int>(subject.size())) == 1 &&
      EVP_EncryptUpdate(c.ctx, o, &n, U(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(c.ctx, o + n, &m) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, o + n + m) == 1;
  if (!ok) return Status::IOError("AES-256-GCM sealing failed (OpenSSL)");
  *sealed = nonce + out;
  return Status::OK();
}

Status SubjectKeys::Unseal(const std::string& subject, std::string_view sealed,
                           std::string* plaintext) {
  std::lock_guard<std::mutex> l(mu_);
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return Status::Tampered("a sealed value of " + subject + " is too short");
  }
  std::string key;
  Status s = KeyOf(subject, /*create=*/false, &key);
  if (!s.ok()) return s;
  std::string_view nonce = sealed.substr(0, kNonceBytes);
  std::string_view body = sealed.substr(kNonceBytes, sealed.size() - kNonceBytes - kTagBytes);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  CipherCtx c;
  std::string out(body.size(), '\0');
  int n = 0, m = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  bool ok =
      c.ctx && EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
      EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, U(key), U(nonce)) == 1 &&
      EVP_DecryptUpdate(c.ctx, nullptr, &n, U(subject), static_cast<int>(subject.size())) == 1 &&
      EVP_DecryptUpdate(c.ctx, o, &n, U(body), static_cast<int>(body.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(c.ctx, o + n, &m) == 1;
  if (!ok) return Status::Tampered("a sealed value of " + subject + " does not open: damaged");
  out.resize(static_cast<size_t>(n + m));
  *plaintext = std::move(out);
  return Status::OK();
}

Status SubjectKeys::Erase(const std::string& subject) {
  std::lock_guard<std::mutex> l(mu_);
  std::error_code ec;
  // Zeros over the key before the unlink, so that its blocks, which the file
  // system may hand out later, no longer hold it (on a file system that
  // rewrites in place; the README's runbook says what else to mind).
  int fd = ::open(PathOf(subject).c_str(), O_WRONLY);
  if (fd >= 0) {
    const std::string zeros(kKeyBytes, '\0');
    bool ok = ::pwrite(fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return Status::IOError("cannot overwrite the key of " + subject);
  }
  fs::remove(PathOf(subject), ec);
  if (ec) return Status::IOError("cannot erase the key of " + subject + ": " + ec.message());
  return SyncDirectory(dir_);
}

}  // namespace ocop::ledger
