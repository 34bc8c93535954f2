// libFuzzer target: one line of `ocop submit`, parsed against the schema and,
// when it parses, decided against a small world. Nothing may crash, hang or
// leak; a refusal is a fine outcome.
#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "workflow/decide.h"
#include "workflow/json.h"
#include "workflow/states_view.h"

namespace {

using namespace ocop::workflow;
using ocop::Status;

// A fixed world: one province with a district, a producer, a product with a
// certificate, a council, and principals of every role.
StatesView MakeWorld() {
  StatesView w;
  w.units["CM"] =
      UnitState{true, "CM", "Cà Mau", "", schema::UnitLevel::PROVINCE, false, "", Date{}, {}};
  w.units["CM-UM"] =
      UnitState{true, "CM-UM", "U Minh", "CM", schema::UnitLevel::DISTRICT, false, "", Date{}, {}};
  SubjectState& subject = w.subjects["S1"];
  subject.exists = true;
  subject.id = "S1";
  CouncilState& council = w.councils["HD"];
  council.exists = true;
  council.id = "HD";
  council.unit = "CM";
  council.level = schema::CouncilLevel::PROVINCE;
  StatesView::ProductSlot& slot = w.products["P1"];
  ProductState& product = slot.state;
  slot.version = 6;
  product.exists = true;
  product.id = "P1";
  product.unit = "CM-UM";
  product.subject = "S1";
  product.group = 1;
  product.stage = Stage::kScored;
  product.plan_approved = true;
  Dossier d;
  d.cycle_year = 2022;
  d.scores.push_back(
      Score{"HD", schema::CouncilLevel::PROVINCE, 75, 4, Date{19000}, 5, "QD1048", {}});
  product.dossier = d;
  for (auto [id, role] : std::map<std::string, schema::Role>{{"officer", schema::Role::OFFICER},
                                                             {"council", schema::Role::COUNCIL},
                                                             {"authority", schema::Role::AUTHORITY},
                                                             {"admin", schema::Role::ADMIN}}) {
    w.principals[id].grants.push_back(
        Grant{role, "CM", role == schema::Role::COUNCIL ? "HD" : "", Date{}, std::nullopt});
  }
  // The fixed product's events are not kept (its state is given whole), but
  // an annulment may name them.
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    w.events[seq] = {
        EventInfo{seq, "product/P1", "ScoreRecorded", schema::Payload::SCORE_RECORDED, "CM"},
        false};
  }
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  capnp::MallocMessageBuilder msg;
  if (!ParseCommand(text, &msg).ok()) return 0;
  auto command = msg.getRoot<schema::Command>();
  (void)CommandType(command);
  (void)ToJson(capnp::toDynamic(command.asReader()));
  static StatesView world = MakeWorld();
  for (const char* who : {"officer", "council", "authority", "admin"}) {
    Decided out;
    (void)Decide(world, ocop::workflow::Principal{who, false}, command, &out);
  }
  Decided out;
  (void)Decide(world, ocop::workflow::Principal{"local", true}, command, &out);
  return 0;
}
