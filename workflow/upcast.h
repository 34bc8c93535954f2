// Upcasting: an event stored under an older schema, read as the current
// schema means it. The one place where a change of an event's meaning is
// bridged, so that evolve, the read models' fold and replay only ever see
// current events (issue 17, item 3; the stored bytes, which the tree hashes,
// never change).
//
// Additive changes need nothing here: Cap'n Proto reads a field an old event
// lacks as its default. An upcast is for a change of meaning, where the
// default would say something false. Each is a line of the table in
// upcast.cc, keyed by event type and the version it upcasts from:
//
//   SubjectRegistered 1 -> 2. Version 2 (issue 17) says how the producer's
//   personal fields are held (`personal_fields`: plain or sealed). A version 1
//   event, written before the fields existed, has none of them and its name
//   as given: it reads as plain, with no representative, phone or address.
//   (Its default, `unrecorded`, is no current value: no reader has to know
//   that version 1 existed.)
//
// Cost: one comparison of the type for every event; a copy only of an
// event that is upcast.
#pragma once

#include <string>
#include <string_view>

#include "workflow/ocop.capnp.h"

namespace ocop::workflow {

// The version of an event's payload layout (1 for every type until one
// changes meaning).
uint32_t PayloadVersion(std::string_view type, schema::Payload::Reader payload);

// The bytes of stored event `stored` as the current schema means them: `stored`
// itself when it is current, else its upcast, written to `*scratch` (which
// must outlive the result). A malformed event is returned as it is, for the
// caller's own check to refuse.
std::string_view Upcast(std::string_view stored, std::string* scratch);

}  // namespace ocop::workflow
