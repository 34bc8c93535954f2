// Old data opens (issue 17, item 3): tests/golden/data was written by an
// earlier build (scripts/make_golden.sh, which also recorded the answers in
// tests/golden/expected/). This build must open it, verify it, answer every
// read of tests/golden/reads.txt as recorded, and take new writes on it. "As
// recorded" is byte for byte for text (md, csv, notes, proofs); a JSON answer
// may gain fields, the way the schema may (additive changes only), but every
// field recorded must still be there with the same value, arrays keeping
// their length and order; read models of an older format are refolded to the same
// answers; a ledger of a newer format is refused, not misread.
#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli_support.h"
#include "raw_db.h"

namespace fs = std::filesystem;
using ocop::testing::Run;

namespace {

const fs::path kGolden = GOLDEN_DIR;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::map<std::string, std::string> Format() {
  std::map<std::string, std::string> m;
  std::istringstream lines(Slurp(kGolden / "FORMAT"));
  for (std::string k, v; lines >> k >> v;) m[k] = v;
  return m;
}

// A copy of the golden directory to open (opening writes: locks, a new WAL).
std::string Copy(const ocop::testing::DataDir& d) {
  fs::copy(kGolden / "data", d.path, fs::copy_options::recursive);
  // Git keeps no mode but the executable bit: the key comes out 0644, which
  // the ledger refuses; an operator copying a directory keeps its 0600.
  fs::permissions(d.path / "signing-key.pem", fs::perms::owner_read | fs::perms::owner_write);
  return d.path.string();
}

void Replace(std::string* s, const std::string& from, const std::string& to) {
  for (size_t at; (at = s->find(from)) != std::string::npos;) s->replace(at, from.size(), to);
}

// True when `now` holds everything `recorded` held: the same scalars, every
// recorded key of an object (keys may be added), arrays element by element.
// `path` names where they first differ.
bool Keeps(const nlohmann::json& recorded, const nlohmann::json& now, std::string* path) {
  if (recorded.is_object()) {
    if (!now.is_object()) return false;
    for (const auto& [key, value] : recorded.items()) {
      std::string here = *path + "." + key;
      if (!now.contains(key)) return *path = here + " (missing)", false;
      std::string inner = here;
      if (!Keeps(value, now.at(key), &inner)) return *path = inner, false;
    }
    return true;
  }
  if (recorded.is_array()) {
    if (!now.is_array() || now.size() != recorded.size()) return false;
    for (size_t i = 0; i < recorded.size(); ++i) {
      std::string inner = *path + "[" + std::to_string(i) + "]";
      if (!Keeps(recorded[i], now[i], &inner)) return *path = inner, false;
    }
    return true;
  }
  return recorded == now;
}

// The answer `out` against the one recorded in `expected`.
void AnswersAsRecorded(const std::string& out, const std::string& expected) {
  auto recorded = nlohmann::json::parse(expected, nullptr, /*allow_exceptions=*/false);
  if (recorded.is_discarded() || !(recorded.is_object() || recorded.is_array())) {
    CHECK(out == expected);
    return;
  }
  auto now = nlohmann::json::parse(out, nullptr, false);
  std::string where = "$";
  if (!Keeps(recorded, now, &where))
    FAIL_CHECK("the answer no longer keeps what was recorded at " << where << ":\n" << out);
}

// Every read of reads.txt against `data`, compared with its recorded answer.
void ReadsAnswerAsRecorded(const std::string& data) {
  auto format = Format();
  std::istringstream lines(Slurp(kGolden / "reads.txt"));
  int reads = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::string name = line.substr(0, line.find(' '));
    std::string args = line.substr(line.find(' ') + 1);
    Replace(&args, "@SIZE@", format.at("size"));
    Replace(&args, "@PRODUCT@", format.at("product"));
    INFO(args);
    Run r = ocop::testing::Ocop("golden", "--data " + data + " " + args, "");
    CHECK(r.code == 0);
    AnswersAsRecorded(r.out, Slurp(kGolden / "expected" / (name + ".out")));
    ++reads;
  }
  CHECK(reads >= 15);
}

// Sets `key` of column family `family` in the RocksDB database at `dir`.
void Put(const std::string& dir, const std::string& family, const std::string& key,
         const std::string& value) {
  ocop::ledger_support::RawDb raw(dir);
  raw.Put(raw.Family(family), key, value);
}

}  // namespace

TEST_CASE("the golden data directory opens, verifies and answers as recorded") {
  ocop::testing::DataDir d("golden");
  const std::string data = Copy(d);
  ReadsAnswerAsRecorded(data);

  // It takes new writes, and stays verifiable.
  Run w = ocop::testing::Ocop(
      "golden", "--data " + data + " submit",
      R"({"type":"RegisterSubject","effective":"2026-06-01","subject":"GOLD1","name":"HTX Vàng","legal_form":"HTX","unit":"CM"})"
      "\n");
  CHECK(w.code == 0);
  Run v = ocop::testing::Ocop("golden", "--data " + data + " verify", "");
  CHECK(v.code == 0);
}

TEST_CASE("read models of an older format are refolded to the same answers") {
  ocop::testing::DataDir d("golden-refold");
  const std::string data = Copy(d);
  Put(data + "/projections", "meta", "format", "0");
  ReadsAnswerAsRecorded(data);
}

TEST_CASE("a ledger of a newer format is refused, not misread") {
  ocop::testing::DataDir d("golden-newer");
  const std::string data = Copy(d);
  Put(data, "default", "format", "999");
  Run r = ocop::testing::Shell(std::string(OCOP_BINARY) + " --data " + data + " verify 2>&1");
  CHECK(r.code == 3);
  CHECK(r.out.find("newer") != std::string::npos);
}
