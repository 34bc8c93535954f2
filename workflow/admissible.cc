#include "workflow/admissible.h"

#include <algorithm>
#include <map>

namespace ocop::workflow {

using P = schema::Payload;

ProductState StateOn(const std::vector<ProductEvent>& events, Date date) {
  ProductState s;
  for (const ProductEvent& e : events) {
    if (e.effective <= date) s = Evolve(std::move(s), e.Ref());
  }
  return s;
}

Status Admissible(const ProductState& before, const EventRef& e) {
  auto p = e.payload;
  Date d = e.effective;
  auto at = [&](std::string_view what) {
    return Status::Refused(std::string(what) + " on " + FormatDate(d) +
                           ", when the product was at stage " +
                           std::string(StageName(before.StageOn(d))));
  };
  switch (p.which()) {
    case P::IDEA_REVIEWED:
      if (before.StageOn(d) != Stage::kIdeaRegistered) return at("an idea reviewed");
      break;
    case P::PLAN_SUBMITTED:
      if (before.StageOn(d) != Stage::kIdeaSelected && before.StageOn(d) != Stage::kPlanRejected)
        return at("a plan submitted");
      break;
    case P::PLAN_REVIEWED:
      if (before.StageOn(d) != Stage::kPlanSubmitted) return at("a plan reviewed");
      break;
    case P::DOSSIER_SUBMITTED: {
      auto c = p.getDossierSubmitted();
      const Dossier* open = before.OpenDossier();
      if (open && open->cycle_year >= c.getCycleYear())
        return at("a dossier submitted beside an open one");
      const Certificate* active = before.ActiveOn(d);
      if (c.getEntry() == Entry::NEW) {
        if (active) return at("a new entry submitted while a certificate was in force");
        if (!(before.plan_approved || before.direct_entry || before.imported ||
              !before.certificates.empty()))
          return at("a new entry submitted without an approved plan");
      } else if (!active) {
        return at("a renewal or upgrade submitted with no certificate in force");
      }
      break;
    }
    case P::SCORE_RECORDED:
    case P::DOSSIER_ENDED:
      if (!before.OpenDossier()) return at("a dossier scored or ended with none open");
      break;
    case P::FORWARDED:
    case P::CERTIFIED:
      if (p.isCertified() && p.getCertified().getEntry() == Entry::IMPORT) break;
      if (!before.OpenDossier() || before.OpenDossier()->scores.empty())
        return at("a dossier forwarded or decided with no scored dossier open");
      break;
    case P::INSPECTION_RECORDED:
    case P::PROMOTION_RECORDED:
      if (!before.ActiveOn(d))
        return at("an act on a recognised product with no certificate in force");
      break;
    default:
      break;
  }
  return Status::OK();
}

bool SetsStage(schema::Payload::Reader p) {
  switch (p.which()) {
    case P::IDEA_REGISTERED:
    case P::PRODUCT_REGISTERED:
    case P::IDEA_REVIEWED:
    case P::PLAN_SUBMITTED:
    case P::PLAN_REVIEWED:
    case P::DOSSIER_SUBMITTED:
    case P::SCORE_RECORDED:
    case P::DOSSIER_ENDED:
    case P::CERTIFIED:
    case P::RATING_REVOKED:
      return true;
    default:
      return false;
  }
}

namespace {

// The events in effective-date order (record order within a date), each
// with whether it was admissible after those before it.
std::vector<std::pair<const ProductEvent*, Status>> InDateOrder(
    const std::vector<const ProductEvent*>& events) {
  std::vector<const ProductEvent*> order = events;
  std::stable_sort(order.begin(), order.end(), [](const ProductEvent* a, const ProductEvent* b) {
    return a->effective < b->effective;
  });
  std::vector<std::pair<const ProductEvent*, Status>> out;
  ProductState s;
  for (const ProductEvent* e : order) {
    EventRef ref = e->Ref();
    out.emplace_back(e, Admissible(s, ref));
    s = Evolve(std::move(s), ref);
  }
  return out;
}

}  // namespace

Status LaterActsStayLegal(const std::vector<ProductEvent>& recorded,
                          const std::vector<ProductEvent>& added, Date effective) {
  std::vector<const ProductEvent*> old_events, new_events;
  for (const ProductEvent& e : recorded) old_events.push_back(&e);
  new_events = old_events;
  for (const ProductEvent& e : added) new_events.push_back(&e);
  std::map<const ProductEvent*, bool> was_ok;
  for (const auto& [e, s] : InDateOrder(old_events)) was_ok[e] = s.ok();
  for (const auto& [e, s] : InDateOrder(new_events)) {
    if (e->effective <= effective || s.ok() || !was_ok.count(e) || !was_ok[e]) continue;
    return Status::Refused("dated " + FormatDate(effective) + ", this act would make event " +
                           std::to_string(e->seq) + " (" + e->type + " of " +
                           FormatDate(e->effective) +
                           "), recorded before it, illegal: " + s.message() +
                           "; to change the past, annul that record with AnnulEvent first");
  }
  return Status::OK();
}

}  // namespace ocop::workflow
