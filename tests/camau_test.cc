// The real data: Cà Mau's appendix of QĐ 2822 (../shared/data), all 237 rows,
// loaded as units, producers and ideas with its quirks kept, and checked
// against counts taken from the file here, independently of the loader.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "ocop/demo_data.h"
#include "tests/workflow_support.h"

using namespace ocop;
using ocop::testing::World;

TEST_CASE("all 237 rows of the Cà Mau appendix load, quirks kept, and only once") {
  std::vector<cli::IdeaRow> rows;
  REQUIRE(cli::LoadAppendix(CAMAU_CSV, &rows).ok());
  REQUIRE(rows.size() == 237);

  // Counted here from the rows themselves.
  std::set<std::string> districts;
  size_t fresh_cells = 0, no_group = 0;
  std::map<std::string, std::set<std::string>> districts_of_name;
  for (const auto& r : rows) {
    districts.insert(r.district);
    if (!r.subject_from_merged_cell) ++fresh_cells;
    if (r.group.empty()) ++no_group;
    districts_of_name[r.subject].insert(r.district);
  }
  CHECK(districts.size() == 9);
  CHECK(fresh_cells == 151);  // DOMAIN.md: 151 producers
  CHECK(no_group == 8);       // 8 rows without a group code

  World w;
  auto commands = cli::AppendixCommands(rows);
  size_t ideas = 0, subjects = 0;
  for (const auto& c : commands) {
    INFO(c.json);
    workflow::Outcome o;
    Status s = w.Submit(c.principal, c.json, &o);
    REQUIRE(s.ok());
    ideas += c.json.find("\"RegisterIdea\"") != std::string::npos;
    subjects += c.json.find("\"RegisterSubject\"") != std::string::npos;
  }
  CHECK(ideas == 237);
  CHECK(subjects == fresh_cells);

  // Every row is a product with its own name, unit, year and group (or none).
  std::map<std::string, std::string> subject_of_row;
  const std::map<std::string, std::string> codes = {
      {"Thành phố Cà Mau", "TP"}, {"Cái Nước", "CN"},       {"Đầm Dơi", "DD"},
      {"Ngọc Hiển", "NH"},        {"Năm Căn", "NC"},        {"Phú Tân", "PT"},
      {"Thới Bình", "TB"},        {"Trần Văn Thời", "TVT"}, {"U Minh", "UM"}};
  std::string previous_subject;
  for (const auto& r : rows) {
    std::string id = "CM-" + codes.at(r.district) + "-" + r.row;
    INFO(id);
    auto p = w.Product(id);
    REQUIRE(p.exists);
    CHECK(p.name == r.product);
    CHECK(p.unit == "CM-" + codes.at(r.district));
    CHECK(p.cycle_year == std::stoi(r.planned_year));
    CHECK(p.group == (r.group.empty() ? 0 : std::stoi(r.group)));
    CHECK(p.stage == workflow::Stage::kIdeaRegistered);
    // A filled-down cell is the producer above; a fresh one is a new producer.
    if (r.subject_from_merged_cell) CHECK(p.subject == previous_subject);
    if (!r.subject_from_merged_cell) CHECK(p.subject != previous_subject);
    previous_subject = p.subject;
    subject_of_row[r.district + "|" + r.row] = p.subject;
  }
  // The same name in two districts is two producers ("HTX Thành Công").
  REQUIRE(districts_of_name["HTX Thành Công"].size() == 2);
  std::set<std::string> thanh_cong;
  for (const auto& r : rows) {
    if (r.subject == "HTX Thành Công") thanh_cong.insert(subject_of_row[r.district + "|" + r.row]);
  }
  CHECK(thanh_cong.size() == 2);

  // Loading again appends nothing: every command carries an id.
  uint64_t size = w.ledger()->Size();
  for (const auto& c : commands) {
    workflow::Outcome o;
    REQUIRE(w.Submit(c.principal, c.json, &o).ok());
    CHECK(o.duplicate);
  }
  CHECK(w.ledger()->Size() == size);
}
