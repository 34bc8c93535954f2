// The JSON parser of everything that comes from outside (workflow/json.h):
// limits checked before anything recurses, duplicate keys and NUL refused,
// 64-bit integers exact in and out.
#include <capnp/message.h>

#include <catch2/catch.hpp>
#include <string>

#include "workflow/json.h"

using ocop::workflow::ParseCommand;
using ocop::workflow::ParseJson;
using ocop::workflow::ToJson;

namespace {

std::string Refusal(const std::string& text) {
  capnp::MallocMessageBuilder m;
  ocop::Status s = ParseCommand(text, &m);
  REQUIRE_FALSE(s.ok());
  CHECK(s.IsInvalidArgument());
  return s.message();
}

std::string RoundTrip(const std::string& text) {
  capnp::MallocMessageBuilder m;
  ocop::Status s = ParseCommand(text, &m);
  INFO(s.message());
  REQUIRE(s.ok());
  return ToJson(capnp::toDynamic(m.getRoot<ocop::workflow::schema::Command>().asReader()));
}

}  // namespace

TEST_CASE("nesting a million deep is refused at depth 64, without recursion") {
  CHECK(Refusal(std::string(1000000, '[')).find("nested deeper than 64") != std::string::npos);
  std::string objects;
  for (int i = 0; i < 200000; ++i) objects += "{\"a\":";
  CHECK(Refusal(objects).find("nested deeper than 64") != std::string::npos);
  nlohmann::json j;
  CHECK(ParseJson(std::string(64, '[') + std::string(64, ']'), &j).ok());
  CHECK_FALSE(ParseJson(std::string(65, '[') + std::string(65, ']'), &j).ok());
  CHECK(ParseJson(std::string((1 << 20) + 1, ' '), &j).message().find("at most 1048576") !=
        std::string::npos);
}

TEST_CASE("a key given twice, a NUL in a string and a negative expected version are refused") {
  CHECK(
      Refusal(
          R"({"type":"ReviewIdea","effective":"2022-01-01","product":"P1","product":"P2","outcome":"selected","reason":""})")
          .find("'product' appears twice") != std::string::npos);
  CHECK(
      Refusal(
          R"({"type":"ReviewIdea","effective":"2022-01-01","product":"P1\u0000P2","outcome":"selected","reason":""})")
          .find("NUL") != std::string::npos);
  CHECK(
      Refusal(
          R"({"type":"ReviewIdea","effective":"2022-01-01","product":"P1","outcome":"selected","reason":"","expected_version":-5})")
          .find("expected_version") != std::string::npos);
  RoundTrip(
      R"({"type":"ReviewIdea","effective":"2022-01-01","product":"P1","outcome":"selected","reason":"","expected_version":-1})");
  RoundTrip(
      R"({"type":"ReviewIdea","effective":"2022-01-01","product":"P1","outcome":"selected","reason":"","expected_version":0})");
  CHECK(Refusal("not json").find("not valid JSON") != std::string::npos);
}

TEST_CASE("64-bit integers are read and printed exactly, never through a double") {
  const std::string grant =
      R"({"type":"GrantSupport","effective":"2022-01-01","product":"P1","category":"x","source":"province","amount_vnd":)";
  // 2^53 + 1 is not a double: it used to be stored as 2^53.
  CHECK(RoundTrip(grant + "9007199254740993}").find("\"amount_vnd\":9007199254740993") !=
        std::string::npos);
  CHECK(RoundTrip(grant + "18446744073709551615}").find("18446744073709551615") !=
        std::string::npos);
  // A round number of microseconds used to print as 1.79e+15.
  std::string printed = RoundTrip(grant + "1790000000000000}");
  CHECK(printed.find("\"amount_vnd\":1790000000000000") != std::string::npos);
  CHECK(printed.find("e+") == std::string::npos);
  CHECK(Refusal(grant + "18446744073709551616}").find("amount_vnd") != std::string::npos);
  CHECK(Refusal(grant + "-1}").find("amount_vnd") != std::string::npos);
  CHECK(Refusal(grant + "1.5}").find("amount_vnd") != std::string::npos);
  // A whole number written with a fraction part still counts.
  CHECK(RoundTrip(grant + "25.0}").find("\"amount_vnd\":25") != std::string::npos);
}
