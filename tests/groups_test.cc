// Product groups by their list (issue 11, item 5): a code is stored with the
// list it belongs to and shown by name; reports count by named group across
// lists; the demo classifies the Cà Mau rows without a code by their names.
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ocop/demo_data.h"
#include "projections/projections.h"
#include "projections/report.h"
#include "projections/status_json.h"
#include "tests/workflow_support.h"
#include "workflow/rules.h"

using namespace ocop;
using ocop::testing::World;

namespace {

std::string Idea(const std::string& id, const std::string& date, int group,
                 const std::string& list = "") {
  return R"({"type":"RegisterIdea","effective":")" + date + R"(","product":")" + id +
         R"(","subject":"S1","name":"Sản phẩm","group":)" + std::to_string(group) +
         (list.empty() ? "" : R"(,"group_list":")" + list + "\"") +
         R"(,"unit":"UM","cycle_year":)" + date.substr(0, 4) + "}";
}

std::string Import(const std::string& id, const std::string& date, int group) {
  return R"({"type":"ImportCertificate","effective":"2023-06-01","product":")" + id +
         R"(","subject":"S1","name":"Sản phẩm","group":)" + std::to_string(group) +
         R"(,"unit":"UM","stars":3,"certificate":"GCN-)" + id + R"(","decision":{"no":"Q-)" + id +
         R"(","date":")" + date + R"(","issuer":"CM"}})";
}

}  // namespace

TEST_CASE("group code 4 is textiles under QĐ 1048 and handicrafts under QĐ 919/148") {
  World w;
  w.Standard();
  w.Ok("officer.um", Idea("P2022", "2022-03-01", 4));            // QĐ 1048 in force: its list
  w.Ok("officer.um", Idea("P2023", "2023-03-01", 4));            // QĐ 148 in force: QĐ 919's list
  w.Ok("officer.um", Idea("TV2022", "2022-11-01", 4, "QD919"));  // named, as Trà Vinh did
  auto status = [&](const std::string& id) {
    return projections::StatusJson(w.Product(id), workflow::FromCivil(2024, 1, 1));
  };
  CHECK(status("P2022")["group"] == 4);
  CHECK(status("P2022")["group_name"] == "Vải và may mặc");
  CHECK(status("P2022")["group_list"] == "QĐ 1048");
  CHECK(status("P2023")["group_name"] == "Thủ công mỹ nghệ");
  CHECK(status("P2023")["group_list"] == "QĐ 919");
  CHECK(status("TV2022")["group_name"] == "Thủ công mỹ nghệ");

  // Reclassified under another list: the list moves with the code.
  w.Ok(
      "officer.um",
      R"({"type":"ClassifyProduct","effective":"2023-04-01","product":"P2022","group":5,"group_list":"QD1048"})");
  CHECK(status("P2022")["group_name"] == "Lưu niệm - nội thất - trang trí");
  w.Ok("officer.um",
       R"({"type":"ClassifyProduct","effective":"2023-04-02","product":"P2022","group":5})");
  CHECK(status("P2022")["group_name"] == "Sinh vật cảnh");
  CHECK(status("P2022")["group_list"] == "QĐ 919");

  uint64_t before = w.ledger()->Size();
  Status s = w.Submit("officer.um", Idea("BAD", "2023-03-01", 4, "QD490"));
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("QD1048 (QĐ 1048), QD919 (QĐ 919)") != std::string::npos);
  s = w.Submit("officer.um", Idea("BAD", "2023-03-01", 7));
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("4 Thủ công mỹ nghệ") != std::string::npos);
  CHECK(s.message().find("(QĐ 919)") != std::string::npos);
  s = w.Submit("ubnd.cm", Import("BAD", "2021-01-01", 0));
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("4 Vải và may mặc") != std::string::npos);
  CHECK(w.ledger()->Size() == before);
}

TEST_CASE("the mapping between lists is data, and reports count by named group across lists") {
  CHECK(workflow::ReportGroupOf("QD1048", 4).name == "Thủ công mỹ nghệ");
  CHECK(workflow::ReportGroupOf("QD1048", 5).code == 4);
  CHECK(workflow::ReportGroupOf("QD1048", 3).name == "Dược liệu và sản phẩm từ dược liệu");
  CHECK(workflow::ReportGroupOf("QD919", 5).name == "Sinh vật cảnh");
  CHECK(workflow::ReportGroupOf("QD919", 9).code == 0);

  World w;
  w.Standard();
  w.Ok("ubnd.cm", Import("TEXTILE", "2021-05-01", 4));   // 1048: textiles
  w.Ok("ubnd.cm", Import("SOUVENIR", "2021-06-01", 5));  // 1048: souvenirs
  w.Ok("ubnd.cm", Import("CRAFT", "2023-05-01", 4));     // 919: handicrafts
  w.Ok("ubnd.cm", Import("PLANT", "2023-05-02", 5));     // 919: ornamental plants
  w.Ok("ubnd.cm", Import("FOOD", "2021-05-03", 1));
  std::unique_ptr<projections::Projections> p;
  REQUIRE(projections::Projections::OpenAt(w.ledger(), (w.dir() / "proj").string(), &p).ok());
  REQUIRE(p->CatchUp().ok());
  projections::ReportQuery q;
  q.period = {workflow::FromCivil(2021, 1, 1), workflow::FromCivil(2023, 12, 31)};
  projections::Report r;
  REQUIRE(projections::BuildReport(*p->View(), q, &r).ok());
  auto j = projections::ReportJson(r)["recognised"];
  CHECK(j["by_group_name"]["Thủ công mỹ nghệ"] == 3);
  CHECK(j["by_group_name"]["Sinh vật cảnh"] == 1);
  CHECK(j["by_group_name"]["Thực phẩm"] == 1);
  CHECK(j["by_group"]["4"] == 2);  // the bare codes, kept for old scripts
}

TEST_CASE(
    "the demo classifies Cà Mau's rows without a code by name: bồn bồn bags are handicrafts") {
  CHECK(cli::GroupByName("Túi xách làm từ cây bồn bồn") == 4);
  CHECK(cli::GroupByName("Ba lô làm từ cây bồn bồn") == 4);
  CHECK(cli::GroupByName("Ví làm từ cây bồn bồn") == 4);
  CHECK(cli::GroupByName("Tôm khô") == 1);
  CHECK(cli::GroupByName("Ruốc khô") == 1);
  CHECK(cli::GroupByName("Chả cá phi Thái Thịnh") == 1);
  CHECK(cli::GroupByName("Dưa bồn bồn") == 1);
  CHECK(cli::GroupByName("Nhang trầm") == 0);

  std::vector<cli::IdeaRow> rows;
  REQUIRE(cli::LoadAppendix(CAMAU_CSV, &rows).ok());
  std::map<std::string, std::string> ungrouped;  // product id -> name
  int classified = 0;
  for (const auto& c : cli::DemoCommands(rows)) {
    auto j = nlohmann::json::parse(c.json);
    if (j["type"] == "RegisterIdea" && !j.contains("group")) {
      ungrouped[j["product"]] = j["name"];
    } else if (j["type"] == "RegisterIdea") {
      CHECK(j["group_list"] == "QD919");
    }
    if (j["type"] != "ClassifyProduct") continue;
    ++classified;
    std::string name = ungrouped.at(j["product"]);
    INFO(name);
    CHECK(j["group_list"] == "QD919");
    CHECK(j["group"] == (name.find("bồn bồn") != std::string::npos ? 4 : 1));
  }
  CHECK(ungrouped.size() == 8);
  CHECK(classified > 0);
}
