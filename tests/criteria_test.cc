// The scoring sheet (issue 11, item 4): criteria sets as data beside the
// rules, checked against the decree's part maxima; RecordScore's sheet
// refused when a criterion is over its maximum, unknown or missing, naming
// it; hard criteria limiting the stars by name; `ocop criteria`.
#include <capnp/dynamic.h>
#include <capnp/message.h>

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ledger/event_view.h"
#include "projections/projections.h"
#include "query/queries.h"
#include "tests/workflow_support.h"
#include "workflow/criteria.h"
#include "workflow/json.h"
#include "workflow/rules.h"

using namespace ocop;
using ocop::testing::World;

namespace {

const char* kSet = "qd148-thuc-pham-tuoi-so-che";

// Every criterion of the set at its maximum, then `changes` applied.
std::map<std::string, double> FullMarks(const std::map<std::string, double>& changes = {}) {
  std::map<std::string, double> points;
  for (const auto& c : workflow::FindCriteriaSet(kSet)->criteria) points[c.id] = c.max;
  for (const auto& [id, p] : changes) points[id] = p;
  return points;
}

std::string Sheet(const std::string& product, const std::string& date,
                  const std::map<std::string, double>& points, const std::string& extra = "") {
  nlohmann::json criteria = nlohmann::json::object();
  for (const auto& [id, p] : points) criteria[id] = p;
  return R"({"type":"RecordScore","effective":")" + date + R"(","product":")" + product +
         R"(","council":"HD-UM","sheet":{"set":")" + kSet + R"(","criteria":)" + criteria.dump() +
         "}" + extra + "}";
}

void Refused(World& w, const std::string& json, bool invalid, const std::string& says) {
  uint64_t before = w.ledger()->Size();
  Status s = w.Submit("hd.um", json);
  INFO(s.ToString());
  CHECK((invalid ? s.IsInvalidArgument() : s.IsRefused()));
  CHECK(s.message().find(says) != std::string::npos);
  CHECK(w.ledger()->Size() == before);
}

}  // namespace

TEST_CASE("every shipped criteria set loads, and a complete one adds up to its decree's parts") {
  std::vector<workflow::CriteriaSet> sets;
  Status s = workflow::LoadCriteriaSets(&sets);
  INFO(s.ToString());
  REQUIRE(s.ok());
  int complete = 0;
  for (const auto& set : sets) {
    INFO(set.id);
    CHECK(!set.rules.empty());
    CHECK(workflow::FindGroupList(set.group_list).has_value());
    if (!set.complete) continue;
    ++complete;
    for (workflow::Rules r : workflow::schema::RULES_IN_FORCE.get()) {
      if (!workflow::SetAppliesTo(set, r)) continue;
      CHECK(set.PartSum("A") == r.getMaxA());
      CHECK(set.PartSum("B") == r.getMaxB());
      CHECK(set.PartSum("C") == r.getMaxC());
    }
  }
  CHECK(complete >= 1);

  const workflow::CriteriaSet* food = workflow::FindCriteriaSet(kSet);
  REQUIRE(food);
  CHECK(food->complete);
  CHECK(food->criteria.size() == 32);
  CHECK(food->PartSum("A") == 40);  // QĐ 148: 40 / 25 / 35
  CHECK(food->PartSum("B") == 25);
  CHECK(food->PartSum("C") == 35);
  CHECK(food->group_list == "QD919");
  // QĐ 1489 keeps QĐ 148's sheets; QĐ 1048 has its own.
  CHECK(workflow::SetAppliesTo(*food, *workflow::RulesInForce(workflow::FromCivil(2025, 8, 1))));
  CHECK_FALSE(
      workflow::SetAppliesTo(*food, *workflow::RulesInForce(workflow::FromCivil(2022, 8, 1))));
  // The star marks of the sheet, read from the notes: A1.3 needs 2 points for
  // 4 stars and 3 for 5; C5.1 needs 2 for 3 stars.
  const workflow::Criterion* a13 = food->Find("A1.3");
  REQUIRE(a13);
  CHECK(a13->hard_levels == std::vector<std::pair<int, double>>{{4, 2.0}, {5, 3.0}});
  CHECK(food->Find("C5.1")->hard_levels ==
        std::vector<std::pair<int, double>>{{3, 2.0}, {4, 3.0}, {5, 5.0}});
  CHECK(food->Find("A1.6")->hard_levels.empty());
}

TEST_CASE("a set claiming completeness whose maxima do not add up is refused") {
  const char* wrong = R"({"id":"x","rules":"QĐ 148/QĐ-TTg","group_list":"QĐ 148","groups":[1],
    "complete":true,"criteria":[{"id":"A1","part":"A","max":39,"text_vi":"a"},
    {"id":"B1","part":"B","max":25,"text_vi":"b"},{"id":"C1","part":"C","max":35,"text_vi":"c"}]})";
  workflow::CriteriaSet set;
  Status s = workflow::ParseCriteriaSet("x.json", wrong, &set);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("part A add up to 39, not 40") != std::string::npos);
  // The same set, partial, loads.
  std::string partial = wrong;
  partial.replace(partial.find("\"complete\":true"), 15, "\"complete\":false");
  CHECK(workflow::ParseCriteriaSet("x.json", partial, &set).ok());
  CHECK_FALSE(set.complete);
  CHECK(set.rules == std::vector<std::string>{"QD148"});
}

TEST_CASE("RecordScore takes a sheet, and its parts are the sheet's sums") {
  World w;
  w.Standard();
  w.ToDossier("P", 2023);
  workflow::Outcome o;
  REQUIRE(
      w.Submit("hd.um", Sheet("P", "2023-08-15", FullMarks({{"A1.6", 0}, {"C7.1", 1}})), &o).ok());
  auto p = w.Product("P");
  REQUIRE(p.dossier);
  REQUIRE(p.dossier->scores.size() == 1);
  CHECK(p.dossier->scores[0].total == 97);
  CHECK(p.dossier->scores[0].stars == 5);
  CHECK(p.dossier->scores[0].hard_missed.empty());

  // The event carries the sheet as officials wrote it, and the sums.
  std::string bytes;
  REQUIRE(w.ledger()->Get(w.ledger()->Size(), &bytes).ok());
  ledger::EventView view(bytes);
  REQUIRE(view.ok());
  auto json = nlohmann::json::parse(
      workflow::ToJson(capnp::toDynamic(view.As<workflow::schema::OcopEvent>())));
  auto score = json["payload"]["ScoreRecorded"]["score"];
  CHECK(score["sheet"]["set"] == kSet);
  CHECK(score["sheet"]["criteria"]["A1.6"] == 0);
  CHECK(score["sheet"]["criteria"]["C7.1"] == 1);
  CHECK(score["parts"]["A"] == 39);
  CHECK(score["parts"]["C"] == 33);

  // Parts given beside the sheet must agree with it.
  w.Ok("hd.um", Sheet("P", "2023-08-16", FullMarks(), R"(,"parts":{"A":40,"B":25,"C":35})"));
  Refused(w, Sheet("P", "2023-08-16", FullMarks(), R"(,"parts":{"A":30,"B":25,"C":35})"), true,
          "field 'parts.A' is 30 but the sheet's criteria of part A add up to 40");
}

TEST_CASE("a sheet over a maximum, with an unknown or a missing criterion is refused, naming it") {
  World w;
  w.Standard();
  w.ToDossier("P", 2023);
  Refused(w, Sheet("P", "2023-08-15", FullMarks({{"A1.1", 6}})), true,
          "field 'sheet.criteria.A1.1': criterion A1.1 (Nguồn gốc sản phẩm) is scored from 0 to "
          "5; got 6");
  Refused(w, Sheet("P", "2023-08-15", FullMarks({{"B1.2", -1}})), true, "criterion B1.2");
  Refused(w, Sheet("P", "2023-08-15", FullMarks({{"Z9.9", 1}})), true,
          "set qd148-thuc-pham-tuoi-so-che has no criterion Z9.9");
  auto missing = FullMarks();
  missing.erase("B2.3");
  missing.erase("C6.1");
  Refused(w, Sheet("P", "2023-08-15", missing), true,
          "needs points for every criterion; missing B2.3, C6.1");
  Refused(w, R"({"type":"RecordScore","effective":"2023-08-15","product":"P","council":"HD-UM"})",
          true, "give the parts A, B, C or a 'sheet'");
  Refused(
      w,
      R"({"type":"RecordScore","effective":"2023-08-15","product":"P","council":"HD-UM","sheet":{"set":"qd148-thuc-pham-tuoi-so-che","criteria":{"A1.1":"năm"}}})",
      true, "field 'sheet.criteria.A1.1' must be a number");
  // Not a set of the rules in force (QĐ 1048 on 2022-08-15).
  w.ToDossier("OLD", 2022);
  Refused(w, Sheet("OLD", "2022-08-15", FullMarks()), true,
          "is not a criteria set of QĐ 1048/QĐ-TTg");
  // Not a set of the product's group: a handicraft.
  w.Ok("officer.um",
       R"({"type":"ClassifyProduct","effective":"2023-08-02","product":"P","group":4})");
  Refused(w, Sheet("P", "2023-08-15", FullMarks()), false,
          "does not score product 'P' of group 4 Thủ công mỹ nghệ");
}

TEST_CASE("hard criteria missed limit the stars, and the refusal names them") {
  World w;
  w.Standard();
  w.ToDossier("P", 2023);
  // 97 points, but A1.3 at 1 point: its sheet marks 2 points for 4 stars.
  w.Ok("hd.um", Sheet("P", "2023-08-15", FullMarks({{"A1.3", 1}, {"A1.6", 0}})));
  auto p = w.Product("P");
  REQUIRE(p.dossier);
  CHECK(p.dossier->scores.back().total == 97);
  CHECK(p.dossier->scores.back().stars == 3);
  REQUIRE(p.dossier->scores.back().hard_missed.size() == 1);
  CHECK(p.dossier->scores.back().hard_missed[0].rfind("A1.3 (", 0) == 0);

  // Forwarded (97 points), the province's council finds the same: the
  // province may not give 4 stars, and its refusal names the criterion.
  w.Ok("officer.um",
       R"({"type":"Forward","effective":"2023-08-16","product":"P","to_level":"province"})");
  std::string province_sheet = Sheet("P", "2023-08-18", FullMarks({{"A1.3", 1}, {"A1.6", 0}}));
  province_sheet.replace(province_sheet.find("HD-UM"), 5, "HD-CM");
  w.Ok("hd.cm", province_sheet);
  uint64_t before = w.ledger()->Size();
  Status s = w.Submit("ubnd.cm", w.Approve("P", "2023-08-30", "province", "CM", 4, "GCN-P"));
  INFO(s.ToString());
  CHECK(s.IsRefused());
  CHECK(s.message().find("hard criteria missed: A1.3 (") != std::string::npos);
  CHECK(w.ledger()->Size() == before);
  // What the sheet allows, 3 stars, the district certifies.
  w.Ok("ubnd.um", w.Approve("P", "2023-08-30", "district", "UM", 3, "GCN-P"));

  // C5.1 at 1 point: 3 stars need 2. Total 96, 2 stars: the dossier ends at
  // once, not recognised, and the sheet names the criterion missed.
  w.ToDossier("Q", 2023);
  w.Ok("hd.um", Sheet("Q", "2023-08-20", FullMarks({{"C5.1", 1}})));
  auto q = w.Product("Q");
  REQUIRE(q.dossier);
  CHECK(q.dossier->scores.back().stars == 2);
  REQUIRE(q.dossier->scores.back().hard_missed.size() == 1);
  CHECK(q.dossier->scores.back().hard_missed[0].rfind("C5.1 (", 0) == 0);
  CHECK_FALSE(q.dossier->open());
}

TEST_CASE("ocop criteria lists the sets in force with their criteria") {
  query::Json out;
  REQUIRE(query::QueryCriteria(query::CriteriaQuery{"2024-01-01", ""}, &out).ok());
  bool found = false;
  for (const auto& set : out["sets"]) {
    if (set["id"] != kSet) continue;
    found = true;
    CHECK(set["rules"] == query::Json::array({"QD148"}));
    CHECK(set["complete"] == true);
    CHECK(set["criteria"].size() == 32);
    CHECK(set["criteria"][0]["id"] == "A1.1");
    CHECK(set["criteria"][0]["part"] == "A");
    CHECK(set["criteria"][0]["max"] == 5);
    CHECK(set["criteria"][0]["hard"] == true);
    CHECK(set["criteria"][0]["text_vi"] == "Nguồn gốc sản phẩm");
  }
  CHECK(found);
  REQUIRE(query::QueryCriteria(query::CriteriaQuery{"2025-08-01", kSet}, &out).ok());
  CHECK(out["sets"].size() == 1);
  REQUIRE(query::QueryCriteria(query::CriteriaQuery{"2021-01-01", ""}, &out).ok());
  for (const auto& set : out["sets"]) CHECK(set["id"] != kSet);
  Status s = query::QueryCriteria(query::CriteriaQuery{"2021-01-01", kSet}, &out);
  CHECK(s.IsInvalidArgument());
  s = query::QueryCriteria(query::CriteriaQuery{"2021-13-01", ""}, &out);
  CHECK(s.IsInvalidArgument());
}

TEST_CASE("QĐ 1048's sets score by its own group list, and a partial set cannot decide stars") {
  const workflow::CriteriaSet* textile = workflow::FindCriteriaSet("qd1048-nganh-vai-may-mac");
  REQUIRE(textile);
  CHECK(textile->complete);
  CHECK(textile->group_list == "QD1048");
  CHECK(textile->PartSum("A") == 35);  // QĐ 1048: 35 / 25 / 40
  CHECK(textile->PartSum("B") == 25);
  CHECK(textile->PartSum("C") == 40);
  const workflow::CriteriaSet* spirits = workflow::FindCriteriaSet("qd1048-do-uong-co-con-khac");
  REQUIRE(spirits);
  CHECK_FALSE(spirits->complete);  // criterion 6.4 missing in the source: C adds up to 38
  CHECK(spirits->PartSum("C") == 38);

  World w;
  w.Standard();
  w.ToDossier("VAI", 2022);  // group 1 under QĐ 1048 (its list on 2022-03-01)
  auto sheet = [](const workflow::CriteriaSet& set, const std::string& product) {
    nlohmann::json criteria = nlohmann::json::object();
    for (const auto& c : set.criteria) criteria[c.id] = c.max;
    return R"({"type":"RecordScore","effective":"2022-08-15","product":")" + product +
           R"(","council":"HD-UM","sheet":{"set":")" + set.id + R"(","criteria":)" +
           criteria.dump() + "}}";
  };
  // A food product is not scored with the textile set ...
  Refused(w, sheet(*textile, "VAI"), false, "does not score product 'VAI' of group 1 Thực phẩm");
  // ... but once classified as textiles (code 4 of QĐ 1048's list) it is.
  w.Ok("officer.um",
       R"({"type":"ClassifyProduct","effective":"2022-08-02","product":"VAI","group":4})");
  w.Ok("hd.um", sheet(*textile, "VAI"));
  CHECK(w.Product("VAI").dossier->scores.back().total == 100);

  w.ToDossier("RUOU", 2022);
  w.Ok("officer.um",
       R"({"type":"ClassifyProduct","effective":"2022-08-02","product":"RUOU","group":2})");
  Refused(w, sheet(*spirits, "RUOU"), false, "is partial");
}

TEST_CASE("changes show each district's weakest criteria over the sheets of the period") {
  World w;
  w.Standard();
  w.ToDossier("P1", 2023);
  w.ToDossier("P2", 2023);
  w.ToDossier("P3", 2023, "DD");
  // In U Minh, B2.1 (max 5) scored 1 and 2: mean share 0.3; C7.1 (max 3) 0 and
  // 3: 0.5; everything else full.
  w.Ok("hd.um", Sheet("P1", "2023-08-15", FullMarks({{"B2.1", 1}, {"C7.1", 0}})));
  w.Ok("hd.um", Sheet("P2", "2023-08-16", FullMarks({{"B2.1", 2}})));
  // A sheet annulled in the period does not count.
  w.Ok("hd.um", Sheet("P2", "2023-08-17", FullMarks({{"A1.1", 0}})));
  w.Ok("admin.cm", R"({"type":"AnnulEvent","effective":"2023-08-18","target_seq":)" +
                       std::to_string(w.ledger()->Size()) + R"(,"reason":"nhầm phiếu"})");
  std::string dd = Sheet("P3", "2023-08-15", FullMarks({{"A3.1", 0}}));
  dd.replace(dd.find("HD-UM"), 5, "HD-DD");
  w.Ok("hd.dd", dd);

  std::unique_ptr<projections::Projections> p;
  REQUIRE(projections::Projections::OpenAt(w.ledger(), (w.dir() / "proj").string(), &p).ok());
  REQUIRE(p->CatchUp().ok());
  query::Json out;
  query::ChangesQuery q;
  q.from = "2023-08-01";
  q.to = "2023-08-31";
  REQUIRE(query::QueryChanges(
              query::Reader{w.ledger(), p->View().get(), workflow::FromCivil(2024, 1, 1)}, q, &out)
              .ok());
  auto um = out["weakest_criteria"]["UM"];
  INFO(out["weakest_criteria"].dump());
  CHECK(um["name"] == "U Minh");
  REQUIRE(um["criteria"].size() == 5);
  CHECK(um["criteria"][0]["criterion"] == "B2.1");
  CHECK(um["criteria"][0]["mean_share"] == 0.3);
  CHECK(um["criteria"][0]["sheets"] == 2);
  CHECK(um["criteria"][1]["criterion"] == "C7.1");
  CHECK(um["criteria"][1]["mean_share"] == 0.5);
  CHECK(um["criteria"][2]["mean_share"] == 1.0);  // not A1.1: its sheet was annulled
  CHECK(out["weakest_criteria"]["DD"]["criteria"][0]["criterion"] == "A3.1");
  CHECK(out["weakest_criteria"]["DD"]["criteria"][0]["mean_share"] == 0);
}
