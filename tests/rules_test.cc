// The rules in force, table by table, and at each boundary date: every act is
// judged by the rules of its own date.
#include <catch2/catch.hpp>

#include "tests/workflow_support.h"
#include "workflow/rules.h"

using namespace ocop;
using namespace ocop::workflow;
using ocop::testing::World;

namespace {
Date D(const char* s) {
  Date d;
  REQUIRE(ParseDate(s, &d));
  return d;
}
}  // namespace

TEST_CASE("the rules in force are chosen by the date") {
  struct Case {
    const char* date;
    const char* rules;  // "" for none
  };
  for (const Case& c :
       {Case{"2019-08-20", ""}, Case{"2019-08-21", "QD1048"}, Case{"2023-02-23", "QD1048"},
        Case{"2023-02-24", "QD148"}, Case{"2025-07-05", "QD148"}, Case{"2025-07-06", "QD1489"},
        Case{"2030-01-01", "QD1489"}}) {
    INFO(c.date);
    auto r = RulesInForce(D(c.date));
    if (*c.rules == 0) {
      CHECK_FALSE(r.has_value());
    } else {
      REQUIRE(r.has_value());
      CHECK(std::string(r->getId().cStr()) == c.rules);
    }
  }
}

TEST_CASE("part maxima, bands, mandatory criteria and certifying levels, per rule") {
  struct Case {
    const char* date;
    double max_a, max_b, max_c;
    bool mandatory;
    CouncilLevel certifies3, certifies4, certifies5;
  };
  const Case cases[] = {
      {"2020-01-01", 35, 25, 40, false, CouncilLevel::PROVINCE, CouncilLevel::PROVINCE,
       CouncilLevel::CENTRAL},
      {"2024-01-01", 40, 25, 35, true, CouncilLevel::DISTRICT, CouncilLevel::PROVINCE,
       CouncilLevel::CENTRAL},
      {"2025-08-01", 40, 25, 35, true, CouncilLevel::PROVINCE, CouncilLevel::PROVINCE,
       CouncilLevel::CENTRAL},
  };
  for (const Case& c : cases) {
    INFO(c.date);
    auto r = RulesInForce(D(c.date));
    REQUIRE(r);
    CHECK(r->getMaxA() == c.max_a);
    CHECK(r->getMaxB() == c.max_b);
    CHECK(r->getMaxC() == c.max_c);
    CHECK(r->getMaxA() + r->getMaxB() + r->getMaxC() == 100);
    CHECK(r->getValidityMonths() == 36);
    CHECK(*CertifyingLevel(*r, 3) == c.certifies3);
    CHECK(*CertifyingLevel(*r, 4) == c.certifies4);
    CHECK(*CertifyingLevel(*r, 5) == c.certifies5);
    CHECK_FALSE(CertifyingLevel(*r, 2).has_value());
    // Bands: 1★ < 30, 2★ 30–49, 3★ 50–69, 4★ 70–89, 5★ 90–100.
    const std::pair<double, int> bands[] = {{0, 1},    {29.9, 1}, {30, 2},   {49.9, 2}, {50, 3},
                                            {69.9, 3}, {70, 4},   {89.9, 4}, {90, 5},   {100, 5}};
    for (auto [total, stars] : bands) {
      INFO("total " << total);
      CHECK(StarsFor(*r, total, true) == stars);
    }
    // Missing the mandatory criteria costs the star, only where rules have them.
    CHECK(StarsFor(*r, 75, false) == (c.mandatory ? 3 : 4));
    CHECK(GroupExists(*r, 1));
    CHECK(GroupExists(*r, 6));
    CHECK_FALSE(GroupExists(*r, 7));
  }
}

TEST_CASE("36 months from the decision date, end of month safe") {
  const std::pair<const char*, const char*> cases[] = {{"2020-08-31", "2023-08-31"},
                                                       {"2020-02-29", "2023-02-28"},
                                                       {"2022-09-30", "2025-09-30"},
                                                       {"2023-01-31", "2026-01-31"},
                                                       {"2021-12-31", "2024-12-31"}};
  for (auto [from, until] : cases) CHECK(FormatDate(AddMonths(D(from), 36)) == until);
  CHECK(FormatDate(AddMonths(D("2024-01-31"), 1)) == "2024-02-29");
  CHECK(FormatDate(AddMonths(D("2023-01-31"), 1)) == "2023-02-28");
  Date d;
  CHECK_FALSE(ParseDate("2023-02-29", &d));
  CHECK(ParseDate("2024-02-29", &d));
  CHECK_FALSE(ParseDate("2024-13-01", &d));
  CHECK_FALSE(ParseDate("24-01-01", &d));
}

TEST_CASE("part maxima at 2023-02-23 against 2023-02-24") {
  World w;
  w.Standard();
  w.ToDossier("P1", 2022);
  w.ToDossier("P2", 2022);
  // A = 36: over QĐ 1048's 35, within QĐ 148's 40.
  Status s = w.Submit("hd.um", w.Score("P1", "HD-UM", "2023-02-23", 36, 20, 20));
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("parts.A") != std::string::npos);
  CHECK(s.message().find("0 to 35") != std::string::npos);
  CHECK(w.Submit("hd.um", w.Score("P1", "HD-UM", "2023-02-24", 36, 20, 20)).ok());
  // C = 36: within QĐ 1048's 40, over QĐ 148's 35.
  CHECK(w.Submit("hd.um", w.Score("P2", "HD-UM", "2023-02-23", 20, 20, 36)).ok());
  s = w.Submit("hd.um", w.Score("P2", "HD-UM", "2023-02-24", 20, 20, 36));
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("parts.C") != std::string::npos);
  // The score records the rules it was judged by.
  auto p1 = w.Product("P1");
  REQUIRE(p1.dossier);
  CHECK(p1.dossier->scores.back().total == 76);
  CHECK(p1.dossier->scores.back().stars == 4);
}

TEST_CASE("who certifies 3 stars, at 2023-02-23/24 and 2025-07-05/06") {
  struct Case {
    const char* date;
    const char* level;
    const char* issuer;
    const char* signer;
    const char* council;
    const char* scorer;
    bool allowed;
  };
  const Case cases[] = {
      {"2023-02-23", "district", "UM", "ubnd.um", "HD-UM", "hd.um",
       false},  // QĐ 1048: the province's
      {"2023-02-23", "province", "CM", "ubnd.cm", "HD-CM", "hd.cm", true},
      {"2023-02-24", "district", "UM", "ubnd.um", "HD-UM", "hd.um",
       true},  // QĐ 148: the district's
      {"2023-02-24", "province", "CM", "ubnd.cm", "HD-CM", "hd.cm", false},
      {"2025-07-05", "district", "UM", "ubnd.um", "HD-UM", "hd.um", true},
      {"2025-07-06", "district", "UM", "ubnd.um", "HD-UM", "hd.um",
       false},  // QĐ 1489: the province's
      {"2025-07-06", "province", "CM", "ubnd.cm", "HD-CM", "hd.cm", true},
  };
  int n = 0;
  for (const Case& c : cases) {
    INFO(c.date << " " << c.level);
    World w;
    w.Standard();
    // std::string(...).append avoids GCC 12's false -Wrestrict on "literal" + string.
    std::string id = std::string("P").append(std::to_string(++n));
    w.ToDossier(id, 2022);
    w.Ok(c.scorer, w.Score(id, c.council, c.date, 25, 15, 15));  // 55: 3 stars
    Status s = w.Submit(c.signer,
                        w.Approve(id, c.date, c.level, c.issuer, 3, std::string("C-").append(id)));
    CHECK(s.ok() == c.allowed);
    if (!c.allowed) {
      CHECK(s.IsForbidden());
      CHECK(s.message().find("certified at the") != std::string::npos);
    }
  }
}

TEST_CASE("certificates run 36 months from the decision date") {
  for (auto [decision, until] :
       {std::pair{"2020-08-31", "2023-08-31"}, std::pair{"2020-02-29", "2023-02-28"}}) {
    World w;
    w.Standard();
    w.ToDossier("P", 2019);
    w.Ok("hd.cm", w.Score("P", "HD-CM", decision, 30, 20, 30));
    w.Ok("ubnd.cm", w.Approve("P", decision, "province", "CM", 4, "C1"));
    auto p = w.Product("P");
    REQUIRE(p.certificates.size() == 1);
    CHECK(FormatDate(p.certificates[0].valid_until) == until);
    // In force on its last day; expired the day after.
    CHECK(p.StageOn(D(until)) == Stage::kCertified);
    CHECK(p.StageOn(p.certificates[0].valid_until + 1) == Stage::kExpired);
    CHECK(p.ActiveOn(p.certificates[0].valid_until + 1) == nullptr);
  }
}
