// Tokens: who a bearer token speaks for. The tokens file holds one line per
// token, "PRINCIPAL SHA256-HEX-OF-TOKEN [expires=YYYY-MM-DD]": the tokens
// themselves are never stored, so the file can be read by an auditor without
// granting anything. A token with an expiry works up to the end of that day
// (the date is Vietnam's, passed in as `today`) and is refused afterwards.
//
// The file fails closed. One that does not parse, or that anyone but its
// owner may write (then anyone could mint a token for any principal), is
// refused: at start (Load fails) and when it changes while the server runs,
// in which case no token of it is served until it is fixed, and the log
// says why.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "ledger/status.h"

namespace ocop::server {

class Tokens {
 public:
  // Reads `path`; a missing file is an empty set (nobody may act). `today`
  // gives the current date, YYYY-MM-DD, for expiries.
  static Status Load(const std::string& path, std::function<std::string()> today, Tokens* out);
  // Who `token` speaks for, if it has not expired. The file is read again
  // first if it changed since it was last read (`ocop token add` while the
  // server runs, a line removed to withdraw a token, its mode changed), so no
  // restart is needed; if the changed file is refused, no token is served
  // until it is fixed. Thread-safe.
  std::optional<std::string> PrincipalFor(const std::string& token) const;
  size_t size() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Makes a new random token for `principal`, appends its hash (and its expiry
// date, if `expires` is not empty) to `path` (created with mode 0600) and
// returns the token, to be shown once.
Status AddToken(const std::string& path, const std::string& principal, std::string* token,
                const std::string& expires = "");

}  // namespace ocop::server
