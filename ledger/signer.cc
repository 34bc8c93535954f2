#include "ledger/signer.h"

#include "ledger/durable_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ocop::ledger {
namespace {

EVP_PKEY* AsKey(void* p) { return static_cast<EVP_PKEY*>(p); }

Status ReadKey(const std::string& path, EVP_PKEY** out) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return Status::NotFound("cannot open signing key " + path + ": " + std::strerror(errno));
  EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    if (k) EVP_PKEY_free(k);
    return Status::Corruption("signing key " + path + " is not an Ed25519 private key in PEM");
  }
  *out = k;
  return Status::OK();
}

Status CreateKey(const std::string& path) {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!k) return Status::IOError("could not generate an Ed25519 key");
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    EVP_PKEY_free(k);
    return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  }
  FILE* f = ::fdopen(fd, "w");
  bool ok = f && PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
            std::fflush(f) == 0 && ::fsync(fd) == 0;
  if (f) std::fclose(f);
  EVP_PKEY_free(k);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::IOError("cannot write signing key " + path);
  }
  return Status::OK();
}

}  // namespace

Signer::~Signer() { EVP_PKEY_free(AsKey(pkey_)); }

Status Signer::Open(const std::string& path, bool create, std::unique_ptr<Signer>* out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (!create) return Status::Corruption("signing key " + path + " is missing");
    Status s = CreateKey(path);
    if (!s.ok()) return s;
  } else if ((st.st_mode & 077) != 0) {
    // Refuse a key others can read, as ssh does: it may already be copied.
    return Status::Refused("signing key " + path + " is readable by other users (mode " +
                           ModeText(st.st_mode) + "); chmod 600 it");
  }
  EVP_PKEY* k = nullptr;
  Status s = ReadKey(path, &k);
  if (!s.ok()) return s;
  return Adopt(k, path, out);
}

Status Signer::FromSeed(std::string_view seed, std::unique_ptr<Signer>* out) {
  if (seed.size() != 32) return Status::InvalidArgument("an Ed25519 seed has 32 bytes");
  EVP_PKEY* k = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (!k) return Status::InvalidArgument("not an Ed25519 seed");
  return Adopt(k, "the seed", out);
}

Status Signer::Adopt(void* key, const std::string& what, std::unique_ptr<Signer>* out) {
  std::unique_ptr<Signer> signer(new Signer());
  signer->pkey_ = key;
  size_t len = 32;
  signer->public_key_.resize(32);
  if (EVP_PKEY_get_raw_public_key(
          AsKey(key), reinterpret_cast<unsigned char*>(signer->public_key_.data()), &len) != 1 ||
      len != 32) {
    return Status::Corruption("cannot read the public half of " + what);
  }
  signer->key_id_hex_ = merkle::ToHex(merkle::Sha256(signer->public_key_));
  *out = std::move(signer);
  return Status::OK();
}

std::string Signer::Sign(std::string_view message) const {
  std::string sig(64, '\0');
  size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, AsKey(pkey_)) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  sig.resize(len);
  return sig;
}

std::string Signer::PublicKeyPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, AsKey(pkey_));
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

bool Signer::Verify(std::string_view public_key, std::string_view message,
                    std::string_view signature) {
  EVP_PKEY* k = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size());
  if (!k) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, k) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(k);
  return ok;
}

std::string TreeHeadMessage(uint64_t size, const merkle::Hash& root) {
  std::string m = "OCOP-TREE-HEAD-V1";
  m.push_back('\0');
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<char>(size >> (8 * i)));
  m.append(reinterpret_cast<const char*>(root.data()), root.size());
  return m;
}

}  // namespace ocop::ledger
