// ParseCommand decodes a command's JSON straight into Cap'n Proto (one
// schema-driven walk, workflow/json.cc's DirectDecoder); ParseCommandByCodec
// is the reference it replaced: the same check, then the document copied into
// a capnp::JsonValue and decoded by capnp::JsonCodec. Over a real corpus and
// its mutations, both must accept and refuse the same texts, with the same
// messages, and build the same message byte for byte.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ocop/demo_data.h"
#include "workflow/json.h"

namespace wf = ocop::workflow;
using nlohmann::json;

namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Flat(capnp::MallocMessageBuilder& m) {
  auto words = capnp::messageToFlatArray(m);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

struct Tally {
  size_t accepted = 0, refused = 0;
};

// Decodes `text` both ways; they must agree in every respect.
void Same(const std::string& text, Tally* tally) {
  capnp::MallocMessageBuilder direct, codec;
  ocop::Status a = wf::ParseCommand(text, &direct);
  ocop::Status b = wf::ParseCommandByCodec(text, &codec);
  INFO(text);
  REQUIRE(a.ok() == b.ok());
  REQUIRE(a.code() == b.code());
  REQUIRE(a.message() == b.message());
  REQUIRE(a.field() == b.field());
  if (a.ok()) {
    REQUIRE(Flat(direct) == Flat(codec));
    ++tally->accepted;
  } else {
    ++tally->refused;
  }
}

// Values put in place of a member's value or added under a new name: every
// JSON kind, numbers at the edges of the schema's types and of a double's
// exact integers, dates real and not.
const std::vector<json>& Replacements() {
  static const std::vector<json> values = {
      nullptr,
      true,
      false,
      0,
      -1,
      -2,
      7,
      255,
      256,
      65536,
      4294967296LL,
      int64_t{1} << 53,
      (int64_t{1} << 53) + 1,
      -(int64_t{1} << 53) - 1,
      std::numeric_limits<int64_t>::min(),
      std::numeric_limits<uint64_t>::max(),
      2.5,
      5.0,
      -0.0,
      1e300,
      "",
      "x",
      "2025-02-28",
      "2025-02-30",
      "HTX",
      "province",
      "import",
      json::array(),
      json::array({1, "a"}),
      json::array({json::object()}),
      json::object(),
      json::object({{"A1", 2}, {"B2", 3.5}}),
      json::object({{"A", 30}, {"B", 20}, {"C", 30}}),
  };
  return values;
}

// Every mutation of `j` one step away: each member dropped, replaced by each
// replacement, and (recursively, one level of each container) the same inside
// objects and arrays it holds; an unknown member added.
void Mutations(const json& j, std::vector<json>* out, int depth = 0) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      json dropped = j;
      dropped.erase(it.key());
      out->push_back(dropped);
      for (const json& r : Replacements()) {
        json changed = j;
        changed[it.key()] = r;
        out->push_back(changed);
      }
      if (depth < 2 && (it->is_object() || it->is_array())) {
        std::vector<json> inner;
        Mutations(*it, &inner, depth + 1);
        for (json& m : inner) {
          json changed = j;
          changed[it.key()] = std::move(m);
          out->push_back(changed);
        }
      }
    }
    json added = j;
    added["zz_unknown"] = 1;
    out->push_back(added);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      for (const json& r : Replacements()) {
        json changed = j;
        changed[i] = r;
        out->push_back(changed);
      }
      if (depth < 2 && (j[i].is_object() || j[i].is_array())) {
        std::vector<json> inner;
        Mutations(j[i], &inner, depth + 1);
        for (json& m : inner) {
          json changed = j;
          changed[i] = std::move(m);
          out->push_back(changed);
        }
      }
    }
    json shorter = j;
    if (!shorter.empty()) shorter.erase(shorter.size() - 1);
    out->push_back(shorter);
  }
}

// The commands the demo and the Cà Mau import submit, from ../shared/data.
std::vector<std::string> DemoTexts() {
  std::vector<ocop::cli::IdeaRow> rows;
  ocop::Status s = ocop::cli::LoadAppendix(ocop::cli::FindAppendix(), &rows);
  INFO(s.message());
  REQUIRE(s.ok());
  std::vector<std::string> texts;
  for (const auto& c : ocop::cli::DemoCommands(rows)) texts.push_back(c.json);
  for (const auto& c : ocop::cli::AppendixCommands(rows)) texts.push_back(c.json);
  return texts;
}

// The fuzzer's corpus of command texts, valid and hostile.
std::vector<std::string> FuzzTexts() {
  std::vector<std::string> texts;
  for (const auto& e :
       std::filesystem::directory_iterator(OCOP_SOURCE_DIR "/fuzz/corpus/command")) {
    if (e.is_regular_file()) texts.push_back(ReadFile(e.path()));
  }
  return texts;
}

// Commands written in the tests' sources: raw string literals holding a JSON
// object with a "type", and the bodies of the hostile requests.
std::vector<std::string> TestSourceTexts() {
  std::vector<std::string> texts;
  std::regex literal(R"RE(R"\((\{"type"[^)]*\})\)")RE");
  for (const auto& e : std::filesystem::directory_iterator(OCOP_SOURCE_DIR "/tests")) {
    if (e.path().extension() != ".cc" && e.path().extension() != ".h") continue;
    std::string src = ReadFile(e.path());
    for (std::sregex_iterator it(src.begin(), src.end(), literal), end; it != end; ++it) {
      texts.push_back((*it)[1].str());
    }
  }
  for (const auto& e : std::filesystem::directory_iterator(OCOP_SOURCE_DIR "/tests/hostile")) {
    std::string req = ReadFile(e.path());
    size_t body = req.find("\r\n\r\n");
    if (body != std::string::npos) texts.push_back(req.substr(body + 4));
  }
  return texts;
}

}  // namespace

TEST_CASE("the demo's and the import's commands decode as JsonCodec decodes them") {
  Tally t;
  std::vector<std::string> texts = DemoTexts();
  REQUIRE(texts.size() > 1000);
  for (const auto& text : texts) Same(text, &t);
  CHECK(t.accepted == texts.size());  // all of them are valid commands
}

TEST_CASE("the fuzzer's corpus and the tests' commands decode as JsonCodec decodes them") {
  Tally t;
  std::vector<std::string> texts = FuzzTexts();
  REQUIRE(texts.size() > 1000);
  for (const auto& text : texts) Same(text, &t);
  std::vector<std::string> tests = TestSourceTexts();
  REQUIRE(tests.size() > 50);
  for (const auto& text : tests) Same(text, &t);
  CHECK(t.accepted > 100);
  CHECK(t.refused > 100);
}

TEST_CASE("every mutation of every kind of command decodes or is refused as by JsonCodec") {
  // One command of each type the demo, the tests and the fuzzer use (the
  // first of each), mutated member by member.
  std::vector<std::string> texts = DemoTexts();
  for (const auto& s : TestSourceTexts()) texts.push_back(s);
  for (const auto& s : FuzzTexts()) texts.push_back(s);
  std::set<std::string> types;
  Tally t;
  for (const auto& text : texts) {
    json j;
    if (!wf::ParseJson(text, &j).ok() || !j.is_object() || !j.contains("type") ||
        !j["type"].is_string()) {
      continue;
    }
    capnp::MallocMessageBuilder m;
    if (!wf::ParseCommand(text, &m).ok()) continue;
    if (!types.insert(j["type"].get<std::string>()).second) continue;
    std::vector<json> mutations;
    Mutations(j, &mutations);
    for (const json& m : mutations) Same(m.dump(), &t);
  }
  CHECK(types.size() >= 20);
  CHECK(t.accepted > 500);
  CHECK(t.refused > 5000);
}

TEST_CASE("refusals keep their messages") {
  auto refusal = [](const std::string& text) {
    capnp::MallocMessageBuilder a, b;
    ocop::Status s = wf::ParseCommand(text, &a);
    ocop::Status r = wf::ParseCommandByCodec(text, &b);
    CHECK(r.message() == s.message());
    return s.message();
  };
  const std::string promotion =
      R"({"type":"RecordPromotion","effective":"2026-03-01","product":"P1","channel":"c")";
  CHECK(refusal(promotion + R"(,"channel2":1})") ==
        "unknown field 'channel2'; allowed here: effective, id, expected_version, product, "
        "channel");
  CHECK(refusal(R"({"type":"RecordPromotion","effective":"2026-03-01","channel":"c"})") ==
        "missing field 'product'");
  CHECK(refusal(
            R"({"type":"RecordPromotion","effective":"2026-02-30","product":"P","channel":"c"})") ==
        "field 'effective' must be a real date written YYYY-MM-DD; got '2026-02-30'");
  CHECK(refusal(promotion + R"(,"expected_version":-2})") ==
        "field 'expected_version' must be a stream version (0 or more), or -1 for none; got -2");
  CHECK(refusal(promotion + R"(,"expected_version":1.5})") ==
        "field 'expected_version' must be an integer, not a number");
  CHECK(refusal(R"({"type":"Promote"})").rfind("field 'type' must be one of DefineUnit, ", 0) == 0);
  CHECK(refusal(R"({"type":"RecordScore","effective":"2026-03-01","product":"P","council":"C",)"
                R"("parts":{"A":1,"B":2,"C":3},"sheet":{"set":"s","criteria":{"A1":"x"}}})") ==
        "field 'sheet.criteria.A1' must be a number of points, not a string");
  CHECK(refusal(R"({"type":"RecordScore","effective":"2026-03-01","product":"P","council":"C",)"
                R"("parts":{"A":9007199254740993,"B":2,"C":3}})") ==
        "command could not be decoded: Expected float value");
  CHECK(refusal(promotion + R"(,"product":"Q"})").rfind("the key 'product' appears twice", 0) == 0);
}
