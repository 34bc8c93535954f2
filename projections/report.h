// The period report officials file monthly, quarterly and yearly, computed
// from the certificate facts. Every count is of certificates (one product may
// hold several over a period); "subjects" counts producers.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/status.h"
#include "projections/projections.h"
#include "projections/report_sections.h"
#include "workflow/date.h"

namespace ocop::projections {

struct Period {
  workflow::Date from, to;  // both inclusive
};

// A certificate's facts as seen from a point in time.
struct FactSeen {
  schema::CertificateFact::Reader f;
  int32_t ended_on;  // kNeverEnded when not ended as of the date asked
  bool revoked;
  bool renewed;
  bool entered;  // for renewal or upgrade, by the date asked
};

// Calls fn with every certificate as recorded by known_at (0: all) and as it
// stood on as_of: one not yet issued is left out, an end not yet reached is
// undone.
Status ForEachFactSeen(const ReadView& projections, uint64_t known_at,
                       const std::optional<workflow::Date>& as_of,
                       const std::function<void(const FactSeen&)>& fn);

// "2022", "2022-H1", "2022-Q3" or "2022-07".
Status ParsePeriod(const std::string& text, Period* out);

struct ReportQuery {
  Period period;
  std::string unit;  // empty: every top-level unit
  // Recording time: count only what the ledger had recorded by this seq
  // (0: everything). Effective time: ignore acts that took effect after
  // as_of (a report of the period as it stood on that date).
  uint64_t known_at = 0;
  std::optional<workflow::Date> as_of;
};

// A report states what it answers: the query's period, unit and points, as
// asked.
struct Report : ReportQuery {
  Tally recognised;
  std::map<std::string, Tally> recognised_by_entry;  // new, renewal, upgrade, import
  Counts recognised_by_group, recognised_by_legal_form, recognised_by_unit;
  // By the group's name in the list reports count by (QĐ 919), whatever
  // list each product was classified under; "none" when it maps to none.
  Counts recognised_by_group_name;
  Tally revoked;
  Counts revoked_by_reason;
  Tally expired;
  Tally active_at_end;
  Counts active_by_unit;
  std::map<std::string, Counts> active_by_unit_stars;  // unit -> stars -> count
  uint64_t subjects_at_end = 0;
  Counts subjects_by_legal_form;
  uint64_t subjects_woman_owned = 0;
  struct TargetRow {
    std::string indicator;
    int year = 0;
    double target = 0;
    std::optional<double> actual;  // none for indicators the ledger cannot count
  };
  std::vector<TargetRow> targets;
  // Support granted in the period (effective date), by source.
  uint64_t support_total_vnd = 0;
  Counts support_by_source;
  std::map<std::string, std::string> unit_names;  // for the units named above
  // The signed tree head of the log the report was computed from.
  struct Head {
    uint64_t size = 0;
    std::string root, signature, key_id;  // hex, base64, hex
  };
  std::optional<Head> ledger;
  // What provinces' own tables add (projections/report_sections.h).
  ReportSections sections;
};

Status BuildReport(const ReadView& projections, const ReportQuery& query, Report* out);
nlohmann::ordered_json ReportJson(const Report& r);
// The parts of a report's JSON that other answers of a period share: what
// was asked ("period", "unit", "as_of", "known_at", added in that order), and
// the signed tree head (null when unsigned).
void AddQueryJson(const ReportQuery& q, nlohmann::ordered_json* out);
nlohmann::ordered_json HeadJson(const std::optional<Report::Head>& head);

// The re-recognition funnel of the certificates issued in `year`: due (all of
// them), entered for renewal, renewed, revoked, lapsed (by `as_of`), pending.
struct Cohort {
  int year = 0;
  workflow::Date as_of;
  std::string unit;
  uint64_t due = 0, entered = 0, renewed = 0, revoked = 0, lapsed = 0, pending = 0;
};
Status BuildCohort(const ReadView& projections, int year, workflow::Date as_of,
                   const std::string& unit, Cohort* out, uint64_t known_at = 0);
nlohmann::ordered_json CohortJson(const Cohort& c);

// The indicators whose actual values the report computes for SetTarget.
extern const char* const kKnownIndicators[];

}  // namespace ocop::projections
