#include "workflow/upcast.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include "ledger/event_view.h"

namespace ocop::workflow {

namespace {

using P = schema::PersonalFields;

// One upcast: the payload of an event of `type` at version `from`, changed in
// place to version from + 1.
struct Step {
  const char* type;
  uint32_t from;
  void (*apply)(schema::Payload::Builder);
};

const Step kSteps[] = {
    {"SubjectRegistered", 1,
     [](schema::Payload::Builder p) { p.getSubjectRegistered().setPersonalFields(P::PLAIN); }},
};

}  // namespace

uint32_t PayloadVersion(std::string_view type, schema::Payload::Reader payload) {
  if (type == "SubjectRegistered" && payload.isSubjectRegistered()) {
    return payload.getSubjectRegistered().getPersonalFields() == P::UNRECORDED ? 1 : 2;
  }
  return 1;
}

std::string_view Upcast(std::string_view stored, std::string* scratch) {
  ledger::EventView view(stored);
  if (!view.ok()) return stored;
  auto type = view.event().getType();
  std::string_view t(type.cStr(), type.size());
  bool any = false;
  for (const Step& step : kSteps) any = any || t == step.type;
  if (!any) return stored;  // the common case: no upcast of this type
  auto e = view.As<schema::OcopEvent>();
  uint32_t version = PayloadVersion(t, e.getPayload());
  capnp::MallocMessageBuilder msg;
  bool changed = false;
  for (const Step& step : kSteps) {
    if (t != step.type || step.from != version) continue;
    if (!changed) msg.setRoot(e);
    step.apply(msg.getRoot<schema::OcopEvent>().getPayload());
    changed = true;
    ++version;
  }
  if (!changed) return stored;
  auto flat = capnp::messageToFlatArray(msg);
  scratch->assign(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size());
  return *scratch;
}

}  // namespace ocop::workflow
