#include "workflow/json.h"

#include <capnp/compat/json.capnp.h>
#include <capnp/dynamic.h>
#include <capnp/schema.h>
#include <kj/exception.h>
#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "workflow/date.h"

namespace ocop::workflow {
namespace {

// The values a Cap'n Proto integer type holds (what a command's JSON may give
// and what a form offers); false for every other type.
bool IntegerRange(capnp::schema::Type::Which which, int64_t* lo, uint64_t* hi) {
  using W = capnp::schema::Type;
  constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
  constexpr uint64_t kMax64 = std::numeric_limits<int64_t>::max();
  switch (which) {
    case W::UINT8:
      *lo = 0, *hi = 255;
      return true;
    case W::UINT16:
      *lo = 0, *hi = 65535;
      return true;
    case W::UINT32:
      *lo = 0, *hi = 4294967295u;
      return true;
    case W::UINT64:
      *lo = 0, *hi = std::numeric_limits<uint64_t>::max();
      return true;
    case W::INT8:
      *lo = -128, *hi = 127;
      return true;
    case W::INT16:
      *lo = -32768, *hi = 32767;
      return true;
    case W::INT32:
      *lo = -2147483648LL, *hi = 2147483647;
      return true;
    case W::INT64:
      *lo = kMin64, *hi = kMax64;
      return true;
    default:
      return false;
  }
}

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

// 2^53: every integer up to this size is exact in a double.
constexpr uint64_t kExactInDouble = uint64_t{1} << 53;

// A 64-bit integer in a JsonValue: JsonValue's numbers are doubles, which
// hold integers exactly only up to 2^53 (a microsecond timestamp printed
// from one came out as 1.79e+15). So an integer travels as the call
// int("DIGITS"), which ToJson prints as a bare JSON integer and
// JsonValueOf makes from one.
constexpr const char* kIntCall = "int";

void SetExactInteger(capnp::JsonValue::Builder out, std::string digits) {
  auto call = out.initCall();
  call.setFunction(kIntCall);
  call.initParams(1)[0].setString(digits);
}

template <typename T>
struct NumberHandler : capnp::JsonCodec::Handler<T> {
  void encode(const capnp::JsonCodec&, T input, capnp::JsonValue::Builder output) const override {
    SetExactInteger(output, std::to_string(input));
  }
  T decode(const capnp::JsonCodec&, capnp::JsonValue::Reader input) const override {
    if (input.isNumber()) {
      double d = input.getNumber();
      // Only integral values within ±2^53 arrive as numbers (JsonValueOf).
      KJ_REQUIRE(std::floor(d) == d && std::fabs(d) <= static_cast<double>(kExactInDouble),
                 "expected an integer");
      KJ_REQUIRE(std::is_signed_v<T> || d >= 0, "expected a non-negative integer");
      return static_cast<T>(d);
    }
    KJ_REQUIRE(input.isCall() && input.getCall().getFunction() == kIntCall &&
                   input.getCall().getParams().size() == 1 &&
                   input.getCall().getParams()[0].isString(),
               "expected an integer");
    auto digits = input.getCall().getParams()[0].getString();
    T value{};
    auto [end, ec] = std::from_chars(digits.begin(), digits.end(), value);
    KJ_REQUIRE(ec == std::errc() && end == digits.end(), "integer out of range");
    return value;
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
struct StructInfo;
struct EnumInfo;

struct FieldInfo {
  capnp::StructSchema::Field field;
  capnp::Type type;           // field.getType(), which reads the schema each time
  std::string name;           // its JSON member name
  bool optional = false;      // may be absent ($optional)
  bool date = false;          // text holding a YYYY-MM-DD date ($date)
  bool flatten = false;       // a group or struct whose members are the parent's ($Json.flatten)
  bool points_by_id = false;  // a list written as an object, id to points ($pointsById)
  std::string discriminator;  // for a flattened union: the member naming the choice
  // The facts of the struct (or group) `type` is, or holds in lists; of
  // its enum. Null for other types.
  const StructInfo* child = nullptr;
  const EnumInfo* enum_info = nullptr;
  // Where the field lives, for DirectDecoder to write it without reflection:
  // a slot outside any union; its offset in units of its type's size (bits
  // for Bool; the index for a pointer); the bits of its default (the data
  // section holds a value XOR its default).
  bool plain_slot = false;
  uint32_t offset = 0;
  uint64_t default_bits = 0;
};

struct StructInfo {
  capnp::StructSchema schema;
  uint32_t discriminant_offset = 0;     // of the union's discriminant, in 16-bit units
  std::vector<FieldInfo> fields;        // outside the union, in schema order
  std::vector<FieldInfo> union_fields;  // the union's members
};

struct EnumInfo {
  std::vector<std::string> names;  // JSON names, in schema order
  std::vector<bool> event_only;    // values only events carry ($eventOnly)
};

const StructInfo& Info(capnp::StructSchema s);
const EnumInfo& Info(capnp::EnumSchema s);

// The bits of a scalar default value as the wire holds them (0 for pointers).
uint64_t DefaultBits(capnp::schema::Value::Reader d) {
  using V = capnp::schema::Value;
  switch (d.which()) {
    case V::BOOL:
      return d.getBool() ? 1 : 0;
    case V::INT8:
      return static_cast<uint8_t>(d.getInt8());
    case V::INT16:
      return static_cast<uint16_t>(d.getInt16());
    case V::INT32:
      return static_cast<uint32_t>(d.getInt32());
    case V::INT64:
      return static_cast<uint64_t>(d.getInt64());
    case V::UINT8:
      return d.getUint8();
    case V::UINT16:
      return d.getUint16();
    case V::UINT32:
      return d.getUint32();
    case V::UINT64:
      return d.getUint64();
    case V::FLOAT32:
      return std::bit_cast<uint32_t>(d.getFloat32());
    case V::FLOAT64:
      return std::bit_cast<uint64_t>(d.getFloat64());
    case V::ENUM:
      return d.getEnum();
    default:
      return 0;
  }
}

FieldInfo InfoOf(capnp::StructSchema::Field f) {
  FieldInfo i{f, f.getType(), JsonName(f), false, false, false, false, ""};
  auto proto = f.getProto();
  capnp::Type inner = i.type;
  while (inner.isList()) inner = inner.asList().getElementType();
  if (inner.isStruct()) i.child = &Info(inner.asStruct());
  if (inner.isEnum()) i.enum_info = &Info(inner.asEnum());
  if (proto.isSlot() && proto.getDiscriminantValue() == capnp::schema::Field::NO_DISCRIMINANT) {
    i.plain_slot = true;
    i.offset = proto.getSlot().getOffset();
    i.default_bits = DefaultBits(proto.getSlot().getDefaultValue());
  }
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
// stay valid). Filling a struct's facts fills those of the structs and enums
// its fields hold first (the lock is recursive; a struct that holds itself
// gets the address of its facts, filled by then).
template <typename Facts, typename Schema, typename Fill>
const Facts& Known(Schema s, Fill fill) {
  static std::recursive_mutex mu;
  static std::unordered_map<uint64_t, Facts> known;
  std::lock_guard<std::recursive_mutex> l(mu);
  auto [it, fresh] = known.try_emplace(s.getProto().getId());
  if (fresh) fill(&it->second);
  return it->second;
}

const StructInfo& Info(capnp::StructSchema s) {
  return Known<StructInfo>(s, [&](StructInfo* info) {
    info->schema = s;
    info->discriminant_offset = s.getProto().getStruct().getDiscriminantOffset();
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

template <typename Fields>
std::string Join(const Fields& fields) {
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

// Where a value is in the command, "sheet.criteria" or "items[2].entry":
// a chain of members and indices on the stack, written out only for a
// refusal, so that checking a valid command makes no strings.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;  // the member's name, unless `is_index`
  size_t index = 0;
  bool is_index = false;

  Path Member(std::string_view k) const { return Path{this, k, 0, false}; }
  Path Index(size_t i) const { return Path{this, {}, i, true}; }
  std::string str() const {
    std::string up = parent ? parent->str() : std::string();
    if (is_index) return up + "[" + std::to_string(index) + "]";
    return up.empty() ? std::string(key) : up + "." + std::string(key);
  }
};

// A refusal of the value at `path`: the message, which names the field, and
// the path itself for whoever shows it beside the field (Status::field()).
Status Bad(const std::string& path, const std::string& message) {
  return Status::InvalidArgument(message).WithField(path);
}

// What checking found beyond refusals: values whose decoding the direct
// decoder leaves to JsonCodec (see DecodeDirect).
struct CheckNotes {
  bool beyond_double = false;  // an integer past ±2^53 where a number (double) goes
};

bool BeyondDouble(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() > kExactInDouble;
  if (v.is_number_integer()) {
    int64_t n = v.get<int64_t>();
    return n < -static_cast<int64_t>(kExactInDouble) || n > static_cast<int64_t>(kExactInDouble);
  }
  return false;
}

Status CheckObject(const json& obj, const StructInfo& s, const Path& path, CheckNotes* notes);

// The value of a field of type `t`; `child` and `enum_info` are the facts
// of the struct or enum it is or holds (FieldInfo).
Status CheckValue(const json& v, capnp::Type t, const StructInfo* child, const EnumInfo* enum_info,
                  bool is_date, const Path& path, CheckNotes* notes) {
  using W = capnp::schema::Type;
  auto need = [&](const char* what) {
    return Bad(path.str(), Field(path.str()) + " must be " + what + ", not " + Describe(v));
  };
  // Exact: JSON integers are read as 64-bit integers (ParseJson), never
  // through a double; a number with a fraction part of zero (5.0) counts as
  // the integer it is, if a double holds it exactly.
  auto integer = [&](int64_t lo, uint64_t hi) -> Status {
    if (!v.is_number()) return need("an integer");
    bool in_range;
    if (v.is_number_unsigned()) {
      in_range = v.get<uint64_t>() <= hi;
    } else if (v.is_number_integer()) {
      int64_t i = v.get<int64_t>();
      in_range = i >= lo && (i < 0 || static_cast<uint64_t>(i) <= hi);
    } else {
      double d = v.get<double>();
      if (std::floor(d) != d) return need("an integer");
      in_range = std::fabs(d) <= static_cast<double>(kExactInDouble) &&
                 d >= static_cast<double>(lo) && d <= static_cast<double>(hi);
    }
    if (!in_range) {
      return Bad(path.str(), Field(path.str()) + " must be an integer from " + std::to_string(lo) +
                                 " to " + std::to_string(hi) + "; got " + v.dump());
    }
    return Status::OK();
  };
  int64_t lo;
  uint64_t hi;
  if (IntegerRange(t.which(), &lo, &hi)) return integer(lo, hi);
  switch (t.which()) {
    case W::TEXT:
      if (!v.is_string()) return need("a string");
      if (is_date) {
        Date d;
        if (!ParseDate(v.get_ref<const std::string&>(), &d)) {
          return Bad(path.str(), Field(path.str()) +
                                     " must be a real date written YYYY-MM-DD; got '" +
                                     v.get<std::string>() + "'");
        }
      }
      return Status::OK();
    case W::BOOL:
      return v.is_boolean() ? Status::OK() : need("true or false");
    case W::FLOAT32:
    case W::FLOAT64:
      if (!v.is_number()) return need("a number");
      notes->beyond_double |= BeyondDouble(v);
      return Status::OK();
    case W::ENUM: {
      // Event-only values (SubmitDossier's entry "import") are accepted here
      // so that the decider can say what to use instead, but not offered.
      const EnumInfo& e = *enum_info;
      for (const auto& name : e.names) {
        if (v.is_string() && name == v.get_ref<const std::string&>()) return Status::OK();
      }
      std::string offered;
      for (size_t i = 0; i < e.names.size(); ++i) {
        if (!e.event_only[i]) offered += (offered.empty() ? "" : ", ") + e.names[i];
      }
      return Bad(path.str(),
                 Field(path.str()) + " must be one of " + offered + "; got " + v.dump());
    }
    case W::STRUCT:
      return CheckObject(v, *child, path, notes);
    case W::LIST: {
      if (!v.is_array()) return need("an array");
      auto element = t.asList().getElementType();
      for (size_t i = 0; i < v.size(); ++i) {
        Status s = CheckValue(v[i], element, child, enum_info, false, path.Index(i), notes);
        if (!s.ok()) return s;
      }
      return Status::OK();
    }
    default:
      return Bad(path.str(), Field(path.str()) + " has a type commands cannot carry");
  }
}

Status CheckPointsById(const json& v, const Path& path, CheckNotes* notes) {
  if (!v.is_object()) {
    return Bad(path.str(), Field(path.str()) +
                               " must be an object of criterion ids to points, not " + Describe(v));
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_number()) {
      std::string at = path.Member(it.key()).str();
      return Bad(at, Field(at) + " must be a number of points, not " + Describe(*it));
    }
    notes->beyond_double |= BeyondDouble(*it);
  }
  return Status::OK();
}

// The JSON members an object of schema `s` may have, after flattening groups
// and the member chosen by a discriminator. A command has a dozen members at
// most: vectors searched in order beat maps here.
struct Members {
  // In schema order, for messages too; on the stack for any command.
  boost::container::small_vector<const FieldInfo*, 32> fields;
  std::string_view discriminator;  // the key that chose a union member, if any

  // The index of the member named `name` in `fields`, or -1.
  int Find(std::string_view name) const {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i]->name == name) return static_cast<int>(i);
    }
    return -1;
  }
};

Status Collect(const json& obj, const StructInfo& s, const Path& path, Members* m);

Status CollectUnion(const json& obj, const StructInfo& info, const std::string& disc,
                    const Path& path, Members* m) {
  auto names = [&] {
    return Join(info.union_fields, [](const FieldInfo& f) -> const std::string& { return f.name; });
  };
  auto it = obj.find(disc);
  if (it == obj.end()) {
    std::string where = path.Member(disc).str();
    return Bad(where, "missing " + Field(where) + "; it must be one of " + names());
  }
  if (it->is_string()) {
    const std::string& chosen = it->get_ref<const std::string&>();
    for (const FieldInfo& f : info.union_fields) {
      if (f.name != chosen) continue;
      m->discriminator = disc;
      if (f.flatten && f.type.isStruct()) {
        return Collect(obj, *f.child, path, m);
      }
      m->fields.push_back(&f);
      return Status::OK();
    }
  }
  std::string where = path.Member(disc).str();
  return Bad(where, Field(where) + " must be one of " + names() + "; got " + it->dump());
}

Status Collect(const json& obj, const StructInfo& s, const Path& path, Members* m) {
  for (const FieldInfo& f : s.fields) {
    if (f.flatten) {
      const StructInfo& inner = *f.child;
      Status st = f.discriminator.empty() ? Collect(obj, inner, path, m)
                                          : CollectUnion(obj, inner, f.discriminator, path, m);
      if (!st.ok()) return st;
      continue;
    }
    m->fields.push_back(&f);
  }
  return Status::OK();
}

Status CheckObject(const json& obj, const StructInfo& s, const Path& path, CheckNotes* notes) {
  if (!obj.is_object()) {
    return Bad(path.str(), (path.str().empty() ? std::string("a command") : Field(path.str())) +
                               " must be a JSON object, not " + Describe(obj));
  }
  Members m;
  Status st = Collect(obj, s, path, &m);
  if (!st.ok()) return st;
  // Each key's value beside its member: unknown keys are refused first, then
  // the members are checked in schema order.
  boost::container::small_vector<const json*, 32> values(m.fields.size(), nullptr);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == m.discriminator) continue;
    int i = m.Find(it.key());
    if (i < 0) {
      std::string at = path.Member(it.key()).str();
      return Bad(at, "unknown " + Field(at) + "; allowed here: " + Join(m.fields));
    }
    values[i] = &*it;
  }
  for (size_t i = 0; i < m.fields.size(); ++i) {
    const FieldInfo* f = m.fields[i];
    if (!values[i]) {
      if (f->optional) continue;
      std::string at = path.Member(f->name).str();
      return Bad(at, "missing " + Field(at));
    }
    Path at = path.Member(f->name);
    st = f->points_by_id
             ? CheckPointsById(*values[i], at, notes)
             : CheckValue(*values[i], f->type, f->child, f->enum_info, f->date, at, notes);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

// A JSON number as JsonValueOf gives it to JsonCodec: a double (only for
// integers a double holds exactly; CheckNotes sends the others to JsonCodec).
double NumberOf(const json& v) {
  if (v.is_number_unsigned()) return static_cast<double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<double>(v.get<int64_t>());
  return v.get<double>();
}

// A 64-bit integer as NumberHandler decodes it: exact, from the integer the
// parser read, or from a double with no fraction part (checked).
template <typename T>
T IntegerOf(const json& v) {
  if (v.is_number_unsigned()) return static_cast<T>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<T>(v.get<int64_t>());
  return static_cast<T>(v.get<double>());
}

// The criteria of a $pointsById list, id to points, in the object's order.
capnp::Orphan<capnp::List<schema::CriterionPoints>> PointsOf(const json& v,
                                                             capnp::Orphanage orphanage) {
  auto out =
      orphanage.newOrphan<capnp::List<schema::CriterionPoints>>(static_cast<unsigned>(v.size()));
  unsigned i = 0;
  for (auto it = v.begin(); it != v.end(); ++it, ++i) {
    out.get()[i].setId(capnp::Text::Reader(it.key().data(), it.key().size()));
    out.get()[i].setPoints(NumberOf(*it));
  }
  return out;
}

// Fills a message from a document CheckObject accepted, generically over the
// schema, making exactly the calls capnp::JsonCodec (configured by Codec())
// makes when it decodes the JsonValue of that document: members in the
// document's order (nlohmann keeps keys sorted), a flattened union's members
// given before its discriminator decoded after it, each struct and list
// allocated as an orphan and adopted, text copied in. The message is thus
// the same, byte for byte (json_decode_test proves it over a corpus), for a
// fraction of the cost: no JsonValue message, no handler look-ups.
class DirectDecoder {
 public:
  explicit DirectDecoder(capnp::Orphanage orphanage) : orphanage_(orphanage) {}

  // JsonCodec's annotated decode of an object into `out`; `disc` is the
  // discriminator of `out`'s union when it is flattened into its parent.
  void Object(const json& obj, const StructInfo& info, capnp::DynamicStruct::Builder out,
              const std::string& disc) {
    using Later = boost::container::small_vector<json::const_iterator, 16>;
    Later retries;  // members of a union given before its discriminator
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (!Member(it.key(), *it, info, out, disc)) retries.push_back(it);
    }
    while (!retries.empty()) {
      Later again;
      for (auto it : retries) {
        if (!Member(it.key(), *it, info, out, disc)) again.push_back(it);
      }
      if (again.size() == retries.size()) break;  // as JsonCodec: no progress, give up
      retries = std::move(again);
    }
  }

 private:
  // One member, named `name`, of the object being decoded into `out`: false
  // if it belongs to a flattened union whose discriminator is not seen yet.
  bool Member(std::string_view name, const json& v, const StructInfo& info,
              capnp::DynamicStruct::Builder out, const std::string& disc) {
    const FieldInfo* flattened = nullptr;
    int n_flattened = 0;
    for (const FieldInfo& f : info.fields) {
      if (f.flatten) {
        flattened = &f, ++n_flattened;
      } else if (f.name == name) {
        Field(f, v, out);
        return true;
      }
    }
    if (!disc.empty() && name == disc) {
      const std::string& chosen = v.get_ref<const std::string&>();
      for (const FieldInfo& f : info.union_fields) {
        if (f.name == chosen) {
          out.clear(f.field);  // activates the member without allocating
          seen_.push_back({UnionOf(out, info), &f});
          return true;
        }
      }
      return true;
    }
    bool union_flattened = false;
    for (const FieldInfo& f : info.union_fields) {
      if (f.flatten) {
        union_flattened = true;
      } else if (f.name == name) {
        Field(f, v, out);
        return true;
      }
    }
    // The checked document names only members the schema has: with one
    // place left to look, the member is there.
    const FieldInfo* into = n_flattened == 1 && !union_flattened ? flattened : nullptr;
    if (n_flattened > 0 && !into) {
      for (const FieldInfo& f : info.fields) {
        if (f.flatten && Holds(*f.child, f.discriminator, name)) {
          into = &f;
          break;
        }
      }
    }
    if (into) {
      return Member(name, v, *into->child, Into(out, *into), into->discriminator);
    }
    KJ_REQUIRE(union_flattened, "Unknown field", std::string(name));
    const FieldInfo* variant = Chosen(out, info);
    if (!variant) return false;
    return Member(name, v, *variant->child, Into(out, *variant), variant->discriminator);
  }

  // Whether a member named `name` decodes into struct `s` flattened.
  static bool Holds(const StructInfo& info, const std::string& disc, std::string_view name) {
    if (!disc.empty() && name == disc) return true;
    for (const auto* fields : {&info.fields, &info.union_fields}) {
      for (const FieldInfo& f : *fields) {
        if (f.flatten ? Holds(*f.child, f.discriminator, name) : f.name == name) {
          return true;
        }
      }
    }
    return false;
  }

  // JsonCodec's decodeField: the field's handler, else its type's.
  void Field(const FieldInfo& f, const json& v, capnp::DynamicStruct::Builder out) {
    if (f.points_by_id) {
      out.adopt(f.field, capnp::Orphan<capnp::DynamicValue>(PointsOf(v, orphanage_)));
      return;
    }
    if (f.plain_slot && Put(f, v, out)) return;
    out.adopt(f.field, Value(v, f.type, f.child, f.enum_info));
  }

  // The scalars and text of the commands, written where the dynamic API
  // writes them (the same values: Value's conversions), without its look-ups
  // of the field's schema; false for the other types.
  bool Put(const FieldInfo& f, const json& v, capnp::DynamicStruct::Builder out) {
    using W = capnp::schema::Type;
    capnp::AnyStruct::Builder any(out);
    auto data = any.getDataSection();
    switch (f.type.which()) {
      case W::BOOL: {
        size_t byte = f.offset / 8;
        KJ_REQUIRE(byte < data.size());
        auto bit = static_cast<kj::byte>(1u << (f.offset % 8));
        bool set = v.get<bool>() != (f.default_bits != 0);
        data[byte] = set ? (data[byte] | bit) : (data[byte] & ~bit);
        return true;
      }
      case W::INT8:
        return Store<int8_t>(data, f, static_cast<int8_t>(NumberOf(v)));
      case W::INT16:
        return Store<int16_t>(data, f, static_cast<int16_t>(NumberOf(v)));
      case W::INT32:
        return Store<int32_t>(data, f, static_cast<int32_t>(NumberOf(v)));
      case W::UINT8:
        return Store<uint8_t>(data, f, static_cast<uint8_t>(NumberOf(v)));
      case W::UINT16:
        return Store<uint16_t>(data, f, static_cast<uint16_t>(NumberOf(v)));
      case W::UINT32:
        return Store<uint32_t>(data, f, static_cast<uint32_t>(NumberOf(v)));
      case W::INT64:
        return Store<int64_t>(data, f, IntegerOf<int64_t>(v));
      case W::UINT64:
        return Store<uint64_t>(data, f, IntegerOf<uint64_t>(v));
      case W::FLOAT32:
        return Store<float>(data, f, static_cast<float>(NumberOf(v)));
      case W::FLOAT64:
        return Store<double>(data, f, NumberOf(v));
      case W::ENUM: {
        const std::string& s = v.get_ref<const std::string&>();
        for (size_t i = 0; i < f.enum_info->names.size(); ++i) {
          if (f.enum_info->names[i] == s) return Store<uint16_t>(data, f, static_cast<uint16_t>(i));
        }
        return false;
      }
      case W::TEXT: {
        const std::string& s = v.get_ref<const std::string&>();
        auto pointers = any.getPointerSection();
        KJ_REQUIRE(f.offset < pointers.size());
        pointers[f.offset].adopt(orphanage_.newOrphanCopy(capnp::Text::Reader(s.data(), s.size())));
        return true;
      }
      default:
        return false;
    }
  }

  // `value` XOR the field's default, little-endian as the wire is.
  template <typename T>
  static bool Store(kj::ArrayPtr<kj::byte> data, const FieldInfo& f, T value) {
    using Bits = std::conditional_t<
        sizeof(T) == 1, uint8_t,
        std::conditional_t<sizeof(T) == 2, uint16_t,
                           std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
    auto bits = static_cast<Bits>(std::bit_cast<Bits>(value) ^ static_cast<Bits>(f.default_bits));
    size_t at = size_t{f.offset} * sizeof(T);
    KJ_REQUIRE(at + sizeof(T) <= data.size());
    for (size_t k = 0; k < sizeof(T); ++k) data[at + k] = static_cast<kj::byte>(bits >> (8 * k));
    return true;
  }

  capnp::Orphan<capnp::DynamicValue> Value(const json& v, capnp::Type t, const StructInfo* child,
                                           const EnumInfo* enum_info) {
    using W = capnp::schema::Type;
    switch (t.which()) {
      case W::BOOL:
        return v.get<bool>();
      case W::INT64:
        return IntegerOf<int64_t>(v);
      case W::UINT64:
        return IntegerOf<uint64_t>(v);
      case W::INT8:
      case W::INT16:
      case W::INT32:
      case W::UINT8:
      case W::UINT16:
      case W::UINT32:
      case W::FLOAT32:
      case W::FLOAT64:
        return NumberOf(v);
      case W::TEXT: {
        const std::string& s = v.get_ref<const std::string&>();
        return orphanage_.newOrphanCopy(capnp::Text::Reader(s.data(), s.size()));
      }
      case W::ENUM: {
        const std::string& s = v.get_ref<const std::string&>();
        for (size_t i = 0; i < enum_info->names.size(); ++i) {
          if (enum_info->names[i] == s) {
            return capnp::DynamicEnum(t.asEnum(), static_cast<uint16_t>(i));
          }
        }
        KJ_FAIL_REQUIRE("invalid enum value", s);
      }
      case W::STRUCT: {
        auto orphan = orphanage_.newOrphan(child->schema);
        Object(v, *child, orphan.get(), "");
        return orphan;
      }
      case W::LIST: {
        auto orphan = orphanage_.newOrphan(t.asList(), static_cast<unsigned>(v.size()));
        auto list = orphan.get();
        auto element = t.asList().getElementType();
        for (size_t i = 0; i < v.size(); ++i) {
          list.adopt(static_cast<unsigned>(i), Value(v[i], element, child, enum_info));
        }
        return orphan;
      }
      default:
        KJ_FAIL_REQUIRE("a type commands cannot carry");
    }
  }

  // Which union of which struct: the address of its discriminant in the
  // message, as JsonCodec tells them apart.
  static const void* UnionOf(capnp::DynamicStruct::Builder s, const StructInfo& info) {
    return reinterpret_cast<const uint16_t*>(
               capnp::AnyStruct::Builder(s).getDataSection().begin()) +
           info.discriminant_offset;
  }
  // The member of `s`'s union its discriminator chose, or null if not seen yet.
  const FieldInfo* Chosen(capnp::DynamicStruct::Builder s, const StructInfo& info) const {
    const void* id = UnionOf(s, info);
    for (const auto& [u, chosen] : seen_) {
      if (u == id) return chosen;
    }
    return nullptr;
  }

  // The flattened group or struct `f` of `out`, got once (a struct is
  // allocated then, as JsonCodec allocates it: at its first member).
  capnp::DynamicStruct::Builder Into(capnp::DynamicStruct::Builder out, const FieldInfo& f) {
    const void* data = capnp::AnyStruct::Builder(out).getDataSection().begin();
    for (const auto& [d, field, builder] : inner_) {
      if (d == data && field == &f) return builder;
    }
    auto builder = out.get(f.field).as<capnp::DynamicStruct>();
    inner_.push_back({data, &f, builder});
    return builder;
  }

  capnp::Orphanage orphanage_;
  std::vector<std::pair<const void*, const FieldInfo*>> seen_;  // unions, their choice
  std::vector<std::tuple<const void*, const FieldInfo*, capnp::DynamicStruct::Builder>> inner_;
};

// Builds the document as nlohmann's own parser would, but refuses, as soon as
// the parser reaches them, nesting deeper than the limit, a key given twice in
// one object and a string holding NUL. The parser itself keeps an explicit
// stack (it does not recurse), so nothing here is deeper than one call.
class LimitedDom {
 public:
  LimitedDom(json* root, int max_depth) : root_(root), max_depth_(max_depth) {}
  const std::string& error() const { return error_; }

  bool null() { return Put(json(nullptr)); }
  bool boolean(bool b) { return Put(json(b)); }
  bool number_integer(json::number_integer_t n) { return Put(json(n)); }
  bool number_unsigned(json::number_unsigned_t n) { return Put(json(n)); }
  bool number_float(json::number_float_t n, const json::string_t&) { return Put(json(n)); }
  bool string(json::string_t& s) {
    if (s.find('\0') != std::string::npos) {
      return Fail("a string holds the NUL character (\\u0000), which no text here may contain");
    }
    return Put(json(std::move(s)));
  }
  bool binary(json::binary_t&) { return Fail("binary values are not JSON"); }
  bool start_object(std::size_t) { return Open(json::object()); }
  // The member is made here, null until its value comes: one look-up of
  // the key, which both refuses a second one and places the value.
  bool key(json::string_t& k) {
    auto [it, fresh] = stack_.back()->get_ref<json::object_t&>().try_emplace(std::move(k));
    if (!fresh) {
      return Fail("the key '" + it->first +
                  "' appears twice in one object; give each key once (which one counts would "
                  "be ambiguous)");
    }
    member_ = &it->second;
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(json::array()); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    return Fail(std::string("not valid JSON: ") + e.what());
  }

 private:
  // Puts `v` where the parser is: the root, the next element of the array or
  // the member named by the last key. Elements of the innermost open
  // container only are added, so the pointers on the stack stay valid.
  json* Place(json v) {
    if (stack_.empty()) {
      *root_ = std::move(v);
      return root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    *member_ = std::move(v);
    return member_;
  }
  bool Put(json v) {
    Place(std::move(v));
    return true;
  }
  bool Open(json v) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      return Fail("arrays and objects are nested deeper than " + std::to_string(max_depth_) +
                  " levels; that is the most accepted");
    }
    stack_.push_back(Place(std::move(v)));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }
  bool Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

  json* root_;
  int max_depth_;
  std::vector<json*> stack_;
  json* member_ = nullptr;  // the member named by the last key
  std::string error_;
};

// The JsonValue of a parsed document, for JsonCodec to decode: integers
// beyond what a double holds exactly travel as int("DIGITS").
void JsonValueOf(const json& j, capnp::JsonValue::Builder out) {
  switch (j.type()) {
    case json::value_t::null:
      out.setNull();
      return;
    case json::value_t::boolean:
      out.setBoolean(j.get<bool>());
      return;
    case json::value_t::number_integer: {
      int64_t n = j.get<int64_t>();
      if (n >= -static_cast<int64_t>(kExactInDouble) && n <= static_cast<int64_t>(kExactInDouble)) {
        out.setNumber(static_cast<double>(n));
      } else {
        SetExactInteger(out, std::to_string(n));
      }
      return;
    }
    case json::value_t::number_unsigned: {
      uint64_t n = j.get<uint64_t>();
      if (n <= kExactInDouble) {
        out.setNumber(static_cast<double>(n));
      } else {
        SetExactInteger(out, std::to_string(n));
      }
      return;
    }
    case json::value_t::number_float:
      out.setNumber(j.get<double>());
      return;
    case json::value_t::string:
      out.setString(j.get_ref<const std::string&>());
      return;
    case json::value_t::array: {
      auto a = out.initArray(static_cast<unsigned>(j.size()));
      for (size_t i = 0; i < j.size(); ++i) JsonValueOf(j[i], a[static_cast<unsigned>(i)]);
      return;
    }
    case json::value_t::object: {
      auto o = out.initObject(static_cast<unsigned>(j.size()));
      unsigned i = 0;
      for (auto it = j.begin(); it != j.end(); ++it, ++i) {
        o[i].setName(it.key());
        JsonValueOf(it.value(), o[i].initValue());
      }
      return;
    }
    default:
      out.setNull();  // binary and discarded never come from ParseJson
  }
}

// What JsonCodec encoded, as JSON to print, in the schema's member order:
// int("DIGITS") becomes that integer, and a double holding an integer is
// printed as one (30, not 30.0), as JsonCodec printed it.
nlohmann::ordered_json PrintedJsonOf(capnp::JsonValue::Reader v) {
  using Out = nlohmann::ordered_json;
  switch (v.which()) {
    case capnp::JsonValue::NULL_:
      return nullptr;
    case capnp::JsonValue::BOOLEAN:
      return v.getBoolean();
    case capnp::JsonValue::NUMBER: {
      double d = v.getNumber();
      if (std::floor(d) == d && std::fabs(d) <= static_cast<double>(kExactInDouble)) {
        return static_cast<int64_t>(d);
      }
      return d;
    }
    case capnp::JsonValue::STRING:
      return std::string(v.getString().cStr(), v.getString().size());
    case capnp::JsonValue::ARRAY: {
      Out a = Out::array();
      for (auto e : v.getArray()) a.push_back(PrintedJsonOf(e));
      return a;
    }
    case capnp::JsonValue::OBJECT: {
      Out o = Out::object();
      for (auto f : v.getObject()) o[std::string(f.getName().cStr())] = PrintedJsonOf(f.getValue());
      return o;
    }
    case capnp::JsonValue::CALL: {  // only SetExactInteger makes calls
      auto params = v.getCall().getParams();
      if (params.size() != 1 || !params[0].isString()) return nullptr;
      std::string_view d(params[0].getString().cStr(), params[0].getString().size());
      if (!d.empty() && d[0] == '-') {
        int64_t n = 0;
        std::from_chars(d.data(), d.data() + d.size(), n);
        return n;
      }
      uint64_t n = 0;
      std::from_chars(d.data(), d.data() + d.size(), n);
      return n;
    }
    default:
      return nullptr;
  }
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

Status ParseJson(std::string_view text, json* out, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::InvalidArgument("the JSON is " + std::to_string(text.size()) +
                                   " bytes; at most " + std::to_string(limits.max_bytes) +
                                   " are accepted");
  }
  json root;
  LimitedDom dom(&root, limits.max_depth);
  bool ok = json::sax_parse(text.begin(), text.end(), &dom);
  if (!ok) return Status::InvalidArgument(dom.error());
  *out = std::move(root);
  return Status::OK();
}

namespace {

Status ParseCommandText(std::string_view text, capnp::MallocMessageBuilder* out,
                        Status (*decode)(const json&, capnp::MallocMessageBuilder*)) {
  json j;
  Status s = ParseJson(text, &j);
  if (!s.ok()) {
    return Status::InvalidArgument(s.message() + "; a command is one JSON object on one line");
  }
  return decode(j, out);
}

// Checks the command, then fills `out`: by DirectDecoder, or by JsonCodec
// when `by_codec` or when the command holds a value only JsonCodec's
// decoding says what to do with (an integer past 2^53 where a double goes).
Status Decode(const json& j, capnp::MallocMessageBuilder* out, bool by_codec) {
  static const StructInfo& command = Info(capnp::Schema::from<schema::Command>());
  CheckNotes notes;
  Status s = CheckObject(j, command, Path{}, &notes);
  if (!s.ok()) return s;
  auto root = out->initRoot<schema::Command>();
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 if (by_codec || notes.beyond_double) {
                   capnp::MallocMessageBuilder value;
                   auto v = value.initRoot<capnp::JsonValue>();
                   JsonValueOf(j, v);
                   Codec().decode(v.asReader(), capnp::toDynamic(root));
                 } else {
                   auto dynamic = capnp::toDynamic(root);
                   DirectDecoder(capnp::Orphanage::getForMessageContaining(dynamic))
                       .Object(j, command, dynamic, "");
                 }
               })) {
    return Status::InvalidArgument(std::string("command could not be decoded: ") +
                                   e->getDescription().cStr());
  }
  // -1 is "no expectation" (the default); a version is never negative.
  if (root.getExpectedVersion() < -1) {
    return Bad("expected_version",
               "field 'expected_version' must be a stream version (0 or more), or -1 for none; "
               "got " +
                   std::to_string(root.getExpectedVersion()));
  }
  return Status::OK();
}

Status DecodeDirect(const json& j, capnp::MallocMessageBuilder* out) {
  return Decode(j, out, false);
}
Status DecodeByCodec(const json& j, capnp::MallocMessageBuilder* out) {
  return Decode(j, out, true);
}

}  // namespace

Status ParseCommand(std::string_view text, capnp::MallocMessageBuilder* out) {
  return ParseCommandText(text, out, DecodeDirect);
}

Status ParseCommandByCodec(std::string_view text, capnp::MallocMessageBuilder* out) {
  return ParseCommandText(text, out, DecodeByCodec);
}

Status ParseCommandJson(const json& j, capnp::MallocMessageBuilder* out) {
  return DecodeDirect(j, out);
}

std::string ToJson(capnp::DynamicStruct::Reader value) {
  capnp::MallocMessageBuilder m;
  auto v = m.initRoot<capnp::JsonValue>();
  Codec().encode(capnp::DynamicValue::Reader(value), value.getSchema(), v);
  return PrintedJsonOf(v.asReader()).dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

nlohmann::ordered_json FormOfType(capnp::Type t, bool is_date);

nlohmann::ordered_json FormOfStruct(capnp::StructSchema s) {
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (const FieldInfo& f : Info(s).fields) {
    if (f.flatten) continue;  // Command's body: its members are the forms
    nlohmann::ordered_json one{{"name", f.name}};
    nlohmann::ordered_json type = f.points_by_id ? nlohmann::ordered_json{{"kind", "points"}}
                                                 : FormOfType(f.field.getType(), f.date);
    one.update(type);
    one["optional"] = f.optional;
    fields.push_back(std::move(one));
  }
  return fields;
}

nlohmann::ordered_json FormOfType(capnp::Type t, bool is_date) {
  using W = capnp::schema::Type;
  auto integer = [](int64_t lo, uint64_t hi) {
    return nlohmann::ordered_json{{"kind", "integer"}, {"min", lo}, {"max", hi}};
  };
  int64_t lo;
  uint64_t hi;
  if (IntegerRange(t.which(), &lo, &hi)) return integer(lo, hi);
  switch (t.which()) {
    case W::TEXT:
      return {{"kind", is_date ? "date" : "text"}};
    case W::BOOL:
      return {{"kind", "bool"}};
    case W::FLOAT32:
    case W::FLOAT64:
      return {{"kind", "number"}};
    case W::ENUM: {
      const EnumInfo& e = Info(t.asEnum());
      nlohmann::ordered_json values = nlohmann::ordered_json::array();
      for (size_t i = 0; i < e.names.size(); ++i) {
        if (!e.event_only[i]) values.push_back(e.names[i]);
      }
      return {{"kind", "enum"}, {"values", values}};
    }
    case W::STRUCT:
      return {{"kind", "struct"}, {"fields", FormOfStruct(t.asStruct())}};
    case W::LIST:
      return {{"kind", "list"}, {"of", FormOfType(t.asList().getElementType(), false)}};
    default:
      return {{"kind", "unsupported"}};
  }
}

}  // namespace

std::string EnumJsonName(capnp::EnumSchema e, uint16_t value) {
  const EnumInfo& info = Info(e);
  return value < info.names.size() ? info.names[value] : "";
}

nlohmann::ordered_json CommandForms() {
  auto command = capnp::Schema::from<schema::Command>();
  nlohmann::ordered_json forms = nlohmann::ordered_json::array();
  for (const FieldInfo& f : Info(command).fields) {
    if (!f.flatten) continue;
    for (const FieldInfo& member : Info(f.field.getType().asStruct()).union_fields) {
      forms.push_back(
          {{"type", member.name}, {"fields", FormOfStruct(member.field.getType().asStruct())}});
    }
  }
  return {{"common", FormOfStruct(command)}, {"forms", forms}};
}

std::string CommandType(schema::Command::Reader command) {
  auto body = capnp::toDynamic(command.getBody());
  KJ_IF_MAYBE (f, body.which()) {
    return JsonName(*f);
  }
  return "";
}

std::string_view EnumName(capnp::EnumSchema schema, uint16_t value) {
  const EnumInfo& info = Info(schema);  // kept for the program's life
  return value < info.names.size() ? std::string_view(info.names[value]) : std::string_view();
}

std::string PayloadType(schema::Payload::Reader payload) {
  auto dyn = capnp::toDynamic(payload);
  KJ_IF_MAYBE (f, dyn.which()) {
    return JsonName(*f);
  }
  return "";
}

}  // namespace ocop::workflow
