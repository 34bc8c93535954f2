#include "workflow/json.h"

#include <capnp/compat/json.capnp.h>
#include <capnp/dynamic.h>
#include <capnp/schema.h>
#include <kj/exception.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
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

// A refusal of the value at `path`: the message, which names the field, and
// the path itself for whoever shows it beside the field (Status::field()).
Status Bad(const std::string& path, const std::string& message) {
  return Status::InvalidArgument(message).WithField(path);
}

Status CheckObject(const json& obj, capnp::StructSchema s, const std::string& path);

Status CheckValue(const json& v, capnp::Type t, bool is_date, const std::string& path) {
  using W = capnp::schema::Type;
  auto need = [&](const char* what) {
    return Bad(path, Field(path) + " must be " + what + ", not " + Describe(v));
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
      return Bad(path, Field(path) + " must be an integer from " + std::to_string(lo) + " to " +
                           std::to_string(hi) + "; got " + v.dump());
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
        if (!ParseDate(v.get<std::string>(), &d)) {
          return Bad(path, Field(path) + " must be a real date written YYYY-MM-DD; got '" +
                               v.get<std::string>() + "'");
        }
      }
      return Status::OK();
    case W::BOOL:
      return v.is_boolean() ? Status::OK() : need("true or false");
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
      return Bad(path, Field(path) + " must be one of " + offered + "; got " + v.dump());
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
      return Bad(path, Field(path) + " has a type commands cannot carry");
  }
}

Status CheckPointsById(const json& v, const std::string& path) {
  if (!v.is_object()) {
    return Bad(path,
               Field(path) + " must be an object of criterion ids to points, not " + Describe(v));
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_number()) {
      return Bad(path + "." + it.key(), Field(path + "." + it.key()) +
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
    return Bad(where, "missing " + Field(where) + "; it must be one of " + names());
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
  return Bad(where, Field(where) + " must be one of " + names() + "; got " + it->dump());
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
    return Bad(path, (path.empty() ? std::string("a command") : Field(path)) +
                         " must be a JSON object, not " + Describe(obj));
  }
  Members m;
  Status st = Collect(obj, s, path, &m);
  if (!st.ok()) return st;
  auto sub = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == m.discriminator) continue;
    if (!m.Find(it.key())) {
      return Bad(sub(it.key()),
                 "unknown " + Field(sub(it.key())) + "; allowed here: " + Join(m.fields));
    }
  }
  for (const FieldInfo* f : m.fields) {
    auto it = obj.find(f->name);
    if (it == obj.end()) {
      if (f->optional) continue;
      return Bad(sub(f->name), "missing " + Field(sub(f->name)));
    }
    st = f->points_by_id ? CheckPointsById(*it, sub(f->name))
                         : CheckValue(*it, f->field.getType(), f->date, sub(f->name));
    if (!st.ok()) return st;
  }
  return Status::OK();
}

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
  bool key(json::string_t& k) {
    if (stack_.back()->contains(k)) {
      return Fail("the key '" + k +
                  "' appears twice in one object; give each key once (which one counts would "
                  "be ambiguous)");
    }
    key_ = std::move(k);
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
    json& member = top[key_];
    member = std::move(v);
    return &member;
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
  std::string key_;
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

Status DecodeByCodec(const json& j, capnp::MallocMessageBuilder* out) {
  Status s = CheckObject(j, capnp::Schema::from<schema::Command>(), "");
  if (!s.ok()) return s;
  auto root = out->initRoot<schema::Command>();
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 capnp::MallocMessageBuilder value;
                 auto v = value.initRoot<capnp::JsonValue>();
                 JsonValueOf(j, v);
                 Codec().decode(v.asReader(), capnp::toDynamic(root));
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

}  // namespace

Status ParseCommand(std::string_view text, capnp::MallocMessageBuilder* out) {
  return ParseCommandText(text, out, ParseCommandJson);
}

Status ParseCommandByCodec(std::string_view text, capnp::MallocMessageBuilder* out) {
  return ParseCommandText(text, out, DecodeByCodec);
}

Status ParseCommandJson(const json& j, capnp::MallocMessageBuilder* out) {
  return DecodeByCodec(j, out);
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
