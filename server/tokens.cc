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

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "ledger/durable_file.h"
#include "ledger/encoding.h"
#include "ledger/merkle.h"
#include "workflow/date.h"

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
  struct timespec ctime {};  // changes with the mode, too
  bool operator==(const FileStamp& o) const {
    return exists == o.exists && inode == o.inode && size == o.size &&
           mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec &&
           ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
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
  f.ctime = st.st_ctim;
  return f;
}

struct Grant {
  std::string principal;
  std::string expires;  // YYYY-MM-DD, the last day it works; empty: never expires
};

Status ReadTokens(const std::string& path, std::map<std::string, Grant>* by_hash) {
  by_hash->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::OK();
    return Status::IOError("cannot read the tokens file " + path + ": " + std::strerror(errno));
  }
  // The mode of the file read, not of a name that may have been swapped.
  struct stat st;
  bool stat_ok = ::fstat(fd, &st) == 0;
  std::string text;
  char buf[8192];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (!stat_ok) return Status::IOError("cannot stat the tokens file " + path);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return Status::InvalidArgument("the tokens file " + path + " has mode " +
                                   ledger::ModeText(st.st_mode) +
                                   ": others may write it, and so mint a token for any principal; "
                                   "make it writable by its owner only (chmod 600 " +
                                   path + ")");
  }
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string principal, hash, expiry, extra;
    ss >> principal >> hash >> expiry >> extra;
    Grant g{principal, ""};
    bool ok = !principal.empty() && hash.size() == 64 &&
              hash.find_first_not_of("0123456789abcdef") == std::string::npos && extra.empty();
    if (ok && !expiry.empty()) {
      workflow::Date d;
      g.expires = expiry.rfind("expires=", 0) == 0 ? expiry.substr(8) : "";
      ok = workflow::ParseDate(g.expires, &d);
    }
    if (!ok) {
      return Status::InvalidArgument(path + ":" + std::to_string(n) +
                                     ": expected 'PRINCIPAL SHA256-HEX' or 'PRINCIPAL SHA256-HEX "
                                     "expires=YYYY-MM-DD' (lowercase hex); no token of this "
                                     "file is accepted until it is fixed");
    }
    (*by_hash)[hash] = std::move(g);
  }
  return Status::OK();
}

}  // namespace

struct Tokens::State {
  std::mutex mu;
  std::string path;
  std::function<std::string()> today;
  FileStamp stamp;
  std::map<std::string, Grant> by_hash;  // sha256 hex -> grant
};

Status Tokens::Load(const std::string& path, std::function<std::string()> today, Tokens* out) {
  auto state = std::make_shared<State>();
  state->path = path;
  state->today = std::move(today);
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
    // Whatever the new file says replaces what the old one said: a file
    // refused now grants nothing (not the tokens read before, some of which
    // its owner may have meant to withdraw).
    Status s = ReadTokens(state_->path, &state_->by_hash);
    state_->stamp = now;
    if (s.ok()) {
      spdlog::info(
          nlohmann::json{{"tokens_reloaded", state_->path}, {"tokens", state_->by_hash.size()}}
              .dump());
    } else {
      state_->by_hash.clear();
      spdlog::error(nlohmann::json{{"tokens_refused", state_->path},
                                   {"why", s.message()},
                                   {"serving", "no token until the file is fixed"}}
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
  auto it = state_->by_hash.find(hash);
  if (it == state_->by_hash.end()) return std::nullopt;
  const Grant& g = it->second;
  if (!g.expires.empty() && state_->today && state_->today() > g.expires) return std::nullopt;
  return g.principal;
}

size_t Tokens::size() const {
  if (!state_) return 0;
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->by_hash.size();
}

Status AddToken(const std::string& path, const std::string& principal, std::string* token,
                const std::string& expires) {
  if (principal.empty() || principal.find_first_of(" \t\n") != std::string::npos) {
    return Status::InvalidArgument("a principal is one word, e.g. nguyen.van.a@camau");
  }
  workflow::Date d;
  if (!expires.empty() && !workflow::ParseDate(expires, &d)) {
    return Status::InvalidArgument("--expires '" + expires + "' is not a date; use YYYY-MM-DD");
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::IOError("no randomness for a token");
  *token = Hex(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  std::string line =
      principal + " " + HashHex(*token) + (expires.empty() ? "" : " expires=" + expires) + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::IOError("cannot write " + path);
  return Status::OK();
}

}  // namespace ocop::server
