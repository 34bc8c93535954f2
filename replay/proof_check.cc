#include "replay/proof_check.h"

#include "ledger/encoding.h"
#include "ledger/event_view.h"
#include "replay/schema_event.h"

namespace ocop::replay {

using json = nlohmann::ordered_json;
using ledger::merkle::FromHex;
using ledger::merkle::Hash;
using ledger::merkle::ToHex;

namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

bool U64(const nlohmann::json& j, const char* key, uint64_t* out) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_unsigned()) return false;
  *out = j[key].get<uint64_t>();
  return true;
}

bool Hashes(const nlohmann::json& j, std::vector<Hash>* out) {
  if (!j.is_array()) return false;
  for (const auto& h : j) {
    Hash x;
    if (!h.is_string() || !FromHex(h.get<std::string>(), &x)) return false;
    out->push_back(x);
  }
  return true;
}

}  // namespace

json HeadProofJson(std::string_view stream, const ledger::HeadProof& p) {
  json siblings = json::array();
  for (const auto& h : p.siblings) siblings.push_back(ToHex(h));
  using End = ledger::HeadProof::End;
  json j{{"stream", stream},
         {"version", p.end == End::kHead ? p.head.version : 0},
         {"seq", p.end == End::kHead ? p.head.seq : 0},
         {"end", p.end == End::kHead    ? "head"
                 : p.end == End::kEmpty ? "empty"
                                        : "other"},
         {"siblings", siblings}};
  if (p.end == End::kOther) {
    j["other"] = {{"key", ToHex(p.other_key)}, {"version", p.other.version}, {"seq", p.other.seq}};
  }
  return j;
}

Status ParseHeadProof(const nlohmann::json& j, std::string* stream, ledger::HeadProof* p) {
  const auto bad = [](const std::string& why) {
    return Status::InvalidArgument("the stream-head proof is garbled: " + why);
  };
  if (!j.is_object()) return bad("it is not an object");
  *stream = Str(j, "stream");
  *p = ledger::HeadProof{};
  if (!Hashes(j.contains("siblings") ? j["siblings"] : nlohmann::json(), &p->siblings)) {
    return bad("'siblings' must be an array of 64 hexadecimal digits each");
  }
  const std::string end = Str(j, "end");
  if (end == "head") {
    p->end = ledger::HeadProof::End::kHead;
    if (!U64(j, "version", &p->head.version) || !U64(j, "seq", &p->head.seq)) {
      return bad("'version' and 'seq' must be numbers");
    }
  } else if (end == "empty") {
    p->end = ledger::HeadProof::End::kEmpty;
  } else if (end == "other") {
    p->end = ledger::HeadProof::End::kOther;
    const auto& o = j.contains("other") ? j["other"] : nlohmann::json();
    if (!FromHex(Str(o, "key"), &p->other_key) || !U64(o, "version", &p->other.version) ||
        !U64(o, "seq", &p->other.seq)) {
      return bad("'other' must be {\"key\",\"version\",\"seq\"}");
    }
  } else {
    return bad("'end' must be \"head\", \"empty\" or \"other\"");
  }
  return Status::OK();
}

Status CheckCheckpoint(std::string_view vkey, std::string_view note, std::string_view public_key,
                       CheckedCheckpoint* out,
                       const std::vector<ledger::note::VerifierKey>& witnesses) {
  ledger::note::VerifierKey key;
  Status s = ledger::note::ParseVerifierKey(vkey, &key);
  if (!s.ok()) return Status::Tampered("the log's verifier key does not parse: " + s.message());
  if (key.type != ledger::note::kEd25519 || key.public_key != public_key) {
    return Status::Tampered("the log's verifier key '" + std::string(vkey) +
                            "' is not the public key the proof names");
  }
  ledger::note::Note n;
  s = ledger::OpenCheckpoint(note, key, &out->checkpoint, &n);
  if (!s.ok()) return Status::Tampered("the checkpoint: " + s.message());
  s = ledger::StreamHeadsRootOf(out->checkpoint, &out->map_root);
  if (!s.ok()) return Status::Tampered("the checkpoint: " + s.message());
  out->cosigners.clear();
  if (!witnesses.empty()) {
    s = ledger::note::VerifyKnownSignatures(n, witnesses, &out->cosigners);
    if (!s.ok()) return Status::Tampered("a witness's cosignature: " + s.message());
  }
  return Status::OK();
}

Status CheckInclusion(const nlohmann::json& ev, uint64_t size, const Hash& root, std::string* bytes,
                      uint64_t* seq) {
  if (!FromBase64(Str(ev, "leaf"), bytes)) return Status::Tampered("its leaf is not base64");
  ledger::EventView view(*bytes);
  if (!view.ok()) return Status::Tampered("its leaf does not decode: " + view.error());
  *seq = view.event().getSeq();
  uint64_t claimed = 0;
  if (U64(ev, "seq", &claimed) && claimed != *seq) {
    return Status::Tampered("its seq " + std::to_string(claimed) + " is not the event's own (" +
                            std::to_string(*seq) + ")");
  }
  std::vector<Hash> path;
  if (!Hashes(ev.contains("path") ? ev["path"] : nlohmann::json(), &path) || *seq == 0 ||
      !ledger::merkle::VerifyInclusion(ledger::merkle::LeafHash(*bytes), *seq - 1, size, path,
                                       root)) {
    return Status::Tampered("event " + std::to_string(*seq) + " is not in the signed tree");
  }
  return Status::OK();
}

Status CheckStreamHead(const nlohmann::json& proof, std::string_view stream, const Hash& map_root,
                       ledger::StreamHead* head) {
  std::string named;
  ledger::HeadProof p;
  Status s = ParseHeadProof(proof, &named, &p);
  if (!s.ok()) return Status::Tampered(s.message());
  if (named != stream) {
    return Status::Tampered("the stream-head proof is of '" + named + "', not of '" +
                            std::string(stream) + "'");
  }
  return ledger::VerifyHeadProof(stream, p, map_root, head);
}

void CheckStreamEvents(const nlohmann::json& events, const std::string& stream, uint64_t size,
                       const Hash& root, const std::optional<ledger::StreamHead>& head,
                       nlohmann::ordered_json* problems, std::vector<std::string>* leaves,
                       uint64_t* proved) {
  auto problem = [&](std::string what) { problems->push_back(std::move(what)); };
  uint64_t expect_version = 1, last_seq = 0;
  *proved = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string where = "events[" + std::to_string(i) + "]";
    std::string bytes;
    uint64_t seq = 0;
    Status s = CheckInclusion(events[i], size, root, &bytes, &seq);
    if (!s.ok() && seq == 0) {
      problem(where + ": " + s.message());
      continue;
    }
    auto e = ledger::EventView(bytes).event();
    if (std::string(e.getStream().cStr()) != stream)
      problem(where + " belongs to " + e.getStream().cStr());
    if (e.getVersion() != expect_version) {
      problem(where + " is version " + std::to_string(e.getVersion()) + " of " + stream +
              "; expected " + std::to_string(expect_version) +
              (e.getVersion() > expect_version
                   ? " (version " + std::to_string(expect_version) +
                         (e.getVersion() > expect_version + 1
                              ? " to " + std::to_string(e.getVersion() - 1)
                              : "") +
                         " is missing)"
                   : " (out of order)"));
    }
    expect_version = e.getVersion() + 1;
    if (seq <= last_seq) problem(where + " is not after the event before it");
    last_seq = seq;
    if (!s.ok()) {
      problem(where + ": " + s.message());
      continue;
    }
    leaves->push_back(std::move(bytes));
    ++*proved;
  }
  if (events.empty()) problem("no events");
  if (!head) return;
  if (head->version + 1 != expect_version) {
    if (head->version >= expect_version) {
      problem("the stream's head at size " + std::to_string(size) + " is version " +
              std::to_string(head->version) + " (event " + std::to_string(head->seq) +
              "), but the events end at version " + std::to_string(expect_version - 1) +
              ": version " + std::to_string(expect_version) +
              (head->version > expect_version ? " to " + std::to_string(head->version) : "") +
              " is missing");
    } else {
      problem("the events go past the stream's head at size " + std::to_string(size) +
              " (version " + std::to_string(head->version) + ")");
    }
  } else if (head->seq != last_seq) {
    problem("the stream's last event at size " + std::to_string(size) + " is event " +
            std::to_string(head->seq) + ", not event " + std::to_string(last_seq));
  }
}

Status CheckSchema(const nlohmann::json& schema, const nlohmann::json& schema_event, uint64_t size,
                   const Hash& root, const Hash& map_root) {
  if (!schema.is_object()) return Status::Tampered("the bundle carries no schema");
  if (!schema_event.is_object()) {
    return Status::Tampered(
        "the bundle carries no schema event, so its schema is bound to nothing");
  }
  std::string bytes;
  uint64_t seq = 0;
  Status s = CheckInclusion(schema_event, size, root, &bytes, &seq);
  if (!s.ok()) return Status::Tampered("the schema event: " + s.message());
  ledger::StreamHead head;
  s = CheckStreamHead(
      schema_event.contains("stream_head") ? schema_event["stream_head"] : nlohmann::json(),
      kSchemaStream, map_root, &head);
  if (!s.ok()) return Status::Tampered("the schema event: " + s.message());
  if (head.seq != seq) {
    return Status::Tampered("the schema event " + std::to_string(seq) +
                            " is not the schema in force at size " + std::to_string(size) +
                            " (that is event " + std::to_string(head.seq) + ")");
  }
  std::map<std::string, std::string> committed;
  s = SchemaOfEvent(bytes, &committed);
  if (!s.ok()) return Status::Tampered(s.message());
  for (const auto& [name, text] : committed) {
    if (!schema.contains(name) || !schema[name].is_string()) {
      return Status::Tampered("the schema file " + name + " the log committed to (event " +
                              std::to_string(seq) + ") is missing");
    }
    const std::string carried = schema[name].get<std::string>();
    if (carried != text) {
      size_t at = 0;
      while (at < carried.size() && at < text.size() && carried[at] == text[at]) ++at;
      return Status::Tampered("the schema file " + name +
                              " differs from the one the log committed to (event " +
                              std::to_string(seq) + ") from byte " + std::to_string(at));
    }
  }
  for (const auto& [name, text] : schema.items()) {
    if (!committed.count(name)) {
      return Status::Tampered("the schema file " + name + " is not one the log committed to");
    }
  }
  return Status::OK();
}

}  // namespace ocop::replay
