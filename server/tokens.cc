#include "server/tokens.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "ledger/encoding.h"
#include "ledger/merkle.h"

namespace ocop::server {

namespace {

std::string HashHex(const std::string& token) {
  return ledger::merkle::ToHex(ledger::merkle::Sha256(token));
}

// What the file looked like when it was read: a change of any of these means
// it must be read again.
struct FileStamp {
  bool exists = false;
  ino_t inode = 0;
  off_t size = 0;
  struct timespec mtime {};
  bool operator==(const FileStamp& o) const {
    return exists == o.exists && inode == o.inode && size == o.size &&
           mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

FileStamp StampOf(const std::string& path) {
  struct stat st;
  FileStamp f;
  if (::stat(path.c_str(), &st) != 0) return f;
  f.exists = true;
  f.inode = st.st_ino;
  f.size = st.st_size;
  f.mtime = st.st_mtim;
  return f;
}

Status ReadTokens(const std::string& path, std::map<std::string, std::string>* by_hash) {
  by_hash->clear();
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
    (*by_hash)[hash] = principal;
  }
  return Status::OK();
}

}  // namespace

struct Tokens::State {
  std::mutex mu;
  std::string path;
  FileStamp stamp;
  std::map<std::string, std::string> by_hash;  // sha256 hex -> principal
};

Status Tokens::Load(const std::string& path, Tokens* out) {
  auto state = std::make_shared<State>();
  state->path = path;
  state->stamp = StampOf(path);
  Status s = ReadTokens(path, &state->by_hash);
  if (!s.ok()) return s;
  out->state_ = std::move(state);
  return Status::OK();
}

std::optional<std::string> Tokens::PrincipalFor(const std::string& token) const {
  if (!state_) return std::nullopt;
  std::string hash = HashHex(token);
  std::lock_guard<std::mutex> l(state_->mu);
  FileStamp now = StampOf(state_->path);
  if (!(now == state_->stamp)) {
    std::map<std::string, std::string> fresh;
    if (ReadTokens(state_->path, &fresh).ok()) {
      state_->by_hash = std::move(fresh);
      state_->stamp = now;
    }
  }
  auto it = state_->by_hash.find(hash);
  if (it == state_->by_hash.end()) return std::nullopt;
  return it->second;
}

size_t Tokens::size() const {
  if (!state_) return 0;
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->by_hash.size();
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
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::IOError("cannot write " + path);
  return Status::OK();
}

}  // namespace ocop::server
