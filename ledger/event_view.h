// EventView: a zero-copy reading of a stored event's bytes.
//
// The bytes must outlive the view. Construction validates the message; a
// malformed one yields !ok() with the reason, never an exception.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/event.capnp.h"

namespace ocop::ledger {

class EventView {
 public:
  explicit EventView(std::string_view bytes);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Valid only when ok().
  schema::Event::Reader event() const { return event_; }
  // The same bytes read with a publisher's schema of the same layout (for
  // OCOP, workflow::schema::OcopEvent). Valid only when ok(); a payload that
  // does not fit the schema surfaces as a kj exception, which callers at the
  // edge catch.
  template <typename T>
  typename T::Reader As() const {
    return const_cast<capnp::FlatArrayMessageReader&>(*reader_).getRoot<T>();
  }

 private:
  // Cap'n Proto reads words; copy only when the bytes are not word-aligned.
  kj::Array<capnp::word> aligned_;
  std::optional<capnp::FlatArrayMessageReader> reader_;
  schema::Event::Reader event_;
  std::string error_;
};

}  // namespace ocop::ledger
