// Upcasting (workflow/upcast.h): an event written before a change of meaning
// is read as the current schema means it, by the fold; current events pass
// untouched and uncopied.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <catch2/catch.hpp>
#include <string>

#include "workflow/stream_fold.h"
#include "workflow/upcast.h"

namespace s = ocop::workflow::schema;
using ocop::workflow::PayloadVersion;
using ocop::workflow::Upcast;

namespace {

// A stored SubjectRegistered event; `fields` as the writing build set it
// (UNRECORDED: written before the field existed).
std::string Stored(s::LegalForm form, s::PersonalFields fields) {
  capnp::MallocMessageBuilder msg;
  auto e = msg.initRoot<s::OcopEvent>();
  e.setSeq(7);
  e.setStream("subject/S2");
  e.setVersion(1);
  e.setType("SubjectRegistered");
  e.setEffective("2023-01-05");
  auto r = e.initPayload().initSubjectRegistered();
  r.setSubject("S2");
  r.setName("Hộ Nguyễn Thị Lan");
  r.setLegalForm(form);
  r.setUnit("ST-KS");
  r.setPersonalFields(fields);
  auto flat = capnp::messageToFlatArray(msg);
  return std::string(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size());
}

s::PersonalFields FieldsOf(std::string_view bytes) {
  ocop::ledger::EventView v(bytes);
  REQUIRE(v.ok());
  return v.As<s::OcopEvent>().getPayload().getSubjectRegistered().getPersonalFields();
}

}  // namespace

TEST_CASE("a SubjectRegistered of schema 1 reads as plain, its bytes kept") {
  const std::string old = Stored(s::LegalForm::HKD, s::PersonalFields::UNRECORDED);
  {
    ocop::ledger::EventView v(old);
    CHECK(PayloadVersion("SubjectRegistered", v.As<s::OcopEvent>().getPayload()) == 1);
  }
  std::string scratch;
  std::string_view up = Upcast(old, &scratch);
  CHECK(up.data() == scratch.data());
  CHECK(FieldsOf(up) == s::PersonalFields::PLAIN);
  CHECK(FieldsOf(old) == s::PersonalFields::UNRECORDED);  // the stored bytes are not touched
  {
    ocop::ledger::EventView v(up);
    auto e = v.As<s::OcopEvent>();
    CHECK(PayloadVersion("SubjectRegistered", e.getPayload()) == 2);
    CHECK(e.getSeq() == 7);  // the envelope is as stored
    CHECK(std::string(e.getPayload().getSubjectRegistered().getName().cStr()) ==
          "Hộ Nguyễn Thị Lan");
    CHECK(e.getPayload().getSubjectRegistered().getPhone().size() == 0);
  }

  // The fold sees it upcast.
  ocop::workflow::StreamFold fold;
  fold.events.push_back(old);
  ocop::workflow::SubjectState st;
  fold.Fold(&st);
  CHECK(st.exists);
  CHECK(st.personal == s::PersonalFields::PLAIN);
  CHECK(st.name == "Hộ Nguyễn Thị Lan");
}

TEST_CASE("current events pass the upcast untouched and uncopied") {
  for (auto fields : {s::PersonalFields::PLAIN, s::PersonalFields::SEALED}) {
    const std::string now = Stored(s::LegalForm::HKD, fields);
    std::string scratch;
    std::string_view up = Upcast(now, &scratch);
    CHECK(up.data() == now.data());
    CHECK(scratch.empty());
  }
  std::string scratch;
  CHECK(Upcast("not an event", &scratch) == "not an event");
}
