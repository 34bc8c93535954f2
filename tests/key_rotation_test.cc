// Signing-key rotation (issue 17, runbook): after `ocop key rotate` new
// checkpoints are signed by the new key, those signed before keep verifying
// with the old verifier key (kept, named, in `ocop key list`), the old key
// vouches for the new one, and a damaged handover is reported.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_support.h"

using nlohmann::json;
using ocop::testing::Run;

namespace {

Run Ocop(const std::string& args) { return ocop::testing::Ocop("keys", args, ""); }

std::string Line(std::string s) {
  s.erase(s.find_last_not_of('\n') + 1);
  return s;
}

bool Verifies(const std::string& vkey, const std::string& note) {
  return Ocop("witness verify --quorum 0 --log-vkey '" + vkey + "' --checkpoint " + note).code == 0;
}

}  // namespace

TEST_CASE("a rotated key leaves old checkpoints verifying with the old verifier key") {
  ocop::testing::DataDir d("keys");
  const std::string data = d.flag() + " --origin keys.ocop.test/log";
  REQUIRE(Ocop(data + " smoke --events 50").code == 0);
  const std::string old_note = d.File("old.note"), new_note = d.File("new.note");
  REQUIRE(ocop::testing::Shell(std::string(OCOP_BINARY) + " " + data + " checkpoint > " + old_note)
              .code == 0);
  const std::string old_vkey = Line(Ocop(data + " public-key --vkey").out);

  Run rotated = Ocop(data + " key rotate");
  REQUIRE(rotated.code == 0);
  json r = json::parse(rotated.out);
  CHECK(r["retired"]["vkey"] == old_vkey);
  CHECK(r["at"]["size"] == 50);
  const std::string new_vkey = Line(Ocop(data + " public-key --vkey").out);
  CHECK(new_vkey == r["current"]["vkey"]);
  CHECK(new_vkey != old_vkey);

  REQUIRE(Ocop(data + " smoke --events 5").code == 0);
  REQUIRE(ocop::testing::Shell(std::string(OCOP_BINARY) + " " + data + " checkpoint > " + new_note)
              .code == 0);
  CHECK(Verifies(old_vkey, old_note));
  CHECK_FALSE(Verifies(new_vkey, old_note));
  CHECK(Verifies(new_vkey, new_note));
  CHECK_FALSE(Verifies(old_vkey, new_note));
  CHECK(Ocop(data + " verify").code == 0);

  Run list = Ocop(data + " key list");
  REQUIRE(list.code == 0);
  json l = json::parse(list.out);
  REQUIRE(l["retired"].size() == 1);
  CHECK(l["retired"][0]["vkey"] == old_vkey);
  CHECK(l["retired"][0]["handover_verified"] == true);
  CHECK(l["current"]["vkey"] == new_vkey);

  // A handover that is not the old key's signature is reported.
  std::string history;
  {
    std::ifstream f(d.path / "key-history");
    std::getline(f, history);
  }
  history[history.size() - 5] = history[history.size() - 5] == 'A' ? 'B' : 'A';
  std::ofstream(d.path / "key-history") << history << "\n";
  CHECK(Ocop(data + " key list").code == 1);
}
