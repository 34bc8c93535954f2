#include "projections/report.h"

#include <algorithm>
#include <array>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "projections/records.h"
#include "projections/unit_tree.h"
#include "workflow/json.h"
#include "workflow/rules.h"

namespace ocop::projections {

using workflow::Date;
using workflow::FormatDate;
using workflow::FromCivil;
using json = nlohmann::ordered_json;

const char* const kKnownIndicators[] = {
    "recognised",                // certificates issued in the period
    "products_3_stars_or_more",  // active at the period's end
    "products_5_stars",          // active at the period's end
    "htx_share_of_producers",    // % of producers with an active certificate that are HTX
    "dn_share_of_producers",     // % of those that are enterprises (DN)
    nullptr};

namespace {

std::pair<std::string, int> ReportGroupKey(capnp::Text::Reader list, int code) {
  return {list.cStr(), code};
}

bool In(int32_t day, const Period& p) { return p.from.days <= day && day <= p.to.days; }

json CountsJson(const Counts& c) {
  json j = json::object();
  for (const auto& [k, v] : c) j[k] = v;
  return j;
}

json TallyJson(const Tally& t) {
  Counts stars = t.by_stars;
  for (const char* s : {"3", "4", "5"}) stars.emplace(s, 0);
  return json{{"total", t.total}, {"by_stars", CountsJson(stars)}};
}

}  // namespace

// Calls fn with every certificate as recorded by known_at and as it stood on
// as_of: one not yet issued is left out, an end not yet reached is undone.
Status ForEachFactSeen(const ReadView& projections, uint64_t known_at,
                       const std::optional<Date>& as_of,
                       const std::function<void(const FactSeen&)>& fn) {
  auto see = [&](schema::CertificateFact::Reader f) {
    FactSeen v{f, f.getEndedOn(), f.getRevoked(), f.getRenewed(), f.getRenewalEntered()};
    if (as_of) {
      if (f.getValidFrom() > as_of->days) return;
      // A renewal dossier that came in after as_of had not been entered then.
      if (f.getRenewalEnteredOn() > as_of->days) v.entered = false;
      if (v.ended_on > as_of->days) {
        v.ended_on = kNeverEnded;
        v.revoked = v.renewed = false;
      }
    }
    fn(v);
  };
  if (known_at != 0) return projections.ForEachFactKnownAt(known_at, see);
  return projections.ForEachFact(see);
}

Status ParsePeriod(const std::string& text, Period* out) {
  auto bad = [&] {
    return Status::InvalidArgument("period '" + text +
                                   "' is not one of YYYY, YYYY-H1, YYYY-H2, YYYY-Q1..Q4, YYYY-MM");
  };
  if (text.size() < 4) return bad();
  for (int i = 0; i < 4; ++i) {
    if (!isdigit(static_cast<unsigned char>(text[i]))) return bad();
  }
  int year = std::stoi(text.substr(0, 4));
  unsigned first = 1, last = 12;
  if (text.size() == 4) {
  } else if (text.size() == 7 && text[4] == '-' && text[5] == 'H' &&
             (text[6] == '1' || text[6] == '2')) {
    first = text[6] == '1' ? 1 : 7;
    last = first + 5;
  } else if (text.size() == 7 && text[4] == '-' && text[5] == 'Q' && text[6] >= '1' &&
             text[6] <= '4') {
    first = static_cast<unsigned>(text[6] - '1') * 3 + 1;
    last = first + 2;
  } else if (text.size() == 7 && text[4] == '-' && isdigit(static_cast<unsigned char>(text[5])) &&
             isdigit(static_cast<unsigned char>(text[6]))) {
    first = last = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
    if (first < 1 || first > 12) return bad();
  } else {
    return bad();
  }
  out->from = FromCivil(year, first, 1);
  out->to = workflow::AddMonths(FromCivil(year, last, 1), 1) + -1;
  return Status::OK();
}

Status BuildReport(const ReadView& projections, const ReportQuery& q, Report* out) {
  *out = Report();
  out->period = q.period;
  out->unit = q.unit;
  out->known_at = q.known_at;
  out->as_of = q.as_of;
  UnitTree tree;
  Status s = UnitTree::Load(projections, q.unit, &tree);
  if (!s.ok()) return s;
  const Date end = q.period.to;

  // The unit a fact is reported under, at the end of the period: the child
  // of the asked unit (or the top-level unit when none was asked).
  auto bucket = [&](const std::string& unit) -> std::string {
    if (!q.unit.empty()) return tree.ChildUnder(unit, q.unit, end);
    std::string cur = unit;
    for (int guard = 0; guard < 16; ++guard) {
      const auto* u = tree.Find(cur);
      if (!u) return cur;
      if (u->retired && u->retired_on <= end && !u->successor.empty()) {
        cur = u->successor;
      } else if (!u->parent.empty() && tree.Find(u->parent) &&
                 tree.Find(u->parent)->level != workflow::UnitLevel::NATIONAL) {
        cur = u->parent;
      } else {
        return cur;
      }
    }
    return cur;
  };

  // Counted in dense arrays while the certificates stream past (a national
  // report sees two hundred thousand), turned into the report's labelled
  // counts once at the end. Units are numbered in the order first seen.
  using Stars = std::array<uint64_t, 6>;  // index: stars 0..5
  struct UnitCounts {
    std::string code;
    uint64_t recognised = 0, active = 0;
    Stars active_stars{};
  };
  std::vector<UnitCounts> unit_counts;
  std::unordered_map<std::string, int>
      bucket_index;  // fact's unit -> unit_counts index, -1 outside
  Stars recognised{}, revoked{}, expired{}, active{};
  std::array<Stars, 4> by_entry{};  // index: schema Entry
  std::array<uint64_t, 256> by_group{};
  // Indexed by the schema's LegalForm and RevocationReason.
  std::array<uint64_t, 9> by_form{};
  std::array<uint64_t, 8> by_reason{};
  // By named group: keyed by list and code while counting, named at the end.
  std::map<std::pair<std::string, int>, uint64_t> by_group_name;
  // Only counted, never listed: hashed, not ordered.
  std::unordered_map<std::string, workflow::LegalForm> active_subjects;
  std::unordered_set<std::string> woman_owned;
  auto star = [](int stars) { return static_cast<size_t>(std::clamp(stars, 0, 5)); };
  SectionFacts sections(q.period.to);
  s = ForEachFactSeen(projections, q.known_at, q.as_of, [&](const FactSeen& v) {
    auto f = v.f;
    std::string key = f.getUnit().cStr();
    auto b = bucket_index.find(key);
    if (b == bucket_index.end()) {
      std::string unit = bucket(key);
      int index = -1;  // outside the asked unit
      if (!unit.empty()) {
        auto same = std::find_if(unit_counts.begin(), unit_counts.end(),
                                 [&](const UnitCounts& u) { return u.code == unit; });
        index = static_cast<int>(same - unit_counts.begin());
        if (same == unit_counts.end()) {
          out->unit_names.emplace(unit, tree.Name(unit));
          unit_counts.push_back(UnitCounts{unit});
        }
      }
      b = bucket_index.emplace(key, index).first;
    }
    if (b->second < 0) return;
    UnitCounts& unit = unit_counts[static_cast<size_t>(b->second)];
    const size_t stars = star(f.getStars());
    const bool recognised_in_period = In(f.getValidFrom(), q.period);
    if (recognised_in_period) {
      ++recognised[stars];
      ++by_entry[std::min<size_t>(static_cast<size_t>(f.getEntry()), 3)][stars];
      ++by_group[f.getGroup()];
      ++by_group_name[ReportGroupKey(f.getGroupList(), f.getGroup())];
      ++by_form[std::min<size_t>(static_cast<size_t>(f.getLegalForm()), by_form.size() - 1)];
      ++unit.recognised;
    }
    const int32_t ended = v.ended_on;
    if (v.revoked && In(ended, q.period)) {
      ++revoked[stars];
      ++by_reason[std::min<size_t>(static_cast<size_t>(f.getRevokeReason()), by_reason.size() - 1)];
    }
    // Lapsed: reached the day after valid_until still in force.
    const int32_t lapse = f.getValidUntil() + 1;
    if (In(lapse, q.period) && ended >= lapse && (!q.as_of || lapse <= q.as_of->days)) {
      ++expired[stars];
    }
    const bool in_force =
        f.getValidFrom() <= end.days && end.days <= f.getValidUntil() && end.days < ended;
    if (in_force) {
      ++active[stars];
      ++unit.active;
      ++unit.active_stars[stars];
      active_subjects.emplace(f.getSubject().cStr(), f.getLegalForm());
      if (f.getWomanOwned()) woman_owned.insert(f.getSubject().cStr());
    }
    sections.Add(f, ended, recognised_in_period, in_force);
  });
  if (!s.ok()) return s;
  // Labels exactly as counting one by one gave them: only what occurred.
  auto tally = [](const Stars& by, Tally* t) {
    for (size_t k = 0; k < by.size(); ++k) {
      if (by[k] == 0) continue;
      t->total += by[k];
      t->by_stars[std::to_string(k)] = by[k];
    }
  };
  tally(recognised, &out->recognised);
  tally(revoked, &out->revoked);
  tally(expired, &out->expired);
  tally(active, &out->active_at_end);
  for (size_t e = 0; e < by_entry.size(); ++e) {
    Tally t;
    tally(by_entry[e], &t);
    if (t.total)
      out->recognised_by_entry[std::string(workflow::EnumName(static_cast<workflow::Entry>(e)))] =
          t;
  }
  for (size_t g = 0; g < by_group.size(); ++g) {
    if (by_group[g]) out->recognised_by_group[g ? std::to_string(g) : "none"] = by_group[g];
  }
  for (const auto& [key, n] : by_group_name) {
    std::string name = workflow::ReportGroupOf(key.first, key.second).name;
    out->recognised_by_group_name[name.empty() ? "none" : name] += n;
  }
  for (size_t k = 0; k < by_form.size(); ++k) {
    if (by_form[k])
      out->recognised_by_legal_form[std::string(
          workflow::EnumName(static_cast<workflow::LegalForm>(k)))] = by_form[k];
  }
  for (size_t k = 0; k < by_reason.size(); ++k) {
    using R = workflow::schema::RevocationReason;
    if (by_reason[k])
      out->revoked_by_reason[std::string(workflow::EnumName(static_cast<R>(k)))] = by_reason[k];
  }
  for (const UnitCounts& u : unit_counts) {
    if (u.recognised) out->recognised_by_unit[u.code] = u.recognised;
    if (u.active) out->active_by_unit[u.code] = u.active;
    for (size_t k = 0; k < u.active_stars.size(); ++k) {
      if (u.active_stars[k])
        out->active_by_unit_stars[u.code][std::to_string(k)] = u.active_stars[k];
    }
  }
  out->subjects_at_end = active_subjects.size();
  for (const auto& [id, form] : active_subjects)
    ++out->subjects_by_legal_form[std::string(workflow::EnumName(form))];
  out->subjects_woman_owned = woman_owned.size();

  sections.Finish(&out->sections);
  s = AddPeriodChanges(projections, q, bucket, out);
  if (!s.ok()) return s;

  // Targets set for the asked unit in the period's years.
  if (!q.unit.empty()) {
    std::vector<Target> targets;
    // As known and as in effect: a target recorded after known_at, or set
    // after as_of, was not yet the target (and verify-report, refolding up to
    // the report's tree size, must find the same).
    s = q.known_at == 0 && !q.as_of ? projections.Targets(q.unit, &targets)
                                    : projections.TargetsAt(q.unit, q.known_at, q.as_of, &targets);
    if (!s.ok()) return s;
    int y0, y1;
    unsigned m, d;
    workflow::ToCivil(q.period.from, &y0, &m, &d);
    workflow::ToCivil(q.period.to, &y1, &m, &d);
    auto share = [&](const char* form) -> double {
      if (out->subjects_at_end == 0) return 0;
      auto it = out->subjects_by_legal_form.find(form);
      uint64_t n = it == out->subjects_by_legal_form.end() ? 0 : it->second;
      return 100.0 * static_cast<double>(n) / static_cast<double>(out->subjects_at_end);
    };
    for (const Target& t : targets) {
      if (t.year < y0 || t.year > y1) continue;
      Report::TargetRow row{t.indicator, t.year, t.value, std::nullopt};
      if (t.indicator == "recognised") row.actual = static_cast<double>(out->recognised.total);
      if (t.indicator == "products_3_stars_or_more") {
        row.actual = static_cast<double>(out->active_at_end.total);
      }
      if (t.indicator == "products_5_stars") {
        auto it = out->active_at_end.by_stars.find("5");
        row.actual =
            it == out->active_at_end.by_stars.end() ? 0.0 : static_cast<double>(it->second);
      }
      if (t.indicator == "htx_share_of_producers") row.actual = share("HTX");
      if (t.indicator == "dn_share_of_producers") {
        // Every enterprise: TNHH, CTCP and DNTN are kinds of DN.
        row.actual = 0.0;
        for (const auto& [form, n] : out->subjects_by_legal_form) {
          if (IsEnterpriseKind(form)) *row.actual += share(form.c_str());
        }
      }
      if (!row.actual) {
        s = SectionTargetActual(projections, q, *out, t.indicator, t.year, &row.actual);
        if (!s.ok()) return s;
      }
      out->targets.push_back(std::move(row));
    }
  }
  return Status::OK();
}

namespace {

json ReportJsonBase(const Report& r) {
  json by_entry = json::object();
  for (const char* e : {"new", "renewal", "upgrade", "import"}) {
    auto it = r.recognised_by_entry.find(e);
    by_entry[e] = TallyJson(it == r.recognised_by_entry.end() ? Tally() : it->second);
  }
  json recognised = TallyJson(r.recognised);
  recognised["by_entry"] = by_entry;
  recognised["by_group"] = CountsJson(r.recognised_by_group);
  recognised["by_group_name"] = CountsJson(r.recognised_by_group_name);
  recognised["by_legal_form"] = CountsJson(r.recognised_by_legal_form);
  recognised["by_unit"] = CountsJson(r.recognised_by_unit);
  json revoked = TallyJson(r.revoked);
  revoked["by_reason"] = CountsJson(r.revoked_by_reason);
  json active = TallyJson(r.active_at_end);
  active["by_unit"] = CountsJson(r.active_by_unit);
  json unit_stars = json::object();
  for (const auto& [unit, c] : r.active_by_unit_stars) unit_stars[unit] = CountsJson(c);
  active["by_unit_stars"] = unit_stars;
  json targets = json::array();
  for (const auto& t : r.targets) {
    targets.push_back(json{{"indicator", t.indicator},
                           {"year", t.year},
                           {"target", t.target},
                           {"actual", t.actual ? json(*t.actual) : json(nullptr)}});
  }
  json names = json::object();
  for (const auto& [code, name] : r.unit_names) names[code] = name;
  return json{
      {"period", {{"from", FormatDate(r.period.from)}, {"to", FormatDate(r.period.to)}}},
      {"unit", r.unit.empty() ? json(nullptr) : json(r.unit)},
      {"as_of", r.as_of ? json(FormatDate(*r.as_of)) : json(nullptr)},
      {"known_at", r.known_at ? json(r.known_at) : json(nullptr)},
      {"recognised", recognised},
      {"revoked", revoked},
      {"expired", TallyJson(r.expired)},
      {"active_at_end", active},
      {"subjects_at_end",
       {{"total", r.subjects_at_end},
        {"by_legal_form", CountsJson(r.subjects_by_legal_form)},
        {"woman_owned", r.subjects_woman_owned}}},
      {"targets", targets},
      {"support",
       {{"total_vnd", r.support_total_vnd}, {"by_source", CountsJson(r.support_by_source)}}},
      {"unit_names", names},
      {"ledger", r.ledger ? json{{"size", r.ledger->size},
                                 {"root", r.ledger->root},
                                 {"signature", r.ledger->signature},
                                 {"key_id", r.ledger->key_id}}
                          : json(nullptr)}};
}

}  // namespace

json ReportJson(const Report& r) {
  json j = ReportJsonBase(r);
  AddSectionsJson(r, &j);
  return j;
}

Status BuildCohort(const ReadView& projections, int year, Date as_of, const std::string& unit,
                   Cohort* out, uint64_t known_at) {
  *out = Cohort();
  out->year = year;
  out->as_of = as_of;
  out->unit = unit;
  UnitTree tree;
  Status s = UnitTree::Load(projections, unit, &tree);
  if (!s.ok()) return s;
  Period p{FromCivil(year, 1, 1), FromCivil(year, 12, 31)};
  return ForEachFactSeen(projections, known_at, as_of, [&](const FactSeen& v) {
    auto f = v.f;
    if (!In(f.getValidFrom(), p)) return;
    if (!unit.empty() && !tree.Within(f.getUnit().cStr(), unit, as_of)) return;
    ++out->due;
    if (v.entered) ++out->entered;
    if (v.renewed) {
      ++out->renewed;
    } else if (v.revoked) {
      ++out->revoked;
    } else if (f.getValidUntil() < as_of.days) {
      ++out->lapsed;
    } else {
      ++out->pending;
    }
  });
}

json CohortJson(const Cohort& c) {
  return json{{"cohort", c.year},
              {"as_of", FormatDate(c.as_of)},
              {"unit", c.unit.empty() ? json(nullptr) : json(c.unit)},
              {"due", c.due},
              {"entered", c.entered},
              {"renewed", c.renewed},
              {"revoked", c.revoked},
              {"lapsed", c.lapsed},
              {"pending", c.pending}};
}

}  // namespace ocop::projections
