// Đồng Tháp's real decisions, built as commands, through the Service onto a
// ledger and read back through the projections' report.
//
// The figures are real (DOMAIN.md: Đồng Tháp plan 159/KH-UBND 2023; press
// vietq.vn 15/02/2023): decision 58/QĐ-UBND-HC of 11/01/2023 revoked 25
// products certified in 2019, 16 of 3 stars and 9 of 4, of which 15 had not
// entered re-evaluation and 10 had entered and failed; the 2022 round had
// 202 entries (147 new, 45 re-recognition, 10 upgrade) and recognised 156
// (117 new: 32×4★, 85×3★; 34 re-recognition: 4×4★, 30×3★; 5 upgrades to
// 4★). The sources give counts only: product ids, producers, scores, the
// 2019 and 2022 decisions' numbers and dates, and which of the 25 had which
// stars and reason, are synthetic. Under QĐ 1048 there are no mandatory
// criteria, so a failed entry fails here by its score or by not being
// recognised in the round's decision.
#include <catch2/catch.hpp>
#include <functional>

#include "projections/projections.h"
#include "projections/report.h"
#include "projections/report_sections.h"
#include "tests/workflow_support.h"

using namespace ocop;
using namespace ocop::workflow;
using ocop::testing::World;

namespace {

std::string N(const std::string& prefix, int i) { return prefix + std::to_string(i); }

void Province(World& w) {
  w.Ok(
      "",
      R"({"type":"DefineUnit","effective":"2019-01-01","unit":"VN","name":"Việt Nam","level":"national"})");
  w.Ok(
      "",
      R"({"type":"DefineUnit","effective":"2019-01-01","unit":"DT","name":"Đồng Tháp","level":"province","parent":"VN"})");
  w.Ok(
      "",
      R"({"type":"ConstituteCouncil","effective":"2019-02-01","council":"HD-DT","level":"province","unit":"DT","decision":{"no":"1/QĐ-UBND","date":"2019-02-01","issuer":"DT"}})");
  w.Ok(
      "",
      R"({"type":"RegisterSubject","effective":"2019-03-01","subject":"S-DT","name":"HTX tổng hợp","legal_form":"HTX","unit":"DT"})");
}

// A product certified before the ledger: `stars` from `date` (by default
// 2019-12-20), of `subject`, in `group` of `list` (by default the list in force).
void Import(World& w, const std::string& id, int stars, const std::string& subject = "S-DT",
            const std::string& date = "2019-12-20", int group = 1, const std::string& list = "") {
  w.Ok("", R"({"type":"ImportCertificate","effective":")" + date + R"(","product":")" + id +
               R"(","subject":")" + subject + R"(","name":"Sản phẩm )" + id + R"(","group":)" +
               std::to_string(group) + (list.empty() ? "" : R"(,"group_list":")" + list + "\"") +
               R"(,"unit":"DT","stars":)" + std::to_string(stars) + R"(,"certificate":"GCN-)" + id +
               R"(","decision":{"no":")" + date.substr(0, 4) + R"(/QĐ-UBND-HC","date":")" + date +
               R"(","issuer":"DT"}})");
}

void Enter(World& w, const std::string& id, const std::string& entry) {
  w.Ok("", R"({"type":"SubmitDossier","effective":"2022-08-01","product":")" + id +
               R"(","cycle_year":2022,"entry":")" + entry + R"("})");
}

// A province council's score: 75 (4★), 60 (3★), 55 (3★) or 45 (2★) under QĐ 1048.
void ScoreAt(World& w, const std::string& id, int total) {
  double a = total == 75 ? 30 : total == 60 ? 25 : total == 55 ? 25 : 20;
  double b = total == 75 ? 20 : total == 60 ? 15 : total == 55 ? 15 : 10;
  w.Ok("", w.Score(id, "HD-DT", "2022-09-15", a, b, total - a - b));
}

projections::Report ReportOf(World& w, const std::string& from, const std::string& to) {
  std::unique_ptr<projections::Projections> proj;
  REQUIRE(projections::Projections::OpenAt(w.ledger(), (w.dir() / "proj").string(), &proj).ok());
  REQUIRE(proj->CatchUp().ok());
  projections::ReportQuery q;
  REQUIRE(ParseDate(from, &q.period.from));
  REQUIRE(ParseDate(to, &q.period.to));
  q.unit = "DT";
  projections::Report r;
  Status s = projections::BuildReport(*proj->View(), q, &r);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return r;
}

}  // namespace

TEST_CASE("Đồng Tháp 58/QĐ-UBND-HC of 11/01/2023 revokes 25 lapsed ratings in one decision") {
  World w;
  Province(w);
  // 25 certified in 2019: 16 of 3 stars, 9 of 4 stars.
  std::vector<std::string> products;
  for (int i = 1; i <= 25; ++i) {
    products.push_back(N("DT19-", i));
    Import(w, products.back(), i <= 16 ? 3 : 4);
  }
  // 10 entered re-recognition in 2022 and failed; 15 never re-entered.
  for (int i = 0; i < 10; ++i) {
    Enter(w, products[static_cast<size_t>(i)], "renewal");
    ScoreAt(w, products[static_cast<size_t>(i)], 45);
  }
  std::string items;
  for (int i = 0; i < 25; ++i) {
    items += std::string(i ? "," : "") + R"({"product":")" + products[static_cast<size_t>(i)] +
             R"(","reason":")" + (i < 10 ? "failed_reevaluation" : "not_reevaluated") + "\"}";
  }
  std::string decision =
      R"({"type":"RevokeRating","effective":"2023-01-11","decision":{"no":"58/QĐ-UBND-HC","date":"2023-01-11","issuer":"DT"},"items":[)" +
      items + "]}";
  uint64_t before = w.ledger()->Size();
  workflow::Outcome out;
  Status s = w.Submit("", decision, &out);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(out.seqs.size() == 25);
  CHECK(w.ledger()->Size() == before + 25);
  for (const std::string& id : products) {
    ProductState p = w.Product(id);
    CHECK(p.CertificateStateOn(FromCivil(2022, 12, 21)) == "lapsed");
    CHECK(p.CertificateStateOn(FromCivil(2023, 1, 11)) == "revoked");
  }

  // The January 2023 report shows them revoked, by the revoked certificates' stars.
  projections::Report jan = ReportOf(w, "2023-01-01", "2023-01-31");
  CHECK(jan.revoked.total == 25);
  CHECK(jan.revoked.by_stars == projections::Counts{{"3", 16}, {"4", 9}});
  CHECK(jan.revoked_by_reason ==
        projections::Counts{{"failed_reevaluation", 10}, {"not_reevaluated", 15}});
  CHECK(jan.active_at_end.total == 0);
  // They lapsed in December 2022, before the decision.
  projections::Report dec = ReportOf(w, "2022-12-01", "2022-12-31");
  CHECK(dec.expired.total == 25);
  CHECK(dec.revoked.total == 0);
}

TEST_CASE("Đồng Tháp's 2022 round: 202 entries, 156 recognised, 46 dossiers not recognised") {
  World w;
  Province(w);
  struct Kind {
    std::string prefix, entry;
    int entered, four, three;
  };
  // Plan 159's table: entered, recognised at 4★ and at 3★, by entry kind.
  const std::vector<Kind> kinds = {
      {"N-", "new", 147, 32, 85}, {"R-", "renewal", 45, 4, 30}, {"U-", "upgrade", 10, 5, 0}};
  std::string items;
  int recognised = 0;
  for (const Kind& k : kinds) {
    for (int i = 1; i <= k.entered; ++i) {
      std::string id = N(k.prefix, i);
      if (k.entry == "new") {
        w.Ok("", R"({"type":"RegisterProduct","effective":"2022-05-01","product":")" + id +
                     R"(","subject":"S-DT","name":"Sản phẩm )" + id +
                     R"(","group":1,"unit":"DT"})");
      } else {
        Import(w, id, 3);  // in force until 2022-12-20; upgrades go 3★ → 4★
      }
      Enter(w, id, k.entry);
      int stars = i <= k.four ? 4 : i <= k.four + k.three ? 3 : 0;
      if (stars) {
        ScoreAt(w, id, stars == 4 ? 75 : 60);
        items += std::string(recognised++ ? "," : "") + R"({"product":")" + id + R"(","stars":)" +
                 std::to_string(stars) + R"(,"certificate":"GCN22-)" + id + "\"}";
      } else if (k.entry == "upgrade") {
        ScoreAt(w, id, 60);  // 3★: no upgrade; left out of the decision
      } else {
        ScoreAt(w, id, i % 2 ? 45 : 55);  // below 3★ ends at once; 55 is left out of the decision
      }
    }
  }
  REQUIRE(recognised == 156);
  std::string decision =
      R"({"type":"ApproveResults","effective":"2022-11-15","decision":{"no":"2022/QĐ-UBND-HC","date":"2022-11-15","issuer":"DT"},"level":"province","closes_round":true,"items":[)" +
      items + "]}";
  w.Ok("", decision);

  int not_recognised = 0, open = 0, recognised_dossiers = 0;
  for (const Kind& k : kinds) {
    for (int i = 1; i <= k.entered; ++i) {
      ProductState p = w.Product(N(k.prefix, i));
      REQUIRE(p.dossier);
      if (p.dossier->open())
        ++open;
      else if (*p.dossier->outcome == schema::DossierOutcome::NOT_RECOGNISED)
        ++not_recognised;
      else
        ++recognised_dossiers;
    }
  }
  CHECK(recognised_dossiers == 156);
  CHECK(not_recognised == 46);
  CHECK(open == 0);

  projections::Report year = ReportOf(w, "2022-01-01", "2022-12-31");
  CHECK(year.recognised.total == 156);
  CHECK(year.recognised.by_stars == projections::Counts{{"3", 115}, {"4", 41}});
  CHECK(year.recognised_by_entry["new"].by_stars == projections::Counts{{"3", 85}, {"4", 32}});
  CHECK(year.recognised_by_entry["renewal"].by_stars == projections::Counts{{"3", 30}, {"4", 4}});
  CHECK(year.recognised_by_entry["upgrade"].by_stars == projections::Counts{{"4", 5}});
  // A failed re-recognition leaves its 2019 certificate in force to its end.
  ProductState failed = w.Product("R-40");
  CHECK(failed.CertificateStateOn(FromCivil(2022, 12, 20)) == "in_force");
  CHECK(failed.CertificateStateOn(FromCivil(2022, 12, 21)) == "lapsed");
}

// The round table of plan 159 filled from the ledger alone, and the year's
// end: 357 active products (82×4★, 275×3★) of 119 producers, 47 of them
// woman-owned with 161 products (29×4★, 132×3★). The table's producers (65
// new, 18 re-recognition, 2 upgrade; 70 of the 92 taking part) are real
// counts; which producer holds which product is synthetic, chosen so that
// the counts come out, and the legal forms are synthetic (the plan gives
// shares without counts). Expected figures are worked out by hand below.
TEST_CASE("Đồng Tháp's 2022 round table and year's end come from the ledger alone") {
  World w;
  Province(w);
  // Producers S1..S141. Legal form by i % 5: CSSX, TNHH, CTCP, HTX, DNTN.
  // S93..S139 are woman-owned (47); S93..S141 only hold older certificates.
  const char* forms[] = {"CSSX", "TNHH", "CTCP", "HTX", "DNTN"};
  for (int i = 1; i <= 141; ++i) {
    w.Ok("", R"({"type":"RegisterSubject","effective":"2019-03-01","subject":")" + N("S", i) +
                 R"(","name":"Chủ thể )" + std::to_string(i) + R"(","legal_form":")" +
                 forms[i % 5] + R"(","unit":"DT","woman_owned":)" +
                 (i >= 93 && i <= 139 ? "true" : "false") + "}");
  }
  struct Kind {
    std::string prefix, entry;
    int entered, four, three;
    std::function<int(int)> producer;  // of the i-th product, 1-based
  };
  // new: recognised 1..117 by S1..S65 (every one of them), the 30 others by
  // S71..S92 (every one); re-recognition: recognised 1..34 by S51..S68, the
  // 11 others by S1..S11; upgrade: 1..5 by S69 and S70, 6..10 by S69.
  const std::vector<Kind> kinds = {
      {"N-", "new", 147, 32, 85,
       [](int i) { return i <= 117 ? (i - 1) % 65 + 1 : 71 + (i - 118) % 22; }},
      {"R-", "renewal", 45, 4, 30, [](int i) { return i <= 34 ? 51 + (i - 1) % 18 : i - 34; }},
      {"U-", "upgrade", 10, 5, 0, [](int i) { return i <= 5 ? 69 + (i - 1) % 2 : 69; }}};
  std::string items;
  int recognised = 0;
  for (const Kind& k : kinds) {
    for (int i = 1; i <= k.entered; ++i) {
      std::string id = N(k.prefix, i), subject = N("S", k.producer(i));
      if (k.entry == "new") {
        w.Ok("", R"({"type":"RegisterProduct","effective":"2022-05-01","product":")" + id +
                     R"(","subject":")" + subject + R"(","name":"Sản phẩm )" + id +
                     R"(","group":1,"unit":"DT"})");
      } else {
        Import(w, id, 3, subject);
      }
      Enter(w, id, k.entry);
      int stars = i <= k.four ? 4 : i <= k.four + k.three ? 3 : 0;
      if (stars) {
        ScoreAt(w, id, stars == 4 ? 75 : 60);
        items += std::string(recognised++ ? "," : "") + R"({"product":")" + id + R"(","stars":)" +
                 std::to_string(stars) + R"(,"certificate":"GCN22-)" + id + "\"}";
      } else {
        ScoreAt(w, id, k.entry == "upgrade" ? 60 : i % 2 ? 45 : 55);
      }
    }
  }
  REQUIRE(recognised == 156);
  w.Ok(
      "",
      R"({"type":"ApproveResults","effective":"2022-11-15","decision":{"no":"2022/QĐ-UBND-HC","date":"2022-11-15","issuer":"DT"},"level":"province","closes_round":true,"items":[)" +
          items + "]}");
  // 201 products certified in 2021, in force at the end of 2022: 41×4★
  // (I-1..I-41), 160×3★ (I-42..I-201). Woman-owned producers S93..S139 hold
  // I-1..I-29 (4★) and I-42..I-173 (3★): 161 products; S140 and S141 the
  // rest. I-1..I-10 are group 4 of QĐ 1048 (textiles), I-11..I-20 group 4 of
  // QĐ 919 (handicrafts): both counted as "Thủ công mỹ nghệ".
  for (int i = 1; i <= 201; ++i) {
    bool woman = i <= 29 || (i >= 42 && i <= 173);
    int woman_index = i <= 29 ? i - 1 : i - 42;
    int producer = woman ? 93 + woman_index % 47 : 140 + i % 2;
    Import(w, N("I-", i), i <= 41 ? 4 : 3, N("S", producer), "2021-06-01", i <= 20 ? 4 : 1,
           i <= 10   ? "QD1048"
           : i <= 20 ? "QD919"
                     : "");
  }

  projections::Report year = ReportOf(w, "2022-01-01", "2022-12-31");
  const projections::RoundTable& round = year.sections.round;
  // Plan 159's table, line by line.
  const auto& n = round.by_entry.at("new");
  CHECK(n.entered == 147);
  CHECK(n.recognised.by_stars == projections::Counts{{"3", 85}, {"4", 32}});
  CHECK(n.recognised_producers == 65);
  CHECK(n.not_recognised == 30);
  CHECK(n.entered_producers == 87);  // S1..S65 and S71..S92
  const auto& r = round.by_entry.at("renewal");
  CHECK(r.entered == 45);
  CHECK(r.recognised.by_stars == projections::Counts{{"3", 30}, {"4", 4}});
  CHECK(r.recognised_producers == 18);
  CHECK(r.not_recognised == 11);
  CHECK(r.entered_producers == 29);  // S51..S68 and S1..S11
  const auto& u = round.by_entry.at("upgrade");
  CHECK(u.entered == 10);
  CHECK(u.recognised.by_stars == projections::Counts{{"4", 5}});
  CHECK(u.recognised_producers == 2);
  CHECK(u.not_recognised == 5);
  CHECK(round.total.entered == 202);
  CHECK(round.total.recognised.total == 156);
  CHECK(round.total.recognised.by_stars == projections::Counts{{"3", 115}, {"4", 41}});
  CHECK(round.total.recognised_producers == 70);
  CHECK(round.total.entered_producers == 92);
  CHECK(round.total.not_recognised == 46);
  CHECK(round.total.pending == 0);
  // The JSON keys of INTERFACE.md.
  auto j = projections::ReportJson(year);
  CHECK(j["round"]["entered"]["new"]["total"] == 147);
  CHECK(j["round"]["entered"]["renewal"]["producers"] == 29);
  CHECK(j["round"]["participants"] == 92);
  CHECK(j["round"]["not_recognised"] == 46);
  CHECK(j["round"]["recognised"]["total"]["producers"] == 70);

  // The year's end.
  CHECK(year.active_at_end.total == 357);
  CHECK(year.active_at_end.by_stars == projections::Counts{{"3", 275}, {"4", 82}});
  CHECK(year.subjects_at_end == 119);  // S1..S70 and S93..S141
  CHECK(year.subjects_woman_owned == 47);
  CHECK(year.sections.woman_owned_active.by_stars == projections::Counts{{"3", 132}, {"4", 29}});
  CHECK(j["woman_owned_products"]["total"] == 161);
  CHECK(j["producers_at_end"]["woman_owned"]["share"] == 39.5);  // 47/119 = 39.4958 %
  // Legal forms: S1..S70 give 14 of each; S93..S141 (93 % 5 = 3) give 10 of
  // HTX, DNTN, CSSX, TNHH and 9 of CTCP.
  CHECK(year.subjects_by_legal_form ==
        projections::Counts{{"CSSX", 24}, {"CTCP", 23}, {"DNTN", 24}, {"HTX", 24}, {"TNHH", 24}});
  CHECK(j["producers_at_end"]["by_legal_form"]["DN"]["total"] == 71);
  CHECK(j["producers_at_end"]["by_legal_form"]["DN"]["kinds"]["CTCP"] == 23);
  CHECK(j["producers_at_end"]["by_legal_form"]["DN"]["share"] == 59.66);   // 71/119
  CHECK(j["producers_at_end"]["by_legal_form"]["HTX"]["share"] == 20.17);  // 24/119
  CHECK(year.sections.active_by_group_name ==
        projections::Counts{{"Thủ công mỹ nghệ", 20}, {"Thực phẩm", 337}});

  // The yearly trend: 55 imports of 2019 (45 re-recognition, 10 upgrade
  // entries) in force to 20/12/2022; 201 of 2021; 156 of 2022.
  using Point = projections::ReportSections::YearPoint;
  CHECK(year.sections.trend == std::map<int, Point>{{2018, {0, 0}},
                                                    {2019, {55, 55}},
                                                    {2020, {0, 55}},
                                                    {2021, {201, 256}},
                                                    {2022, {156, 357}}});
  CHECK(j["trend"]["2021"]["active"] == 256);

  // The first half: the round had not yet begun (dossiers from 2022-08-01).
  projections::Report h1 = ReportOf(w, "2022-01-01", "2022-06-30");
  CHECK(h1.sections.round.total.entered == 0);
  // August to October: entered, scored, not yet decided: 32 new and 5
  // renewal dossiers scored 45 ended at once (below 3★); the rest wait for
  // the decision of 15/11.
  projections::Report aug_oct = ReportOf(w, "2022-08-01", "2022-10-31");
  CHECK(aug_oct.sections.round.total.entered == 202);
  CHECK(aug_oct.sections.round.total.recognised.total == 0);
  CHECK(aug_oct.sections.round.by_entry.at("new").not_recognised == 15);     // 119, 121, ..., 147
  CHECK(aug_oct.sections.round.by_entry.at("renewal").not_recognised == 6);  // 35, 37, ..., 45
  CHECK(aug_oct.sections.round.total.pending == 202 - 21);
}
