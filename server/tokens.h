// Tokens: who a bearer token speaks for. The tokens file holds one line per
// token, "PRINCIPAL SHA256-HEX-OF-TOKEN": the tokens themselves are never
// stored, so the file can be read by an auditor without granting anything.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "ledger/status.h"

namespace ocop::server {

class Tokens {
 public:
  // Reads `path`; a missing file is an empty set (nobody may act).
  static Status Load(const std::string& path, Tokens* out);
  std::optional<std::string> PrincipalFor(const std::string& token) const;
  size_t size() const { return by_hash_.size(); }

 private:
  std::map<std::string, std::string> by_hash_;  // sha256 hex -> principal
};

// Makes a new random token for `principal`, appends its hash to `path`
// (created with mode 0600) and returns the token, to be shown once.
Status AddToken(const std::string& path, const std::string& principal, std::string* token);

}  // namespace ocop::server
