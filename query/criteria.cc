// criteria: the criteria sets (scoring sheets) of the rules in force.
#include "query/queries.h"

#include <optional>

#include "workflow/criteria.h"

#include "query/arguments.h"

namespace ocop::query {

using workflow::Date;

Status QueryCriteria(const CriteriaQuery& q, Json* out) {
  std::optional<Date> on;
  if (!q.on.empty()) {
    Date d;
    if (!workflow::ParseDate(q.on, &d)) {
      return Status::InvalidArgument("on must be a date YYYY-MM-DD; got '" + q.on + "'");
    }
    on = d;
  }
  Json sets = Json::array();
  for (const workflow::CriteriaSet* set : workflow::CriteriaSetsOn(on)) {
    if (!q.set.empty() && set->id != q.set) continue;
    Json criteria = Json::array();
    for (const auto& c : set->criteria) {
      Json k{{"id", c.id},   {"part", c.part}, {"sub_part", c.sub_part},
             {"max", c.max}, {"hard", c.hard}, {"text_vi", c.text_vi}};
      if (c.hard) {
        Json levels = Json::array();
        for (const auto& [stars, points] : c.hard_levels) {
          levels.push_back(Json{{"stars", stars}, {"points", points}});
        }
        k["hard_levels"] = levels;
        if (!c.hard_note_vi.empty()) k["hard_note_vi"] = c.hard_note_vi;
      }
      criteria.push_back(std::move(k));
    }
    Json sub_parts = Json::array();
    for (const auto& sp : set->sub_parts) {
      sub_parts.push_back(Json{{"id", sp.id},
                               {"part", sp.part},
                               {"name_vi", sp.name_vi},
                               {"max", sp.max ? Json(*sp.max) : Json(nullptr)}});
    }
    sets.push_back(Json{
        {"id", set->id},
        {"title", set->title},
        {"rules", set->rules},
        {"rules_text", set->rules_text},
        {"group_list", set->group_list},
        {"groups", set->groups},
        {"complete", set->complete},
        {"source", set->source},
        {"note", set->note},
        {"sums", {{"A", set->PartSum("A")}, {"B", set->PartSum("B")}, {"C", set->PartSum("C")}}},
        {"sub_parts", sub_parts},
        {"criteria", criteria}});
  }
  if (!q.set.empty() && sets.empty()) {
    std::string known;
    for (const workflow::CriteriaSet* s : workflow::CriteriaSetsOn(on)) {
      known += (known.empty() ? "" : ", ") + s->id;
    }
    return Status::InvalidArgument("no criteria set '" + q.set + "'" +
                                   (on ? " in force on " + q.on : std::string()) + "; there are " +
                                   (known.empty() ? std::string("none") : known));
  }
  Json structure = Json::parse(workflow::CriteriaStructureText(), nullptr, false);
  *out = Json{{"on", on ? Json(q.on) : Json(nullptr)},
              {"frameworks",
               structure.is_discarded() ? Json(nullptr) : structure.value("frameworks", Json())},
              {"sets", sets}};
  return Status::OK();
}

}  // namespace ocop::query
