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

namespace {

using namespace ocop::workflow;
using ocop::Status;

// A fixed world: one province with a district, a producer, a product with a
// certificate, a council, and principals of every role.
class World : public View {
 public:
  World() {
    units_["CM"] =
        UnitState{true, "CM", "Cà Mau", "", schema::UnitLevel::PROVINCE, false, "", Date{}, {}};
    units_["CM-UM"] = UnitState{true,  "CM-UM", "U Minh", "CM", schema::UnitLevel::DISTRICT,
                                false, "",      Date{},   {}};
    subject_.exists = true;
    subject_.id = "S1";
    council_.exists = true;
    council_.id = "HD";
    council_.unit = "CM";
    council_.level = schema::CouncilLevel::PROVINCE;
    product_.exists = true;
    product_.id = "P1";
    product_.unit = "CM-UM";
    product_.subject = "S1";
    product_.group = 1;
    product_.stage = Stage::kScored;
    product_.plan_approved = true;
    Dossier d;
    d.cycle_year = 2022;
    d.scores.push_back(
        Score{"HD", schema::CouncilLevel::PROVINCE, 75, 4, Date{19000}, 5, "QD1048", {}});
    product_.dossier = d;
    for (auto [id, role] :
         std::map<std::string, schema::Role>{{"officer", schema::Role::OFFICER},
                                             {"council", schema::Role::COUNCIL},
                                             {"authority", schema::Role::AUTHORITY},
                                             {"admin", schema::Role::ADMIN}}) {
      principals_[id].grants.push_back(
          Grant{role, "CM", role == schema::Role::COUNCIL ? "HD" : "", Date{}, std::nullopt});
    }
  }
  Status Unit(const std::string& code, const UnitState** out) override {
    *out = &units_[code];
    return Status::OK();
  }
  Status Principal(const std::string& id, const PrincipalState** out) override {
    *out = &principals_[id];
    return Status::OK();
  }
  Status Council(const std::string& id, const CouncilState** out) override {
    *out = id == "HD" ? &council_ : &none_council_;
    return Status::OK();
  }
  Status Subject(const std::string& id, const SubjectState** out) override {
    *out = id == "S1" ? &subject_ : &none_subject_;
    return Status::OK();
  }
  Status Product(const std::string& id, const ProductState** out, uint64_t* version) override {
    *out = id == "P1" ? &product_ : &none_product_;
    *version = id == "P1" ? 6 : 0;
    return Status::OK();
  }
  Status Dispute(const std::string&, const DisputeState** out) override {
    *out = &none_dispute_;
    return Status::OK();
  }
  // The fixed product's events are not kept: its state is given whole.
  Status ProductEvents(const std::string&, std::vector<ProductEvent>* out) override {
    out->clear();
    return Status::OK();
  }
  Status Round(int, const RoundState** out) override {
    *out = &none_round_;
    return Status::OK();
  }
  Status Event(uint64_t seq, EventInfo* out, bool* annulled) override {
    if (seq == 0 || seq > 6) return Status::NotFound("no such event");
    *out = EventInfo{seq, "product/P1", "ScoreRecorded", "CM"};
    *annulled = false;
    return Status::OK();
  }

 private:
  std::map<std::string, UnitState> units_;
  std::map<std::string, PrincipalState> principals_;
  CouncilState council_, none_council_;
  SubjectState subject_, none_subject_;
  ProductState product_, none_product_;
  DisputeState none_dispute_;
  RoundState none_round_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  capnp::MallocMessageBuilder msg;
  if (!ParseCommand(text, &msg).ok()) return 0;
  auto command = msg.getRoot<schema::Command>();
  (void)CommandType(command);
  (void)ToJson(capnp::toDynamic(command.asReader()));
  static World world;
  for (const char* who : {"officer", "council", "authority", "admin"}) {
    Decided out;
    (void)Decide(world, ocop::workflow::Principal{who, false}, command, &out);
  }
  Decided out;
  (void)Decide(world, ocop::workflow::Principal{"local", true}, command, &out);
  return 0;
}
