#include "projections/report_sections.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "projections/projections.h"
#include "projections/report.h"
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

size_t StarIndex(int stars) { return static_cast<size_t>(std::clamp(stars, 0, 5)); }

void TallyInto(const std::array<uint64_t, 6>& by, Tally* t) {
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

// What the round needs of one product's acts in the window, by seq.
struct RoundAct {
  uint64_t seq;
  enum Kind { kEntered, kCertified, kNotRecognised } kind;
  workflow::Entry entry;  // for kEntered
  int stars;              // for kCertified
  std::string subject;    // for kEntered: the producer when it entered
};

struct IdeaAct {
  uint64_t seq;
  std::string product, unit;  // unit: the reporting bucket
  int year;                   // cycle year (for a review, of the idea when reviewed)
  enum Kind { kRegistered, kSelected, kRejected } kind;
};

}  // namespace

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

void SectionFacts::Add(schema::CertificateFact::Reader f, int32_t ended_on,
                       bool recognised_in_period, bool in_force) {
  const int32_t from = f.getValidFrom(), until = f.getValidUntil();
  for (size_t i = 0; i < year_ends_.size(); ++i) {
    if (year_spans_[i].first <= from && from <= year_spans_[i].second) ++year_recognised_[i];
    const int32_t e = year_ends_[i];
    if (from <= e && e <= until && e < ended_on && e <= to_.days) ++year_active_[i];
  }
  if (in_force && until > to_.days && until < month_starts_.back()) {
    auto it = std::upper_bound(month_starts_.begin(), month_starts_.end(), until);
    if (it != month_starts_.begin())
      ++by_month_[static_cast<size_t>(it - month_starts_.begin() - 1)];
  }
  const size_t stars = StarIndex(f.getStars());
  if (f.getWomanOwned()) {
    if (in_force) ++woman_active_[stars];
    if (recognised_in_period) ++woman_recognised_[stars];
  }
  if (!in_force) return;
  auto list = f.getGroupList();
  auto it = std::find_if(active_groups_.begin(), active_groups_.end(), [&](const auto& g) {
    return g.first.size() == list.size() && g.first == list.cStr();
  });
  if (it == active_groups_.end()) {
    active_groups_.emplace_back(list.cStr(), std::array<uint64_t, 256>{});
    it = active_groups_.end() - 1;
  }
  ++it->second[f.getGroup()];
}

void SectionFacts::Finish(ReportSections* out) const {
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
  for (const auto& [list, codes] : active_groups_) {
    for (size_t g = 0; g < codes.size(); ++g) {
      if (!codes[g]) continue;
      std::string name = workflow::ReportGroupOf(list, static_cast<int>(g)).name;
      out->active_by_group_name[name.empty() ? "none" : name] += codes[g];
    }
  }
}

Status AddPeriodChanges(const ReadView& projections, const ReportQuery& q,
                        const std::function<std::string(const std::string&)>& bucket, Report* out) {
  Date to = q.period.to;
  if (q.as_of && *q.as_of < to) to = *q.as_of;
  if (to < q.period.from) return Status::OK();
  std::unordered_map<std::string, std::string> buckets;  // product's unit -> reported under
  auto bucket_of = [&](const std::string& unit) -> const std::string& {
    auto it = buckets.find(unit);
    if (it == buckets.end()) it = buckets.emplace(unit, bucket(unit)).first;
    return it->second;
  };
  // A grant counts while its product's state still holds it: one annulled
  // drops out at every recording point, as the product's state is the
  // current fold, where only an annulment takes a grant out.
  std::unordered_set<uint64_t> grants_annulled;
  Status s = projections.ForEachAnnulment(
      [&](uint64_t, uint64_t annuls) { grants_annulled.insert(annuls); });
  if (!s.ok()) return s;
  std::unordered_map<std::string, std::vector<RoundAct>> round;  // product -> its acts
  std::vector<IdeaAct> ideas;
  std::unordered_set<uint64_t> annulled;  // by an annulment in the window
  s = projections.ForEachReportChange(
      q.period.from, to, q.known_at, [&](uint64_t seq, Date, schema::Change::Reader c) {
        std::string_view type(c.getType().cStr(), c.getType().size());
        if (type == "EventAnnulled") {
          annulled.insert(c.getAnnuls());
          return;
        }
        const std::string& unit = bucket_of(c.getUnit().cStr());
        if (unit.empty()) return;  // outside the asked unit
        std::string product = c.getProduct().cStr();
        if (type == "SupportGranted") {
          if (grants_annulled.count(seq)) return;
          out->support_total_vnd += c.getAmountVnd();
          out->support_by_source[c.getSource().cStr()] += c.getAmountVnd();
          out->sections.support_by_unit[unit] += c.getAmountVnd();
        } else if (type == "DossierSubmitted") {
          round[product].push_back(
              RoundAct{seq, RoundAct::kEntered, c.getEntry(), 0, c.getSubject().cStr()});
        } else if (type == "Certified") {
          // Only a product with a dossier in the window: imports and
          // certificates of dossiers entered before the period are not the
          // round's.
          auto it = round.find(product);
          if (it != round.end()) {
            it->second.push_back(
                RoundAct{seq, RoundAct::kCertified, workflow::Entry::NEW, c.getStars(), {}});
          }
        } else if (type == "DossierEnded") {
          auto it = round.find(product);
          if (it != round.end() &&
              c.getOutcome() == workflow::schema::DossierOutcome::NOT_RECOGNISED) {
            it->second.push_back(
                RoundAct{seq, RoundAct::kNotRecognised, workflow::Entry::NEW, 0, {}});
          }
        } else if (type == "IdeaRegistered") {
          ideas.push_back(IdeaAct{seq, product, unit, c.getCycleYear(), IdeaAct::kRegistered});
        } else if (type == "IdeaReviewed") {
          // Counted in the cycle year of the idea it reviews (see below).
          ideas.push_back(IdeaAct{seq, product, unit, c.getCycleYear(),
                                  c.getSelected() ? IdeaAct::kSelected : IdeaAct::kRejected});
        }
      });
  if (!s.ok()) return s;

  // The round: each dossier with the first outcome after it and before the
  // product's next dossier.
  ReportSections& sec = out->sections;
  std::map<std::string, std::set<std::string>> entered_by, recognised_by;  // entry -> producers
  std::set<std::string> participants, recognised_producers;
  for (auto& [product, acts] : round) {
    std::sort(acts.begin(), acts.end(),
              [](const RoundAct& a, const RoundAct& b) { return a.seq < b.seq; });
    for (size_t i = 0; i < acts.size(); ++i) {
      if (acts[i].kind != RoundAct::kEntered || annulled.count(acts[i].seq)) continue;
      const std::string& subject = acts[i].subject;
      const std::string kind(workflow::EnumName(acts[i].entry));
      RoundLine& line = sec.round.by_entry[kind];
      ++line.entered;
      ++sec.round.total.entered;
      entered_by[kind].insert(subject);
      participants.insert(subject);
      const RoundAct* outcome = nullptr;
      for (size_t j = i + 1; j < acts.size(); ++j) {
        if (annulled.count(acts[j].seq)) continue;
        if (acts[j].kind == RoundAct::kEntered) break;
        outcome = &acts[j];
        break;
      }
      if (!outcome) {
        ++line.pending;
        ++sec.round.total.pending;
      } else if (outcome->kind == RoundAct::kCertified) {
        line.recognised.Add(outcome->stars);
        sec.round.total.recognised.Add(outcome->stars);
        recognised_by[kind].insert(subject);
        recognised_producers.insert(subject);
      } else {
        ++line.not_recognised;
        ++sec.round.total.not_recognised;
      }
    }
  }
  for (auto& [kind, line] : sec.round.by_entry) {
    line.entered_producers = entered_by[kind].size();
    line.recognised_producers = recognised_by[kind].size();
  }
  sec.round.total.entered_producers = participants.size();
  sec.round.total.recognised_producers = recognised_producers.size();

  // Ideas: a review counts in the cycle year of the idea it reviews, the
  // product's registration in the window if one counts, else the cycle
  // year the product had when it was reviewed.
  std::unordered_map<std::string, int> year_of;
  for (const IdeaAct& a : ideas) {
    if (a.kind == IdeaAct::kRegistered && !annulled.count(a.seq)) year_of[a.product] = a.year;
  }
  for (const IdeaAct& a : ideas) {
    if (annulled.count(a.seq)) continue;
    int year = a.year;
    if (a.kind != IdeaAct::kRegistered) {
      auto it = year_of.find(a.product);
      if (it != year_of.end()) year = it->second;
    }
    for (IdeaCounts* c : {&sec.ideas, &sec.ideas_by_unit[a.unit], &sec.ideas_by_cycle_year[year]}) {
      if (a.kind == IdeaAct::kRegistered) ++c->registered;
      if (a.kind == IdeaAct::kSelected) ++c->selected;
      if (a.kind == IdeaAct::kRejected) ++c->rejected;
    }
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
