#include "workflow/stream_fold.h"

namespace ocop::workflow {

EventRef StreamFold::ToEventRef(schema::OcopEvent::Reader e) {
  EventRef ref;
  ref.seq = e.getSeq();
  ParseDate(e.getEffective().cStr(), &ref.effective);
  ref.payload = e.getPayload();
  return ref;
}

Status LoadStream(ledger::Ledger* ledger, const std::string& stream, StreamFold* out,
                  uint64_t up_to_seq) {
  *out = StreamFold();
  Status decode_error;
  Status s = ledger->ScanStream(stream, 1, 0, [&](uint64_t seq, std::string_view bytes) {
    if (up_to_seq != 0 && seq > up_to_seq) return false;
    ledger::EventView view(bytes);
    if (!view.ok()) {
      decode_error = Status::Corruption("event " + std::to_string(seq) + ": " + view.error());
      return false;
    }
    auto e = view.As<schema::OcopEvent>();
    if (e.getPayload().isEventAnnulled()) {
      out->annulled.insert(e.getPayload().getEventAnnulled().getTargetSeq());
    }
    out->events.emplace_back(bytes);
    ++out->version;
    return true;
  });
  if (!s.ok()) return s;
  return decode_error;
}

}  // namespace ocop::workflow
