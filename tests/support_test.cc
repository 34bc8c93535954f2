// State support (issue 11, item 7): for planned, rated and imported
// products, by source, within the cap per product a province sets (Sóc
// Trăng: 300 million VND), refused with the remaining amount; reported by
// source.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "projections/projections.h"
#include "projections/report.h"
#include "query/queries.h"
#include "tests/workflow_support.h"

using namespace ocop;
using ocop::testing::World;

namespace {

std::string Support(const std::string& product, const std::string& date, uint64_t vnd,
                    const std::string& source) {
  return R"({"type":"GrantSupport","effective":")" + date + R"(","product":")" + product +
         R"(","category":"bao bì, nhãn mác","amount_vnd":)" + std::to_string(vnd) +
         R"(,"source":")" + source + R"("})";
}

// CM with a certified product RATED (plan approved, 4 stars) and an imported
// product OLD (no plan record at all), and an idea with no plan, IDEA.
void Build(World& w) {
  w.Standard();
  w.ToDossier("RATED", 2022);
  w.Ok("hd.cm", w.Score("RATED", "HD-CM", "2022-09-01", 30, 20, 25));
  w.Ok("ubnd.cm", w.Approve("RATED", "2022-09-20", "province", "CM", 4, "GCN-R"));
  w.Ok(
      "ubnd.cm",
      R"({"type":"ImportCertificate","effective":"2021-01-05","product":"OLD","subject":"S1","name":"Mắm","group":1,"unit":"UM","stars":3,"certificate":"GCN-OLD","decision":{"no":"5/QĐ-UBND","date":"2020-12-30","issuer":"CM"}})");
  w.Ok(
      "officer.um",
      R"({"type":"RegisterIdea","effective":"2022-03-01","product":"IDEA","subject":"S1","name":"Ý tưởng","group":1,"unit":"UM","cycle_year":2022})");
}

}  // namespace

TEST_CASE("support reaches rated and imported products, by a named source") {
  World w;
  Build(w);
  w.Ok("officer.um", Support("RATED", "2023-03-01", 50000000, "province"));
  w.Ok("officer.um", Support("OLD", "2023-03-01", 20000000, "credit"));
  CHECK(w.Product("OLD").support_vnd == 20000000);
  CHECK(w.Product("OLD").StateSupportVnd() == 0);  // credit is not state budget

  uint64_t before = w.ledger()->Size();
  Status s = w.Submit("officer.um", Support("IDEA", "2023-03-01", 1000000, "province"));
  CHECK(s.IsRefused());
  CHECK(s.message().find("neither an approved business plan nor a certificate") !=
        std::string::npos);
  s = w.Submit("officer.um", Support("RATED", "2023-03-01", 1000000, "ngân sách tỉnh"));
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("central, province, district, commune, producer, credit, other") !=
        std::string::npos);
  CHECK(w.ledger()->Size() == before);
}

TEST_CASE("a province's cap per product refuses support beyond it, naming what remains") {
  World w;
  Build(w);
  // Granted before any cap (and, judged on its own date, once the product
  // was rated): counts towards it once one is set.
  w.Ok("officer.um", Support("RATED", "2022-10-01", 100000000, "central"));
  w.Ok(
      "ubnd.cm",
      R"({"type":"SetSupportCap","effective":"2022-12-01","unit":"CM","cap_vnd":300000000,"decision":{"no":"1/QĐ-UBND","date":"2022-12-01","issuer":"CM"}})");
  w.Ok("officer.um", Support("RATED", "2023-03-01", 150000000, "province"));

  uint64_t before = w.ledger()->Size();
  Status s = w.Submit("officer.um", Support("RATED", "2023-04-01", 60000000, "district"));
  INFO(s.ToString());
  REQUIRE(s.IsRefused());
  CHECK(s.message().find("cap of 300.000.000 VND") != std::string::npos);
  CHECK(s.message().find("250.000.000 VND already granted, 50.000.000 VND remaining") !=
        std::string::npos);
  CHECK(w.ledger()->Size() == before);

  // The producer's own money and credit are not capped; the remainder is.
  w.Ok("officer.um", Support("RATED", "2023-04-01", 500000000, "producer"));
  w.Ok("officer.um", Support("RATED", "2023-04-01", 50000000, "commune"));
  s = w.Submit("officer.um", Support("RATED", "2023-05-01", 1, "central"));
  CHECK(s.IsRefused());
  CHECK(s.message().find("0 VND remaining") != std::string::npos);
  // Another product has its own cap.
  w.Ok("officer.um", Support("OLD", "2023-05-01", 300000000, "province"));

  // Lifted from a date: a cap of 0.
  w.Ok("ubnd.cm", R"({"type":"SetSupportCap","effective":"2024-01-01","unit":"CM","cap_vnd":0})");
  w.Ok("officer.um", Support("RATED", "2024-02-01", 1000000, "central"));
  // Acts dated before the lift are still judged by the cap.
  s = w.Submit("officer.um", Support("RATED", "2023-12-31", 1000000, "central"));
  CHECK(s.IsRefused());
}

TEST_CASE("a support cap is a province's, set by its admin or authority") {
  World w;
  Build(w);
  uint64_t before = w.ledger()->Size();
  Status s = w.Submit(
      "ubnd.um", R"({"type":"SetSupportCap","effective":"2022-01-01","unit":"UM","cap_vnd":1})");
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("not a province") != std::string::npos);
  s = w.Submit("officer.cm",
               R"({"type":"SetSupportCap","effective":"2022-01-01","unit":"CM","cap_vnd":1})");
  CHECK(s.IsForbidden());
  CHECK(w.ledger()->Size() == before);
}

TEST_CASE("the report sums support granted in the period by source") {
  World w;
  Build(w);
  w.Ok("officer.um", Support("RATED", "2022-12-31", 7000000, "province"));  // before the period
  w.Ok("officer.um", Support("RATED", "2023-03-01", 50000000, "province"));
  w.Ok("officer.um", Support("RATED", "2023-06-01", 30000000, "central"));
  w.Ok("officer.um", Support("OLD", "2023-07-01", 20000000, "province"));
  w.Ok("officer.um", Support("OLD", "2023-08-01", 15000000, "credit"));
  w.Ok("officer.um", Support("OLD", "2023-09-01", 99000000, "producer"));
  uint64_t wrong = w.ledger()->Size();
  w.Ok("ubnd.cm", R"({"type":"AnnulEvent","effective":"2023-10-01","target_seq":)" +
                      std::to_string(wrong) + R"(,"reason":"nhập nhầm"})");

  std::unique_ptr<projections::Projections> p;
  REQUIRE(projections::Projections::OpenAt(w.ledger(), (w.dir() / "proj").string(), &p).ok());
  REQUIRE(p->CatchUp().ok());
  projections::ReportQuery q;
  REQUIRE(projections::ParsePeriod("2023", &q.period).ok());
  q.unit = "CM";
  projections::Report r;
  REQUIRE(projections::BuildReport(*p->View(), q, &r).ok());
  auto j = projections::ReportJson(r)["support"];
  CHECK(j["total_vnd"] == 115000000);
  CHECK(j["by_source"]["province"] == 70000000);
  CHECK(j["by_source"]["central"] == 30000000);
  CHECK(j["by_source"]["credit"] == 15000000);
  CHECK_FALSE(j["by_source"].contains("producer"));  // annulled

  // The spreadsheet forms carry it too, by named source.
  query::ReportQueryText text;
  text.period = "2023";
  text.unit = "CM";
  text.format = "csv";
  query::RenderedReport csv;
  REQUIRE(
      query::QueryReport(
          query::Reader{w.ledger(), p->View().get(), workflow::FromCivil(2024, 1, 1)}, text, &csv)
          .ok());
  CHECK(csv.body.find("Ngân sách tỉnh") != std::string::npos);
  CHECK(csv.body.find("70000000") != std::string::npos);
  CHECK(csv.body.find("Vốn tín dụng") != std::string::npos);

  q.period.to = workflow::FromCivil(2023, 6, 30);  // first half only
  REQUIRE(projections::BuildReport(*p->View(), q, &r).ok());
  CHECK(projections::ReportJson(r)["support"]["total_vnd"] == 80000000);
  q.unit = "DD";  // nothing granted there
  REQUIRE(projections::BuildReport(*p->View(), q, &r).ok());
  CHECK(projections::ReportJson(r)["support"]["total_vnd"] == 0);
}
