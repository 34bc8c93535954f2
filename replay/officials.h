// Officials: who the accounts that acted are (RegisterOfficial), as the log
// knew it at one point, so that a history or a decision list names people
// ("Nguyễn Văn A (Chuyên viên, Sở NN&PTNT)") where the log keeps accounts.
//
// Each account's stream is read once, up to `known_at`, and kept: a caller
// asking about many acts of few people reads few streams. Not thread-safe;
// one per answer.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "ledger/ledger.h"
#include "workflow/state.h"

namespace ocop::replay {

class Officials {
 public:
  // `known_at`: the last seq read (0: the whole log).
  Officials(ledger::Ledger* ledger, uint64_t known_at) : ledger_(ledger), known_at_(known_at) {}

  // The record of `principal` in force on `date` (PrincipalState::OfficialOn),
  // or nullptr in *out when none was recorded.
  Status On(const std::string& principal, workflow::Date date, const workflow::Official** out);

  // Adds "name", "title" and "office" (when recorded) of the record in force
  // on `date` to `person`, a JSON object; nothing when there is none.
  Status Name(const std::string& principal, workflow::Date date, nlohmann::ordered_json* person);

 private:
  ledger::Ledger* ledger_;
  uint64_t known_at_;
  std::map<std::string, workflow::PrincipalState> people_;
};

}  // namespace ocop::replay
