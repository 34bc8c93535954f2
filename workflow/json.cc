#include "workflow/json.h"

#include <capnp/compat/json.capnp.h>
#include <capnp/dynamic.h>
#include <capnp/schema.h>
#include <kj/exception.h>

#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

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

std::string JsonName(capnp::StructSchema::Field f) {
  if (auto a = FindAnnotation(f.getProto(), kJsonName)) return a->getValue().getText().cStr();
  return f.getProto().getName().cStr();
}

std::string EnumerantName(capnp::EnumSchema::Enumerant e) {
  if (auto a = FindAnnotation(e.getProto(), kJsonName)) return a->getValue().getText().cStr();
  return e.getProto().getName().cStr();
}

bool Has(capnp::StructSchema::Field f, uint64_t id) {
  return FindAnnotation(f.getProto(), id).has_value();
}

std::string Join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
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
      std::vector<std::string> names;
      for (auto e : t.asEnum().getEnumerants()) {
        if (v.is_string() && EnumerantName(e) == v.get<std::string>()) return Status::OK();
        if (!FindAnnotation(e.getProto(), kEventOnly)) names.push_back(EnumerantName(e));
      }
      return Status::InvalidArgument(Field(path) + " must be one of " + Join(names) + "; got " +
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

// The JSON members an object of schema `s` may have, after flattening groups
// and the member chosen by a discriminator.
struct Members {
  std::map<std::string, capnp::StructSchema::Field> fields;
  std::vector<std::string> order;  // for messages, in schema order
  std::string discriminator;       // the key that chose a union member, if any
};

Status Collect(const json& obj, capnp::StructSchema s, const std::string& path, Members* m);

Status CollectUnion(const json& obj, capnp::StructSchema s, const std::string& disc,
                    const std::string& path, Members* m) {
  std::vector<std::string> names;
  for (auto f : s.getUnionFields()) names.push_back(JsonName(f));
  std::string where = path.empty() ? disc : path + "." + disc;
  auto it = obj.find(disc);
  if (it == obj.end()) {
    return Status::InvalidArgument("missing " + Field(where) + "; it must be one of " +
                                   Join(names));
  }
  for (auto f : s.getUnionFields()) {
    if (it->is_string() && JsonName(f) == it->get<std::string>()) {
      m->discriminator = disc;
      if (Has(f, kJsonFlatten) && f.getType().isStruct()) {
        return Collect(obj, f.getType().asStruct(), path, m);
      }
      m->fields.emplace(JsonName(f), f);
      m->order.push_back(JsonName(f));
      return Status::OK();
    }
  }
  return Status::InvalidArgument(Field(where) + " must be one of " + Join(names) + "; got " +
                                 it->dump());
}

Status Collect(const json& obj, capnp::StructSchema s, const std::string& path, Members* m) {
  for (auto f : s.getNonUnionFields()) {
    bool group = f.getProto().isGroup();
    if ((group || f.getType().isStruct()) && Has(f, kJsonFlatten)) {
      auto inner = f.getType().asStruct();
      if (auto d = FindAnnotation(f.getProto(), kJsonDiscriminator)) {
        auto opts = d->getValue().getStruct().getAs<capnp::json::DiscriminatorOptions>();
        Status st = CollectUnion(obj, inner, opts.getName().cStr(), path, m);
        if (!st.ok()) return st;
        continue;
      }
      Status st = Collect(obj, inner, path, m);
      if (!st.ok()) return st;
      continue;
    }
    m->fields.emplace(JsonName(f), f);
    m->order.push_back(JsonName(f));
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
    if (!m.fields.count(it.key())) {
      return Status::InvalidArgument("unknown " + Field(sub(it.key())) +
                                     "; allowed here: " + Join(m.order));
    }
  }
  for (const auto& name : m.order) {
    const auto& f = m.fields.at(name);
    auto it = obj.find(name);
    if (it == obj.end()) {
      if (Has(f, kOptional)) continue;
      return Status::InvalidArgument("missing " + Field(sub(name)));
    }
    st = CheckValue(*it, f.getType(), Has(f, kDate), sub(name));
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
