// The sections of the period report that fill the tables provinces publish
// (DOMAIN.md "What reports show"): the round of dossiers by entry kind,
// woman-owned producers' products, producers by legal form with the kinds of
// enterprise under DN, products by named group, support by unit, and the idea
// pipeline by unit and cycle year.
//
// They are folded in the report's own two passes (report.cc): the
// certificates (SectionFacts) and the period's changes (AddPeriodChanges), so
// a national report reads the certificates and the period's days once each.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/status.h"
#include "projections/read_models.capnp.h"
#include "projections/report_records.h"
#include "workflow/date.h"

namespace ocop::projections {

class Projections;
class ReadView;
class ReportUnits;
struct Report;
struct ReportQuery;

// Counts keyed by a label ("3", "HTX", "CM-UM", ...). std::map: stable order.
using Counts = std::map<std::string, uint64_t>;

struct Tally {
  uint64_t total = 0;
  Counts by_stars;
  void Add(int stars) {
    ++total;
    ++by_stars[std::to_string(stars)];
  }
};

// Stars 0..5 counted in an array while facts stream past, labelled once.
using StarCounts = std::array<uint64_t, 6>;
size_t StarIndex(int stars);  // clamped to 0..5
// Adds the stars that occurred ("3" -> n) and their total to *t.
void TallyInto(const StarCounts& by, Tally* t);
nlohmann::ordered_json CountsJson(const Counts& c);
// By stars, with "3", "4" and "5" always present (0 when none).
nlohmann::ordered_json StarsJson(const Tally& t);

// One line of the round table (Đồng Tháp plan 159: entered, recognised by
// stars, producers), for one entry kind or for all.
struct RoundLine {
  uint64_t entered = 0;            // dossiers submitted in the period
  uint64_t entered_producers = 0;  // distinct producers of those dossiers
  Tally recognised;                // those certified by the period's end, by stars
  uint64_t recognised_producers = 0;
  uint64_t not_recognised = 0;  // ended not recognised by the period's end
  uint64_t pending = 0;         // still undecided at the period's end
};

// The dossiers that entered evaluation in the period (by the effective date
// of SubmitDossier), with what became of each by the period's end (or as_of,
// if earlier): the first certificate or not-recognised end of its product
// after it, and before the product's next dossier. An annulled submission or
// outcome does not count.
struct RoundTable {
  std::map<std::string, RoundLine> by_entry;  // new, renewal, upgrade
  RoundLine total;                            // total.entered_producers: the participants
};

struct IdeaCounts {
  uint64_t registered = 0, selected = 0, rejected = 0;
  bool operator==(const IdeaCounts&) const = default;
};

struct ReportSections {
  RoundTable round;
  // Products of woman-owned producers: active at the period's end, and
  // recognised in the period.
  Tally woman_owned_active, woman_owned_recognised;
  // Active at the period's end by the QĐ 919 group name, whatever list each
  // product was classified under ("none" when it maps to none).
  Counts active_by_group_name;
  // The yearly trend: for each of the five years up to the period's end,
  // certificates issued in that year and those in force on its 31/12 (as the
  // ledger knew them at the report's point).
  struct YearPoint {
    uint64_t recognised = 0, active = 0;
    bool operator==(const YearPoint&) const = default;
  };
  std::map<int, YearPoint> trend;
  // Certificates in force at the period's end by the month their validity
  // ends, for the twelve months after it ("2023-01" -> n), months with none
  // included: the deadlines ahead.
  Counts deadlines_by_month;
  // Support effective in the period by the unit it is reported under (VND).
  Counts support_by_unit;
  // Ideas registered, selected and rejected in the period (effective date):
  // in all, by reporting unit, and by the cycle year the idea was entered for.
  IdeaCounts ideas;
  std::map<std::string, IdeaCounts> ideas_by_unit;
  std::map<int, IdeaCounts> ideas_by_cycle_year;
};

// Certificates counted by the QĐ 919 group name, whatever list each product
// was classified under: by list (a handful) and code while counting, named
// once at the end.
class GroupNameCounts {
 public:
  // `list`: the list's number (its text is lists[list] at NameInto).
  void Add(uint32_t list, uint8_t code) {
    if (list >= lists_.size()) lists_.resize(list + 1);
    ++lists_[list][code];
  }
  // Adds the counts by name to *out ("none" for what maps to no group).
  void NameInto(const std::vector<std::string>& lists, Counts* out) const;

 private:
  std::vector<std::array<uint64_t, 256>> lists_;  // by list number, then code
};

// Counted while the report's certificate pass streams past: dense arrays,
// labelled once at the end by Finish.
class SectionFacts {
 public:
  explicit SectionFacts(workflow::Date to);
  // `c` as seen (its ended_on kNeverEnded when not ended then).
  void Add(const FactHead& h, const FactCert& c, bool recognised_in_period, bool in_force);
  // `lists`: the group lists' texts by the numbers Add was given.
  void Finish(const std::vector<std::string>& lists, ReportSections* out) const;

 private:
  StarCounts woman_active_{}, woman_recognised_{};
  GroupNameCounts active_groups_;
  workflow::Date to_;
  int last_year_;
  std::array<int32_t, 5> year_ends_;  // 31/12 of the trend's years, oldest first
  std::array<std::pair<int32_t, int32_t>, 5> year_spans_;  // their first and last days
  std::array<uint64_t, 5> year_recognised_{}, year_active_{};
  std::array<int32_t, 13> month_starts_;  // first days of the 12 months after `to`, and the 13th
  std::array<uint64_t, 12> by_month_{};
};

// The period's changes: support (total, by source, by unit), the round and
// the ideas, each counted under the reporting unit `units` gives its unit
// (asked under `units_mu`: the certificate pass may run beside this). Fills
// only those parts of *out.
Status AddPeriodChanges(const ReadView& projections, const ReportQuery& q, ReportUnits* units,
                        std::mutex* units_mu, Report* out);

// The actual value of a target indicator the sections define (see
// kSectionIndicators), or none when `indicator` is not one of them.
// `year` is the target's year (for the cohort indicator).
Status SectionTargetActual(const ReadView& projections, const ReportQuery& q, const Report& r,
                           const std::string& indicator, int year, std::optional<double>* actual);

// The indicators SectionTargetActual computes; nullptr-terminated.
extern const char* const kSectionIndicators[];

// Percent with two decimals, as officials write shares (39.49).
double SharePercent(uint64_t part, uint64_t whole);

// Producers at the period's end by legal form, the kinds of enterprise
// (TNHH, CTCP, DNTN, and DN when the kind was not recorded) counted under DN.
Counts LegalFormsGrouped(const Counts& by_form);
bool IsEnterpriseKind(const std::string& form);

// Adds the sections to a report's JSON (round, woman_owned_products,
// producers_at_end, ideas; active_at_end.by_group_name, support.by_unit).
void AddSectionsJson(const Report& r, nlohmann::ordered_json* report);

}  // namespace ocop::projections
