#include "replay/schema_event.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "ledger/event_view.h"
#include "replay/bundle.h"
#include "workflow/ocop.capnp.h"

namespace ocop::replay {

std::map<std::string, std::string> ProgramSchema() {
  return {{"ledger/event.capnp", EventSchemaText()}, {"workflow/ocop.capnp", OcopSchemaText()}};
}

Status SchemaOfEvent(std::string_view bytes, std::map<std::string, std::string>* files) {
  ledger::EventView v(bytes);
  if (!v.ok()) return Status::Refused("the schema event does not decode: " + v.error());
  files->clear();
  Status s;
  kj::Maybe<kj::Exception> e = kj::runCatchingExceptions([&] {
    auto ev = v.As<workflow::schema::OcopEvent>();
    if (std::string(ev.getStream().cStr()) != kSchemaStream ||
        !ev.getPayload().isSchemaPublished()) {
      s = Status::Refused(std::string("event ") + std::to_string(ev.getSeq()) +
                          " is not a SchemaPublished event of " + kSchemaStream);
      return;
    }
    for (auto f : ev.getPayload().getSchemaPublished().getFiles()) {
      (*files)[f.getName().cStr()] = std::string(f.getText().cStr(), f.getText().size());
    }
  });
  KJ_IF_MAYBE (ex, e) {
    return Status::Refused(std::string("the schema event does not decode: ") +
                           ex->getDescription().cStr());
  }
  return s;
}

Status RecordSchema(ledger::Ledger* ledger, const std::string& effective) {
  const std::map<std::string, std::string> program = ProgramSchema();
  uint64_t version = 0;
  Status s = ledger->StreamVersion(kSchemaStream, &version);
  if (!s.ok()) return s;
  if (version > 0) {
    std::string last;
    s = ledger->ScanStream(kSchemaStream, version, 1, [&](uint64_t, std::string_view bytes) {
      last.assign(bytes);
      return false;
    });
    if (!s.ok()) return s;
    std::map<std::string, std::string> recorded;
    s = SchemaOfEvent(last, &recorded);
    if (!s.ok())
      return Status::Corruption("the last event of " + std::string(kSchemaStream) + ": " +
                                s.message());
    if (recorded == program) return Status::OK();
  }
  capnp::MallocMessageBuilder msg;
  auto files = msg.initRoot<workflow::schema::Payload>().initSchemaPublished().initFiles(
      static_cast<unsigned>(program.size()));
  unsigned i = 0;
  for (const auto& [name, text] : program) {
    files[i].setName(name);
    files[i].setText(text);
    ++i;
  }
  auto flat = capnp::messageToFlatArray(msg);
  ledger::AppendRequest r;
  r.events.push_back(ledger::NewEvent{
      kSchemaStream, "SchemaPublished", effective, ledger::Actor{"ocop", "system", ""},
      std::string(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size())});
  r.expected.push_back(ledger::ExpectedVersion{kSchemaStream, version});
  ledger::AppendResult res;
  return ledger->Append(r, &res);
}

}  // namespace ocop::replay
