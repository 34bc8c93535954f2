// workflow::RolesFor (what the dashboard offers a principal) against Decide
// itself: every command has its roles; for commands that are otherwise
// valid, a principal of a role outside the list is refused as Forbidden and
// one of a role inside it is not.
#include <catch2/catch.hpp>

#include "tests/workflow_support.h"
#include "workflow/command_roles.h"
#include "workflow/json.h"
#include "workflow/memory_view.h"

using namespace ocop;
using namespace ocop::workflow;

TEST_CASE("every command's form has the roles that may send it") {
  auto forms = CommandForms();
  REQUIRE(forms["forms"].size() >= 25);
  for (const auto& f : forms["forms"]) {
    INFO(f["type"]);
    CHECK(!RolesFor(f["type"].get<std::string>()).empty());
  }
  CHECK(RolesFor("NoSuchCommand").empty());
}

TEST_CASE("RolesFor agrees with Decide on who is forbidden") {
  MemoryView view;
  for (const auto& [who, json] : ocop::testing::StandardCommands())
    REQUIRE(view.Submit(who, json).ok());
  for (const auto& [who, json] : ocop::testing::DossierCommands("P1", 2024))
    REQUIRE(view.Submit(who, json).ok());
  // One principal of each role, all able to act in district UM.
  const std::map<Role, std::string> principals = {
      {Role::ADMIN, "admin.cm"},         {Role::OFFICER, "officer.um"},
      {Role::COUNCIL, "hd.um"},          {Role::AUTHORITY, "ubnd.um"},
      {Role::INSPECTOR, "inspector.cm"}, {Role::AUDITOR, "auditor.cm"}};
  // Commands valid in this world but for who sends them.
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"RegisterSubject",
       R"({"type":"RegisterSubject","effective":"2024-09-01","subject":"S9","name":"HTX Chín","legal_form":"HTX","unit":"UM"})"},
      {"RegisterIdea",
       R"({"type":"RegisterIdea","effective":"2024-09-01","product":"P9","subject":"S1","name":"Chín","group":1,"unit":"UM","cycle_year":2024})"},
      {"RegisterProduct",
       R"({"type":"RegisterProduct","effective":"2024-09-01","product":"P8","subject":"S1","name":"Tám","group":1,"unit":"UM"})"},
      {"GrantSupport",
       R"({"type":"GrantSupport","effective":"2024-09-01","product":"P1","category":"bao bì","amount_vnd":1000000,"source":"province"})"},
      {"RecordScore", ocop::testing::ScoreJson("P1", "HD-UM", "2024-09-01", 30, 20, 25)},
      {"SetTarget",
       R"({"type":"SetTarget","effective":"2024-09-01","unit":"UM","year":2024,"indicator":"products","value":5})"},
      {"ConstituteCouncil",
       R"({"type":"ConstituteCouncil","effective":"2024-09-01","council":"HD-UM2","level":"district","unit":"UM","decision":{"no":"9/QĐ","date":"2024-09-01","issuer":"UM"}})"},
  };
  for (const auto& [type, json] : commands) {
    const auto& allowed = RolesFor(type);
    for (const auto& [role, who] : principals) {
      Decided d;
      Status s = view.DecideOnly(who, json, &d);
      const bool listed = std::find(allowed.begin(), allowed.end(), role) != allowed.end();
      INFO(type << " as " << who << " -> " << s.ToString());
      if (listed) {
        CHECK(!s.IsForbidden());
      } else {
        CHECK(s.IsForbidden());
      }
    }
  }
}
