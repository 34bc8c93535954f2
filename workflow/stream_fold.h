// StreamFold: one stream's stored events, and the fold of them into a state.
//
// An EventAnnulled names an earlier event of the same stream; the fold leaves
// out both it and the event it annuls, so an annulled record stops counting
// while both stay in the history.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ledger/event_view.h"
#include "ledger/ledger.h"
#include "workflow/ocop.capnp.h"
#include "workflow/state.h"
#include "workflow/upcast.h"

namespace ocop::workflow {

struct StreamFold {
  uint64_t version = 0;             // events in the stream
  std::vector<std::string> events;  // their stored bytes, oldest first
  std::set<uint64_t> annulled;      // seqs named by an EventAnnulled

  template <typename S>
  void Fold(S* state) const {
    std::string scratch;
    for (const std::string& bytes : events) {
      ledger::EventView view(Upcast(bytes, &scratch));
      if (!view.ok()) continue;
      auto e = view.As<schema::OcopEvent>();
      if (annulled.count(e.getSeq()) || e.getPayload().isEventAnnulled()) continue;
      *state = Evolve(std::move(*state), ToEventRef(e));
    }
  }

  static EventRef ToEventRef(schema::OcopEvent::Reader e);
};

// Reads stream `stream` whole (or up to `up_to_seq`, when non-zero).
Status LoadStream(ledger::Ledger* ledger, const std::string& stream, StreamFold* out,
                  uint64_t up_to_seq = 0);

}  // namespace ocop::workflow
