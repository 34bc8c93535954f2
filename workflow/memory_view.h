// MemoryView: the decider's View over events kept in memory, with no ledger.
//
// For given–when–then tests of Decide and for tools that decide without
// storage: Submit decides a command as the Service would and, if it is
// accepted, records its events with the next sequence numbers (given);
// DecideOnly decides without recording (when); the Decided it gives is the
// "then". States are folded from the recorded events exactly as the Service
// folds the ledger's streams (annulled events left out), so a test here
// judges the same decider the ledger runs.
//
// Not thread-safe. Pointers the View returns stay valid until the next
// Submit or Record.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "workflow/decide.h"

namespace ocop::workflow {

class MemoryView : public View {
 public:
  // Decides `json` (one command, as `ocop submit` reads it) as `who` ("" for
  // the local superuser) and records its events. `seqs` gets theirs.
  Status Submit(const std::string& who, const std::string& json,
                std::vector<uint64_t>* seqs = nullptr);
  // Decides without recording anything.
  Status DecideOnly(const std::string& who, const std::string& json, Decided* out);
  // Records decided events as taking effect on `effective` (YYYY-MM-DD).
  std::vector<uint64_t> Record(const Decided& decided, const std::string& effective);

  // The recorded event `seq`: its stream, type and payload.
  struct Stored {
    uint64_t seq = 0;
    std::string stream, type, effective, actor_unit;
    kj::Array<capnp::word> words;                           // a schema::Payload message
    std::shared_ptr<capnp::FlatArrayMessageReader> reader;  // over `words`
    schema::Payload::Reader Payload() const { return reader->getRoot<schema::Payload>(); }
  };
  const std::vector<Stored>& events() const { return events_; }

  Status Unit(const std::string& code, const UnitState** out) override;
  Status Principal(const std::string& id, const PrincipalState** out) override;
  Status Council(const std::string& id, const CouncilState** out) override;
  Status Subject(const std::string& id, const SubjectState** out) override;
  Status Product(const std::string& id, const ProductState** out, uint64_t* version) override;
  Status Dispute(const std::string& id, const DisputeState** out) override;
  Status Round(int year, const RoundState** out) override;
  Status ProductEvents(const std::string& id, std::vector<ProductEvent>* out) override;
  Status Event(uint64_t seq, EventInfo* out, bool* annulled) override;

 private:
  template <typename S>
  const S* Fold(const std::string& stream, uint64_t* version = nullptr);
  // Calls fn with each event of `stream` that counts, in record order.
  template <typename Fn>
  void ForEachCounted(const std::string& stream, Fn fn) const;

  std::vector<Stored> events_;
  // Folded states, dropped whenever events are recorded.
  std::map<std::string, std::shared_ptr<void>> folded_;
  std::map<std::string, uint64_t> versions_;  // events in each folded stream
};

// The payload types of decided events, in order: "Certified", ...
std::vector<std::string> EventTypes(const Decided& decided);

}  // namespace ocop::workflow
