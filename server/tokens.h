// Tokens: who a bearer token speaks for. The tokens file holds one line per
// token, "PRINCIPAL SHA256-HEX-OF-TOKEN": the tokens themselves are never
// stored, so the file can be read by an auditor without granting anything.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "ledger/status.h"

namespace ocop::server {

class Tokens {
 public:
  // Reads `path`; a missing file is an empty set (nobody may act).
  static Status Load(const std::string& path, Tokens* out);
  // Who `token` speaks for. The file is read again first if it changed since
  // it was last read (`ocop token add` while the server runs, or a line
  // removed to withdraw a token), so no restart is needed; if the changed
  // file cannot be read, the tokens read before stay in force.
  // Thread-safe.
  std::optional<std::string> PrincipalFor(const std::string& token) const;
  size_t size() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Makes a new random token for `principal`, appends its hash to `path`
// (created with mode 0600) and returns the token, to be shown once.
Status AddToken(const std::string& path, const std::string& principal, std::string* token);

}  // namespace ocop::server
