#include "workflow/personal_data.h"

namespace ocop::workflow {

namespace {

constexpr const char* kDamaged = "[hỏng]";

// The four personal fields of a RegisterSubject, by their setters: one list,
// so sealing and revealing name the same fields.
template <typename Fn>
void ForEachField(schema::RegisterSubject::Builder c, Fn fn) {
  fn(c.getName(), [&](const std::string& v) { c.setName(v); });
  fn(c.getRepresentative(), [&](const std::string& v) { c.setRepresentative(v); });
  fn(c.getPhone(), [&](const std::string& v) { c.setPhone(v); });
  fn(c.getAddress(), [&](const std::string& v) { c.setAddress(v); });
}

}  // namespace

bool IsPersonalForm(schema::LegalForm form) {
  return form == schema::LegalForm::HKD || form == schema::LegalForm::THT ||
         form == schema::LegalForm::CSSX;
}

bool CarriesPersonalFields(schema::Command::Reader command) {
  return command.getBody().isRegisterSubject();
}

Status Seal(ledger::SubjectKeys* keys, schema::Command::Reader command,
            capnp::MallocMessageBuilder* out) {
  out->setRoot(command);
  auto root = out->getRoot<schema::Command>();
  if (!root.getBody().isRegisterSubject()) return Status::OK();
  auto c = root.getBody().getRegisterSubject();
  if (!IsPersonalForm(c.getLegalForm())) {
    c.setPersonalFields(schema::PersonalFields::PLAIN);
    return Status::OK();
  }
  if (keys == nullptr) {
    return Status::IOError("no key store to seal the personal fields of producer '" +
                           std::string(c.getSubject().cStr()) + "'");
  }
  const std::string subject = c.getSubject().cStr();
  Status s;
  ForEachField(c, [&](capnp::Text::Builder value, auto set) {
    if (!s.ok() || value.size() == 0) return;
    std::string sealed;
    s = keys->SealText(subject, std::string_view(value.cStr(), value.size()), &sealed);
    if (s.ok()) set(sealed);
  });
  if (!s.ok()) return s;
  c.setPersonalFields(schema::PersonalFields::SEALED);
  return Status::OK();
}

void Reveal(ledger::SubjectKeys* keys, SubjectState* s) {
  if (s->personal != schema::PersonalFields::SEALED) return;
  for (std::string* field : {&s->name, &s->representative, &s->phone, &s->address}) {
    if (s->erased || keys == nullptr) {
      *field = ledger::kErased;
      continue;
    }
    if (field->empty()) continue;
    std::string plain;
    Status st = keys->UnsealText(s->id, *field, &plain);
    *field = st.ok() ? plain : st.IsNotFound() ? ledger::kErased : kDamaged;
  }
}

}  // namespace ocop::workflow
