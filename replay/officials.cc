#include "replay/officials.h"

#include "workflow/stream_fold.h"
#include "workflow/stream_id.h"

namespace ocop::replay {

Status Officials::On(const std::string& principal, workflow::Date date,
                     const workflow::Official** out) {
  auto it = people_.find(principal);
  if (it == people_.end()) {
    workflow::StreamFold fold;
    Status s =
        workflow::LoadStream(ledger_, workflow::PrincipalStream(principal), &fold, known_at_);
    if (!s.ok()) return s;
    it = people_.emplace(principal, workflow::PrincipalState{}).first;
    fold.Fold(&it->second);
  }
  *out = it->second.OfficialOn(date);
  return Status::OK();
}

Status Officials::Name(const std::string& principal, workflow::Date date,
                       nlohmann::ordered_json* person) {
  const workflow::Official* o = nullptr;
  Status s = On(principal, date, &o);
  if (!s.ok() || !o) return s;
  (*person)["name"] = o->name;
  (*person)["title"] = o->title;
  if (!o->office.empty()) (*person)["office"] = o->office;
  return Status::OK();
}

}  // namespace ocop::replay
