// What the command-line tests of issue 15 (report_cli_test, notices_test)
// start from: Cà Mau (CM) > Huyện U Minh (UM) > Xã Khánh An (KA), and two
// producers, S1 (HTX, woman-owned, in KA) and S2 (TNHH, in UM), submitted
// with each test's own commands into a fresh data directory through the
// real `ocop submit -`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_support.h"

namespace ocop::testing {

inline const char* const kCaMauUnitsAndProducers = R"(
{"type":"DefineUnit","effective":"2019-01-01","unit":"VN","name":"Việt Nam","level":"national"}
{"type":"DefineUnit","effective":"2019-01-01","unit":"CM","name":"Cà Mau","level":"province","parent":"VN"}
{"type":"DefineUnit","effective":"2019-01-01","unit":"UM","name":"Huyện U Minh","level":"district","parent":"CM"}
{"type":"DefineUnit","effective":"2019-01-01","unit":"KA","name":"Xã Khánh An","level":"commune","parent":"UM"}
{"type":"RegisterSubject","effective":"2019-03-01","subject":"S1","name":"HTX Thành Công","legal_form":"HTX","unit":"KA","woman_owned":true}
{"type":"RegisterSubject","effective":"2019-03-01","subject":"S2","name":"Công ty TNHH Thảo Điền","legal_form":"TNHH","unit":"UM"}
)";

// A data directory holding the Cà Mau units and producers, then `commands`
// (one JSON command a line); `tag` names the test's scratch files.
struct CaMauData : DataDir {
  CaMauData(const std::string& tag, const std::string& commands) : DataDir(tag) {
    Run r = Ocop(tag, flag() + " submit -", kCaMauUnitsAndProducers + commands);
    INFO(r.out);
    REQUIRE(r.code == 0);
  }
  // "--data DIR ", to start an ocop command line with.
  std::string D() const { return flag() + " "; }
};

// The products of an annex's rows (`report --list ... --format json`), in order.
inline std::vector<std::string> AnnexProducts(const nlohmann::json& annex) {
  std::vector<std::string> out;
  for (const auto& row : annex["rows"]) out.push_back(row["product"]);
  return out;
}

}  // namespace ocop::testing
