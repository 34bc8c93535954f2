#include "projections/status_json.h"

#include <algorithm>

#include "workflow/json.h"
#include "workflow/rules.h"

namespace ocop::projections {

using workflow::FormatDate;

namespace {

// The latest dossier: which step it reached (submitted, scored, forwarded,
// ended), its latest score and stars, and its outcome (null while open).
nlohmann::ordered_json DossierJson(const workflow::ProductState& p) {
  using json = nlohmann::ordered_json;
  if (!p.dossier) return nullptr;
  const workflow::Dossier& d = *p.dossier;
  std::string step = d.outcome           ? "ended"
                     : d.forwarded_to    ? "forwarded"
                     : !d.scores.empty() ? "scored"
                                         : "submitted";
  json j{{"entry", std::string(workflow::EnumName(d.entry))},
         {"cycle_year", d.cycle_year},
         {"step", step},
         {"score", d.scores.empty() ? json(nullptr) : json(d.scores.back().total)},
         {"stars", d.scores.empty() ? json(nullptr) : json(d.scores.back().stars)},
         {"outcome", !d.outcome ? json(nullptr)
                     : *d.outcome == workflow::schema::DossierOutcome::RECOGNISED
                         ? json("recognised")
                         : json("not_recognised")}};
  return j;
}

// A group code is shown with its name and the list it belongs to ("QĐ 919").
nlohmann::ordered_json GroupNameJson(const workflow::ProductState& p) {
  std::string name = p.group ? workflow::GroupName(p.group_list, p.group) : "";
  return name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(name);
}
nlohmann::ordered_json GroupListJson(const workflow::ProductState& p) {
  auto list = p.group ? workflow::FindGroupList(p.group_list) : std::nullopt;
  return list ? nlohmann::ordered_json(list->getName().cStr()) : nlohmann::ordered_json(nullptr);
}

}  // namespace

nlohmann::ordered_json StatusJson(const workflow::ProductState& p, workflow::Date as_of) {
  using json = nlohmann::ordered_json;
  const workflow::Certificate* active = p.ActiveOn(as_of);
  json j{{"product", p.id},
         {"name", p.name},
         {"subject", p.subject},
         {"unit", p.unit},
         {"group", p.group == 0 ? json(nullptr) : json(p.group)},
         {"group_name", GroupNameJson(p)},
         {"group_list", GroupListJson(p)},
         {"stage", std::string(workflow::StageName(p.StageOn(as_of)))},
         {"stars", active ? json(active->stars) : json(nullptr)},
         {"as_of", FormatDate(as_of)}};
  if (active) {
    j["certificate"] = json{{"no", active->no},
                            {"decision",
                             {{"no", active->decision.no},
                              {"date", FormatDate(active->decision.date)},
                              {"issuer", active->decision.issuer}}},
                            {"valid_from", FormatDate(active->valid_from)},
                            {"valid_until", FormatDate(active->valid_until)},
                            {"days_left", active->valid_until - as_of},
                            {"entry", std::string(workflow::EnumName(active->entry))},
                            {"fewer_stars", active->fewer_stars}};
  } else {
    j["certificate"] = nullptr;
  }
  json history = json::array();
  for (const auto& c : p.certificates) {
    if (c.valid_from > as_of) continue;
    // The first day out of force: ended early, or lapsed after valid_until.
    std::optional<workflow::Date> to = c.ended_on;
    if (!to || *to > c.valid_until + 1) to = c.valid_until + 1;
    bool still = as_of < *to;
    json h{{"stars", c.stars},
           {"from", FormatDate(c.valid_from)},
           {"to", still ? json(nullptr) : json(FormatDate(*to))},
           {"decision", c.decision.no},
           {"certificate", c.no},
           {"seq", c.seq}};
    if (c.revoked && !still)
      h["ended"] = "revoked";
    else if (!c.superseded_by.empty() && !still)
      h["ended"] = "superseded";
    else if (!still)
      h["ended"] = "expired";
    history.push_back(std::move(h));
  }
  j["star_history"] = std::move(history);
  j["imported"] = p.imported;
  j["certificate_state"] = std::string(p.CertificateStateOn(as_of));
  j["dossier"] = DossierJson(p);
  return j;
}

}  // namespace ocop::projections
