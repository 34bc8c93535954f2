#include "ledger/event_view.h"

#include <kj/exception.h>

#include <cstring>

namespace ocop::ledger {

EventView::EventView(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    error_ = "event bytes are not a whole number of 8-byte words (" + std::to_string(bytes.size()) +
             " bytes)";
    return;
  }
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()),
                         bytes.size() / sizeof(capnp::word));
  } else {
    aligned_ = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
    std::memcpy(aligned_.begin(), bytes.data(), bytes.size());
    words = kj::arrayPtr(aligned_.begin(), aligned_.size());
  }
  // Cap'n Proto reports malformed input by exception; keep it inside here.
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 reader_.emplace(words);
                 event_ = reader_->getRoot<schema::Event>();
                 // Touch the pointers so a bad segment table or pointer fails now.
                 (void)event_.getStream();
                 (void)event_.getType();
                 (void)event_.getEffective();
                 (void)event_.getActor().getPrincipal();
                 (void)event_.getIdempotencyKey();
               })) {
    error_ = "event is not a valid Cap'n Proto Event message: ";
    error_ += e->getDescription().cStr();
  }
}

}  // namespace ocop::ledger
