// Erasure without breaking proofs (issue 17, item 4), from the outside: a real
// data directory written by the real `ocop`, a household business registered
// with distinctive personal data, a bundle made, the data erased by decision
// and the directory compacted; then no file under the directory, nor in a
// backup taken afterwards, holds any byte of that data, `verify` passes, the
// bundle made before still verifies, and reads made afterwards show
// "[đã xoá]" where the data was.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"
#include "http_support.h"

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

// Every file under `dir` holding any form of any of kPersonal.
std::vector<std::string> HoldingPersonal(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& s : kPersonal) {
    for (const auto& form : Forms(s)) {
      for (auto& f : Holding(dir, form)) found.push_back(form + " in " + f);
    }
  }
  return found;
}

const char* kErase =
    R"({"type":"EraseSubjectData","effective":"2024-06-01","subject":"S-HKD","decision":{"no":"7/QĐ-UBND","date":"2024-06-01","issuer":"CM"}})";

}  // namespace

TEST_CASE("erased personal data leaves no byte in the directory, and every proof holds") {
  ocop::testing::DataDir d("erasure");
  const std::string data = d.path.string(), f = d.flag();
  REQUIRE(Ocop(f + " submit", kSetup).code == 0);

  // Sealed from the start: the log, its tree and the read models never held
  // the plaintext (only the producer's key, outside them, opens it).
  CHECK(HoldingPersonal(d.path).empty());
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

  CHECK(HoldingPersonal(d.path).empty());
  CHECK(Holding(d.path, key).empty());  // the key itself is gone

  // Every proof holds: the log verifies, the bundle made before verifies.
  CHECK(Ocop(f + " verify").code == 0);
  CHECK(Ocop("verify-bundle " + bundle).code == 0);

  // Reads made afterwards show "[đã xoá]" where the data was.
  json after = json::parse(Ocop(f + " history P-HKD").out);
  CHECK(after["producer"]["name"] == "[đã xoá]");
  CHECK(after["producer"]["phone"] == "[đã xoá]");
  CHECK(after["events"].size() == h["events"].size());
  // Also as known before the erasure: the data is gone from the past too.
  const auto before_size = json::parse(Slurp(bundle))["tree_head"]["size"].get<uint64_t>();
  json past = json::parse(Ocop(f + " history P-HKD --known-at " + std::to_string(before_size)).out);
  CHECK(past["producer"]["name"] == "[đã xoá]");
  const std::string bundle_after = d.File("bundle-after.json");
  REQUIRE(Ocop(f + " bundle P-HKD --out " + bundle_after).code == 0);
  CHECK(json::parse(Slurp(bundle_after))["producer"]["address"] == "[đã xoá]");
  CHECK(Ocop("verify-bundle " + bundle_after).code == 0);

  // A backup taken after the erasure holds none of it, nor the key.
  const std::string backups = d.File("backups");
  REQUIRE(Ocop(f + " backup --to " + backups).code == 0);
  CHECK(HoldingPersonal(backups).empty());
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

TEST_CASE(
    "erased through a running server: its reads, the readers' copy and every file forget it") {
  ocop::testing::DataDir d("erasure-serve");
  const std::string data = d.path.string(), f = d.flag();
  REQUIRE(Ocop(f + " submit", kSetup).code == 0);
  std::string token = Ocop(f + " token add ubnd.cm").out;
  token.erase(token.find_last_not_of('\n') + 1);
  const int port = ocop::testing::FreePort();
  pid_t server = ocop::testing::StartServer(OCOP_BINARY, data, port);
  REQUIRE(server > 0);
  ocop::testing::ChildGuard guard(server);
  auto get = [&](const std::string& path) {
    std::string reply;
    int code =
        ocop::testing::Exchange(port,
                                "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                    token + "\r\nConnection: close\r\n\r\n",
                                &reply);
    CHECK(code == 200);
    return reply;
  };

  // Plaintext while the key exists: the server's dashboard read, and a read
  // beside the server (a secondary, folding DIR/projections-reader).
  CHECK(get("/v1/subjects").find("Hộ Trần Thị Bích Ngọc Zyx") != std::string::npos);
  CHECK(json::parse(Ocop(f + " history P-HKD").out)["producer"]["phone"] == "0912-345-678-99");
  CHECK(fs::exists(d.path / "projections-reader"));

  std::string reply;
  CHECK(ocop::testing::Exchange(port,
                                "POST /v1/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                    token +
                                    "\r\nContent-Type: application/json\r\nContent-Length: " +
                                    std::to_string(std::string(kErase).size()) +
                                    "\r\nConnection: close\r\n\r\n" + kErase,
                                &reply) == 200);
  const std::string subjects = get("/v1/subjects");
  CHECK(subjects.find("Bích Ngọc") == std::string::npos);
  CHECK(subjects.find("[đã xoá]") != std::string::npos);
  CHECK(json::parse(Ocop(f + " history P-HKD").out)["producer"]["name"] == "[đã xoá]");

  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  guard.release();
  Run compacted = Ocop(f + " compact");
  REQUIRE(compacted.code == 0);
  CHECK(json::parse(compacted.out)["compacted"].size() == 3);  // ledger, read models, readers' copy
  CHECK(HoldingPersonal(d.path).empty());
  CHECK(Ocop(f + " verify").code == 0);
}

TEST_CASE("a sealed command sent again with its id is recognised, not appended twice") {
  ocop::testing::DataDir d("erasure-idem");
  const std::string f = d.flag();
  REQUIRE(Ocop(f + " submit", kSetup).code == 0);
  const std::string cmd =
      R"({"type":"RegisterSubject","effective":"2024-03-01","subject":"H-2","name":"Hộ Phạm Văn Tư","legal_form":"CSSX","unit":"CM","phone":"0988 000 111","id":"h2"})";
  Run first = Ocop(f + " submit", cmd), again = Ocop(f + " submit", cmd);
  REQUIRE(first.code == 0);
  REQUIRE(again.code == 0);
  CHECK(json::parse(again.out)["duplicate"] == true);
  CHECK(json::parse(again.out)["seqs"] == json::parse(first.out)["seqs"]);
  // The same id with other personal data is another command.
  std::string other = cmd;
  other.replace(other.find("0988"), 4, "0977");
  CHECK(Ocop(f + " submit", other).code == 1);
  CHECK(Holding(d.path, "Phạm Văn Tư").empty());
}
