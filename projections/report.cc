#include "projections/report.h"

#include <kj/exception.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "projections/id_index.h"
#include "projections/records.h"
#include "projections/report_units.h"
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

bool In(int32_t day, const Period& p) { return p.from.days <= day && day <= p.to.days; }

json TallyJson(const Tally& t) { return json{{"total", t.total}, {"by_stars", StarsJson(t)}}; }

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

namespace {

// What the numbers in the certificates a report counts stand for.
struct FactNames {
  std::vector<std::string> units, group_lists;
};

// Calls fn with every certificate as recorded by known_at (0: all) and as it
// stood on as_of, as ForEachFactSeen does, in the report's own layout: from
// "report_facts", numbered by the fold (their names read into *names), or,
// for a past recording point, from the certificates' versions, numbered here
// as they come (*names grows as they do).
Status ForEachCountedFact(const ReadView& projections, uint64_t known_at,
                          const std::optional<Date>& as_of, FactNames* names,
                          const std::function<void(const FactHead&, const FactCert&)>& fn) {
  auto see = [&](const FactHead& h, FactCert c) {
    if (as_of) {
      if (c.valid_from > as_of->days) return;
      // A renewal dossier that came in after as_of had not been entered then.
      if (c.renewal_entered_on > as_of->days) c.flags &= ~FactCert::kRenewalEntered;
      if (c.ended_on > as_of->days) {
        c.ended_on = kNeverEnded;
        c.flags &= ~(FactCert::kRevoked | FactCert::kRenewed);
      }
    }
    fn(h, c);
  };
  if (known_at == 0) {
    Status s = projections.ReportIds(IdKind::kUnit, &names->units);
    if (s.ok()) s = projections.ReportIds(IdKind::kGroupList, &names->group_lists);
    if (!s.ok()) return s;
    return projections.ForEachReportFact([&](const FactHead& h, const char* certs) {
      for (size_t i = 0; i < h.certificates; ++i)
        see(h, ReadRecord<FactCert>(certs + i * sizeof(FactCert)));
    });
  }
  IdIndex units, subjects, lists;
  auto number = [](IdIndex* index, std::vector<std::string>* texts, capnp::Text::Reader text) {
    const std::string_view t = TextView(text);
    if (std::optional<uint32_t> n = index->Find(t)) return *n;
    if (texts) texts->emplace_back(t);
    return index->Add(t);
  };
  return projections.ForEachFactKnownAt(known_at, [&](schema::CertificateFact::Reader f) {
    FactHead h;
    h.unit = number(&units, &names->units, f.getUnit());
    h.subject = number(&subjects, nullptr, f.getSubject());
    h.group_list = number(&lists, &names->group_lists, f.getGroupList());
    h.certificates = 1;
    h.group = f.getGroup();
    h.legal_form = static_cast<uint8_t>(f.getLegalForm());
    h.woman_owned = f.getWomanOwned();
    FactCert c;
    c.valid_from = f.getValidFrom();
    c.valid_until = f.getValidUntil();
    c.ended_on = f.getEndedOn();
    c.renewal_entered_on = f.getRenewalEnteredOn();
    c.stars = f.getStars();
    c.entry = static_cast<uint8_t>(f.getEntry());
    c.revoke_reason = static_cast<uint8_t>(f.getRevokeReason());
    c.flags = static_cast<uint8_t>((f.getRevoked() ? FactCert::kRevoked : 0) |
                                   (f.getRenewalEntered() ? FactCert::kRenewalEntered : 0) |
                                   (f.getRenewed() ? FactCert::kRenewed : 0));
    see(h, c);
  });
}

}  // namespace

Status BuildReport(const ReadView& projections, const ReportQuery& q, Report* out) {
  *out = Report();
  static_cast<ReportQuery&>(*out) = q;
  UnitTree tree;
  Status s = UnitTree::Load(projections, q.unit, &tree);
  if (!s.ok()) return s;
  const Date end = q.period.to;
  ReportUnits units(tree, q.unit, end);
  std::mutex units_mu;

  // The period's changes on a second thread, beside the certificates (a
  // view may be read from several threads at once): the two passes share
  // only the reporting units, asked under units_mu, and fill apart.
  Report changes;
  Status changes_status;
  // Joined on every way out, a throw included; what it throws (an unreadable
  // record) comes back as its status, as it would on one thread.
  std::jthread changes_pass([&] {
    try {
      changes_status = AddPeriodChanges(projections, q, &units, &units_mu, &changes);
    } catch (const kj::Exception& e) {
      changes_status = Status::Corruption("reading the period's changes: " +
                                          std::string(e.getDescription().cStr()));
    } catch (const std::exception& e) {
      changes_status = Status::Corruption(std::string("reading the period's changes: ") + e.what());
    }
  });

  // Counted in dense arrays while the certificates stream past (a national
  // report sees two hundred thousand), turned into the report's labelled
  // counts once at the end. Units, producers and group lists come numbered:
  // a certificate costs no string work at all.
  struct UnitCounts {
    bool seen = false;  // a certificate of it was read: it is named
    uint64_t recognised = 0, active = 0;
    StarCounts active_stars{};
  };
  std::vector<UnitCounts> unit_counts;  // by reporting unit
  StarCounts recognised{}, revoked{}, expired{}, active{};
  std::array<StarCounts, 4> by_entry{};  // index: schema Entry
  std::array<uint64_t, 256> by_group{};
  // Indexed by the schema's LegalForm and RevocationReason.
  std::array<uint64_t, 9> by_form{};
  std::array<uint64_t, 8> by_reason{};
  GroupNameCounts by_group_name;
  // Producers with a certificate in force at the end, by number: the legal
  // form of the first such certificate read (+1; 0: none yet), and whether
  // any marks it woman-owned.
  std::vector<uint8_t> subject_form;
  std::vector<bool> subject_woman;
  uint64_t subjects_at_end = 0, woman_owned = 0;
  FactNames names;
  UnitNumbers unit_of(&units, &units_mu, &names.units);
  SectionFacts sections(q.period.to);
  s = ForEachCountedFact(
      projections, q.known_at, q.as_of, &names, [&](const FactHead& h, const FactCert& c) {
        const int index = unit_of.Of(h.unit);
        if (index < 0) return;  // outside the asked unit
        if (static_cast<size_t>(index) >= unit_counts.size()) unit_counts.resize(index + 1);
        UnitCounts& unit = unit_counts[static_cast<size_t>(index)];
        unit.seen = true;
        const size_t stars = StarIndex(c.stars);
        const bool recognised_in_period = In(c.valid_from, q.period);
        if (recognised_in_period) {
          ++recognised[stars];
          ++by_entry[std::min<size_t>(c.entry, 3)][stars];
          ++by_group[h.group];
          by_group_name.Add(h.group_list, h.group);
          ++by_form[std::min<size_t>(h.legal_form, by_form.size() - 1)];
          ++unit.recognised;
        }
        const int32_t ended = c.ended_on;
        if (c.revoked() && In(ended, q.period)) {
          ++revoked[stars];
          ++by_reason[std::min<size_t>(c.revoke_reason, by_reason.size() - 1)];
        }
        // Lapsed: reached the day after valid_until still in force.
        const int32_t lapse = c.valid_until + 1;
        if (In(lapse, q.period) && ended >= lapse && (!q.as_of || lapse <= q.as_of->days)) {
          ++expired[stars];
        }
        const bool in_force =
            c.valid_from <= end.days && end.days <= c.valid_until && end.days < ended;
        if (in_force) {
          ++active[stars];
          ++unit.active;
          ++unit.active_stars[stars];
          if (h.subject >= subject_form.size()) {
            subject_form.resize(h.subject + 1, 0);
            subject_woman.resize(h.subject + 1, false);
          }
          if (!subject_form[h.subject]) {
            subject_form[h.subject] = static_cast<uint8_t>(h.legal_form + 1);
            ++subjects_at_end;
          }
          if (h.woman_owned && !subject_woman[h.subject]) {
            subject_woman[h.subject] = true;
            ++woman_owned;
          }
        }
        sections.Add(h, c, recognised_in_period, in_force);
      });
  changes_pass.join();
  if (!s.ok()) return s;
  if (!changes_status.ok()) return changes_status;
  // Labels exactly as counting one by one gave them: only what occurred.
  TallyInto(recognised, &out->recognised);
  TallyInto(revoked, &out->revoked);
  TallyInto(expired, &out->expired);
  TallyInto(active, &out->active_at_end);
  for (size_t e = 0; e < by_entry.size(); ++e) {
    Tally t;
    TallyInto(by_entry[e], &t);
    if (t.total)
      out->recognised_by_entry[std::string(workflow::EnumName(static_cast<workflow::Entry>(e)))] =
          t;
  }
  for (size_t g = 0; g < by_group.size(); ++g) {
    if (by_group[g]) out->recognised_by_group[g ? std::to_string(g) : "none"] = by_group[g];
  }
  by_group_name.NameInto(names.group_lists, &out->recognised_by_group_name);
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
  for (size_t i = 0; i < unit_counts.size(); ++i) {
    const UnitCounts& u = unit_counts[i];
    if (!u.seen) continue;
    const std::string& code = units.Code(static_cast<int>(i));
    out->unit_names.emplace(code, tree.Name(code));
    if (u.recognised) out->recognised_by_unit[code] = u.recognised;
    if (u.active) out->active_by_unit[code] = u.active;
    for (size_t k = 0; k < u.active_stars.size(); ++k) {
      if (u.active_stars[k]) out->active_by_unit_stars[code][std::to_string(k)] = u.active_stars[k];
    }
  }
  out->subjects_at_end = subjects_at_end;
  for (uint8_t form : subject_form) {
    if (form)
      ++out->subjects_by_legal_form[std::string(
          workflow::EnumName(static_cast<workflow::LegalForm>(form - 1)))];
  }
  out->subjects_woman_owned = woman_owned;

  sections.Finish(names.group_lists, &out->sections);
  // The changes pass's parts.
  out->support_total_vnd = changes.support_total_vnd;
  out->support_by_source = std::move(changes.support_by_source);
  ReportSections& sec = out->sections;
  sec.support_by_unit = std::move(changes.sections.support_by_unit);
  sec.round = std::move(changes.sections.round);
  sec.ideas = changes.sections.ideas;
  sec.ideas_by_unit = std::move(changes.sections.ideas_by_unit);
  sec.ideas_by_cycle_year = std::move(changes.sections.ideas_by_cycle_year);

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
  json j = json::object();
  AddQueryJson(r, &j);
  j["recognised"] = recognised;
  j["revoked"] = revoked;
  j["expired"] = TallyJson(r.expired);
  j["active_at_end"] = active;
  j["subjects_at_end"] = {{"total", r.subjects_at_end},
                          {"by_legal_form", CountsJson(r.subjects_by_legal_form)},
                          {"woman_owned", r.subjects_woman_owned}};
  j["targets"] = targets;
  j["support"] = {{"total_vnd", r.support_total_vnd},
                  {"by_source", CountsJson(r.support_by_source)}};
  j["unit_names"] = names;
  j["ledger"] = HeadJson(r.ledger);
  return j;
}

}  // namespace

void AddQueryJson(const ReportQuery& q, json* out) {
  (*out)["period"] = {{"from", FormatDate(q.period.from)}, {"to", FormatDate(q.period.to)}};
  (*out)["unit"] = q.unit.empty() ? json(nullptr) : json(q.unit);
  (*out)["as_of"] = q.as_of ? json(FormatDate(*q.as_of)) : json(nullptr);
  (*out)["known_at"] = q.known_at ? json(q.known_at) : json(nullptr);
}

json HeadJson(const std::optional<Report::Head>& head) {
  if (!head) return nullptr;
  return json{{"size", head->size},
              {"root", head->root},
              {"signature", head->signature},
              {"key_id", head->key_id}};
}

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
