// The read models of projections/ (issue 4): report figures worked out by
// hand on one scenario, expiry computed for any date, corrections and unit
// mergers, live folding against rebuilds and restarts, and the real Cà Mau
// appendix carried through the demo's synthetic cycle.
//
// The scenario, province CM with districts UM (commune XA under it), DD and
// TB, written command by command through workflow::Service with a clock set
// to each act's recording time (10:00 in Vietnam on its effective date,
// unless said otherwise):
//
//   P-EXP    imported: decision 2021-11-20, 4 stars, commune XA (producer S2).
//            Last valid day 2024-11-20 (exactly 36 months), expired 2024-11-21
//   P-NEW    2022 cycle, XA (S2): 3 stars by province decision 101 of
//            2022-09-30; renewed 3 stars by decision 150 of 2025-09-10
//   P-REV1   2022 cycle, UM (S1): 4 stars by decision 101
//   P-REV2   2022 cycle, TB (S4): 3 stars by decision 101; P-REV1 and P-REV2
//            revoked together by decision 88 of 2024-06-14
//   P-UP     2023 cycle, DD (S3): 3 stars by district decision 45 of
//            2023-08-30; upgraded to 4 stars by province decision 120 of
//            2024-09-30
//   P-ANN    2023 cycle, DD (S3): 3 stars by the same decision 45; that record
//            annulled on 2024-02-01
//   P-FIVE   2023 cycle, UM (S1): 5 stars by central decision 310 of 2023-11-30
//   P-LATE   2023 cycle, TB (S4): 3 stars by district decision 30 dated
//            2024-03-15, recorded only on 2024-06-20
//   TB       retired into UM on 2025-07-01
//
// Producers: S1 HTX, S2 HKD woman-owned, S3 DN, S4 THT woman-owned.
#include <capnp/message.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "live_ledger.h"
#include "ocop/demo_data.h"
#include "projections/projections.h"
#include "projections/report.h"
#include "projections/status_json.h"
#include "query/queries.h"
#include "replay/as_of.h"
#include "server/api.h"
#include "server/metrics.h"
#include "server/tokens.h"
#include "workflow/date.h"
#include "workflow/json.h"
#include "workflow/service.h"

namespace fs = std::filesystem;
using namespace ocop;
using projections::Counts;
using workflow::Date;
using json = nlohmann::json;
using Digests = std::map<std::string, std::string>;

namespace {

Date D(const std::string& text) {
  Date d;
  INFO(text);
  REQUIRE(workflow::ParseDate(text, &d));
  return d;
}

// Microseconds since the epoch of `date` at hh:mm in Vietnam (UTC+7).
int64_t VnMicros(const std::string& date, int hh, int mm) {
  return (int64_t{D(date).days} * 86400 + hh * 3600 + mm * 60 - 7 * 3600) * 1000000;
}

fs::path ScratchDir(const std::string& what) {
  static int n = 0;
  fs::path p = fs::temp_directory_path() / ("ocop-projections-test-" + std::to_string(getpid()) +
                                            "-" + what + "-" + std::to_string(++n));
  fs::remove_all(p);
  return p;
}

// A ledger, the Service and live projections caught up after every command,
// with the digests of the live read models recorded at each checkpoint.
struct World : ocop::testing::LiveLedger {
  std::map<uint64_t, Digests> live;  // checkpoint -> digests after that command

  World() : LiveLedger(ScratchDir("world")) {}

  // Submits `command` as `who` (empty: the local superuser), recorded at
  // `micros`; folds it live and returns its sequence numbers.
  std::vector<uint64_t> Submit(int64_t micros, const std::string& command,
                               const std::string& who = "", bool record_digests = true) {
    auto seqs =
        SubmitAt(micros, workflow::Principal{who.empty() ? "admin.cm" : who, who.empty()}, command);
    REQUIRE(projections->checkpoint() == ledger->Size());
    if (record_digests) REQUIRE(projections->Digests(&live[ledger->Size()]).ok());
    return seqs;
  }

  // A reader on a fresh view (kept until the next call).
  query::Reader Reader(const std::string& today) {
    view = projections->View();
    return query::Reader{ledger.get(), view.get(), D(today)};
  }
  std::unique_ptr<projections::ReadView> view;
};

// One JSON command.
std::string Cmd(const std::string& type, const std::string& effective, json fields) {
  fields["type"] = type;
  fields["effective"] = effective;
  return fields.dump();
}
json Decision(const std::string& no, const std::string& date, const std::string& issuer) {
  return json{{"no", no}, {"date", date}, {"issuer", issuer}};
}

struct Seqs {
  uint64_t cert_ann = 0;  // P-ANN's Certified event
  uint64_t annul = 0;     // the AnnulEvent naming it
  uint64_t revoke_a = 0;  // the batch revocation (first of its two events)
  uint64_t late = 0;      // the decision of 2024-03-15 recorded on 2024-06-20
  uint64_t retire = 0;    // TB retired into UM
  uint64_t last = 0;
};

// Writes the scenario at the top of this file.
Seqs Populate(World& w) {
  Seqs s;
  int minute = 0;
  std::string day;
  // Recorded on `date` at 10:00 plus one minute per command that day.
  auto at = [&](const std::string& date) {
    if (date != day) minute = 0;
    day = date;
    return VnMicros(date, 10, minute++);
  };
  auto run = [&](const std::string& date, const std::string& type, json fields) {
    return w.Submit(at(date), Cmd(type, date, std::move(fields)));
  };

  const std::string d0 = "2022-01-05";
  run(d0, "DefineUnit", {{"unit", "VN"}, {"name", "Việt Nam"}, {"level", "national"}});
  run(d0, "DefineUnit",
      {{"unit", "CM"}, {"name", "Tỉnh Cà Mau"}, {"level", "province"}, {"parent", "VN"}});
  run(d0, "DefineUnit",
      {{"unit", "UM"}, {"name", "Huyện U Minh"}, {"level", "district"}, {"parent", "CM"}});
  run(d0, "DefineUnit",
      {{"unit", "DD"}, {"name", "Huyện Đầm Dơi"}, {"level", "district"}, {"parent", "CM"}});
  run(d0, "DefineUnit",
      {{"unit", "TB"}, {"name", "Huyện Thới Bình"}, {"level", "district"}, {"parent", "CM"}});
  run(d0, "DefineUnit",
      {{"unit", "XA"}, {"name", "Xã Khánh An"}, {"level", "commune"}, {"parent", "UM"}});
  for (auto [council, level, unit] :
       {std::tuple{"HD-TW", "central", "VN"}, std::tuple{"HD-CM", "province", "CM"},
        std::tuple{"HD-UM", "district", "UM"}, std::tuple{"HD-DD", "district", "DD"},
        std::tuple{"HD-TB", "district", "TB"}}) {
    run(d0, "ConstituteCouncil",
        {{"council", council},
         {"level", level},
         {"unit", unit},
         {"decision", Decision(std::string("1/QĐ-") + unit, d0, unit)}});
  }
  const std::string d1 = "2022-01-10";
  run(d1, "RegisterSubject",
      {{"subject", "S1"}, {"name", "HTX Thành Công"}, {"legal_form", "HTX"}, {"unit", "UM"}});
  run(d1, "RegisterSubject",
      {{"subject", "S2"},
       {"name", "Hộ Nguyễn Thị Lan"},
       {"legal_form", "HKD"},
       {"unit", "XA"},
       {"woman_owned", true}});
  run(d1, "RegisterSubject",
      {{"subject", "S3"},
       {"name", "Công ty TNHH Biển Xanh"},
       {"legal_form", "DN"},
       {"unit", "DD"}});
  run(d1, "RegisterSubject",
      {{"subject", "S4"},
       {"name", "THT Thới Bình"},
       {"legal_form", "THT"},
       {"unit", "TB"},
       {"woman_owned", true}});
  // Certified before the ledger existed: effective 2021, recorded 2022.
  w.Submit(at(d1), Cmd("ImportCertificate", "2021-11-20",
                       {{"product", "P-EXP"},
                        {"subject", "S2"},
                        {"name", "Mắm tôm chà"},
                        {"group", 1},
                        {"unit", "XA"},
                        {"stars", 4},
                        {"certificate", "CN-EXP"},
                        {"decision", Decision("1520/QĐ-UBND", "2021-11-20", "CM")}}));

  // The cycle up to a submitted dossier, for products registered together.
  struct Idea {
    const char *product, *subject, *unit;
    int group;
  };
  auto cycle = [&](int year, std::vector<Idea> ideas) {
    const std::string y = std::to_string(year);
    for (const Idea& i : ideas) {
      run(y + "-03-05", "RegisterIdea",
          {{"product", i.product},
           {"subject", i.subject},
           {"name", std::string("Sản phẩm ") + i.product},
           {"group", i.group},
           {"unit", i.unit},
           {"cycle_year", year}});
    }
    for (const Idea& i : ideas)
      run(y + "-03-20", "ReviewIdea", {{"product", i.product}, {"outcome", "selected"}});
    for (const Idea& i : ideas) {
      run(y + "-04-10", "SubmitPlan",
          {{"product", i.product},
           {"document", {{"title", "Phương án kinh doanh"}, {"sha256", std::string(64, 'a')}}}});
    }
    for (const Idea& i : ideas)
      run(y + "-04-25", "ReviewPlan", {{"product", i.product}, {"outcome", "approved"}});
    if (year == 2022) {
      // State support counts in the folded state: an event applied twice would show.
      run("2022-05-15", "GrantSupport",
          {{"product", "P-NEW"},
           {"category", "bao bì"},
           {"amount_vnd", 30000000},
           {"source", "province"}});
    }
    for (const Idea& i : ideas) {
      run(y + "-08-01", "SubmitDossier",
          {{"product", i.product}, {"cycle_year", year}, {"entry", "new"}});
    }
  };
  auto score = [&](const std::string& date, const std::string& product, const std::string& council,
                   double a, double b, double c) {
    run(date, "RecordScore",
        {{"product", product}, {"council", council}, {"parts", {{"A", a}, {"B", b}, {"C", c}}}});
  };

  // 2022, rules of QĐ 1048 (parts 35/25/40; the province certifies 3 and 4 stars).
  cycle(2022, {{"P-NEW", "S2", "XA", 1}, {"P-REV1", "S1", "UM", 2}, {"P-REV2", "S4", "TB", 1}});
  score("2022-09-15", "P-NEW", "HD-CM", 20, 15, 25);   // 60: 3 stars
  score("2022-09-15", "P-REV1", "HD-CM", 25, 20, 30);  // 75: 4 stars
  score("2022-09-15", "P-REV2", "HD-CM", 20, 15, 20);  // 55: 3 stars
  run("2022-09-30", "ApproveResults",
      {{"decision", Decision("101/QĐ-UBND", "2022-09-30", "CM")},
       {"level", "province"},
       {"items",
        {{{"product", "P-NEW"}, {"stars", 3}, {"certificate", "CN-A1"}},
         {{"product", "P-REV1"}, {"stars", 4}, {"certificate", "CN-R1"}},
         {{"product", "P-REV2"}, {"stars", 3}, {"certificate", "CN-R2"}}}}});

  // 2023, rules of QĐ 148 from 2023-02-24 (parts 40/25/35; districts certify 3 stars).
  cycle(2023, {{"P-UP", "S3", "DD", 2},
               {"P-ANN", "S3", "DD", 1},
               {"P-FIVE", "S1", "UM", 3},
               {"P-LATE", "S4", "TB", 4}});
  score("2023-08-15", "P-UP", "HD-DD", 24, 15, 21);    // 60: 3 stars
  score("2023-08-15", "P-ANN", "HD-DD", 23, 15, 20);   // 58: 3 stars
  score("2023-08-15", "P-FIVE", "HD-UM", 38, 24, 30);  // 92: 5 stars
  score("2023-08-15", "P-LATE", "HD-TB", 22, 14, 19);  // 55: 3 stars
  run("2023-08-20", "Forward", {{"product", "P-FIVE"}, {"to_level", "province"}});
  auto district = run("2023-08-30", "ApproveResults",
                      {{"decision", Decision("45/QĐ-UBND", "2023-08-30", "DD")},
                       {"level", "district"},
                       {"items",
                        {{{"product", "P-UP"}, {"stars", 3}, {"certificate", "CN-B1"}},
                         {{"product", "P-ANN"}, {"stars", 3}, {"certificate", "CN-E1"}}}}});
  REQUIRE(district.size() == 2);
  s.cert_ann = district[1];
  score("2023-09-15", "P-FIVE", "HD-CM", 38, 24, 30);
  run("2023-10-01", "Forward", {{"product", "P-FIVE"}, {"to_level", "central"}});
  score("2023-11-10", "P-FIVE", "HD-TW", 38, 24, 30);
  run("2023-11-30", "ApproveResults",
      {{"decision", Decision("310/QĐ-BNN", "2023-11-30", "VN")},
       {"level", "central"},
       {"items", {{{"product", "P-FIVE"}, {"stars", 5}, {"certificate", "CN-G1"}}}}});

  // 2024.
  s.annul = run("2024-02-01", "AnnulEvent",
                {{"target_seq", s.cert_ann}, {"reason", "Hồ sơ chưa đủ điều kiện"}})[0];
  auto revoked = run("2024-06-14", "RevokeRating",
                     {{"decision", Decision("88/QĐ-UBND", "2024-06-14", "CM")},
                      {"items",
                       {{{"product", "P-REV1"}, {"reason", "violation"}},
                        {{"product", "P-REV2"}, {"reason", "production_stopped"}}}}});
  REQUIRE(revoked.size() == 2);
  s.revoke_a = revoked[0];
  // Decided in March, recorded in June.
  s.late = w.Submit(
      at("2024-06-20"),
      Cmd("ApproveResults", "2024-03-15",
          {{"decision", Decision("30/QĐ-UBND", "2024-03-15", "TB")},
           {"level", "district"},
           {"items", {{{"product", "P-LATE"}, {"stars", 3}, {"certificate", "CN-F1"}}}}}))[0];
  run("2024-08-01", "SubmitDossier",
      {{"product", "P-UP"}, {"cycle_year", 2024}, {"entry", "upgrade"}});
  score("2024-08-15", "P-UP", "HD-DD", 32, 20, 28);  // 80: 4 stars
  run("2024-08-20", "Forward", {{"product", "P-UP"}, {"to_level", "province"}});
  score("2024-09-15", "P-UP", "HD-CM", 32, 20, 28);
  run("2024-09-30", "ApproveResults",
      {{"decision", Decision("120/QĐ-UBND", "2024-09-30", "CM")},
       {"level", "province"},
       {"items", {{{"product", "P-UP"}, {"stars", 4}, {"certificate", "CN-B2"}}}}});

  // 2025: targets, the merger, and P-NEW's re-recognition (QĐ 1489 from 07-06).
  for (auto [indicator, value] :
       {std::pair{"products_5_stars", 1.0}, std::pair{"products_3_stars_or_more", 5.0},
        std::pair{"htx_share_of_producers", 30.0}}) {
    run("2025-01-10", "SetTarget",
        {{"unit", "CM"}, {"year", 2025}, {"indicator", indicator}, {"value", value}});
  }
  s.retire = run("2025-07-01", "RetireUnit", {{"unit", "TB"}, {"successor", "UM"}})[0];
  run("2025-08-01", "SubmitDossier",
      {{"product", "P-NEW"}, {"cycle_year", 2025}, {"entry", "renewal"}});
  score("2025-08-20", "P-NEW", "HD-CM", 26, 16, 23);  // 65: 3 stars
  s.last = run("2025-09-10", "ApproveResults",
               {{"decision", Decision("150/QĐ-UBND", "2025-09-10", "CM")},
                {"level", "province"},
                {"items", {{{"product", "P-NEW"}, {"stars", 3}, {"certificate", "CN-A2"}}}}})[0];
  REQUIRE(w.ledger->Size() == s.last);
  return s;
}

projections::Report Rep(World& w, const std::string& from, const std::string& to,
                        const std::string& unit = "CM", uint64_t known_at = 0,
                        std::optional<Date> as_of = std::nullopt) {
  projections::ReportQuery q;
  q.period = {D(from), D(to)};
  q.unit = unit;
  q.known_at = known_at;
  q.as_of = as_of;
  projections::Report r;
  Status s = projections::BuildReport(*w.projections->View(), q, &r);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return r;
}
projections::Report Year(World& w, int year, const std::string& unit = "CM",
                         uint64_t known_at = 0) {
  return Rep(w, std::to_string(year) + "-01-01", std::to_string(year) + "-12-31", unit, known_at);
}

json StatusOf(World& w, const std::string& product, const std::string& today,
              const std::string& as_of = "", const std::string& known_at = "") {
  query::Json out;
  Status s =
      query::QueryStatus(w.Reader(today), query::StatusQuery{product, as_of, known_at}, &out);
  INFO(product << " " << s.ToString());
  REQUIRE(s.ok());
  // Every status names the checkpoint of the view it was read on: here, the
  // fixture's, caught up to the last append.
  REQUIRE(out.contains("checkpoint"));
  CHECK(out["checkpoint"].get<uint64_t>() == w.projections->checkpoint());
  out.erase("checkpoint");
  return json::parse(out.dump());
}

// (product, valid_until, days_left) of each deadlines row, in order.
using Row = std::tuple<std::string, std::string, int>;
std::vector<Row> Deadlines(World& w, const std::string& today, const std::string& as_of, int within,
                           const std::string& known_at = "", const std::string& unit = "") {
  query::DeadlinesQuery q;
  q.as_of = as_of;
  q.within_days = std::to_string(within);
  q.known_at = known_at;
  q.unit = unit;
  query::Json out;
  Status s = query::QueryDeadlines(w.Reader(today), q, &out);
  INFO(s.ToString());
  REQUIRE(s.ok());
  std::vector<Row> rows;
  for (const auto& r : out["rows"]) {
    rows.emplace_back(r["product"].get<std::string>(), r["valid_until"].get<std::string>(),
                      r["days_left"].get<int>());
  }
  return rows;
}

projections::Cohort CohortOf(World& w, int year, const std::string& as_of,
                             const std::string& unit = "CM", uint64_t known_at = 0) {
  projections::Cohort c;
  Status s = projections::BuildCohort(*w.projections->View(), year, D(as_of), unit, &c, known_at);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return c;
}

std::vector<uint64_t> Funnel(const projections::Cohort& c) {
  return {c.due, c.entered, c.renewed, c.revoked, c.lapsed, c.pending};
}

Digests DigestsOf(projections::Projections& p) {
  Digests d;
  REQUIRE(p.Digests(&d).ok());
  return d;
}

// A second set of projections of the same ledger, in its own directory.
std::unique_ptr<projections::Projections> OpenScratch(ledger::Ledger* ledger, const fs::path& dir) {
  std::unique_ptr<projections::Projections> p;
  Status s = projections::Projections::OpenAt(ledger, dir.string(), &p);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return p;
}

}  // namespace

TEST_CASE("period reports of the scenario, every figure worked out by hand") {
  World w;
  Populate(w);

  SECTION("2021: the imported certificate") {
    auto r = Year(w, 2021);
    CHECK(r.recognised.total == 1);  // P-EXP, imported, decision of 2021-11-20
    CHECK(r.recognised_by_entry["import"].by_stars == Counts{{"4", 1}});
    CHECK(r.recognised_by_unit == Counts{{"UM", 1}});  // commune XA lies in district UM
    CHECK(r.active_at_end.total == 1);
  }

  SECTION("2022: one decision, three products") {
    auto r = Year(w, 2022);
    // Decision 101 of 2022-09-30: P-NEW 3, P-REV1 4, P-REV2 3, all new entries.
    CHECK(r.recognised.total == 3);
    CHECK(r.recognised.by_stars == Counts{{"3", 2}, {"4", 1}});
    CHECK(r.recognised_by_entry.size() == 1);
    CHECK(r.recognised_by_entry["new"].by_stars == Counts{{"3", 2}, {"4", 1}});
    CHECK(r.recognised_by_group == Counts{{"1", 2}, {"2", 1}});  // P-NEW, P-REV2 food; P-REV1 drink
    CHECK(r.recognised_by_legal_form == Counts{{"HKD", 1}, {"HTX", 1}, {"THT", 1}});  // S2, S1, S4
    CHECK(r.recognised_by_unit ==
          Counts{{"TB", 1}, {"UM", 2}});  // P-NEW (commune XA) and P-REV1 under UM
    CHECK(r.revoked.total == 0);
    CHECK(r.expired.total == 0);
    // Active on 2022-12-31: those three and the import P-EXP (4 stars, XA).
    CHECK(r.active_at_end.total == 4);
    CHECK(r.active_at_end.by_stars == Counts{{"3", 2}, {"4", 2}});
    CHECK(r.active_by_unit == Counts{{"TB", 1}, {"UM", 3}});
    CHECK(r.active_by_unit_stars["UM"] == Counts{{"3", 1}, {"4", 2}});  // P-NEW; P-REV1, P-EXP
    CHECK(r.active_by_unit_stars["TB"] == Counts{{"3", 1}});            // P-REV2
    // Producers holding them: S1 (HTX), S2 (HKD, woman), S4 (THT, woman).
    CHECK(r.subjects_at_end == 3);
    CHECK(r.subjects_by_legal_form == Counts{{"HKD", 1}, {"HTX", 1}, {"THT", 1}});
    CHECK(r.subjects_woman_owned == 2);
    CHECK(r.targets.empty());  // the targets are for 2025
  }

  SECTION("2023: district and central decisions, the annulled certificate left out") {
    auto r = Year(w, 2023);
    // P-UP 3 stars (decision 45, DD) and P-FIVE 5 stars (decision 310, UM);
    // P-ANN's certificate of decision 45 was annulled.
    CHECK(r.recognised.total == 2);
    CHECK(r.recognised.by_stars == Counts{{"3", 1}, {"5", 1}});
    CHECK(r.recognised_by_entry["new"].total == 2);
    CHECK(r.recognised_by_group == Counts{{"2", 1}, {"3", 1}});
    CHECK(r.recognised_by_legal_form == Counts{{"DN", 1}, {"HTX", 1}});
    CHECK(r.recognised_by_unit == Counts{{"DD", 1}, {"UM", 1}});
    // Active on 2023-12-31: 2022's three, P-EXP, P-UP, P-FIVE.
    CHECK(r.active_at_end.total == 6);
    CHECK(r.active_at_end.by_stars == Counts{{"3", 3}, {"4", 2}, {"5", 1}});
    CHECK(r.active_by_unit == Counts{{"DD", 1}, {"TB", 1}, {"UM", 4}});
    CHECK(r.subjects_at_end == 4);
    CHECK(r.subjects_by_legal_form == Counts{{"DN", 1}, {"HKD", 1}, {"HTX", 1}, {"THT", 1}});
    CHECK(r.subjects_woman_owned == 2);
  }

  SECTION("2024: a batch revocation, an expiry, an upgrade and the late decision") {
    auto r = Year(w, 2024);
    // P-LATE 3 stars new (decision 30, TB) and P-UP's upgrade to 4 (decision 120, DD).
    CHECK(r.recognised.total == 2);
    CHECK(r.recognised.by_stars == Counts{{"3", 1}, {"4", 1}});
    CHECK(r.recognised_by_entry["new"].by_stars == Counts{{"3", 1}});
    CHECK(r.recognised_by_entry["upgrade"].by_stars == Counts{{"4", 1}});
    CHECK(r.recognised_by_group == Counts{{"2", 1}, {"4", 1}});
    CHECK(r.recognised_by_legal_form == Counts{{"DN", 1}, {"THT", 1}});
    CHECK(r.recognised_by_unit == Counts{{"DD", 1}, {"TB", 1}});  // TB still existed on 2024-12-31
    // Decision 88: P-REV1 (4 stars, violation), P-REV2 (3, production stopped).
    CHECK(r.revoked.total == 2);
    CHECK(r.revoked.by_stars == Counts{{"3", 1}, {"4", 1}});
    CHECK(r.revoked_by_reason == Counts{{"production_stopped", 1}, {"violation", 1}});
    // P-EXP lapsed on 2024-11-21. P-UP's 3-star certificate was superseded, not expired.
    CHECK(r.expired.total == 1);
    CHECK(r.expired.by_stars == Counts{{"4", 1}});
    // Active on 2024-12-31: P-NEW 3, P-LATE 3, P-UP 4, P-FIVE 5.
    CHECK(r.active_at_end.total == 4);
    CHECK(r.active_at_end.by_stars == Counts{{"3", 2}, {"4", 1}, {"5", 1}});
    CHECK(r.active_by_unit == Counts{{"DD", 1}, {"TB", 1}, {"UM", 2}});
    CHECK(r.subjects_at_end == 4);
    CHECK(r.subjects_woman_owned == 2);
  }

  SECTION("2025: a renewal, the merged district rolled up, targets against actuals") {
    auto r = Year(w, 2025);
    // P-NEW re-recognised with 3 stars by decision 150 (commune XA, so UM).
    CHECK(r.recognised.total == 1);
    CHECK(r.recognised_by_entry["renewal"].by_stars == Counts{{"3", 1}});
    CHECK(r.recognised_by_unit == Counts{{"UM", 1}});
    CHECK(r.revoked.total == 0);
    // CN-A1 would have lapsed on 2025-10-01 but was superseded on 2025-09-10.
    CHECK(r.expired.total == 0);
    // Active on 2025-12-31: P-NEW 3 (XA), P-LATE 3 (TB, now UM), P-UP 4 (DD), P-FIVE 5 (UM).
    CHECK(r.active_at_end.total == 4);
    CHECK(r.active_at_end.by_stars == Counts{{"3", 2}, {"4", 1}, {"5", 1}});
    CHECK(r.active_by_unit == Counts{{"DD", 1}, {"UM", 3}});
    CHECK(r.active_by_unit_stars["UM"] == Counts{{"3", 2}, {"5", 1}});
    CHECK(r.active_by_unit_stars["DD"] == Counts{{"4", 1}});
    // Producers: S1 HTX, S2 HKD, S3 DN, S4 THT; S2 and S4 woman-owned.
    CHECK(r.subjects_at_end == 4);
    CHECK(r.subjects_woman_owned == 2);
    // Targets in key order; 1 of the 4 producers is an HTX: 25%.
    REQUIRE(r.targets.size() == 3);
    CHECK(r.targets[0].indicator == "htx_share_of_producers");
    CHECK(r.targets[0].target == 30);
    CHECK(r.targets[0].actual == std::optional<double>(25.0));
    CHECK(r.targets[1].indicator == "products_3_stars_or_more");
    CHECK(r.targets[1].target == 5);
    CHECK(r.targets[1].actual == std::optional<double>(4.0));
    CHECK(r.targets[2].indicator == "products_5_stars");
    CHECK(r.targets[2].actual == std::optional<double>(1.0));
  }

  SECTION("district totals include their communes") {
    // UM in 2022: P-NEW and P-EXP recorded at commune XA, P-REV1 at UM itself.
    auto r = Year(w, 2022, "UM");
    CHECK(r.active_at_end.total == 3);
    CHECK(r.active_by_unit == Counts{{"UM", 1}, {"XA", 2}});
    CHECK(r.recognised.total == 2);  // P-NEW (XA), P-REV1 (UM)
    CHECK(r.recognised_by_unit == Counts{{"UM", 1}, {"XA", 1}});
    // The commune alone.
    r = Year(w, 2022, "XA");
    CHECK(r.active_at_end.total == 2);
    CHECK(r.active_by_unit == Counts{{"XA", 2}});
    // DD has no commune and nothing of UM's.
    CHECK(Year(w, 2022, "DD").active_at_end.total == 0);
    // The province's total is the sum of its districts'.
    for (int year = 2021; year <= 2025; ++year) {
      INFO(year);
      uint64_t sum = 0;
      for (const char* d : {"UM", "DD", "TB"}) sum += Year(w, year, d).active_at_end.total;
      if (year == 2025) sum -= Year(w, year, "TB").active_at_end.total;  // TB lies in UM by then
      CHECK(Year(w, year).active_at_end.total == sum);
    }
  }

  SECTION("the retired district reports under itself before the merger, under UM after") {
    // TB held P-LATE (active) on the last day before the merger.
    auto r = Rep(w, "2025-01-01", "2025-06-30");
    CHECK(r.active_by_unit == Counts{{"DD", 1}, {"TB", 1}, {"UM", 2}});
    r = Rep(w, "2025-07-01", "2025-07-01");
    CHECK(r.active_by_unit == Counts{{"DD", 1}, {"UM", 3}});
    // Its 2024 recognition stays its own in 2024's report (above) ...
    CHECK(Year(w, 2024).recognised_by_unit.count("TB") == 1);
    // ... while UM's own report takes it in only once TB is part of it.
    CHECK(Rep(w, "2025-01-01", "2025-06-30", "UM").active_at_end.total == 2);  // P-NEW, P-FIVE
    r = Year(w, 2025, "UM");
    CHECK(r.active_at_end.total == 3);
    CHECK(r.active_by_unit == Counts{{"UM", 2}, {"XA", 1}});  // P-FIVE and P-LATE, P-NEW
    // The 2024 revocation of P-REV2 (TB) is TB's, P-REV1's UM's.
    r = Year(w, 2024, "TB");
    CHECK(r.revoked.total == 1);
    CHECK(r.revoked_by_reason == Counts{{"production_stopped", 1}});
    CHECK(Year(w, 2024, "UM").revoked_by_reason == Counts{{"violation", 1}});
  }

  SECTION("the cohort funnels") {
    // 2022's certificates: CN-A1 renewed, CN-R1 and CN-R2 revoked.
    CHECK(Funnel(CohortOf(w, 2022, "2025-12-31")) == std::vector<uint64_t>{3, 1, 1, 2, 0, 0});
    // Before the renewal decision CN-A1 was entered (2025-08-01) but pending.
    CHECK(Funnel(CohortOf(w, 2022, "2025-09-01")) == std::vector<uint64_t>{3, 1, 0, 2, 0, 1});
    // The renewal dossier of 2025-08-01 counts as entered from that day only.
    CHECK(Funnel(CohortOf(w, 2022, "2025-07-31")) == std::vector<uint64_t>{3, 0, 0, 2, 0, 1});
    CHECK(Funnel(CohortOf(w, 2022, "2025-08-01")) == std::vector<uint64_t>{3, 1, 0, 2, 0, 1});
    // Before the revocation all three were pending.
    CHECK(Funnel(CohortOf(w, 2022, "2024-06-13")) == std::vector<uint64_t>{3, 0, 0, 0, 0, 3});
    // 2023's: CN-B1 upgraded (entered and superseded), CN-G1 pending; CN-E1 annulled.
    CHECK(Funnel(CohortOf(w, 2023, "2025-12-31")) == std::vector<uint64_t>{2, 1, 1, 0, 0, 1});
    // 2021's import lapsed unrenewed.
    CHECK(Funnel(CohortOf(w, 2021, "2025-12-31")) == std::vector<uint64_t>{1, 0, 0, 0, 1, 0});
    CHECK(Funnel(CohortOf(w, 2021, "2024-11-20")) == std::vector<uint64_t>{1, 0, 0, 0, 0, 1});
    // By unit: TB's certificates join UM's cohort once TB is part of it.
    CHECK(CohortOf(w, 2022, "2025-06-30", "UM").due == 2);  // CN-A1 (XA), CN-R1
    CHECK(CohortOf(w, 2022, "2025-07-01", "UM").due == 3);  // and CN-R2 (TB)
  }
}

TEST_CASE("expiry is computed for any date: the day before, on and after 36 months") {
  World w;
  Populate(w);
  // P-EXP: decision of 2021-11-20, last valid day 2024-11-20.
  const std::string today = "2025-12-31";
  json before = StatusOf(w, "P-EXP", today, "2024-11-19");
  CHECK(before["stage"] == "certified");
  CHECK(before["stars"] == 4);
  CHECK(before["certificate"]["valid_until"] == "2024-11-20");
  CHECK(before["certificate"]["days_left"] == 1);
  json on = StatusOf(w, "P-EXP", today, "2024-11-20");
  CHECK(on["stage"] == "certified");
  CHECK(on["stars"] == 4);
  CHECK(on["certificate"]["days_left"] == 0);
  CHECK(on["star_history"][0]["to"].is_null());
  json after = StatusOf(w, "P-EXP", today, "2024-11-21");
  CHECK(after["stage"] == "expired");
  CHECK(after["stars"].is_null());
  CHECK(after["certificate"].is_null());
  REQUIRE(after["star_history"].size() == 1);
  CHECK(after["star_history"][0]["from"] == "2021-11-20");
  CHECK(after["star_history"][0]["to"] == "2024-11-21");
  CHECK(after["star_history"][0]["ended"] == "expired");

  // Nothing stored says "expired": the read model holds the certified stage,
  // and the same record answers for every date.
  workflow::ProductState p;
  REQUIRE(w.projections->View()->Product("P-EXP", &p).ok());
  CHECK(p.stage == workflow::Stage::kCertified);
  CHECK(p.StageOn(D("2024-11-20")) == workflow::Stage::kCertified);
  CHECK(p.StageOn(D("2024-11-21")) == workflow::Stage::kExpired);
  // The status of today, from the read model, and on the last valid day as "today".
  CHECK(StatusOf(w, "P-EXP", today)["stage"] == "expired");
  CHECK(StatusOf(w, "P-EXP", "2024-11-20")["stage"] == "certified");
  CHECK(StatusOf(w, "P-EXP", "2024-11-20")["stars"] == 4);

  // Reports of one day: active through the 20th, expired on the 21st.
  // Active on 2024-11-19 and -20: P-NEW, P-EXP, P-UP (4), P-FIVE, P-LATE.
  CHECK(Rep(w, "2024-11-19", "2024-11-19").active_at_end.total == 5);
  auto r = Rep(w, "2024-11-20", "2024-11-20");
  CHECK(r.active_at_end.total == 5);
  CHECK(r.active_at_end.by_stars == Counts{{"3", 2}, {"4", 2}, {"5", 1}});
  CHECK(r.expired.total == 0);
  r = Rep(w, "2024-11-21", "2024-11-21");
  CHECK(r.active_at_end.total == 4);
  CHECK(r.active_at_end.by_stars == Counts{{"3", 2}, {"4", 1}, {"5", 1}});
  CHECK(r.expired.total == 1);
  CHECK(Rep(w, "2024-11-01", "2024-11-20").expired.total == 0);
  CHECK(Rep(w, "2024-11-21", "2024-11-30").expired.total == 1);
  // A November report asked as it stood on the 20th has not seen the lapse yet.
  CHECK(Rep(w, "2024-11-01", "2024-11-30", "CM", 0, D("2024-11-20")).expired.total == 0);
  CHECK(Rep(w, "2024-11-01", "2024-11-30", "CM", 0, D("2024-11-21")).expired.total == 1);

  // Deadlines as of each day, within 30 days: the lapsed one stays listed,
  // with days_left counting down through zero.
  CHECK(Deadlines(w, today, "2024-11-19", 30) == std::vector<Row>{{"P-EXP", "2024-11-20", 1}});
  CHECK(Deadlines(w, today, "2024-11-20", 30) == std::vector<Row>{{"P-EXP", "2024-11-20", 0}});
  CHECK(Deadlines(w, today, "2024-11-21", 30) == std::vector<Row>{{"P-EXP", "2024-11-20", -1}});
  // The window's edge: 31 days ahead is in a 31-day window, not a 30-day one.
  CHECK(Deadlines(w, today, "2024-10-20", 30).empty());
  CHECK(Deadlines(w, today, "2024-10-20", 31) == std::vector<Row>{{"P-EXP", "2024-11-20", 31}});
}

TEST_CASE("deadlines: soonest first, from the read model and from the certificate history") {
  World w;
  Populate(w);
  // Today 2025-12-31 from the deadlines read model, within a year (to
  // 2026-12-31): P-EXP lapsed unrenewed 406 days ago (41 days to the end of
  // 2024, then 365), P-FIVE's 5 stars end on 2026-11-30 (334 days). P-REV1 and
  // P-REV2 were revoked, P-NEW renewed to 2028, P-UP upgraded to 2027-09-30,
  // P-LATE runs to 2027-03-15, P-ANN holds nothing.
  const std::vector<Row> today{{"P-EXP", "2024-11-20", -406}, {"P-FIVE", "2026-11-30", 334}};
  CHECK(Deadlines(w, "2025-12-31", "", 365) == today);
  // The same date asked explicitly goes through the certificate history.
  CHECK(Deadlines(w, "2030-01-01", "2025-12-31", 365) == today);
  // As of 2025-08-15, 60 days: P-NEW's first certificate (to 2025-09-30, 46
  // days) was still the current one; P-EXP had lapsed 268 days before.
  CHECK(Deadlines(w, "2025-12-31", "2025-08-15", 60) ==
        std::vector<Row>{{"P-EXP", "2024-11-20", -268}, {"P-NEW", "2025-09-30", 46}});
  // Revoked certificates are no one's deadline: before decision 88, P-REV1
  // and P-REV2 (to 2025-09-30) are listed within 500 days of 2024-06-13.
  auto rows = Deadlines(w, "2025-12-31", "2024-06-13", 500);
  std::vector<std::string> products;
  for (const auto& r : rows) products.push_back(std::get<0>(r));
  CHECK(products == std::vector<std::string>{"P-EXP", "P-NEW", "P-REV1", "P-REV2"});
  CHECK(std::get<2>(rows[1]) == 474);  // 2024-06-13 to 2025-09-30
  rows = Deadlines(w, "2025-12-31", "2024-06-14", 500);
  CHECK(rows == std::vector<Row>{{"P-EXP", "2024-11-20", 159}, {"P-NEW", "2025-09-30", 473}});
  // By unit: district UM includes commune XA; after the merger it includes TB.
  CHECK(Deadlines(w, "2025-12-31", "", 365, "", "UM") == today);
  CHECK(Deadlines(w, "2025-12-31", "", 365, "", "DD").empty());
  CHECK(Deadlines(w, "2025-12-31", "", 500, "", "UM") ==
        std::vector<Row>{{"P-EXP", "2024-11-20", -406},
                         {"P-FIVE", "2026-11-30", 334},
                         {"P-LATE", "2027-03-15", 439}});
  rows = Deadlines(w, "2025-12-31", "2025-06-30", 700, "", "UM");
  for (const auto& r : rows) CHECK(std::get<0>(r) != "P-LATE");  // TB not yet part of UM
  CHECK(Deadlines(w, "2025-12-31", "2025-06-30", 700, "", "TB") ==
        std::vector<Row>{{"P-LATE", "2027-03-15", 623}});
}

TEST_CASE("star history and status through the read model") {
  World w;
  Populate(w);
  json up = StatusOf(w, "P-UP", "2025-12-31");
  CHECK(up["stage"] == "certified");
  CHECK(up["stars"] == 4);
  CHECK(up["certificate"]["no"] == "CN-B2");
  CHECK(up["certificate"]["entry"] == "upgrade");
  json history = up["star_history"];
  REQUIRE(history.size() == 2);
  CHECK(history[0]["seq"] < history[1]["seq"]);
  for (json& h : history) h.erase("seq");
  CHECK(history == json::parse(R"([
    {"stars":3,"from":"2023-08-30","to":"2024-09-30","decision":"45/QĐ-UBND","certificate":"CN-B1","ended":"superseded"},
    {"stars":4,"from":"2024-09-30","to":null,"decision":"120/QĐ-UBND","certificate":"CN-B2"}])"));
  json fresh = StatusOf(w, "P-NEW", "2025-12-31");
  CHECK(fresh["certificate"]["entry"] == "renewal");
  CHECK(fresh["certificate"]["valid_until"] == "2028-09-10");
  REQUIRE(fresh["star_history"].size() == 2);
  CHECK(fresh["star_history"][0]["to"] == "2025-09-10");
  CHECK(fresh["star_history"][0]["ended"] == "superseded");
  json rev = StatusOf(w, "P-REV1", "2025-12-31");
  CHECK(rev["stage"] == "revoked");
  CHECK(rev["stars"].is_null());
  REQUIRE(rev["star_history"].size() == 1);
  CHECK(rev["star_history"][0]["to"] == "2024-06-14");
  CHECK(rev["star_history"][0]["ended"] == "revoked");
  // The day before the revocation it was in force.
  CHECK(StatusOf(w, "P-REV1", "2025-12-31", "2024-06-13")["stars"] == 4);
  // The status the read model gives equals the fold of the product's stream.
  for (const char* id :
       {"P-EXP", "P-NEW", "P-REV1", "P-REV2", "P-UP", "P-ANN", "P-FIVE", "P-LATE"}) {
    INFO(id);
    workflow::ProductState folded;
    REQUIRE(replay::ProductAt(w.ledger.get(), id, replay::PointInTime{}, &folded).ok());
    for (const char* day : {"2023-06-01", "2024-11-21", "2025-12-31"}) {
      CHECK(StatusOf(w, id, day) == json::parse(projections::StatusJson(folded, D(day)).dump()));
    }
  }
}

TEST_CASE("an annulled certificate stops counting everywhere it counted") {
  World w;
  Seqs s = Populate(w);
  const uint64_t before = s.annul - 1;
  // Reports of 2023: decision 45 gave P-UP and P-ANN 3 stars each in DD.
  auto r = Year(w, 2023, "CM", before);
  CHECK(r.recognised.total == 3);
  CHECK(r.recognised.by_stars == Counts{{"3", 2}, {"5", 1}});
  CHECK(r.recognised_by_unit == Counts{{"DD", 2}, {"UM", 1}});
  CHECK(r.active_at_end.total == 7);
  r = Year(w, 2023, "CM", s.annul);
  CHECK(r.recognised.total == 2);
  CHECK(r.recognised_by_unit == Counts{{"DD", 1}, {"UM", 1}});
  CHECK(r.active_at_end.total == 6);
  CHECK(projections::ReportJson(Year(w, 2023, "CM", s.annul))["recognised"] ==
        projections::ReportJson(Year(w, 2023))["recognised"]);
  // Deadlines of August 2026, within 60 days, as known before the
  // annulment: CN-ANN and CN-B1 end on 2026-08-30 (29 days); P-EXP lapsed
  // 619 days before; 2022's three (revocation and renewal not yet recorded)
  // lapsed on 2025-09-30, 305 days before. Known now, CN-B1 was superseded by
  // the upgrade, CN-A1 by the renewal, CN-R1 and CN-R2 revoked, and CN-ANN
  // never stood.
  CHECK(Deadlines(w, "2030-01-01", "2026-08-01", 60, std::to_string(before)) ==
        std::vector<Row>{{"P-EXP", "2024-11-20", -619},
                         {"P-NEW", "2025-09-30", -305},
                         {"P-REV1", "2025-09-30", -305},
                         {"P-REV2", "2025-09-30", -305},
                         {"P-ANN", "2026-08-30", 29},
                         {"P-UP", "2026-08-30", 29}});
  CHECK(Deadlines(w, "2030-01-01", "2026-08-01", 60) ==
        std::vector<Row>{{"P-EXP", "2024-11-20", -619}});
  // Nor is it in the deadlines read model or the current facts.
  CHECK(Deadlines(w, "2026-08-01", "", 3650).size() == 5);  // P-EXP, P-FIVE, P-LATE, P-UP, P-NEW
  for (const auto& row : Deadlines(w, "2026-08-01", "", 3650)) CHECK(std::get<0>(row) != "P-ANN");
  REQUIRE(w.projections->View()
              ->ForEachFact([&](projections::schema::CertificateFact::Reader f) {
                CHECK(std::string(f.getProduct().cStr()) != "P-ANN");
              })
              .ok());
  // Its status: back to scored, with no certificate and no star history.
  json now = StatusOf(w, "P-ANN", "2025-12-31");
  CHECK(now["stage"] == "scored");
  CHECK(now["stars"].is_null());
  CHECK(now["certificate"].is_null());
  CHECK(now["star_history"].empty());
  json then = StatusOf(w, "P-ANN", "2025-12-31", "", std::to_string(before));
  CHECK(then["stage"] == "certified");
  CHECK(then["stars"] == 3);
  // The 2023 cohort: three due as known before, two after.
  CHECK(Funnel(CohortOf(w, 2023, "2025-12-31", "CM", before)) ==
        std::vector<uint64_t>{3, 0, 0, 0, 0, 3});
  CHECK(CohortOf(w, 2023, "2025-12-31", "CM", s.annul).due == 2);
}

TEST_CASE("a decision recorded months late counts once known, on its own date") {
  World w;
  Seqs s = Populate(w);
  // Decision 30 of 2024-03-15, recorded 2024-06-20: in Q1 2024 only as known after.
  auto q1 = [&](uint64_t known_at, std::optional<Date> as_of = std::nullopt) {
    return Rep(w, "2024-01-01", "2024-03-31", "CM", known_at, as_of);
  };
  CHECK(q1(s.late - 1).recognised.total == 0);
  // Active on 2024-03-31 as known before: P-NEW, P-REV1, P-REV2, P-EXP, P-UP, P-FIVE.
  CHECK(q1(s.late - 1).active_at_end.total == 6);
  auto r = q1(s.late);
  CHECK(r.recognised.total == 1);
  CHECK(r.recognised.by_stars == Counts{{"3", 1}});
  CHECK(r.recognised_by_unit == Counts{{"TB", 1}});
  CHECK(r.active_at_end.total == 7);
  CHECK(q1(0).recognised.total == 1);
  // By recording time given as dates (the end of that day in Vietnam).
  uint64_t june19 = 0, june20 = 0;
  REQUIRE(replay::ParseKnownAt(w.ledger.get(), "2024-06-19", &june19).ok());
  REQUIRE(replay::ParseKnownAt(w.ledger.get(), "2024-06-20", &june20).ok());
  CHECK(june19 == s.late - 1);
  CHECK(june20 == s.late);
  CHECK(q1(june19).recognised.total == 0);
  CHECK(q1(june20).recognised.total == 1);
  // By effective time, as known now: not before its date.
  CHECK(q1(0, D("2024-03-14")).recognised.total == 0);
  CHECK(q1(0, D("2024-03-15")).recognised.total == 1);
  // June's report does not count it: it took effect in March.
  CHECK(Rep(w, "2024-06-01", "2024-06-30").recognised.total == 0);
  // Its status as of April, as known on each day.
  CHECK(StatusOf(w, "P-LATE", "2025-12-31", "2024-04-01", "2024-06-19")["stage"] == "scored");
  CHECK(StatusOf(w, "P-LATE", "2025-12-31", "2024-04-01", "2024-06-20")["stage"] == "certified");
  // Deadlines of March 2027 known before and after: P-LATE appears after.
  // Before, P-NEW's first certificate (renewed in 2025) and P-UP's (upgraded
  // in August 2024) were still current, lapsed by then.
  auto products = [&](const std::string& known_at) {
    std::vector<std::string> out;
    for (const auto& row : Deadlines(w, "2030-01-01", "2027-03-01", 30, known_at))
      out.push_back(std::get<0>(row));
    return out;
  };
  CHECK(products(std::to_string(s.late - 1)) ==
        std::vector<std::string>{"P-EXP", "P-NEW", "P-UP", "P-FIVE"});
  CHECK(products("") == std::vector<std::string>{"P-EXP", "P-FIVE", "P-LATE"});
}

TEST_CASE("rebuilds, chunked catch-ups and restarts give the live read models byte for byte") {
  World w;
  Seqs s = Populate(w);
  const Digests& final = w.live.at(s.last);
  REQUIRE(final.size() == 12);  // every column family but RocksDB's default
  for (const char* cf :
       {"products", "certificates", "deadlines", "units", "subjects", "targets", "meta",
        "fact_versions", "changes", "report_changes", "report_ids", "report_facts"}) {
    CHECK(final.count(cf) == 1);
  }

  SECTION("one fold of the whole log") {
    auto p = OpenScratch(w.ledger.get(), w.dir / "scratch-one");
    std::vector<std::pair<uint64_t, uint64_t>> progress;
    REQUIRE(p->CatchUp([&](uint64_t done, uint64_t total) {
               progress.emplace_back(done, total);
             }).ok());
    CHECK(p->checkpoint() == s.last);
    CHECK(DigestsOf(*p) == final);
    CHECK(progress.back() == std::pair<uint64_t, uint64_t>{s.last, s.last});
  }

  SECTION("Rebuild in place") {
    REQUIRE(w.projections->Rebuild().ok());
    CHECK(w.projections->checkpoint() == s.last);
    CHECK(DigestsOf(*w.projections) == final);
    // And again, over an already rebuilt directory.
    REQUIRE(w.projections->Rebuild().ok());
    CHECK(DigestsOf(*w.projections) == final);
    // And with the changes sorted in runs of a few records each, whose
    // table files overlap one another in dates.
    w.projections->set_rebuild_run_bytes(512);
    REQUIRE(w.projections->Rebuild().ok());
    CHECK(DigestsOf(*w.projections) == final);
  }

  SECTION("catching up to each live checkpoint in turn") {
    // Every intermediate state equals what live folding had at that point.
    auto p = OpenScratch(w.ledger.get(), w.dir / "scratch-steps");
    for (const auto& [seq, digests] : w.live) {
      INFO("up to " << seq);
      REQUIRE(p->CatchUp({}, seq).ok());
      CHECK(p->checkpoint() == seq);
      CHECK(DigestsOf(*p) == digests);
    }
  }

  SECTION("catching up in uneven chunks, cutting through multi-event commands") {
    auto p = OpenScratch(w.ledger.get(), w.dir / "scratch-chunks");
    uint64_t up_to = 0;
    for (uint64_t step = 1; up_to < s.last; step = step % 7 + 1) {
      up_to = std::min(up_to + step, s.last);
      REQUIRE(p->CatchUp({}, up_to).ok());
      CHECK(p->checkpoint() == up_to);
      if (w.live.count(up_to)) CHECK(DigestsOf(*p) == w.live.at(up_to));
    }
    CHECK(DigestsOf(*p) == final);
    // Asking beyond the log folds what there is.
    REQUIRE(p->CatchUp({}, s.last + 100).ok());
    CHECK(p->checkpoint() == s.last);
  }

  SECTION("a restart after a checkpoint resumes exactly there") {
    // The checkpoint is in the batch of the data it covers: closing after
    // folding up to k and reopening finds k and the state live folding had at
    // k; going on applies k+1 onwards once, not twice and not skipping any.
    // Stops include points inside multi-event commands (the two events of
    // the batch revocation, the two certificates of decision 45).
    std::set<uint64_t> stops = {s.cert_ann - 1, s.cert_ann, s.annul,   s.revoke_a,
                                s.late,         s.retire,   s.last - 1};
    for (uint64_t k = 5; k < s.last; k += 9) stops.insert(k);
    const fs::path dir = w.dir / "scratch-restart";
    uint64_t folded = 0;
    for (uint64_t k : stops) {
      INFO("stopped at " << folded << ", going on to " << k);
      auto p = OpenScratch(w.ledger.get(), dir);
      CHECK(p->checkpoint() == folded);
      if (w.live.count(folded)) CHECK(DigestsOf(*p) == w.live.at(folded));
      REQUIRE(p->CatchUp({}, k).ok());
      folded = k;
    }  // each pass closes the projections, as a process ending
    auto p = OpenScratch(w.ledger.get(), dir);
    CHECK(p->checkpoint() == s.last - 1);
    REQUIRE(p->CatchUp().ok());
    CHECK(DigestsOf(*p) == final);
    // P-NEW's one grant of support is counted once.
    workflow::ProductState product;
    REQUIRE(p->View()->Product("P-NEW", &product).ok());
    CHECK(product.support_vnd == 30000000);
  }

  SECTION("a crash keeps a folded prefix, and folding goes on from it") {
    // The files of an open fold, copied as they are, are what a process
    // killed at that moment leaves on disk: the live fold writes without
    // the WAL, so whatever was only in memory is lost, checkpoint included,
    // and must be folded again; what is on disk is the state at one
    // checkpoint, every read model alike (atomic flush).
    const std::vector<uint64_t> steps = {w.live.begin()->first, s.cert_ann, s.annul, s.late,
                                         s.last - 1};
    auto p = OpenScratch(w.ledger.get(), w.dir / "scratch-live");
    uint64_t flushed = 0;
    for (size_t i = 0; i < steps.size(); ++i) {
      const uint64_t k = steps[i];
      INFO("folded to " << k << ", last on disk at " << flushed);
      REQUIRE(p->CatchUp({}, k).ok());
      if (i % 2 == 1) {
        REQUIRE(p->Compact().ok());  // flushes every family
        flushed = k;
      }
      const fs::path image = w.dir / ("crash-image-" + std::to_string(i));
      fs::copy(w.dir / "scratch-live", image, fs::copy_options::recursive);
      auto crashed = OpenScratch(w.ledger.get(), image);
      const uint64_t at = crashed->checkpoint();
      CHECK(at >= flushed);
      CHECK(at <= k);
      if (w.live.count(at)) CHECK(DigestsOf(*crashed) == w.live.at(at));
      REQUIRE(crashed->CatchUp().ok());
      CHECK(DigestsOf(*crashed) == final);
    }
  }

  SECTION("projections ahead of their ledger are refused, not misread") {
    // A ledger holding fewer events than the projections folded: the
    // projections were copied from elsewhere or the log was lost.
    World other;
    other.Submit(VnMicros("2022-01-05", 9, 0),
                 Cmd("DefineUnit", "2022-01-05",
                     {{"unit", "VN"}, {"name", "Việt Nam"}, {"level", "national"}}));
    // The live projections hold the lock on their directory: close, copy.
    w.projections.reset();
    fs::copy(w.dir / "projections", other.dir / "copied", fs::copy_options::recursive);
    std::unique_ptr<projections::Projections> p;
    Status st =
        projections::Projections::OpenAt(other.ledger.get(), (other.dir / "copied").string(), &p);
    CHECK(st.IsCorruption());
    CHECK(st.message().find("rebuild") != std::string::npos);
  }
}

// The fields of an ImportCertificate: S1's product P1, three stars, CN-1, in CM.
json HoneyOfS1() {
  return {{"product", "P1"},
          {"subject", "S1"},
          {"name", "Mật ong U Minh"},
          {"group", 1},
          {"unit", "CM"},
          {"stars", 3},
          {"certificate", "CN-1"},
          {"decision", Decision("1/QĐ-UBND", "2024-01-10", "CM")}};
}

TEST_CASE("a producer registered again after an annulment restates its products, live as rebuilt") {
  // Certificate facts carry their producer's legal form and woman-owned
  // flag. Live folding writes a product only when an event changes it, so a
  // producer's own events must rewrite the facts of the products they hold.
  World w;
  int minute = 0;
  auto run = [&](const std::string& date, const std::string& type, json fields) {
    return w.Submit(VnMicros(date, 10, minute++), Cmd(type, date, std::move(fields)));
  };
  run("2024-01-02", "DefineUnit", {{"unit", "CM"}, {"name", "Tỉnh Cà Mau"}, {"level", "province"}});
  uint64_t registered = run(
      "2024-01-02", "RegisterSubject",
      {{"subject", "S1"}, {"name", "HTX Thành Công"}, {"legal_form", "HTX"}, {"unit", "CM"}})[0];
  run("2024-01-10", "ImportCertificate", HoneyOfS1());
  CHECK(Year(w, 2024).subjects_by_legal_form == Counts{{"HTX", 1}});
  run("2024-02-01", "AnnulEvent",
      {{"target_seq", registered}, {"reason", "Đăng ký sai loại hình"}});
  run("2024-02-02", "RegisterSubject",
      {{"subject", "S1"},
       {"name", "Công ty Thành Công"},
       {"legal_form", "DN"},
       {"unit", "CM"},
       {"woman_owned", true}});
  // Live, before any further event of P1: the facts say what S1 is now.
  auto r = Year(w, 2024);
  CHECK(r.subjects_by_legal_form == Counts{{"DN", 1}});
  CHECK(r.subjects_woman_owned == 1);
  run("2024-06-12", "RecordInspection", {{"product", "P1"}, {"compliant", true}});
  const Digests live = w.live.at(w.ledger->Size());
  REQUIRE(w.projections->Rebuild().ok());
  CHECK(DigestsOf(*w.projections) == live);
  CHECK(Year(w, 2024).subjects_by_legal_form == Counts{{"DN", 1}});
}

TEST_CASE("the fold's kept product states are never staler than the store they came from") {
  // The live fold keeps the product states it wrote and takes them back for
  // the next batch instead of reading the store. A store changed behind it
  // (here a rebuild that folded events this fold never saw) must not be
  // answered from what was kept: each grant of support must count once.
  World w;
  int minute = 0;
  auto run = [&](const std::string& date, const std::string& type, json fields) {
    return w.Submit(VnMicros(date, 10, minute++), Cmd(type, date, std::move(fields)));
  };
  auto grant = [&](int64_t amount) {
    run("2024-03-01", "GrantSupport",
        {{"product", "P1"},
         {"category", "bao bì"},
         {"amount_vnd", amount},
         {"source", "province"}});
  };
  run("2024-01-02", "DefineUnit", {{"unit", "CM"}, {"name", "Tỉnh Cà Mau"}, {"level", "province"}});
  run("2024-01-02", "RegisterSubject",
      {{"subject", "S1"}, {"name", "HTX Thành Công"}, {"legal_form", "HTX"}, {"unit", "CM"}});
  run("2024-01-10", "ImportCertificate", HoneyOfS1());
  auto p = OpenScratch(w.ledger.get(), w.dir / "scratch-kept");
  auto support = [&] {
    workflow::ProductState product;
    REQUIRE(p->View()->Product("P1", &product).ok());
    return product.support_vnd;
  };
  grant(1000000);
  REQUIRE(p->CatchUp().ok());  // P1 kept with one grant
  CHECK(support() == 1000000);
  grant(20000000);
  REQUIRE(p->Rebuild().ok());  // the store now has both; the fold never saw the second
  CHECK(support() == 21000000);
  grant(300000000);
  REQUIRE(p->CatchUp().ok());
  CHECK(support() == 321000000);
  CHECK(DigestsOf(*p) == w.live.at(w.ledger->Size()));
  // And in small batches, each taking P1 back from the one before.
  for (int64_t amount : {1, 2, 4}) {
    grant(amount);
    REQUIRE(p->CatchUp().ok());
  }
  CHECK(support() == 321000007);
  CHECK(DigestsOf(*p) == w.live.at(w.ledger->Size()));
  // A reopened fold starts from the store alone.
  p.reset();
  p = OpenScratch(w.ledger.get(), w.dir / "scratch-kept");
  grant(8);
  REQUIRE(p->CatchUp().ok());
  CHECK(support() == 321000015);
  CHECK(DigestsOf(*p) == w.live.at(w.ledger->Size()));
}

TEST_CASE("after an append returns, the command line and the server read their own writes") {
  World w;
  Populate(w);
  // The command line: another process appends while these projections are
  // closed; the next command opens them as every read command does and
  // catches up before answering.
  w.projections.reset();
  {
    capnp::MallocMessageBuilder msg;
    REQUIRE(workflow::ParseCommand(Cmd("RegisterIdea", "2025-10-01",
                                       {{"product", "P-CLI"},
                                        {"subject", "S1"},
                                        {"name", "Mật ong U Minh"},
                                        {"group", 1},
                                        {"unit", "UM"},
                                        {"cycle_year", 2026}}),
                                   &msg)
                .ok());
    w.now = VnMicros("2025-10-01", 10, 0);
    workflow::Outcome o;
    REQUIRE(w.service
                ->Submit(workflow::Principal{"local", true},
                         msg.getRoot<workflow::schema::Command>(), &o)
                .ok());
  }
  REQUIRE(projections::Projections::Open(w.ledger.get(), &w.projections).ok());
  CHECK(w.projections->checkpoint() < w.ledger->Size());
  REQUIRE(w.projections->CatchUp().ok());
  CHECK(StatusOf(w, "P-CLI", "2025-10-01")["stage"] == "idea_registered");

  // The server: a POSTed command, then a GET of what it wrote, with no
  // catch-up by anyone but the server itself.
  w.Submit(VnMicros("2025-10-02", 9, 0),
           Cmd("GrantRole", "2025-10-02",
               {{"principal", "officer.um"}, {"role", "officer"}, {"unit", "UM"}}));
  const fs::path tokens_file = w.dir / "tokens";
  std::string token;
  REQUIRE(server::AddToken(tokens_file.string(), "officer.um", &token).ok());
  server::Tokens tokens;
  REQUIRE(server::Tokens::Load(
              tokens_file.string(), [] { return std::string("2026-01-01"); }, &tokens)
              .ok());
  server::Metrics metrics;
  server::Api api(w.ledger.get(), w.projections.get(), tokens, &metrics);
  auto call = [&](boost::beast::http::verb verb, const std::string& target,
                  const std::string& body = "") {
    server::Request req{verb, target, 11};
    req.set(boost::beast::http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      req.set(boost::beast::http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    std::string principal, route;
    server::Response res = api.Handle(req, &principal, &route);
    INFO(target << " -> " << res.body());
    return std::pair<int, json>{res.result_int(), json::parse(res.body())};
  };
  w.now = VnMicros("2025-10-03", 9, 0);
  auto [code, reply] = call(boost::beast::http::verb::post, "/v1/commands",
                            Cmd("RegisterIdea", "2025-10-03",
                                {{"product", "P-HTTP"},
                                 {"subject", "S1"},
                                 {"name", "Khô cá lóc"},
                                 {"group", 1},
                                 {"unit", "UM"},
                                 {"cycle_year", 2026}}));
  REQUIRE(code == 200);
  const uint64_t seq = reply["seqs"][0];
  CHECK(w.projections->checkpoint() < seq);  // nobody folded it yet
  auto [got, product] = call(boost::beast::http::verb::get, "/v1/products/P-HTTP");
  CHECK(got == 200);
  CHECK(product["stage"] == "idea_registered");
  CHECK(product["unit"] == "UM");
  CHECK(w.projections->checkpoint() == seq);
}

namespace {

// What the demo's commands say, read from the commands themselves with none
// of the workflow's or the projections' code: a model of certificates simple
// enough to check by eye.
struct Model {
  struct Cert {
    std::string product;
    int stars = 0;
    std::string entry;          // new, renewal, upgrade, import
    Date from, until;           // decision date; 36 months later, the last valid day
    std::optional<Date> ended;  // superseded or revoked on
    bool revoked = false;
    std::string reason;
  };
  struct Product {
    std::string unit, subject;
    int group = 0;
    std::string entry = "new";  // of the last dossier
    std::vector<size_t> certs;  // indexes into certs, oldest first
  };
  std::map<std::string, std::string> parent;
  std::map<std::string, std::pair<std::string, Date>> retired;   // unit -> successor, on
  std::map<std::string, std::pair<std::string, bool>> subjects;  // legal form, woman-owned
  std::map<std::string, Product> products;
  std::vector<Cert> certs;
  std::map<std::string, double> targets;  // indicator -> value, for CM 2025
  size_t ideas = 0;

  static Date Plus36Months(const std::string& date) {
    // The demo's decision dates are never the 29th to 31st of a short month.
    return D(std::to_string(std::stoi(date.substr(0, 4)) + 3) + date.substr(4));
  }

  void Apply(const json& c) {
    const std::string type = c["type"];
    if (type == "DefineUnit") {
      parent[c["unit"]] = c.value("parent", "");
    } else if (type == "RetireUnit") {
      retired[c["unit"]] = {c["successor"], D(c["effective"])};
    } else if (type == "RegisterSubject") {
      subjects[c["subject"]] = {c["legal_form"], c.value("woman_owned", false)};
    } else if (type == "RegisterIdea") {
      ++ideas;
      Product& p = products[c["product"]];
      p.unit = c["unit"];
      p.subject = c["subject"];
      p.group = c.value("group", 0);
    } else if (type == "ClassifyProduct") {
      products[c["product"]].group = c["group"];
    } else if (type == "SubmitDossier") {
      products[c["product"]].entry = c["entry"];
    } else if (type == "ImportCertificate") {
      Product& p = products[c["product"]];
      p.unit = c["unit"];
      p.subject = c["subject"];
      p.group = c["group"];
      Issue(c["product"], c["stars"], "import", c["decision"]["date"]);
    } else if (type == "ApproveResults") {
      for (const json& item : c["items"]) {
        Issue(item["product"], item["stars"], products[item["product"]].entry,
              c["decision"]["date"]);
      }
    } else if (type == "RevokeRating") {
      const Date on = D(c["decision"]["date"]);
      for (const json& item : c["items"]) {
        Cert& k = certs[products[item["product"]].certs.back()];
        REQUIRE(!k.ended);
        k.ended = on;
        k.revoked = true;
        k.reason = item["reason"];
      }
    } else if (type == "SetTarget") {
      REQUIRE(c["unit"] == "CM");
      REQUIRE(c["year"] == 2025);
      targets[c["indicator"]] = c["value"];
    }
  }
  void Issue(const std::string& product, int stars, const std::string& entry,
             const std::string& date) {
    Product& p = products[product];
    const Date from = D(date);
    // A renewal or upgrade supersedes the certificate still current.
    if (entry != "new" && entry != "import" && !p.certs.empty() && !certs[p.certs.back()].ended) {
      Cert& old = certs[p.certs.back()];
      old.ended = std::min(from, old.until + 1);
    }
    p.certs.push_back(certs.size());
    certs.push_back(Cert{product, stars, entry, from, Plus36Months(date), std::nullopt, false, ""});
  }

  // The district a unit reports under in the province on `day`, or CM itself
  // once its district was retired into the province.
  std::string Under(std::string unit, Date day) const {
    for (;;) {
      auto r = retired.find(unit);
      if (r != retired.end() && r->second.second <= day) {
        unit = r->second.first;
        continue;
      }
      if (unit == "CM" || parent.at(unit) == "CM") return unit;
      unit = parent.at(unit);
    }
  }
};

}  // namespace

TEST_CASE("the real Cà Mau appendix carried through the demo's cycle: figures from the commands") {
  std::vector<cli::IdeaRow> rows;
  REQUIRE(cli::LoadAppendix(CAMAU_CSV, &rows).ok());
  REQUIRE(rows.size() == 237);
  auto commands = cli::DemoCommands(rows);

  World w;
  Model m;
  // Every act recorded on its effective date; each command folded live.
  int64_t last = 0;
  for (const auto& c : commands) {
    json body = json::parse(c.json);
    m.Apply(body);
    int64_t at = std::max(last + 1000000, VnMicros(body["effective"], 8, 0));
    last = at;
    w.Submit(at, c.json, c.principal, /*record_digests=*/false);
  }
  CHECK(m.ideas == 237);  // one idea a row of the appendix
  size_t products = 0;
  REQUIRE(w.projections->View()
              ->ForEachProduct([&](const workflow::ProductState&) { return ++products, true; })
              .ok());
  CHECK(products == m.products.size());
  // A sanity bound on the model itself: every year had decisions.
  std::set<int> years;
  for (const auto& k : m.certs) {
    int y;
    unsigned mo, d;
    workflow::ToCivil(k.from, &y, &mo, &d);
    years.insert(y);
  }
  CHECK(years == std::set<int>{2022, 2023, 2024, 2025});

  for (int year = 2022; year <= 2025; ++year) {
    INFO("year " << year);
    const Date from = workflow::FromCivil(year, 1, 1), end = workflow::FromCivil(year, 12, 31);
    projections::Report want;
    std::map<std::string, std::pair<std::string, bool>> holders;
    for (const auto& k : m.certs) {
      const auto& p = m.products.at(k.product);
      const auto& [form, woman] = m.subjects.at(p.subject);
      const std::string unit = m.Under(p.unit, end), stars = std::to_string(k.stars);
      if (from <= k.from && k.from <= end) {
        want.recognised.Add(k.stars);
        want.recognised_by_entry[k.entry].Add(k.stars);
        ++want.recognised_by_group[p.group ? std::to_string(p.group) : "none"];
        ++want.recognised_by_legal_form[form];
        ++want.recognised_by_unit[unit];
      }
      if (k.revoked && from <= *k.ended && *k.ended <= end) {
        want.revoked.Add(k.stars);
        ++want.revoked_by_reason[k.reason];
      }
      const Date lapse = k.until + 1;
      if (from <= lapse && lapse <= end && (!k.ended || *k.ended >= lapse))
        want.expired.Add(k.stars);
      if (k.from <= end && end <= k.until && (!k.ended || end < *k.ended)) {
        want.active_at_end.Add(k.stars);
        ++want.active_by_unit[unit];
        ++want.active_by_unit_stars[unit][stars];
        holders[p.subject] = {form, woman};
      }
    }
    for (const auto& [id, fw] : holders) {
      ++want.subjects_by_legal_form[fw.first];
      want.subjects_woman_owned += fw.second;
    }
    // The model is not empty: every year certifies, 2024 revokes (decision
    // 88), and 2022's unrenewed certificates lapse in 2025.
    CHECK(want.recognised.total > 0);
    if (year == 2024) CHECK(want.revoked.total > 0);
    if (year == 2025) CHECK(want.expired.total > 0);
    auto got = Year(w, year);
    CHECK(got.recognised.total == want.recognised.total);
    CHECK(got.recognised.by_stars == want.recognised.by_stars);
    for (const auto& [entry, t] : want.recognised_by_entry)
      CHECK(got.recognised_by_entry[entry].by_stars == t.by_stars);
    CHECK(got.recognised_by_entry.size() == want.recognised_by_entry.size());
    CHECK(got.recognised_by_group == want.recognised_by_group);
    CHECK(got.recognised_by_legal_form == want.recognised_by_legal_form);
    CHECK(got.recognised_by_unit == want.recognised_by_unit);
    CHECK(got.revoked.by_stars == want.revoked.by_stars);
    CHECK(got.revoked_by_reason == want.revoked_by_reason);
    CHECK(got.expired.by_stars == want.expired.by_stars);
    CHECK(got.active_at_end.total == want.active_at_end.total);
    CHECK(got.active_at_end.by_stars == want.active_at_end.by_stars);
    CHECK(got.active_by_unit == want.active_by_unit);
    CHECK(got.active_by_unit_stars == want.active_by_unit_stars);
    CHECK(got.subjects_at_end == holders.size());
    CHECK(got.subjects_by_legal_form == want.subjects_by_legal_form);
    CHECK(got.subjects_woman_owned == want.subjects_woman_owned);
    if (year == 2025) {
      // Against Cà Mau's targets for 2025.
      std::map<std::string, double> actual;
      for (const auto& t : got.targets) {
        REQUIRE(t.actual);
        actual[t.indicator] = *t.actual;
        CHECK(t.target == m.targets.at(t.indicator));
      }
      CHECK(actual.size() == m.targets.size());
      auto share = [&](const char* form) {
        auto it = want.subjects_by_legal_form.find(form);
        return 100.0 * (it == want.subjects_by_legal_form.end() ? 0 : it->second) / holders.size();
      };
      CHECK(actual["products_3_stars_or_more"] == want.active_at_end.total);
      CHECK(actual["products_5_stars"] == want.active_at_end.by_stars["5"]);
      CHECK(actual["htx_share_of_producers"] == Approx(share("HTX")));
      CHECK(actual["dn_share_of_producers"] == Approx(share("DN")));
    }
  }
  // Nine districts report until the reform, only the province after it.
  CHECK(Year(w, 2024).active_by_unit.size() > 1);
  CHECK(Year(w, 2025).active_by_unit.size() == 1);
  // Per district, the district's own report agrees with the province's row.
  for (const auto& [unit, n] : Year(w, 2024).active_by_unit) {
    INFO(unit);
    CHECK(Year(w, 2024, unit).active_at_end.total == n);
  }

  // The live read models equal a fold of the whole log, and a rebuild.
  Digests live = DigestsOf(*w.projections);
  auto scratch = OpenScratch(w.ledger.get(), w.dir / "scratch");
  REQUIRE(scratch->CatchUp({}, w.ledger->Size() / 3).ok());
  REQUIRE(scratch->CatchUp({}, w.ledger->Size() / 3 * 2).ok());
  REQUIRE(scratch->CatchUp().ok());
  CHECK(DigestsOf(*scratch) == live);
  REQUIRE(w.projections->Rebuild().ok());
  CHECK(DigestsOf(*w.projections) == live);
  // Changes sorted in many runs whose dates overlap give the same.
  w.projections->set_rebuild_run_bytes(16 << 10);
  REQUIRE(w.projections->Rebuild().ok());
  CHECK(DigestsOf(*w.projections) == live);
}
