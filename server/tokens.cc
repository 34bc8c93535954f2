#include "server/tokens.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ledger/encoding.h"
#include "ledger/merkle.h"

namespace ocop::server {

namespace {
std::string HashHex(const std::string& token) {
  return ledger::merkle::ToHex(ledger::merkle::Sha256(token));
}
}  // namespace

Status Tokens::Load(const std::string& path, Tokens* out) {
  *out = Tokens();
  std::ifstream f(path);
  if (!f) return Status::OK();
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string principal, hash, extra;
    ss >> principal >> hash >> extra;
    if (principal.empty() || hash.size() != 64 || !extra.empty()) {
      return Status::InvalidArgument(path + ":" + std::to_string(n) +
                                     ": expected 'PRINCIPAL SHA256-HEX'");
    }
    out->by_hash_[hash] = principal;
  }
  return Status::OK();
}

std::optional<std::string> Tokens::PrincipalFor(const std::string& token) const {
  auto it = by_hash_.find(HashHex(token));
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

Status AddToken(const std::string& path, const std::string& principal, std::string* token) {
  if (principal.empty() || principal.find_first_of(" \t\n") != std::string::npos) {
    return Status::InvalidArgument("a principal is one word, e.g. nguyen.van.a@camau");
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::IOError("no randomness for a token");
  *token = Hex(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  std::string line = principal + " " + HashHex(*token) + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::IOError("cannot write " + path);
  return Status::OK();
}

}  // namespace ocop::server
