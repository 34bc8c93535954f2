// The JSON forms of commands and events, derived from workflow/ocop.capnp.
//
// Field names come from $Json.name annotations, otherwise the schema's own
// names; a command's "type" picks the member of Command.body. Decoding first
// walks the JSON against the schema so that a refusal names the field path and
// what is allowed, then capnp::JsonCodec fills the message. Nothing here
// knows the fields of any one command.
#pragma once

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include <memory>
#include <string>
#include <string_view>

#include "ledger/status.h"
#include "workflow/ocop.capnp.h"

namespace ocop::workflow {

// A JsonCodec configured for this schema: annotations honoured, 64-bit
// integers as JSON numbers (sequence numbers and amounts stay below 2^53).
const capnp::JsonCodec& Codec();

// Parses one command. On success `out`'s root is a schema::Command. On
// failure: InvalidArgument whose message starts with the field path.
Status ParseCommand(std::string_view json_text, capnp::MallocMessageBuilder* out);

// The JSON of any struct of the schema (events, commands, states).
std::string ToJson(capnp::DynamicStruct::Reader value);

// The JSON name of the command in `body`, e.g. "RecordScore".
std::string CommandType(schema::Command::Reader command);
// The JSON name of the event in `payload`, e.g. "Certified".
std::string PayloadType(schema::Payload::Reader payload);

}  // namespace ocop::workflow
