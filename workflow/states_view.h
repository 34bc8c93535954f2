// StatesView: the decider's View over states held whole in memory, with no
// events behind them (MemoryView, memory_view.h, folds recorded events
// instead). For tools that keep the states themselves: the national
// generator (bench/national_gen.cc) folds what it decides into them, the
// command fuzzer (fuzz/command_fuzz.cc) states a fixed world.
//
// A state not held reads as not existing (and creates nothing). A product's
// events are never asked for (its acts are not back-dated, so ProductEvents
// is empty); Event answers from `events`.
//
// Not thread-safe. Pointers returned stay valid until the maps change.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "workflow/decide.h"

namespace ocop::workflow {

class StatesView : public View {
 public:
  struct ProductSlot {
    ProductState state;
    uint64_t version = 0;  // events in the product's stream
  };
  std::unordered_map<std::string, UnitState> units;
  std::unordered_map<std::string, PrincipalState> principals;
  std::unordered_map<std::string, CouncilState> councils;
  std::unordered_map<std::string, SubjectState> subjects;
  std::unordered_map<std::string, ProductSlot> products;
  std::unordered_map<std::string, DisputeState> disputes;
  std::unordered_map<int, RoundState> rounds;
  std::map<uint64_t, std::pair<EventInfo, bool>> events;  // seq -> the event, annulled

  // Folds an event of `stream` into the state it belongs to (a product, unit,
  // producer, council or principal; other streams are not held).
  void Apply(const std::string& stream, const EventRef& event);

  Status Unit(const std::string& code, const UnitState** out) override;
  Status Principal(const std::string& id, const PrincipalState** out) override;
  Status Council(const std::string& id, const CouncilState** out) override;
  Status Subject(const std::string& id, const SubjectState** out) override;
  Status Product(const std::string& id, const ProductState** out, uint64_t* version) override;
  Status Dispute(const std::string& id, const DisputeState** out) override;
  Status Round(int year, const RoundState** out) override;
  Status ProductEvents(const std::string& id, std::vector<ProductEvent>* out) override;
  Status Event(uint64_t seq, EventInfo* out, bool* annulled) override;
};

}  // namespace ocop::workflow
