// Erasure without breaking proofs (issue 17, item 4), from the outside: a real
// data directory written by the real `ocop`, a household business registered
// with distinctive personal data, a bundle made, the data erased by decision
// and the directory compacted; then no file under the directory, nor in a
// backup taken afterwards, holds any byte of that data, `verify` passes, the
// bundle made before still verifies, and reads made afterwards show
// "[đã xoá]" where the data was.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ocop::testing::Run;

namespace {

Run Ocop(const std::string& args, const std::string& input = "") {
  return ocop::testing::Ocop("erasure", args, input);
}

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Every file under `dir` (WAL, SST, MANIFEST, OPTIONS, LOG, projections,
// projections-reader, stream heads, tree files, keys...) holding `needle`.
std::vector<std::string> Holding(const fs::path& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && Slurp(e.path()).find(needle) != std::string::npos)
      found.push_back(e.path().string());
  }
  return found;
}

// The forms a string can take in a file: its UTF-8 bytes, and JSON's \u
// escapes of its non-ASCII letters (how a JSON writer that escapes would
// store it).
std::vector<std::string> Forms(const std::string& s) {
  std::string escaped = json(s).dump(-1, ' ', /*ensure_ascii=*/true);
  return {s, escaped.substr(1, escaped.size() - 2)};
}

const char* kSetup = R"(
{"type":"DefineUnit","effective":"2024-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"DefineUnit","effective":"2024-01-01","unit":"CM-UM","name":"Xã Khánh Bình","level":"commune","parent":"CM"}
{"type":"GrantRole","effective":"2024-01-02","principal":"ubnd.cm","role":"authority","unit":"CM"}
{"type":"GrantRole","effective":"2024-01-02","principal":"vpdp.cm","role":"officer","unit":"CM"}
{"type":"RegisterSubject","effective":"2024-02-01","subject":"S-HTX","name":"HTX Thành Công","legal_form":"HTX","unit":"CM-UM","representative":"Lê Văn Công","phone":"0290 111 222","address":"Ấp 3, xã Khánh Bình"}
{"type":"RegisterSubject","effective":"2024-02-01","subject":"S-HKD","name":"Hộ Trần Thị Bích Ngọc Zyx","legal_form":"HKD","unit":"CM-UM","representative":"Trần Thị Bích Ngọc Zyx","phone":"0912-345-678-99","address":"Ấp Tân Lộc Qwv, xã Khánh Bình"}
{"type":"RegisterIdea","effective":"2024-02-02","product":"P-HKD","subject":"S-HKD","name":"Mắm cá lóc","group":1,"unit":"CM-UM","cycle_year":2024}
)";

// Each long enough that no ciphertext or compressed block holds it by chance.
const std::vector<std::string> kPersonal = {"Trần Thị Bích Ngọc Zyx", "0912-345-678-99",
                                            "0912345678", "Ấp Tân Lộc Qwv", "Bích Ngọc"};

const char* kErase =
    R"({"type":"EraseSubjectData","effective":"2024-06-01","subject":"S-HKD","decision":{"no":"7/QĐ-UBND","date":"2024-06-01","issuer":"CM"}})";

}  // namespace

TEST_CASE("erased personal data leaves no byte in the directory, and every proof holds") {
  ocop::testing::DataDir d("erasure");
  const std::string data = d.path.string(), f = d.flag();
  REQUIRE(Ocop(f + " submit", kSetup).code == 0);

  // Sealed from the start: the log, its tree and the read models never held
  // the plaintext (only the producer's key, outside them, opens it).
  for (const auto& s : kPersonal) {
    for (const auto& form : Forms(s)) {
      INFO(form);
      CHECK(Holding(d.path, form).empty());
    }
  }
  // A legal person's fields are public and stay as given.
  CHECK(!Holding(d.path, "Lê Văn Công").empty());

  // Reads show the plaintext while the key exists.
  Run before = Ocop(f + " history P-HKD");
  REQUIRE(before.code == 0);
  json h = json::parse(before.out);
  CHECK(h["producer"]["name"] == "Hộ Trần Thị Bích Ngọc Zyx");
  CHECK(h["producer"]["phone"] == "0912-345-678-99");
  CHECK(h["producer"]["address"] == "Ấp Tân Lộc Qwv, xã Khánh Bình");
  const std::string bundle = d.File("bundle.json");
  REQUIRE(Ocop(f + " bundle P-HKD --out " + bundle).code == 0);
  CHECK(json::parse(Slurp(bundle))["producer"]["representative"] == "Trần Thị Bích Ngọc Zyx");
  const std::string key_file = (d.path / "subject-keys").string();
  REQUIRE(std::distance(fs::directory_iterator(key_file), fs::directory_iterator()) == 1);
  const std::string key = Slurp(fs::directory_iterator(key_file)->path());
  REQUIRE(key.size() == 32);

  // The erasure: refused to whoever may not decide it, recorded once.
  CHECK(Ocop(f + " submit --as vpdp.cm", kErase).code == 1);
  Run erased = Ocop(f + " submit --as ubnd.cm", kErase);
  REQUIRE(erased.code == 0);
  CHECK(Ocop(f + " submit --as ubnd.cm", kErase).code == 1);  // already erased
  REQUIRE(Ocop(f + " compact").code == 0);

  for (const auto& s : kPersonal) {
    for (const auto& form : Forms(s)) {
      INFO(form);
      CHECK(Holding(d.path, form).empty());
    }
  }
  CHECK(Holding(d.path, key).empty());  // the key itself is gone

  // Every proof holds: the log verifies, the bundle made before verifies.
  CHECK(Ocop(f + " verify").code == 0);
  CHECK(Ocop("verify-bundle " + bundle).code == 0);

  // Reads made afterwards show "[đã xoá]" where the data was.
  json after = json::parse(Ocop(f + " history P-HKD").out);
  CHECK(after["producer"]["name"] == "[đã xoá]");
  CHECK(after["producer"]["phone"] == "[đã xoá]");
  CHECK(after["events"].size() == h["events"].size());
  const std::string bundle_after = d.File("bundle-after.json");
  REQUIRE(Ocop(f + " bundle P-HKD --out " + bundle_after).code == 0);
  CHECK(json::parse(Slurp(bundle_after))["producer"]["address"] == "[đã xoá]");
  CHECK(Ocop("verify-bundle " + bundle_after).code == 0);

  // A backup taken after the erasure holds none of it, nor the key.
  const std::string backups = d.File("backups");
  REQUIRE(Ocop(f + " backup --to " + backups).code == 0);
  for (const auto& s : kPersonal) CHECK(Holding(backups, s).empty());
  CHECK(Holding(backups, key).empty());
}

TEST_CASE("erasure is refused clearly for what it cannot or need not erase") {
  ocop::testing::DataDir d("erasure-refused");
  const std::string f = d.flag();
  REQUIRE(Ocop(f + " submit", kSetup).code == 0);
  auto refusal = [&](const std::string& subject) {
    std::string cmd = kErase;
    cmd.replace(cmd.find("S-HKD"), 5, subject);
    Run r = Ocop(f + " submit 2>&1", cmd);
    CHECK(r.code != 0);
    return r.out;
  };
  CHECK_THAT(refusal("S-NONE"), Catch::Contains("unknown producer"));
  CHECK_THAT(refusal("S-HTX"), Catch::Contains("legal person"));
}
