// The schema in the log: the Cap'n Proto files that decode this ledger's
// events are themselves an event (SchemaPublished, workflow/ocop.capnp) on the
// stream schema/ocop, appended before any other event and again whenever the
// program's files differ from the last one recorded. A checkpoint's
// stream-heads root (ledger/stream_heads.h) then names the schema in force at
// its size, so a bundle proves the schema it carries: the event's bytes, their
// inclusion proof, and the proof that it is its stream's head.
#pragma once

#include <map>
#include <string>

#include "ledger/ledger.h"

namespace ocop::replay {

inline constexpr const char* kSchemaStream = "schema/ocop";

// The schema files this program was built with, by path.
std::map<std::string, std::string> ProgramSchema();

// Appends a SchemaPublished event unless the last one recorded carries
// exactly ProgramSchema(). `effective` is today's date (YYYY-MM-DD), passed
// in by the program's edge. Writers call it once when they open the ledger;
// a replica never does (it holds its primary's events only).
Status RecordSchema(ledger::Ledger* ledger, const std::string& effective);

// The schema files an event of the schema stream carries: Refused if the
// bytes are not a SchemaPublished event.
Status SchemaOfEvent(std::string_view bytes, std::map<std::string, std::string>* files);

}  // namespace ocop::replay
