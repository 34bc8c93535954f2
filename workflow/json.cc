#include "workflow/json.h"

#include <capnp/compat/json.capnp.h>
#include <capnp/dynamic.h>
#include <capnp/schema.h>
#include <kj/exception.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "workflow/date.h"

namespace ocop::workflow {
namespace {

using nlohmann::json;

constexpr uint64_t kJsonName = 0xfa5b1fd61c2e7c3dull;
constexpr uint64_t kJsonFlatten = 0x82d3e852af0336bfull;
constexpr uint64_t kJsonDiscriminator = 0xcfa794e8d19a0162ull;
constexpr uint64_t kOptional = 0xe2a7c4d1b3f50a11ull;
constexpr uint64_t kDate = 0xa96b3e5d2c1f8047ull;
constexpr uint64_t kEventOnly = 0xb7edcd42d353317dull;
constexpr uint64_t kPointsById = 0xc3f1a2b4d5e60718ull;

// A List(CriterionPoints) as a JSON object, criterion id to points, the way a
// scoring sheet is written.
struct PointsByIdHandler : capnp::JsonCodec::Handler<capnp::List<schema::CriterionPoints>> {
  void encode(const capnp::JsonCodec&, capnp::List<schema::CriterionPoints>::Reader input,
              capnp::JsonValue::Builder output) const override {
    auto fields = output.initObject(input.size());
    for (unsigned i = 0; i < input.size(); ++i) {
      fields[i].setName(input[i].getId());
      fields[i].initValue().setNumber(input[i].getPoints());
    }
  }
  capnp::Orphan<capnp::List<schema::CriterionPoints>> decode(
      const capnp::JsonCodec&, capnp::JsonValue::Reader input,
      capnp::Orphanage orphanage) const override {
    auto fields = input.getObject();
    auto out = orphanage.newOrphan<capnp::List<schema::CriterionPoints>>(fields.size());
    for (unsigned i = 0; i < fields.size(); ++i) {
      out.get()[i].setId(fields[i].getName());
      out.get()[i].setPoints(fields[i].getValue().getNumber());
    }
    return out;
  }
};

template <typename T>
struct NumberHandler : capnp::JsonCodec::Handler<T> {
  void encode(const capnp::JsonCodec&, T input, capnp::JsonValue::Builder output) const override {
    output.setNumber(static_cast<double>(input));
  }
  T decode(const capnp::JsonCodec&, capnp::JsonValue::Reader input) const override {
    return static_cast<T>(input.getNumber());
  }
};

template <typename Annotated>
std::optional<capnp::schema::Annotation::Reader> FindAnnotation(Annotated proto, uint64_t id) {
  for (auto a : proto.getAnnotations()) {
    if (a.getId() == id) return a;
  }
  return std::nullopt;
}

template <typename Member>
std::string JsonName(Member m) {
  if (auto a = FindAnnotation(m.getProto(), kJsonName)) return a->getValue().getText().cStr();
  return m.getProto().getName().cStr();
}

// What checking a command needs to know of one field, read from its
// annotations once: the schema never changes while the program runs, and
// reading annotations and copying names for every command cost more than
// the rest of the check.
struct FieldInfo {
  capnp::StructSchema::Field field;
  std::string name;           // its JSON member name
  bool optional = false;      // may be absent ($optional)
  bool date = false;          // text holding a YYYY-MM-DD date ($date)
  bool flatten = false;       // a group or struct whose members are the parent's ($Json.flatten)
  bool points_by_id = false;  // a list written as an object, id to points ($pointsById)
  std::string discriminator;  // for a flattened union: the member naming the choice
};

struct StructInfo {
  std::vector<FieldInfo> fields;        // outside the union, in schema order
  std::vector<FieldInfo> union_fields;  // the union's members
};

struct EnumInfo {
  std::vector<std::string> names;  // JSON names, in schema order
  std::vector<bool> event_only;    // values only events carry ($eventOnly)
};

FieldInfo InfoOf(capnp::StructSchema::Field f) {
  FieldInfo i{f, JsonName(f), false, false, false, false, ""};
  auto proto = f.getProto();
  i.optional = FindAnnotation(proto, kOptional).has_value();
  i.points_by_id = FindAnnotation(proto, kPointsById).has_value();
  i.date = FindAnnotation(proto, kDate).has_value();
  i.flatten = FindAnnotation(proto, kJsonFlatten).has_value() &&
              (proto.isGroup() || f.getType().isStruct());
  if (auto d = FindAnnotation(proto, kJsonDiscriminator)) {
    i.discriminator =
        d->getValue().getStruct().getAs<capnp::json::DiscriminatorOptions>().getName().cStr();
  }
  return i;
}

// The facts of a struct or enum of the schema, made by `fill` on first use
// and kept for the life of the program (references into node-based maps
// stay valid).
template <typename Facts, typename Schema, typename Fill>
const Facts& Known(Schema s, Fill fill) {
  static std::mutex mu;
  static std::unordered_map<uint64_t, Facts> known;
  std::lock_guard<std::mutex> l(mu);
  auto [it, fresh] = known.try_emplace(s.getProto().getId());
  if (fresh) fill(&it->second);
  return it->second;
}

const StructInfo& Info(capnp::StructSchema s) {
  return Known<StructInfo>(s, [&](StructInfo* info) {
    for (auto f : s.getNonUnionFields()) info->fields.push_back(InfoOf(f));
    for (auto f : s.getUnionFields()) info->union_fields.push_back(InfoOf(f));
  });
}

const EnumInfo& Info(capnp::EnumSchema s) {
  return Known<EnumInfo>(s, [&](EnumInfo* info) {
    for (auto e : s.getEnumerants()) {
      info->names.push_back(JsonName(e));
      info->event_only.push_back(FindAnnotation(e.getProto(), kEventOnly).has_value());
    }
  });
}

template <typename Names, typename Name>
std::string Join(const Names& items, Name name) {
  std::string s;
  for (const auto& item : items) {
    if (!s.empty()) s += ", ";
    s += name(item);
  }
  return s;
}

std::string Join(const std::vector<const FieldInfo*>& fields) {
  return Join(fields, [](const FieldInfo* f) -> const std::string& { return f->name; });
}

std::string Describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

std::string Field(const std::string& path) { return "field '" + path + "'"; }

Status CheckObject(const json& obj, capnp::StructSchema s, const std::string& path);

Status CheckValue(const json& v, capnp::Type t, bool is_date, const std::string& path) {
  using W = capnp::schema::Type;
  auto need = [&](const char* what) {
    return Status::InvalidArgument(Field(path) + " must be " + what + ", not " + Describe(v));
  };
  auto integer = [&](double lo, double hi) -> Status {
    if (!v.is_number()) return need("an integer");
    double d = v.get<double>();
    if (!v.is_number_integer() && std::floor(d) != d) return need("an integer");
    if (d < lo || d > hi) {
      return Status::InvalidArgument(
          Field(path) + " must be an integer from " + std::to_string(static_cast<long long>(lo)) +
          " to " + std::to_string(static_cast<unsigned long long>(hi)) + "; got " + v.dump());
    }
    return Status::OK();
  };
  switch (t.which()) {
    case W::TEXT:
      if (!v.is_string()) return need("a string");
      if (is_date) {
        Date d;
        if (!ParseDate(v.get<std::string>(), &d)) {
          return Status::InvalidArgument(Field(path) +
                                         " must be a real date written YYYY-MM-DD; got '" +
                                         v.get<std::string>() + "'");
        }
      }
      return Status::OK();
    case W::BOOL:
      return v.is_boolean() ? Status::OK() : need("true or false");
    case W::UINT8:
      return integer(0, 255);
    case W::UINT16:
      return integer(0, 65535);
    case W::UINT32:
      return integer(0, 4294967295.0);
    case W::UINT64:
      return integer(0, 9007199254740992.0);  // exact in JSON numbers
    case W::INT8:
      return integer(-128, 127);
    case W::INT16:
      return integer(-32768, 32767);
    case W::INT32:
      return integer(-2147483648.0, 2147483647.0);
    case W::INT64:
      return integer(-9007199254740992.0, 9007199254740992.0);
    case W::FLOAT32:
    case W::FLOAT64:
      return v.is_number() ? Status::OK() : need("a number");
    case W::ENUM: {
      // Event-only values (SubmitDossier's entry "import") are accepted here
      // so that the decider can say what to use instead, but not offered.
      const EnumInfo& e = Info(t.asEnum());
      for (const auto& name : e.names) {
        if (v.is_string() && name == v.get_ref<const std::string&>()) return Status::OK();
      }
      std::string offered;
      for (size_t i = 0; i < e.names.size(); ++i) {
        if (!e.event_only[i]) offered += (offered.empty() ? "" : ", ") + e.names[i];
      }
      return Status::InvalidArgument(Field(path) + " must be one of " + offered + "; got " +
                                     v.dump());
    }
    case W::STRUCT:
      return CheckObject(v, t.asStruct(), path);
    case W::LIST: {
      if (!v.is_array()) return need("an array");
      auto element = t.asList().getElementType();
      for (size_t i = 0; i < v.size(); ++i) {
        Status s = CheckValue(v[i], element, false, path + "[" + std::to_string(i) + "]");
        if (!s.ok()) return s;
      }
      return Status::OK();
    }
    default:
      return Status::InvalidArgument(Field(path) + " has a type commands cannot carry");
  }
}

Status CheckPointsById(const json& v, const std::string& path) {
  if (!v.is_object()) {
    return Status::InvalidArgument(
        Field(path) + " must be an object of criterion ids to points, not " + Describe(v));
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_number()) {
      return Status::InvalidArgument(Field(path + "." + it.key()) +
                                     " must be a number of points, not " + Describe(*it));
    }
  }
  return Status::OK();
}

// The JSON members an object of schema `s` may have, after flattening groups
// and the member chosen by a discriminator. A command has a dozen members at
// most: vectors searched in order beat maps here.
struct Members {
  std::vector<const FieldInfo*> fields;  // in schema order, for messages too
  std::string_view discriminator;        // the key that chose a union member, if any

  const FieldInfo* Find(std::string_view name) const {
    for (const FieldInfo* f : fields) {
      if (f->name == name) return f;
    }
    return nullptr;
  }
};

Status Collect(const json& obj, capnp::StructSchema s, const std::string& path, Members* m);

Status CollectUnion(const json& obj, capnp::StructSchema s, const std::string& disc,
                    const std::string& path, Members* m) {
  const StructInfo& info = Info(s);
  auto names = [&] {
    return Join(info.union_fields, [](const FieldInfo& f) -> const std::string& { return f.name; });
  };
  std::string where = path.empty() ? disc : path + "." + disc;
  auto it = obj.find(disc);
  if (it == obj.end()) {
    return Status::InvalidArgument("missing " + Field(where) + "; it must be one of " + names());
  }
  if (it->is_string()) {
    const std::string& chosen = it->get_ref<const std::string&>();
    for (const FieldInfo& f : info.union_fields) {
      if (f.name != chosen) continue;
      m->discriminator = disc;
      if (f.flatten && f.field.getType().isStruct()) {
        return Collect(obj, f.field.getType().asStruct(), path, m);
      }
      m->fields.push_back(&f);
      return Status::OK();
    }
  }
  return Status::InvalidArgument(Field(where) + " must be one of " + names() + "; got " +
                                 it->dump());
}

Status Collect(const json& obj, capnp::StructSchema s, const std::string& path, Members* m) {
  for (const FieldInfo& f : Info(s).fields) {
    if (f.flatten) {
      auto inner = f.field.getType().asStruct();
      Status st = f.discriminator.empty() ? Collect(obj, inner, path, m)
                                          : CollectUnion(obj, inner, f.discriminator, path, m);
      if (!st.ok()) return st;
      continue;
    }
    m->fields.push_back(&f);
  }
  return Status::OK();
}

Status CheckObject(const json& obj, capnp::StructSchema s, const std::string& path) {
  if (!obj.is_object()) {
    return Status::InvalidArgument((path.empty() ? std::string("a command") : Field(path)) +
                                   " must be a JSON object, not " + Describe(obj));
  }
  Members m;
  Status st = Collect(obj, s, path, &m);
  if (!st.ok()) return st;
  auto sub = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == m.discriminator) continue;
    if (!m.Find(it.key())) {
      return Status::InvalidArgument("unknown " + Field(sub(it.key())) +
                                     "; allowed here: " + Join(m.fields));
    }
  }
  for (const FieldInfo* f : m.fields) {
    auto it = obj.find(f->name);
    if (it == obj.end()) {
      if (f->optional) continue;
      return Status::InvalidArgument("missing " + Field(sub(f->name)));
    }
    st = f->points_by_id ? CheckPointsById(*it, sub(f->name))
                         : CheckValue(*it, f->field.getType(), f->date, sub(f->name));
    if (!st.ok()) return st;
  }
  return Status::OK();
}

}  // namespace

const capnp::JsonCodec& Codec() {
  static const capnp::JsonCodec* codec = [] {
    static NumberHandler<uint64_t> u64;
    static NumberHandler<int64_t> i64;
    auto* c = new capnp::JsonCodec();
    c->handleByAnnotation<schema::Command>();
    c->handleByAnnotation<schema::OcopEvent>();
    c->addTypeHandler(u64);
    c->addTypeHandler(i64);
    static PointsByIdHandler points;
    c->addFieldHandler(capnp::Schema::from<schema::Sheet>().getFieldByName("criteria"), points);
    c->setRejectUnknownFields(true);
    return c;
  }();
  return *codec;
}

Status ParseCommand(std::string_view text, capnp::MallocMessageBuilder* out) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::InvalidArgument("not valid JSON; a command is one JSON object on one line");
  }
  Status s = CheckObject(j, capnp::Schema::from<schema::Command>(), "");
  if (!s.ok()) return s;
  auto root = out->initRoot<schema::Command>();
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 Codec().decode(kj::ArrayPtr<const char>(text.data(), text.size()),
                                capnp::toDynamic(root));
               })) {
    return Status::InvalidArgument(std::string("command could not be decoded: ") +
                                   e->getDescription().cStr());
  }
  return Status::OK();
}

std::string ToJson(capnp::DynamicStruct::Reader value) { return Codec().encode(value).cStr(); }

std::string CommandType(schema::Command::Reader command) {
  auto body = capnp::toDynamic(command.getBody());
  KJ_IF_MAYBE (f, body.which()) {
    return JsonName(*f);
  }
  return "";
}

}  // namespace ocop::workflow
