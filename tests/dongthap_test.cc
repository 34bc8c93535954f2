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

#include "projections/projections.h"
#include "projections/report.h"
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

// A product certified in 2019, before the ledger: `stars` from 2019-12-20.
void Import(World& w, const std::string& id, int stars) {
  w.Ok("", R"({"type":"ImportCertificate","effective":"2019-12-20","product":")" + id +
               R"(","subject":"S-DT","name":"Sản phẩm )" + id +
               R"(","group":1,"unit":"DT","stars":)" + std::to_string(stars) +
               R"(,"certificate":"GCN-)" + id +
               R"(","decision":{"no":"2019/QĐ-UBND-HC","date":"2019-12-20","issuer":"DT"}})");
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
