#include "workflow/memory_view.h"

#include <capnp/dynamic.h>

#include <set>

#include "workflow/json.h"

namespace ocop::workflow {

Status MemoryView::DecideOnly(const std::string& who, const std::string& json, Decided* out) {
  capnp::MallocMessageBuilder msg;
  Status s = ParseCommand(json, &msg);
  if (!s.ok()) return s;
  return Decide(*this, workflow::Principal{who.empty() ? "local" : who, who.empty()},
                msg.getRoot<schema::Command>().asReader(), out);
}

Status MemoryView::Submit(const std::string& who, const std::string& json,
                          std::vector<uint64_t>* seqs) {
  capnp::MallocMessageBuilder msg;
  Status s = ParseCommand(json, &msg);
  if (!s.ok()) return s;
  auto command = msg.getRoot<schema::Command>().asReader();
  Decided d;
  s = Decide(*this, workflow::Principal{who.empty() ? "local" : who, who.empty()}, command, &d);
  if (!s.ok()) return s;
  auto recorded = Record(d, command.getEffective().cStr());
  if (seqs) *seqs = std::move(recorded);
  return Status::OK();
}

std::vector<uint64_t> MemoryView::Record(const Decided& decided, const std::string& effective) {
  std::vector<uint64_t> seqs;
  for (const PendingEvent& e : decided.events) {
    Stored st;
    st.seq = events_.size() + 1;
    st.stream = e.stream;
    st.type = e.type;
    st.effective = effective;
    st.actor_unit = decided.unit;
    st.words = capnp::messageToFlatArray(*e.payload);
    st.reader = std::make_shared<capnp::FlatArrayMessageReader>(st.words.asPtr());
    seqs.push_back(st.seq);
    events_.push_back(std::move(st));
  }
  folded_.clear();
  return seqs;
}

template <typename Fn>
void MemoryView::ForEachCounted(const std::string& stream, Fn fn) const {
  std::set<uint64_t> annulled;
  for (const Stored& e : events_) {
    if (e.stream == stream && e.Payload().isEventAnnulled())
      annulled.insert(e.Payload().getEventAnnulled().getTargetSeq());
  }
  for (const Stored& e : events_) {
    if (e.stream != stream || annulled.count(e.seq) || e.Payload().isEventAnnulled()) continue;
    EventRef ref;
    ref.seq = e.seq;
    ParseDate(e.effective, &ref.effective);
    ref.payload = e.Payload();
    fn(ref);
  }
}

template <typename S>
const S* MemoryView::Fold(const std::string& stream, uint64_t* version) {
  auto it = folded_.find(stream);
  if (it == folded_.end()) {
    uint64_t n = 0;
    for (const Stored& e : events_) n += e.stream == stream;
    auto state = std::make_shared<S>();
    ForEachCounted(stream, [&](const EventRef& ref) { *state = Evolve(std::move(*state), ref); });
    versions_[stream] = n;
    it = folded_.emplace(stream, std::move(state)).first;
  }
  if (version) *version = versions_[stream];
  return static_cast<const S*>(it->second.get());
}

Status MemoryView::Unit(const std::string& code, const UnitState** out) {
  *out = Fold<UnitState>(UnitStream(code));
  return Status::OK();
}
Status MemoryView::Principal(const std::string& id, const PrincipalState** out) {
  *out = Fold<PrincipalState>(PrincipalStream(id));
  return Status::OK();
}
Status MemoryView::Council(const std::string& id, const CouncilState** out) {
  *out = Fold<CouncilState>(CouncilStream(id));
  return Status::OK();
}
Status MemoryView::Subject(const std::string& id, const SubjectState** out) {
  *out = Fold<SubjectState>(SubjectStream(id));
  return Status::OK();
}
Status MemoryView::Product(const std::string& id, const ProductState** out, uint64_t* version) {
  *out = Fold<ProductState>(ProductStream(id), version);
  return Status::OK();
}
Status MemoryView::Dispute(const std::string& id, const DisputeState** out) {
  *out = Fold<DisputeState>(DisputeStream(id));
  return Status::OK();
}

Status MemoryView::Round(int year, const RoundState** out) {
  *out = Fold<RoundState>(RoundStream(year));
  return Status::OK();
}

Status MemoryView::ProductEvents(const std::string& id, std::vector<ProductEvent>* out) {
  out->clear();
  ForEachCounted(ProductStream(id), [&](const EventRef& ref) { out->push_back(CopyEvent(ref)); });
  return Status::OK();
}

Status MemoryView::Event(uint64_t seq, EventInfo* out, bool* annulled) {
  if (seq == 0 || seq > events_.size()) return Status::NotFound("event " + std::to_string(seq));
  const Stored& e = events_[seq - 1];
  *out = EventInfo{e.seq, e.stream, e.type, e.Payload().which(), e.actor_unit};
  *annulled = false;
  for (const Stored& a : events_) {
    if (a.stream == e.stream && a.Payload().isEventAnnulled() &&
        a.Payload().getEventAnnulled().getTargetSeq() == seq) {
      *annulled = true;
    }
  }
  return Status::OK();
}

std::vector<std::string> EventTypes(const Decided& decided) {
  std::vector<std::string> types;
  for (const PendingEvent& e : decided.events) types.push_back(e.type);
  return types;
}

}  // namespace ocop::workflow
