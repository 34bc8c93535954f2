// The two times of the record (replay/as_of.h): what a product's state was on
// an effective date, and what the ledger said at a recording point; and the
// reports, facts, changes and proofs built on them.
//
// One in-process world (ledger + workflow::Service + projections) is written
// with a controllable clock, so every event is recorded at a known time:
//
//   P-LAPSE  imported, decision 2021-06-30, 4 stars: lapses after exactly 36
//            months (last valid day 2024-06-30, expired from 2024-07-01)
//   P-REV    certified 3 stars by decision 120 of 2023-09-05, revoked by
//            decision 45 of 2024-05-20 (recorded the next day)
//   P-ANN    certified by the same decision 120; that record annulled on
//            2024-08-01
//   P-LATE   certified by decision 30 dated 2024-03-15 but recorded only on
//            2024-07-10, after events dated (and recorded) in June
//   P-GONE   imported in error, then the import annulled: nothing remains
#include <capnp/message.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <climits>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "ledger/encoding.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "ledger/signer.h"
#include "live_ledger.h"
#include "projections/projections.h"
#include "projections/records.h"
#include "projections/report.h"
#include "projections/status_json.h"
#include "replay/as_of.h"
#include "replay/history.h"
#include "workflow/date.h"
#include "workflow/json.h"
#include "workflow/service.h"

namespace fs = std::filesystem;
using namespace ocop;
using workflow::Date;
using workflow::Stage;
using json = nlohmann::json;

namespace {

Date D(const std::string& text) {
  Date d;
  REQUIRE(workflow::ParseDate(text, &d));
  return d;
}

// Microseconds since the epoch of `date` at hh:mm:ss in Vietnam (UTC+7).
int64_t VnMicros(const std::string& date, int hh, int mm, int ss = 0) {
  int64_t secs = int64_t{D(date).days} * 86400 + hh * 3600 + mm * 60 + ss - 7 * 3600;
  return secs * 1000000;
}

struct World : ocop::testing::LiveLedger {
  workflow::Principal admin{"admin.soctrang", true};

  World()
      : LiveLedger(fs::temp_directory_path() /
                   ("ocop-replay-bitemporal-" + std::to_string(getpid()))) {}

  // Submits one command, recorded at `micros`; returns its sequence numbers.
  std::vector<uint64_t> Submit(int64_t micros, const std::string& command) {
    auto seqs = SubmitAt(micros, admin, command);
    REQUIRE(!seqs.empty());
    return seqs;
  }
  // The sequence number of the command's event on the product (a dossier's
  // record on its round's stream follows it).
  uint64_t SubmitOne(int64_t micros, const std::string& command) {
    auto seqs = Submit(micros, command);
    REQUIRE(seqs.size() == (command.find("SubmitDossier") != std::string::npos ? 2u : 1u));
    return seqs[0];
  }

  workflow::ProductState At(const std::string& product, std::optional<Date> as_of,
                            uint64_t known_at = 0) {
    workflow::ProductState p;
    Status s = replay::ProductAt(ledger.get(), product, replay::PointInTime{as_of, known_at}, &p);
    INFO(product << " " << s.ToString());
    REQUIRE(s.ok());
    return p;
  }

  projections::Report Report(const std::string& from, const std::string& to, uint64_t known_at,
                             std::optional<Date> as_of = std::nullopt) {
    projections::ReportQuery q;
    q.period = {D(from), D(to)};
    q.known_at = known_at;
    q.as_of = as_of;
    projections::Report r;
    Status s = projections::BuildReport(*projections->View(), q, &r);
    INFO(s.ToString());
    REQUIRE(s.ok());
    return r;
  }
  projections::Report Report(const std::string& period, uint64_t known_at,
                             std::optional<Date> as_of = std::nullopt) {
    projections::Period p;
    REQUIRE(projections::ParsePeriod(period, &p).ok());
    return Report(workflow::FormatDate(p.from), workflow::FormatDate(p.to), known_at, as_of);
  }

  uint64_t KnownAt(const std::string& text) {
    uint64_t seq = 0;
    Status s = replay::ParseKnownAt(ledger.get(), text, &seq);
    INFO(text << " " << s.ToString());
    REQUIRE(s.ok());
    return seq;
  }
};

uint64_t Stars(const projections::Tally& t, const std::string& stars) {
  auto it = t.by_stars.find(stars);
  return it == t.by_stars.end() ? 0 : it->second;
}

// What the deadlines query asks of the certificate history: per product, the
// latest certificate issued by `as_of` and still open then, if its last valid
// day falls on or before as_of + within (lapsed ones included).
std::vector<std::tuple<std::string, std::string, std::string>> DeadlinesKnownAt(
    projections::Projections& p, uint64_t known_at, Date as_of, int within) {
  struct Latest {
    int32_t from = INT32_MIN;
    bool open = false;
    std::string no;
    int32_t until = 0;
  };
  std::map<std::string, Latest> latest;
  auto see = [&](projections::schema::CertificateFact::Reader f) {
    if (f.getValidFrom() > as_of.days) return;
    Latest& l = latest[f.getProduct().cStr()];
    if (f.getValidFrom() < l.from) return;
    l = Latest{f.getValidFrom(), f.getEndedOn() > as_of.days, f.getNo().cStr(), f.getValidUntil()};
  };
  REQUIRE(
      (known_at ? p.View()->ForEachFactKnownAt(known_at, see) : p.View()->ForEachFact(see)).ok());
  std::vector<std::tuple<std::string, std::string, std::string>> rows;  // until, product, no
  for (const auto& [id, l] : latest) {
    if (l.open && l.until <= (as_of + within).days) {
      rows.emplace_back(workflow::FormatDate(Date{l.until}), id, l.no);
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Every certificate fact known at a seq, by certificate number.
std::map<std::string, std::tuple<int, bool, int32_t>> FactsKnownAt(projections::Projections& p,
                                                                   uint64_t known_at) {
  std::map<std::string, std::tuple<int, bool, int32_t>> out;  // stars, revoked, ended_on
  REQUIRE(p.View()
              ->ForEachFactKnownAt(
                  known_at,
                  [&](projections::schema::CertificateFact::Reader f) {
                    out[f.getNo().cStr()] = {f.getStars(), f.getRevoked(), f.getEndedOn()};
                  })
              .ok());
  return out;
}

struct ChangeSeen {
  uint64_t seq;
  std::string date, product, type, decision;
  int stars;
  uint64_t annuls;
};

std::vector<ChangeSeen> Changes(projections::Projections& p, const std::string& from,
                                const std::string& to, uint64_t known_at) {
  std::vector<ChangeSeen> out;
  REQUIRE(p.View()
              ->ForEachChange(D(from), D(to), known_at,
                              [&](uint64_t seq, Date day, projections::schema::Change::Reader c) {
                                out.push_back(
                                    {seq, workflow::FormatDate(day), c.getProduct().cStr(),
                                     c.getType().cStr(),
                                     c.hasDecision() ? c.getDecision().getNo().cStr() : "",
                                     c.getStars(), c.getAnnuls()});
                              })
              .ok());
  return out;
}

const char* kSetup[] = {
    R"({"type":"DefineUnit","effective":"2023-01-01","unit":"ST","name":"Tỉnh Sóc Trăng","level":"province"})",
    R"({"type":"DefineUnit","effective":"2023-01-01","unit":"ST-KS","name":"Huyện Kế Sách","level":"district","parent":"ST"})",
    R"({"type":"RegisterSubject","effective":"2023-01-05","subject":"S1","name":"HTX Thành Công","legal_form":"HTX","unit":"ST-KS"})",
    R"({"type":"RegisterSubject","effective":"2023-01-05","subject":"S2","name":"Hộ Nguyễn Thị Lan","legal_form":"HKD","unit":"ST-KS","woman_owned":true})",
    R"({"type":"ConstituteCouncil","effective":"2023-01-05","council":"HD-KS","level":"district","unit":"ST-KS","decision":{"no":"05/QĐ-UBND","date":"2023-01-05","issuer":"ST-KS"}})",
};

// The cycle of one product, step by step: (effective date, command).
std::vector<std::pair<std::string, std::string>> Cycle(const std::string& product) {
  const std::string p = "\"product\":\"" + product + "\"";
  return {
      {"2023-03-01", R"({"type":"RegisterIdea","effective":"2023-03-01",)" + p +
                         R"(,"subject":"S1","name":"Sản phẩm )" + product +
                         R"(","group":1,"unit":"ST-KS","cycle_year":2023})"},
      {"2023-03-10",
       R"({"type":"ReviewIdea","effective":"2023-03-10",)" + p + R"(,"outcome":"selected"})"},
      {"2023-04-01",
       R"({"type":"SubmitPlan","effective":"2023-04-01",)" + p +
           R"(,"document":{"title":"Phương án kinh doanh","sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}})"},
      {"2023-04-15",
       R"({"type":"ReviewPlan","effective":"2023-04-15",)" + p + R"(,"outcome":"approved"})"},
      {"2023-08-01", R"({"type":"SubmitDossier","effective":"2023-08-01",)" + p +
                         R"(,"cycle_year":2023,"entry":"new"})"},
      {"2023-08-20", R"({"type":"RecordScore","effective":"2023-08-20",)" + p +
                         R"(,"council":"HD-KS","parts":{"A":20,"B":15,"C":20}})"},
  };
}

struct Seqs {
  uint64_t setup_last = 0, import_lapse = 0, cert_rev = 0, cert_ann = 0, april = 0, revoke = 0,
           june_idea = 0, june = 0, late = 0, annul = 0, gone = 0, gone_annul = 0;
};

// Writes the world described at the top of this file.
Seqs Populate(World& w) {
  Seqs s;
  int minute = 0;
  for (const char* c : kSetup) s.setup_last = w.SubmitOne(VnMicros("2023-01-10", 9, minute++), c);
  s.import_lapse = w.SubmitOne(
      VnMicros("2023-01-12", 9, 0),
      R"({"type":"ImportCertificate","effective":"2021-06-30","product":"P-LAPSE","subject":"S2","name":"Bánh pía Kế Sách","group":1,"unit":"ST-KS","stars":4,"certificate":"CN-LAPSE","decision":{"no":"1520/QĐ-UBND","date":"2021-06-30","issuer":"ST"}})");
  // The three cycles, each step recorded on its effective date.
  auto rev = Cycle("P-REV"), ann = Cycle("P-ANN"), late = Cycle("P-LATE");
  for (size_t step = 0; step < rev.size(); ++step) {
    int m = 0;
    for (const auto* cycle : {&rev, &ann, &late}) {
      w.SubmitOne(VnMicros((*cycle)[step].first, 10, m++), (*cycle)[step].second);
    }
  }
  auto certs = w.Submit(
      VnMicros("2023-09-06", 10, 0),
      R"({"type":"ApproveResults","effective":"2023-09-05","decision":{"no":"120/QĐ-UBND","date":"2023-09-05","issuer":"ST-KS"},"level":"district","items":[{"product":"P-REV","stars":3,"certificate":"CN-REV"},{"product":"P-ANN","stars":3,"certificate":"CN-ANN"}]})");
  REQUIRE(certs.size() == 2);
  s.cert_rev = certs[0];
  s.cert_ann = certs[1];
  s.april = w.SubmitOne(
      VnMicros("2024-04-10", 10, 0),
      R"({"type":"RecordPromotion","effective":"2024-04-10","product":"P-REV","channel":"Hội chợ OCOP Cần Thơ"})");
  s.revoke = w.SubmitOne(
      VnMicros("2024-05-21", 10, 0),
      R"({"type":"RevokeRating","effective":"2024-05-20","decision":{"no":"45/QĐ-UBND","date":"2024-05-20","issuer":"ST-KS"},"items":[{"product":"P-REV","reason":"violation"}]})");
  s.june_idea = w.SubmitOne(
      VnMicros("2024-06-03", 10, 0),
      R"({"type":"RegisterIdea","effective":"2024-06-03","product":"P-NEW","subject":"S2","name":"Mắm cá linh","group":1,"unit":"ST-KS","cycle_year":2024})");
  s.june = w.SubmitOne(
      VnMicros("2024-06-12", 10, 0),
      R"({"type":"RecordInspection","effective":"2024-06-12","product":"P-LAPSE","compliant":true,"findings":"Đạt yêu cầu"})");
  // Decided in March, recorded in July.
  s.late = w.SubmitOne(
      VnMicros("2024-07-10", 10, 0),
      R"({"type":"ApproveResults","effective":"2024-03-15","decision":{"no":"30/QĐ-UBND","date":"2024-03-15","issuer":"ST-KS"},"level":"district","items":[{"product":"P-LATE","stars":3,"certificate":"CN-LATE"}]})");
  s.annul = w.SubmitOne(VnMicros("2024-08-01", 10, 0),
                        R"({"type":"AnnulEvent","effective":"2024-08-01","target_seq":)" +
                            std::to_string(s.cert_ann) +
                            R"(,"reason":"Ghi nhầm: hồ sơ chưa đủ điều kiện công nhận"})");
  s.gone = w.SubmitOne(
      VnMicros("2024-08-05", 10, 0),
      R"({"type":"ImportCertificate","effective":"2022-05-10","product":"P-GONE","subject":"S1","name":"Nhập nhầm","group":1,"unit":"ST-KS","stars":3,"certificate":"CN-GONE","decision":{"no":"800/QĐ-UBND","date":"2022-05-10","issuer":"ST"}})");
  s.gone_annul = w.SubmitOne(VnMicros("2024-08-06", 10, 0),
                             R"({"type":"AnnulEvent","effective":"2024-08-06","target_seq":)" +
                                 std::to_string(s.gone) + R"(,"reason":"Sản phẩm không có thật"})");
  REQUIRE(w.ledger->Size() == s.gone_annul);
  REQUIRE(w.projections->checkpoint() == s.gone_annul);
  return s;
}

}  // namespace

TEST_CASE("as of a date: before, on and after certification, revocation and a 36-month lapse") {
  World w;
  Seqs s = Populate(w);

  // P-REV: certified by the decision of 2023-09-05.
  auto p = w.At("P-REV", D("2023-09-04"));
  CHECK(p.StageOn(D("2023-09-04")) == Stage::kScored);
  CHECK(p.ActiveOn(D("2023-09-04")) == nullptr);
  CHECK(projections::StatusJson(p, D("2023-09-04"))["certificate"].is_null());
  p = w.At("P-REV", D("2023-09-05"));
  CHECK(p.StageOn(D("2023-09-05")) == Stage::kCertified);
  REQUIRE(p.ActiveOn(D("2023-09-05")) != nullptr);
  CHECK(p.ActiveOn(D("2023-09-05"))->stars == 3);
  CHECK(p.ActiveOn(D("2023-09-05"))->no == "CN-REV");
  auto st = projections::StatusJson(p, D("2023-09-05"));
  CHECK(st["stage"] == "certified");
  CHECK(st["stars"] == 3);
  CHECK(st["certificate"]["no"] == "CN-REV");
  CHECK(st["certificate"]["decision"]["no"] == "120/QĐ-UBND");
  CHECK(st["certificate"]["valid_until"] == "2026-09-05");

  // ... revoked by the decision of 2024-05-20: in force the day before, not that day.
  p = w.At("P-REV", D("2024-05-19"));
  CHECK(p.StageOn(D("2024-05-19")) == Stage::kCertified);
  REQUIRE(p.ActiveOn(D("2024-05-19")) != nullptr);
  CHECK(p.ActiveOn(D("2024-05-19"))->stars == 3);
  for (const char* day : {"2024-05-20", "2024-05-21", "2025-01-01"}) {
    INFO(day);
    p = w.At("P-REV", D(day));
    CHECK(p.StageOn(D(day)) == Stage::kRevoked);
    CHECK(p.ActiveOn(D(day)) == nullptr);
    st = projections::StatusJson(p, D(day));
    CHECK(st["stage"] == "revoked");
    CHECK(st["stars"].is_null());
    CHECK(st["certificate"].is_null());
    REQUIRE(st["star_history"].size() == 1);
    CHECK(st["star_history"][0]["to"] == "2024-05-20");
    CHECK(st["star_history"][0]["ended"] == "revoked");
  }
  // As the ledger knew it before the revocation was recorded (the day after
  // it took effect), the product was still certified on 2024-06-01.
  p = w.At("P-REV", D("2024-06-01"), s.revoke - 1);
  CHECK(p.StageOn(D("2024-06-01")) == Stage::kCertified);
  REQUIRE(p.ActiveOn(D("2024-06-01")) != nullptr);
  CHECK(w.At("P-REV", D("2024-06-01"), s.revoke).StageOn(D("2024-06-01")) == Stage::kRevoked);
  // The same, by recording time.
  CHECK(w.KnownAt("2024-05-20") == s.revoke - 1);
  CHECK(w.KnownAt("2024-05-21") == s.revoke);

  // P-LAPSE: 4 stars from 2021-06-30, last valid day exactly 36 months later.
  workflow::ProductState none;
  Status gone =
      replay::ProductAt(w.ledger.get(), "P-LAPSE", replay::PointInTime{D("2021-06-29"), 0}, &none);
  CHECK(gone.IsNotFound());
  CHECK(gone.message().find("2021-06-29") != std::string::npos);
  for (const char* day : {"2021-06-30", "2022-12-31", "2024-06-29", "2024-06-30"}) {
    INFO(day);
    p = w.At("P-LAPSE", D(day));
    CHECK(p.StageOn(D(day)) == Stage::kCertified);
    REQUIRE(p.ActiveOn(D(day)) != nullptr);
    CHECK(p.ActiveOn(D(day))->stars == 4);
    CHECK(workflow::FormatDate(p.ActiveOn(D(day))->valid_until) == "2024-06-30");
  }
  CHECK(projections::StatusJson(w.At("P-LAPSE", D("2024-06-30")),
                                D("2024-06-30"))["certificate"]["days_left"] == 0);
  for (const char* day : {"2024-07-01", "2024-12-31"}) {
    INFO(day);
    p = w.At("P-LAPSE", D(day));
    CHECK(p.StageOn(D(day)) == Stage::kExpired);
    CHECK(p.ActiveOn(D(day)) == nullptr);
    st = projections::StatusJson(p, D(day));
    CHECK(st["stage"] == "expired");
    CHECK(st["stars"].is_null());
    CHECK(st["star_history"][0]["to"] == "2024-07-01");
    CHECK(st["star_history"][0]["ended"] == "expired");
  }
  // The inspection recorded in June is history, not status: still certified then.
  CHECK(w.At("P-LAPSE", D("2024-06-12"), s.june).StageOn(D("2024-06-12")) == Stage::kCertified);

  // The read model, folded live, agrees with the replay for today's knowledge.
  workflow::ProductState live;
  REQUIRE(w.projections->View()->Product("P-REV", &live).ok());
  CHECK(projections::StatusJson(live, D("2024-06-01")) ==
        projections::StatusJson(w.At("P-REV", std::nullopt), D("2024-06-01")));
}

TEST_CASE("known at: a decision dated in March but recorded in July") {
  World w;
  Seqs s = Populate(w);
  REQUIRE(s.june + 1 == s.late);

  // Recording points by timestamp and by seq.
  CHECK(w.KnownAt("2024-04-30") == s.april);
  CHECK(w.KnownAt("2024-04-30T23:59:59+07:00") == s.april);
  CHECK(w.KnownAt("2024-06-30") == s.june);
  CHECK(w.KnownAt("2024-07-10T09:59:59+07:00") == s.june);
  CHECK(w.KnownAt("2024-07-10T10:00:00+07:00") == s.late);
  CHECK(w.KnownAt("2024-07-10T02:59:59Z") == s.june);
  CHECK(w.KnownAt("2024-07-10T03:00:00Z") == s.late);
  CHECK(w.KnownAt("2024-07-09T22:00:00-05:00") == s.late);  // 2024-07-10 03:00 UTC
  CHECK(w.KnownAt("2024-07-31") == s.late);
  CHECK(w.KnownAt(std::to_string(s.late)) == s.late);
  CHECK(w.KnownAt("1") == 1);
  uint64_t seq = 99;
  CHECK(replay::SeqKnownAt(w.ledger.get(), VnMicros("2023-01-10", 8, 59), &seq).ok());
  CHECK(seq == 0);  // nothing recorded yet
  CHECK(replay::SeqKnownAt(w.ledger.get(), VnMicros("2024-07-10", 10, 0), &seq).ok());
  CHECK(seq == s.late);
  CHECK(replay::SeqKnownAt(w.ledger.get(), VnMicros("2024-07-10", 10, 0) - 1, &seq).ok());
  CHECK(seq == s.june);
  CHECK(replay::SeqKnownAt(w.ledger.get(), VnMicros("2030-01-01", 0, 0), &seq).ok());
  CHECK(seq == w.ledger->Size());
  CHECK(replay::ParseKnownAt(w.ledger.get(), "0", &seq).IsInvalidArgument());
  CHECK(replay::ParseKnownAt(w.ledger.get(), std::to_string(w.ledger->Size() + 1), &seq)
            .IsInvalidArgument());
  CHECK(replay::ParseKnownAt(w.ledger.get(), "yesterday", &seq).IsInvalidArgument());
  CHECK(replay::ParseKnownAt(w.ledger.get(), "2024-07-10T10:00:00", &seq).IsInvalidArgument());

  // The product's state on 2024-04-01 as known in April, then in July.
  const uint64_t april = w.KnownAt("2024-04-30"), july = w.KnownAt("2024-07-31");
  auto p = w.At("P-LATE", D("2024-04-01"), april);
  CHECK(p.StageOn(D("2024-04-01")) == Stage::kScored);
  CHECK(p.ActiveOn(D("2024-04-01")) == nullptr);
  p = w.At("P-LATE", D("2024-04-01"), july);
  CHECK(p.StageOn(D("2024-04-01")) == Stage::kCertified);
  REQUIRE(p.ActiveOn(D("2024-04-01")) != nullptr);
  CHECK(p.ActiveOn(D("2024-04-01"))->no == "CN-LATE");
  CHECK(workflow::FormatDate(p.ActiveOn(D("2024-04-01"))->valid_from) == "2024-03-15");
  // Effective time still rules: before the decision's date it was not certified.
  CHECK(w.At("P-LATE", D("2024-03-14"), july).StageOn(D("2024-03-14")) == Stage::kScored);

  // The March report: absent known at April, present known at July.
  auto r = w.Report("2024-03", april);
  CHECK(r.recognised.total == 0);
  CHECK(r.active_at_end.total == 3);  // P-LAPSE, P-REV, P-ANN
  r = w.Report("2024-03", s.june);    // the last event before the late record
  CHECK(r.recognised.total == 0);
  r = w.Report("2024-03", july);
  CHECK(r.recognised.total == 1);
  CHECK(Stars(r.recognised, "3") == 1);
  CHECK(r.recognised_by_entry["new"].total == 1);
  CHECK(r.recognised_by_unit["ST"] == 1);
  CHECK(r.recognised_by_legal_form["HTX"] == 1);
  CHECK(r.active_at_end.total == 4);
  CHECK(r.known_at == july);
  // With an effective-time cut as well.
  CHECK(w.Report("2024-03", july, D("2024-03-31")).recognised.total == 1);
  CHECK(w.Report("2024-03", july, D("2024-03-14")).recognised.total == 0);
  CHECK(w.Report("2024-03", april, D("2024-03-31")).recognised.total == 0);
  // Known now: P-ANN's certificate has since been annulled.
  r = w.Report("2024-03", 0);
  CHECK(r.recognised.total == 1);
  CHECK(r.active_at_end.total == 3);

  // The facts the deadlines query reads, as known then.
  auto facts = FactsKnownAt(*w.projections, april);
  CHECK(facts.count("CN-LATE") == 0);
  CHECK(facts.size() == 3);
  facts = FactsKnownAt(*w.projections, july);
  REQUIRE(facts.count("CN-LATE") == 1);
  CHECK(std::get<0>(facts["CN-LATE"]) == 3);

  // Changes of March: none known in April; the late decision known in July,
  // under its own date, with its recording seq.
  CHECK(Changes(*w.projections, "2024-03-01", "2024-03-31", april).empty());
  auto march = Changes(*w.projections, "2024-03-01", "2024-03-31", july);
  REQUIRE(march.size() == 1);
  CHECK(march[0].seq == s.late);
  CHECK(march[0].date == "2024-03-15");
  CHECK(march[0].product == "P-LATE");
  CHECK(march[0].type == "Certified");
  CHECK(march[0].decision == "30/QĐ-UBND");
  CHECK(march[0].stars == 3);
  CHECK(Changes(*w.projections, "2024-03-01", "2024-03-31", s.late - 1).empty());

  // Its history says when it took effect and when it was recorded.
  json h;
  replay::HistoryOptions ho;
  nlohmann::ordered_json oh;
  REQUIRE(replay::ProductHistory(w.ledger.get(), "P-LATE", ho, &oh).ok());
  h = json::parse(oh.dump());
  REQUIRE(h["events"].size() == 7);
  const json& cert = h["events"][6];
  CHECK(cert["seq"] == s.late);
  CHECK(cert["type"] == "Certified");
  CHECK(cert["effective"] == "2024-03-15");
  CHECK(cert["recorded_at"] == VnMicros("2024-07-10", 10, 0));
  CHECK(cert["recorded"] == "2024-07-10T10:00:00.000000+07:00");
  CHECK(cert["payload"]["Certified"]["valid_from"] == "2024-03-15");
  CHECK(cert["annulled_by"].is_null());
  // As known in April it had six events.
  ho.at.known_at = april;
  REQUIRE(replay::ProductHistory(w.ledger.get(), "P-LATE", ho, &oh).ok());
  CHECK(oh["events"].size() == 6);
}

TEST_CASE("reports across a revocation, an expiry and annulments, known at and as of") {
  World w;
  Seqs s = Populate(w);

  // Q2 2024: the revocation of 2024-05-20, once it was recorded.
  auto r = w.Report("2024-Q2", 0);
  CHECK(r.revoked.total == 1);
  CHECK(Stars(r.revoked, "3") == 1);
  CHECK(r.revoked_by_reason["violation"] == 1);
  CHECK(r.expired.total == 0);
  CHECK(r.active_at_end.total == 2);  // P-LAPSE (last valid day 06-30), P-LATE
  CHECK(w.Report("2024-Q2", s.revoke - 1).revoked.total == 0);
  CHECK(w.Report("2024-Q2", s.revoke).revoked.total == 1);
  CHECK(w.Report("2024-Q2", 0, D("2024-05-19")).revoked.total == 0);
  CHECK(w.Report("2024-Q2", 0, D("2024-05-20")).revoked.total == 1);

  // Q3 2024: P-LAPSE lapses on 2024-07-01, the first day out of force.
  r = w.Report("2024-Q3", 0);
  CHECK(r.expired.total == 1);
  CHECK(Stars(r.expired, "4") == 1);
  CHECK(r.active_at_end.total == 1);  // P-LATE
  CHECK(w.Report("2024-06", 0).expired.total == 0);
  CHECK(w.Report("2024-07", 0).expired.total == 1);
  CHECK(w.Report("2024-Q3", 0, D("2024-06-30")).expired.total == 0);
  CHECK(w.Report("2024-Q3", 0, D("2024-07-01")).expired.total == 1);
  CHECK(w.Report("2024-06-30", "2024-06-30", 0).active_at_end.total == 2);
  CHECK(w.Report("2024-07-01", "2024-07-01", 0).active_at_end.total == 1);

  // The annulled certificate counts known before the annulment, not after.
  r = w.Report("2023", s.annul - 1);
  CHECK(r.recognised.total == 2);
  CHECK(r.active_at_end.total == 3);
  r = w.Report("2023", s.annul);
  CHECK(r.recognised.total == 1);
  CHECK(r.active_at_end.total == 2);
  CHECK(w.Report("2023", 0).recognised.total == 1);
  // The same through a recording timestamp.
  CHECK(w.Report("2023", w.KnownAt("2024-07-31")).recognised.total == 2);
  CHECK(w.Report("2023", w.KnownAt("2024-08-01")).recognised.total == 1);
  // An annulled import: counted in 2022 only while the ledger believed it.
  r = w.Report("2022", s.gone);
  CHECK(r.recognised.total == 1);
  CHECK(r.recognised_by_entry["import"].total == 1);
  CHECK(w.Report("2022", s.gone - 1).recognised.total == 0);
  CHECK(w.Report("2022", s.gone_annul).recognised.total == 0);
  CHECK(w.Report("2022", 0).recognised.total == 0);
  // Known now, as the live read model has it, equals known at the last seq.
  CHECK(projections::ReportJson(w.Report("2023", 0)) == projections::ReportJson([&] {
          auto x = w.Report("2023", w.ledger->Size());
          x.known_at = 0;
          return x;
        }()));

  // The facts: revocation and annulment as the ledger knew them.
  auto before = FactsKnownAt(*w.projections, s.revoke - 1);
  REQUIRE(before.count("CN-REV"));
  CHECK(std::get<1>(before["CN-REV"]) == false);
  CHECK(std::get<2>(before["CN-REV"]) == projections::kNeverEnded);
  auto after = FactsKnownAt(*w.projections, s.revoke);
  CHECK(std::get<1>(after["CN-REV"]) == true);
  CHECK(std::get<2>(after["CN-REV"]) == D("2024-05-20").days);
  CHECK(FactsKnownAt(*w.projections, s.annul - 1).count("CN-ANN") == 1);
  CHECK(FactsKnownAt(*w.projections, s.annul).count("CN-ANN") == 0);
  CHECK(FactsKnownAt(*w.projections, s.gone).count("CN-GONE") == 1);
  CHECK(FactsKnownAt(*w.projections, s.gone_annul).count("CN-GONE") == 0);
  CHECK(FactsKnownAt(*w.projections, s.import_lapse - 1).empty());

  // Deadlines, as the deadlines query computes them from the facts.
  using Row = std::tuple<std::string, std::string, std::string>;
  CHECK(DeadlinesKnownAt(*w.projections, 0, D("2024-06-01"), 30) ==
        std::vector<Row>{{"2024-06-30", "P-LAPSE", "CN-LAPSE"}});
  CHECK(DeadlinesKnownAt(*w.projections, 0, D("2024-06-01"), 28).empty());
  CHECK(DeadlinesKnownAt(*w.projections, s.import_lapse - 1, D("2024-06-01"), 30).empty());
  CHECK(DeadlinesKnownAt(*w.projections, s.import_lapse, D("2024-06-01"), 30) ==
        std::vector<Row>{{"2024-06-30", "P-LAPSE", "CN-LAPSE"}});
  // Lapsed and not renewed: still listed after its last day.
  CHECK(DeadlinesKnownAt(*w.projections, 0, D("2024-07-15"), 0) ==
        std::vector<Row>{{"2024-06-30", "P-LAPSE", "CN-LAPSE"}});
  // CN-ANN's end falls in the window only while it is believed.
  CHECK(DeadlinesKnownAt(*w.projections, s.annul - 1, D("2026-08-01"), 60) ==
        std::vector<Row>{{"2024-06-30", "P-LAPSE", "CN-LAPSE"}, {"2026-09-05", "P-ANN", "CN-ANN"}});
  CHECK(DeadlinesKnownAt(*w.projections, s.annul, D("2026-08-01"), 60) ==
        std::vector<Row>{{"2024-06-30", "P-LAPSE", "CN-LAPSE"}});
  // CN-REV, revoked in May, is no deadline of anyone's known after May.
  CHECK(DeadlinesKnownAt(*w.projections, s.revoke - 1, D("2026-08-01"), 60).size() == 3);
  CHECK(DeadlinesKnownAt(*w.projections, s.revoke, D("2026-08-01"), 60).size() == 2);

  // The annulled product's state: certified as known before, scored after.
  auto p = w.At("P-ANN", D("2024-01-01"), s.annul - 1);
  CHECK(p.StageOn(D("2024-01-01")) == Stage::kCertified);
  p = w.At("P-ANN", D("2024-01-01"), s.annul);
  CHECK(p.StageOn(D("2024-01-01")) == Stage::kScored);
  CHECK(p.certificates.empty());
  // An annulment removes from every effective date, even those before it.
  CHECK(w.At("P-ANN", D("2023-09-05")).StageOn(D("2023-09-05")) == Stage::kScored);
  // P-GONE: nothing remains of it, whatever the date asked.
  CHECK(w.At("P-GONE", D("2023-01-01"), s.gone).StageOn(D("2023-01-01")) == Stage::kCertified);
  workflow::ProductState none;
  Status st = replay::ProductAt(w.ledger.get(), "P-GONE", replay::PointInTime{}, &none);
  CHECK(st.IsNotFound());
  CHECK(st.message().find("annulled") != std::string::npos);
  st = replay::ProductAt(w.ledger.get(), "P-GONE", replay::PointInTime{D("2023-01-01"), 0}, &none);
  CHECK(st.IsNotFound());
  CHECK(replay::ProductAt(w.ledger.get(), "P-NOPE", replay::PointInTime{}, &none).IsNotFound());
  // A product not yet recorded at the point asked.
  CHECK(replay::ProductAt(w.ledger.get(), "P-NEW",
                          replay::PointInTime{std::nullopt, s.june_idea - 1}, &none)
            .IsNotFound());
}

TEST_CASE("history with proofs: every proof verifies against the signed head") {
  World w;
  Seqs s = Populate(w);
  const std::string pub = w.ledger->signer().public_key();

  auto check_history = [&](const std::string& product, uint64_t known_at, size_t events) {
    replay::HistoryOptions o;
    o.proofs = true;
    o.at.known_at = known_at;
    nlohmann::ordered_json oh;
    Status st = replay::ProductHistory(w.ledger.get(), product, o, &oh);
    INFO(product << " known at " << known_at << ": " << st.ToString());
    REQUIRE(st.ok());
    json h = json::parse(oh.dump());
    const uint64_t size = known_at ? known_at : w.ledger->Size();
    REQUIRE(h["tree_head"]["size"] == size);
    ledger::merkle::Hash root;
    REQUIRE(ledger::merkle::FromHex(h["tree_head"]["root"].get<std::string>(), &root));
    ledger::SignedTreeHead head;
    REQUIRE(w.ledger->TreeHead(size, &head).ok());
    CHECK(root == head.root);
    CHECK(h["tree_head"]["key_id"] == w.ledger->signer().key_id_hex());
    std::string sig;
    REQUIRE(FromBase64(h["tree_head"]["signature"].get<std::string>(), &sig));
    CHECK(ledger::Signer::Verify(pub, ledger::TreeHeadMessage(size, root), sig));
    // The signature is over this size and root, nothing else.
    ledger::merkle::Hash other = root;
    other[5] ^= 1;
    CHECK_FALSE(ledger::Signer::Verify(pub, ledger::TreeHeadMessage(size, other), sig));
    CHECK_FALSE(ledger::Signer::Verify(pub, ledger::TreeHeadMessage(size + 1, root), sig));

    REQUIRE(h["events"].size() == events);
    uint64_t last = 0;
    for (const json& e : h["events"]) {
      uint64_t seq = e["seq"];
      INFO("event " << seq);
      CHECK(seq > last);
      CHECK(seq <= size);
      last = seq;
      CHECK(e["stream"] == "product/" + product);
      const json& proof = e["proof"];
      CHECK(proof["index"] == seq - 1);
      CHECK(proof["size"] == size);
      std::string bytes;
      REQUIRE(w.ledger->Get(seq, &bytes).ok());
      ledger::merkle::Hash leaf = ledger::merkle::LeafHash(bytes);
      CHECK(proof["leaf_hash"] == ledger::merkle::ToHex(leaf));
      // The leaf bytes themselves: the JSON shown is what they decode to.
      std::string carried;
      REQUIRE(FromBase64(proof["leaf"].get<std::string>(), &carried));
      CHECK(carried == bytes);
      json decoded = json::parse(replay::EventJson(carried).dump());
      decoded["annulled_by"] = e["annulled_by"];
      json shown = e;
      shown.erase("proof");
      CHECK(decoded.dump() == shown.dump());
      std::vector<ledger::merkle::Hash> path;
      for (const json& x : proof["path"]) {
        ledger::merkle::Hash hash;
        REQUIRE(ledger::merkle::FromHex(x.get<std::string>(), &hash));
        path.push_back(hash);
      }
      CHECK(ledger::merkle::VerifyInclusion(leaf, seq - 1, size, path, root));
      // A changed byte of the event, or of the path, no longer proves.
      bytes[bytes.size() / 2] ^= 0x20;
      CHECK_FALSE(ledger::merkle::VerifyInclusion(ledger::merkle::LeafHash(bytes), seq - 1, size,
                                                  path, root));
      if (!path.empty()) {
        path[0][0] ^= 1;
        CHECK_FALSE(ledger::merkle::VerifyInclusion(leaf, seq - 1, size, path, root));
      }
    }
    return h;
  };

  // P-ANN now: its Certified event stands beside the annulment that names it.
  json h = check_history("P-ANN", 0, 8);
  for (const json& e : h["events"]) {
    if (e["seq"] == s.cert_ann) {
      CHECK(e["type"] == "Certified");
      CHECK(e["annulled_by"] == s.annul);
    } else {
      CHECK(e["annulled_by"].is_null());
    }
    if (e["type"] == "EventAnnulled") {
      CHECK(e["seq"] == s.annul);
      CHECK(e["payload"]["EventAnnulled"]["target_seq"] == s.cert_ann);
      CHECK(e["payload"]["EventAnnulled"]["target_type"] == "Certified");
      CHECK(e["recorded"] == "2024-08-01T10:00:00.000000+07:00");
    }
  }
  // As known before the annulment: no annulment, and the head of that time.
  h = check_history("P-ANN", s.annul - 1, 7);
  for (const json& e : h["events"]) CHECK(e["annulled_by"].is_null());
  // The others, at a few recording points.
  check_history("P-REV", 0, 9);
  check_history("P-REV", s.revoke - 1, 8);
  check_history("P-LATE", s.late, 7);
  check_history("P-LAPSE", s.june, 2);
  h = check_history("P-GONE", 0, 2);
  CHECK(h["events"][0]["annulled_by"] == s.gone_annul);

  // Effective-time filter on history.
  replay::HistoryOptions o;
  o.at.as_of = D("2023-08-31");
  nlohmann::ordered_json oh;
  REQUIRE(replay::ProductHistory(w.ledger.get(), "P-ANN", o, &oh).ok());
  CHECK(oh["events"].size() == 6);
  CHECK(!oh.contains("tree_head"));
}

TEST_CASE("changes grouped by date, as known at a recording point") {
  World w;
  Seqs s = Populate(w);

  // 2023: every product change, in date then sequence order.
  auto all = Changes(*w.projections, "2023-01-01", "2023-12-31", 0);
  for (size_t i = 1; i < all.size(); ++i) {
    INFO(i);
    CHECK(std::tie(all[i - 1].date, all[i - 1].seq) < std::tie(all[i].date, all[i].seq));
  }
  std::map<std::string, std::vector<ChangeSeen>> by_date;
  for (const auto& c : all) by_date[c.date].push_back(c);
  CHECK(by_date.size() == 7);  // six steps of the cycles and one decision
  REQUIRE(by_date["2023-08-20"].size() == 3);
  for (const auto& c : by_date["2023-08-20"]) {
    CHECK(c.type == "ScoreRecorded");
    CHECK(c.stars == 3);
  }
  // One decision, two products, on its date; the annulled record still shown.
  REQUIRE(by_date["2023-09-05"].size() == 2);
  std::set<std::string> products;
  for (const auto& c : by_date["2023-09-05"]) {
    CHECK(c.type == "Certified");
    CHECK(c.decision == "120/QĐ-UBND");
    products.insert(c.product);
  }
  CHECK(products == std::set<std::string>{"P-REV", "P-ANN"});

  // 2024, as known at several points.
  auto y2024 = [&](uint64_t known_at) {
    return Changes(*w.projections, "2024-01-01", "2024-12-31", known_at);
  };
  CHECK(y2024(s.cert_ann).empty());
  auto april = y2024(w.KnownAt("2024-04-30"));
  REQUIRE(april.size() == 1);
  CHECK(april[0].type == "PromotionRecorded");
  auto july = y2024(w.KnownAt("2024-07-31"));
  std::vector<std::pair<std::string, std::string>> seen;
  for (const auto& c : july) seen.emplace_back(c.date, c.type);
  // Ordered by effective date: the late decision comes first, though recorded last.
  CHECK(seen ==
        std::vector<std::pair<std::string, std::string>>{{"2024-03-15", "Certified"},
                                                         {"2024-04-10", "PromotionRecorded"},
                                                         {"2024-05-20", "RatingRevoked"},
                                                         {"2024-06-03", "IdeaRegistered"},
                                                         {"2024-06-12", "InspectionRecorded"}});
  CHECK(july[2].decision == "45/QĐ-UBND");
  CHECK(july[2].stars == 3);
  auto now = y2024(0);
  REQUIRE(now.size() == 7);
  CHECK(now[5].date == "2024-08-01");
  CHECK(now[5].type == "EventAnnulled");
  CHECK(now[5].product == "P-ANN");
  CHECK(now[5].annuls == s.cert_ann);
  CHECK(now[6].product == "P-GONE");
  CHECK(now[6].annuls == s.gone);

  // The import dated 2021 and the one dated 2022, by their own dates.
  CHECK(Changes(*w.projections, "2021-06-30", "2021-06-30", s.import_lapse - 1).empty());
  auto imp = Changes(*w.projections, "2021-06-30", "2021-06-30", s.import_lapse);
  REQUIRE(imp.size() == 1);
  CHECK(imp[0].product == "P-LAPSE");
  CHECK(imp[0].stars == 4);
  CHECK(Changes(*w.projections, "2022-01-01", "2022-12-31", 0).size() == 1);
  CHECK(Changes(*w.projections, "2022-01-01", "2022-12-31", s.gone - 1).empty());
  // A window of one day holds only that day.
  auto one = Changes(*w.projections, "2023-09-05", "2023-09-05", 0);
  CHECK(one.size() == 2);
}

TEST_CASE("a rebuild from the log gives the same known-at answers as live folding") {
  World w;
  Seqs s = Populate(w);
  std::map<std::string, std::string> live, rebuilt;
  REQUIRE(w.projections->Digests(&live).ok());
  auto before = projections::ReportJson(w.Report("2023", s.annul - 1));
  REQUIRE(w.projections->Rebuild().ok());
  REQUIRE(w.projections->Digests(&rebuilt).ok());
  CHECK(live == rebuilt);
  CHECK(projections::ReportJson(w.Report("2023", s.annul - 1)) == before);
  CHECK(w.Report("2024-03", s.late).recognised.total == 1);
  CHECK(w.Report("2024-03", s.late - 1).recognised.total == 0);
}
