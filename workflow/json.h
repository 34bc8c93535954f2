// The JSON forms of commands and events, derived from workflow/ocop.capnp.
//
// Field names come from $Json.name annotations, otherwise the schema's own
// names; a command's "type" picks the member of Command.body. Decoding first
// walks the JSON against the schema so that a refusal names the field path and
// what is allowed, then a second walk, driven by the same facts read from the
// schema, fills the message exactly as capnp::JsonCodec (Codec()) would from
// the same document: the same message, byte for byte, without copying the
// document into a JsonValue and decoding that by reflection
// (tests/json_decode_test.cc proves it against ParseCommandByCodec). Nothing
// here knows the fields of any one command.
#pragma once

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ledger/status.h"
#include "workflow/ocop.capnp.h"

namespace ocop::workflow {

// What a parser of JSON from outside accepts. Checked while parsing, before
// anything walks the document recursively (printing it, checking it against
// the schema), so that no input can exhaust the stack or memory.
struct JsonLimits {
  size_t max_bytes = 1 << 20;  // the text, at most
  int max_depth = 64;          // arrays and objects nested, at most
};

// Parses JSON text from outside, refusing (InvalidArgument, saying why) what
// is not JSON, text over the limits, an object with the same key twice (which
// one would count is ambiguous), and a string holding a NUL character (cut
// short by anything that treats it as C text). Integers are kept exactly as
// 64-bit integers, never rounded through a double.
Status ParseJson(std::string_view text, nlohmann::json* out, const JsonLimits& limits = {});

// A JsonCodec configured for this schema: annotations honoured. 64-bit
// integers never pass through a double: ToJson prints them exactly and
// ParseCommand reads them exactly.
const capnp::JsonCodec& Codec();

// Parses one command (ParseJson's limits apply). On success `out`'s root is a
// schema::Command. On failure: InvalidArgument whose message starts with the
// field path.
Status ParseCommand(std::string_view json_text, capnp::MallocMessageBuilder* out);
// The same, from JSON already parsed by ParseJson.
Status ParseCommandJson(const nlohmann::json& command, capnp::MallocMessageBuilder* out);

// The reference ParseCommand must equal: the same check, then the document
// copied into a capnp::JsonValue and decoded by Codec(). Slower (four passes);
// kept for the tests and the benchmark that prove ParseCommand accepts and
// refuses the same texts, with the same messages, and builds the same message
// byte for byte.
Status ParseCommandByCodec(std::string_view json_text, capnp::MallocMessageBuilder* out);

// The JSON of any struct of the schema (events, commands, states); 64-bit
// integers are printed exactly, as integers.
std::string ToJson(capnp::DynamicStruct::Reader value);

// Every command's form, read from the schema (the same reflection that
// checks commands): [{"type","fields":[FIELD...]}] in schema order, and the
// fields every command carries first ({"common":[FIELD...]}). A FIELD is
// {"name","kind","optional"} with kind one of text, date, bool, integer
// (with "min" and "max"), number, enum (with "values", those a command may
// carry), struct (with "fields"), list (with "of", a FIELD without name) or
// points (a criterion id to points object, $pointsById).
nlohmann::ordered_json CommandForms();

// The JSON name of value `value` of enum `e` ("HTX", "authority"); empty if
// there is no such value.
std::string EnumJsonName(capnp::EnumSchema e, uint16_t value);
template <typename E>
std::string EnumJsonName(E value) {
  return EnumJsonName(capnp::Schema::from<E>(), static_cast<uint16_t>(value));
}

// The JSON name of the command in `body`, e.g. "RecordScore".
std::string CommandType(schema::Command::Reader command);
// The JSON name of the event in `payload`, e.g. "Certified".
std::string PayloadType(schema::Payload::Reader payload);

// The one spelling of an enum value of the schema, wherever the ledger shows
// it (JSON, reports, messages): its $Json.name, or else its name in the
// schema ("renewal", "HTX", "not_reevaluated", "province"). "" for a value
// the schema does not know.
std::string_view EnumName(capnp::EnumSchema schema, uint16_t value);
template <typename E>
std::string_view EnumName(E value) {
  return EnumName(capnp::Schema::from<E>(), static_cast<uint16_t>(value));
}

}  // namespace ocop::workflow
