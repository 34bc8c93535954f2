#include "workflow/states_view.h"

namespace ocop::workflow {
namespace {

// The held state of `key`, or a state that does not exist.
template <typename Map, typename Key>
const typename Map::mapped_type* Held(const Map& map, const Key& key) {
  static const typename Map::mapped_type kNone{};
  auto it = map.find(key);
  return it == map.end() ? &kNone : &it->second;
}

}  // namespace

void StatesView::Apply(const std::string& stream, const EventRef& event) {
  StreamId id = StreamId::Parse(stream);
  switch (id.kind) {
    case StreamId::Kind::kProduct: {
      ProductSlot& slot = products[id.id];
      slot.state = Evolve(std::move(slot.state), event);
      ++slot.version;
      break;
    }
    case StreamId::Kind::kUnit:
      units[id.id] = Evolve(std::move(units[id.id]), event);
      break;
    case StreamId::Kind::kSubject:
      subjects[id.id] = Evolve(std::move(subjects[id.id]), event);
      break;
    case StreamId::Kind::kCouncil:
      councils[id.id] = Evolve(std::move(councils[id.id]), event);
      break;
    case StreamId::Kind::kPrincipal:
      principals[id.id] = Evolve(std::move(principals[id.id]), event);
      break;
    default:
      break;
  }
}

Status StatesView::Unit(const std::string& code, const UnitState** out) {
  *out = Held(units, code);
  return Status::OK();
}

Status StatesView::Principal(const std::string& id, const PrincipalState** out) {
  *out = Held(principals, id);
  return Status::OK();
}

Status StatesView::Council(const std::string& id, const CouncilState** out) {
  *out = Held(councils, id);
  return Status::OK();
}

Status StatesView::Subject(const std::string& id, const SubjectState** out) {
  *out = Held(subjects, id);
  return Status::OK();
}

Status StatesView::Product(const std::string& id, const ProductState** out, uint64_t* version) {
  const ProductSlot* slot = Held(products, id);
  *out = &slot->state;
  *version = slot->version;
  return Status::OK();
}

Status StatesView::Dispute(const std::string& id, const DisputeState** out) {
  *out = Held(disputes, id);
  return Status::OK();
}

Status StatesView::Round(int year, const RoundState** out) {
  *out = Held(rounds, year);
  return Status::OK();
}

Status StatesView::ProductEvents(const std::string&, std::vector<ProductEvent>* out) {
  out->clear();
  return Status::OK();
}

Status StatesView::Event(uint64_t seq, EventInfo* out, bool* annulled) {
  auto it = events.find(seq);
  if (it == events.end()) return Status::NotFound("event " + std::to_string(seq));
  *out = it->second.first;
  *annulled = it->second.second;
  return Status::OK();
}

}  // namespace ocop::workflow
