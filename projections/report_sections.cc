#include "projections/report_sections.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "projections/id_index.h"
#include "projections/projections.h"
#include "projections/records.h"
#include "projections/report.h"
#include "projections/report_units.h"
#include "workflow/json.h"
#include "workflow/ocop.capnp.h"
#include "workflow/rules.h"
#include "workflow/state.h"

namespace ocop::projections {

using json = nlohmann::ordered_json;
using workflow::Date;

const char* const kSectionIndicators[] = {
    "woman_owned_share_of_producers",  // % of producers with an active certificate
    "new_products_recognised",         // new entries recognised in the period
    "cohort_reevaluated_share",        // % of the certificates of year-3 entered for re-evaluation
    "products_3_stars",                // active at the period's end, exactly 3 stars
    "products_4_stars",
    "producers_HTX",  // producers with an active certificate, by legal form
    "producers_THT",
    "producers_DN",  // DN with its kinds TNHH, CTCP, DNTN
    "producers_HKD",
    "producers_CSSX",
    "producers_TNHH",
    "producers_CTCP",
    "producers_DNTN",
    nullptr};

namespace {

// What the round needs of one product's acts in the window.
struct RoundAct {
  uint32_t product;  // interned
  uint64_t seq;
  enum Kind : uint8_t { kEntered, kCertified, kNotRecognised } kind;
  workflow::Entry entry;  // for kEntered
  uint8_t stars;          // for kCertified
  uint32_t subject;       // for kEntered: the producer when it entered (interned)
};

struct IdeaAct {
  uint64_t seq;
  uint32_t product;  // interned
  int unit;          // the reporting unit
  int year;          // cycle year (for a review, of the idea when reviewed)
  enum Kind { kRegistered, kSelected, kRejected } kind;
};

}  // namespace

size_t StarIndex(int stars) { return static_cast<size_t>(std::clamp(stars, 0, 5)); }

void TallyInto(const StarCounts& by, Tally* t) {
  for (size_t k = 0; k < by.size(); ++k) {
    if (by[k] == 0) continue;
    t->total += by[k];
    t->by_stars[std::to_string(k)] = by[k];
  }
}

json CountsJson(const Counts& c) {
  json j = json::object();
  for (const auto& [k, v] : c) j[k] = v;
  return j;
}

json StarsJson(const Tally& t) {
  Counts stars = t.by_stars;
  for (const char* s : {"3", "4", "5"}) stars.emplace(s, 0);
  return CountsJson(stars);
}

SectionFacts::SectionFacts(Date to) : to_(to) {
  unsigned m, d;
  workflow::ToCivil(to, &last_year_, &m, &d);
  for (size_t i = 0; i < year_ends_.size(); ++i) {
    int y = last_year_ - static_cast<int>(year_ends_.size() - 1 - i);
    year_spans_[i] = {workflow::FromCivil(y, 1, 1).days, workflow::FromCivil(y, 12, 31).days};
    year_ends_[i] = year_spans_[i].second;
  }
  // The months after the one `to` falls in (a period ends on a month's end
  // in both calendars' usual periods; for the reporting calendar, on the
  // 14th, whose month is then the first ahead).
  Date first = workflow::FromCivil(last_year_, m, 1);
  for (size_t i = 0; i < month_starts_.size(); ++i) {
    month_starts_[i] = workflow::AddMonths(first, static_cast<int>(i) + 1).days;
  }
  if (d < 28) {  // a period closing mid-month: its month's rest is ahead
    for (size_t i = 0; i < month_starts_.size(); ++i) {
      month_starts_[i] = workflow::AddMonths(first, static_cast<int>(i)).days;
    }
  }
}

void SectionFacts::Add(const FactHead& h, const FactCert& c, bool recognised_in_period,
                       bool in_force) {
  const int32_t from = c.valid_from, until = c.valid_until;
  for (size_t i = 0; i < year_ends_.size(); ++i) {
    if (year_spans_[i].first <= from && from <= year_spans_[i].second) ++year_recognised_[i];
    const int32_t e = year_ends_[i];
    if (from <= e && e <= until && e < c.ended_on && e <= to_.days) ++year_active_[i];
  }
  if (in_force && until > to_.days && until < month_starts_.back()) {
    auto it = std::upper_bound(month_starts_.begin(), month_starts_.end(), until);
    if (it != month_starts_.begin())
      ++by_month_[static_cast<size_t>(it - month_starts_.begin() - 1)];
  }
  const size_t stars = StarIndex(c.stars);
  if (h.woman_owned) {
    if (in_force) ++woman_active_[stars];
    if (recognised_in_period) ++woman_recognised_[stars];
  }
  if (in_force) active_groups_.Add(h.group_list, h.group);
}

void GroupNameCounts::NameInto(const std::vector<std::string>& lists, Counts* out) const {
  static const std::string kNone;
  for (size_t l = 0; l < lists_.size(); ++l) {
    const std::string& list = l < lists.size() ? lists[l] : kNone;
    const auto& codes = lists_[l];
    for (size_t g = 0; g < codes.size(); ++g) {
      if (!codes[g]) continue;
      std::string name = workflow::ReportGroupOf(list, static_cast<int>(g)).name;
      (*out)[name.empty() ? "none" : name] += codes[g];
    }
  }
}

void SectionFacts::Finish(const std::vector<std::string>& lists, ReportSections* out) const {
  for (size_t i = 0; i < year_ends_.size(); ++i) {
    int y = last_year_ - static_cast<int>(year_ends_.size() - 1 - i);
    out->trend[y] = ReportSections::YearPoint{year_recognised_[i], year_active_[i]};
  }
  for (size_t i = 0; i < by_month_.size(); ++i) {
    out->deadlines_by_month[workflow::FormatDate(Date{month_starts_[i]}).substr(0, 7)] =
        by_month_[i];
  }
  TallyInto(woman_active_, &out->woman_owned_active);
  TallyInto(woman_recognised_, &out->woman_owned_recognised);
  active_groups_.NameInto(lists, &out->active_by_group_name);
}

Status AddPeriodChanges(const ReadView& projections, const ReportQuery& q, ReportUnits* units,
                        std::mutex* units_mu, Report* out) {
  Date to = q.period.to;
  if (q.as_of && *q.as_of < to) to = *q.as_of;
  if (to < q.period.from) return Status::OK();
  // A grant counts while its product's state still holds it: one annulled
  // drops out at every recording point, as the product's state is the
  // current fold, where only an annulment takes a grant out.
  std::unordered_set<uint64_t> grants_annulled;
  Status s = projections.ForEachAnnulment(
      [&](uint64_t, uint64_t annuls) { grants_annulled.insert(annuls); });
  if (!s.ok()) return s;
  // The rows name units, sources, products and producers by the fold's
  // numbers: units and sources are named once at the end, products and
  // producers only counted.
  std::vector<std::string> unit_codes, sources;
  s = projections.ReportIds(IdKind::kUnit, &unit_codes);
  if (s.ok()) s = projections.ReportIds(IdKind::kSource, &sources);
  if (!s.ok()) return s;
  UnitNumbers unit_of(units, units_mu, &unit_codes);
  std::vector<bool> in_round;           // by product: a dossier of it entered in the window
  uint32_t products = 0, subjects = 0;  // one past the highest number met
  std::vector<RoundAct> round;
  std::vector<IdeaAct> ideas;
  std::unordered_set<uint64_t> annulled;  // by an annulment in the window
  // Support by reporting unit and by source (VND; `touched`: a grant was
  // counted there).
  std::vector<std::pair<uint64_t, bool>> support_by_unit, support_by_source;
  auto add = [](std::vector<std::pair<uint64_t, bool>>* to, uint32_t at, uint64_t amount) {
    if (at >= to->size()) to->resize(at + 1);
    (*to)[at].first += amount;
    (*to)[at].second = true;
  };
  s = projections.ForEachReportChange(
      q.period.from, to, q.known_at, [&](uint64_t seq, Date, const ChangeRow& c) {
        if (c.type == ChangeRow::kEventAnnulled) {
          annulled.insert(c.annuls);
          return;
        }
        const int unit = unit_of.Of(c.unit);
        if (unit < 0) return;  // outside the asked unit
        switch (c.type) {
          case ChangeRow::kSupportGranted:
            if (grants_annulled.count(seq)) return;
            out->support_total_vnd += c.amount_vnd;
            add(&support_by_source, c.source, c.amount_vnd);
            add(&support_by_unit, static_cast<uint32_t>(unit), c.amount_vnd);
            return;
          case ChangeRow::kDossierSubmitted:
            if (c.product >= in_round.size()) in_round.resize(c.product + 1);
            in_round[c.product] = true;
            products = std::max(products, c.product + 1);
            subjects = std::max(subjects, c.subject + 1);
            round.push_back(RoundAct{c.product, seq, RoundAct::kEntered,
                                     static_cast<workflow::Entry>(c.entry), 0, c.subject});
            return;
          case ChangeRow::kCertified:
          case ChangeRow::kDossierEnded:
            // Only a product with a dossier in the window: imports and
            // certificates of dossiers entered before the period are not the
            // round's.
            if (c.product >= in_round.size() || !in_round[c.product]) return;
            if (c.type == ChangeRow::kCertified) {
              round.push_back(
                  RoundAct{c.product, seq, RoundAct::kCertified, workflow::Entry::NEW, c.stars, 0});
            } else if (c.outcome ==
                       static_cast<uint8_t>(workflow::schema::DossierOutcome::NOT_RECOGNISED)) {
              round.push_back(
                  RoundAct{c.product, seq, RoundAct::kNotRecognised, workflow::Entry::NEW, 0, 0});
            }
            return;
          case ChangeRow::kIdeaRegistered:
          case ChangeRow::kIdeaReviewed: {
            // A review counts in the cycle year of the idea it reviews (see below).
            const IdeaAct::Kind kind = c.type == ChangeRow::kIdeaRegistered ? IdeaAct::kRegistered
                                       : c.selected                         ? IdeaAct::kSelected
                                                                            : IdeaAct::kRejected;
            products = std::max(products, c.product + 1);
            ideas.push_back(IdeaAct{seq, c.product, unit, c.cycle_year, kind});
            return;
          }
          default:
            return;
        }
      });
  if (!s.ok()) return s;
  ReportSections& sec = out->sections;
  for (size_t k = 0; k < support_by_source.size(); ++k) {
    if (support_by_source[k].second)
      out->support_by_source[k < sources.size() ? sources[k] : ""] += support_by_source[k].first;
  }
  for (size_t u = 0; u < support_by_unit.size(); ++u) {
    if (support_by_unit[u].second)
      sec.support_by_unit[units->Code(static_cast<int>(u))] += support_by_unit[u].first;
  }

  // The round: each dossier with the first outcome after it and before the
  // product's next dossier. Producers are counted once per entry kind (and
  // in all) by a flag each.
  std::sort(round.begin(), round.end(), [](const RoundAct& a, const RoundAct& b) {
    return a.product != b.product ? a.product < b.product : a.seq < b.seq;
  });
  struct Kind {
    RoundLine* line;
    std::vector<bool> entered, recognised;  // by producer
  };
  std::map<workflow::Entry, Kind> kinds;
  std::vector<bool> participants(subjects), recognised_producers(subjects);
  auto first_time = [](std::vector<bool>* seen, uint32_t who) {
    if ((*seen)[who]) return false;
    (*seen)[who] = true;
    return true;
  };
  for (size_t i = 0; i < round.size(); ++i) {
    const RoundAct& act = round[i];
    if (act.kind != RoundAct::kEntered || annulled.count(act.seq)) continue;
    auto k = kinds.find(act.entry);
    if (k == kinds.end()) {
      RoundLine* line = &sec.round.by_entry[std::string(workflow::EnumName(act.entry))];
      k = kinds
              .emplace(act.entry,
                       Kind{line, std::vector<bool>(subjects), std::vector<bool>(subjects)})
              .first;
    }
    Kind& kind = k->second;
    RoundLine& line = *kind.line;
    ++line.entered;
    ++sec.round.total.entered;
    line.entered_producers += first_time(&kind.entered, act.subject);
    sec.round.total.entered_producers += first_time(&participants, act.subject);
    const RoundAct* outcome = nullptr;
    for (size_t j = i + 1; j < round.size() && round[j].product == act.product; ++j) {
      if (annulled.count(round[j].seq)) continue;
      if (round[j].kind == RoundAct::kEntered) break;
      outcome = &round[j];
      break;
    }
    if (!outcome) {
      ++line.pending;
      ++sec.round.total.pending;
    } else if (outcome->kind == RoundAct::kCertified) {
      line.recognised.Add(outcome->stars);
      sec.round.total.recognised.Add(outcome->stars);
      line.recognised_producers += first_time(&kind.recognised, act.subject);
      sec.round.total.recognised_producers += first_time(&recognised_producers, act.subject);
    } else {
      ++line.not_recognised;
      ++sec.round.total.not_recognised;
    }
  }

  // Ideas: a review counts in the cycle year of the idea it reviews, the
  // product's registration in the window if one counts, else the cycle
  // year the product had when it was reviewed.
  std::vector<int> year_of(products, -1);
  for (const IdeaAct& a : ideas) {
    if (a.kind == IdeaAct::kRegistered && !annulled.count(a.seq)) year_of[a.product] = a.year;
  }
  std::vector<std::pair<IdeaCounts, bool>> by_unit;  // by reporting unit; counted there
  for (const IdeaAct& a : ideas) {
    if (annulled.count(a.seq)) continue;
    int year = a.year;
    if (a.kind != IdeaAct::kRegistered && year_of[a.product] >= 0) year = year_of[a.product];
    if (static_cast<size_t>(a.unit) >= by_unit.size())
      by_unit.resize(static_cast<size_t>(a.unit) + 1);
    by_unit[static_cast<size_t>(a.unit)].second = true;
    for (IdeaCounts* c : {&sec.ideas, &by_unit[static_cast<size_t>(a.unit)].first,
                          &sec.ideas_by_cycle_year[year]}) {
      if (a.kind == IdeaAct::kRegistered) ++c->registered;
      if (a.kind == IdeaAct::kSelected) ++c->selected;
      if (a.kind == IdeaAct::kRejected) ++c->rejected;
    }
  }
  for (size_t u = 0; u < by_unit.size(); ++u) {
    if (by_unit[u].second) sec.ideas_by_unit[units->Code(static_cast<int>(u))] = by_unit[u].first;
  }
  return Status::OK();
}

double SharePercent(uint64_t part, uint64_t whole) {
  if (whole == 0) return 0;
  return std::round(10000.0 * static_cast<double>(part) / static_cast<double>(whole)) / 100.0;
}

bool IsEnterpriseKind(const std::string& form) {
  return form == "DN" || form == "TNHH" || form == "CTCP" || form == "DNTN";
}

Counts LegalFormsGrouped(const Counts& by_form) {
  Counts out;
  for (const auto& [form, n] : by_form) out[IsEnterpriseKind(form) ? "DN" : form] += n;
  return out;
}

Status SectionTargetActual(const ReadView& projections, const ReportQuery& q, const Report& r,
                           const std::string& indicator, int year, std::optional<double>* actual) {
  auto stars = [&](const char* k) -> double {
    auto it = r.active_at_end.by_stars.find(k);
    return it == r.active_at_end.by_stars.end() ? 0.0 : static_cast<double>(it->second);
  };
  if (indicator == "woman_owned_share_of_producers") {
    *actual = SharePercent(r.subjects_woman_owned, r.subjects_at_end);
  } else if (indicator == "new_products_recognised") {
    auto it = r.recognised_by_entry.find("new");
    *actual = it == r.recognised_by_entry.end() ? 0.0 : static_cast<double>(it->second.total);
  } else if (indicator == "products_3_stars") {
    *actual = stars("3");
  } else if (indicator == "products_4_stars") {
    *actual = stars("4");
  } else if (indicator.rfind("producers_", 0) == 0) {
    const std::string form = indicator.substr(10);
    const Counts grouped = LegalFormsGrouped(r.subjects_by_legal_form);
    const Counts& from = form == "DN" ? grouped : r.subjects_by_legal_form;
    auto it = from.find(form);
    bool known = false;
    for (const char* const* k = kSectionIndicators; *k; ++k) known = known || indicator == *k;
    if (!known) return Status::OK();
    *actual = it == from.end() ? 0.0 : static_cast<double>(it->second);
  } else if (indicator == "cohort_reevaluated_share") {
    // The certificates issued three years before the target's year fall due
    // in it: the share of them entered for re-evaluation by the period's end.
    Cohort c;
    Date as_of = q.as_of && *q.as_of < q.period.to ? *q.as_of : q.period.to;
    Status s = BuildCohort(projections, year - 3, as_of, q.unit, &c, q.known_at);
    if (!s.ok()) return s;
    *actual = SharePercent(c.entered, c.due);
  }
  return Status::OK();
}

void AddSectionsJson(const Report& r, json* report) {
  const ReportSections& s = r.sections;
  auto line_json = [](const RoundLine& l) {
    return json{{"total", l.recognised.total},
                {"by_stars", StarsJson(l.recognised)},
                {"producers", l.recognised_producers}};
  };
  json entered = json::object(), recognised = json::object(), not_recognised = json::object(),
       pending = json::object();
  for (const char* e : {"new", "renewal", "upgrade"}) {
    auto it = s.round.by_entry.find(e);
    RoundLine l = it == s.round.by_entry.end() ? RoundLine() : it->second;
    entered[e] = {{"total", l.entered}, {"producers", l.entered_producers}};
    recognised[e] = line_json(l);
    not_recognised[e] = l.not_recognised;
    pending[e] = l.pending;
  }
  recognised["total"] = line_json(s.round.total);
  (*report)["round"] = {{"entered", entered},
                        {"participants", s.round.total.entered_producers},
                        {"not_recognised", s.round.total.not_recognised},
                        {"entered_total", s.round.total.entered},
                        {"recognised", recognised},
                        {"not_recognised_by_entry", not_recognised},
                        {"pending", s.round.total.pending},
                        {"pending_by_entry", pending}};
  (*report)["woman_owned_products"] = {{"total", s.woman_owned_active.total},
                                       {"by_stars", StarsJson(s.woman_owned_active)},
                                       {"producers", r.subjects_woman_owned},
                                       {"recognised_in_period",
                                        {{"total", s.woman_owned_recognised.total},
                                         {"by_stars", StarsJson(s.woman_owned_recognised)}}}};
  json forms = json::object();
  const Counts grouped = LegalFormsGrouped(r.subjects_by_legal_form);
  for (const auto& [form, n] : grouped) {
    json f{{"total", n}, {"share", SharePercent(n, r.subjects_at_end)}};
    if (form == "DN") {
      json kinds = json::object();
      for (const auto& [k, m] : r.subjects_by_legal_form) {
        if (IsEnterpriseKind(k)) kinds[k] = m;
      }
      f["kinds"] = kinds;
    }
    forms[form] = f;
  }
  (*report)["producers_at_end"] = {
      {"total", r.subjects_at_end},
      {"woman_owned",
       {{"total", r.subjects_woman_owned},
        {"share", SharePercent(r.subjects_woman_owned, r.subjects_at_end)}}},
      {"by_legal_form", forms}};
  (*report)["active_at_end"]["by_group_name"] = CountsJson(s.active_by_group_name);
  (*report)["support"]["by_unit"] = CountsJson(s.support_by_unit);
  auto ideas_json = [](const IdeaCounts& c) {
    return json{{"registered", c.registered}, {"selected", c.selected}, {"rejected", c.rejected}};
  };
  json by_unit = json::object(), by_year = json::object();
  for (const auto& [u, c] : s.ideas_by_unit) by_unit[u] = ideas_json(c);
  for (const auto& [y, c] : s.ideas_by_cycle_year) by_year[std::to_string(y)] = ideas_json(c);
  json trend = json::object();
  for (const auto& [y, p] : s.trend) {
    trend[std::to_string(y)] = {{"recognised", p.recognised}, {"active", p.active}};
  }
  (*report)["trend"] = trend;
  (*report)["deadlines_by_month"] = CountsJson(s.deadlines_by_month);
  json ideas = ideas_json(s.ideas);
  ideas["by_unit"] = by_unit;
  ideas["by_cycle_year"] = by_year;
  (*report)["ideas"] = ideas;
}

}  // namespace ocop::projections
