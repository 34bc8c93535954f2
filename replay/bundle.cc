#include "replay/bundle.h"

#include "ledger/encoding.h"
#include "ledger/event_view.h"
#include "ledger/signer.h"
#include "workflow/decide.h"
#include "workflow/stream_fold.h"

namespace ocop::replay {

using json = nlohmann::ordered_json;
using ledger::merkle::FromHex;
using ledger::merkle::Hash;
using ledger::merkle::ToHex;

Status MakeBundle(ledger::Ledger* ledger, const std::string& product, json* out) {
  workflow::StreamFold fold;
  Status s = workflow::LoadStream(ledger, workflow::ProductStream(product), &fold);
  if (!s.ok()) return s;
  if (fold.events.empty()) return Status::NotFound("no product '" + product + "'");
  ledger::SignedTreeHead head;
  s = ledger->TreeHead(ledger->Size(), &head);
  if (!s.ok()) return s;
  json events = json::array();
  for (const std::string& bytes : fold.events) {
    ledger::EventView v(bytes);
    uint64_t seq = v.event().getSeq();
    ledger::InclusionProof p;
    s = ledger->Inclusion(seq, head.size, &p);
    if (!s.ok()) return s;
    json path = json::array();
    for (const auto& h : p.path) path.push_back(ToHex(h));
    events.push_back(json{{"seq", seq}, {"leaf", Base64(bytes)}, {"path", path}});
  }
  *out = json{
      {"format", kBundleFormat},
      {"product", product},
      {"stream", workflow::ProductStream(product)},
      {"tree_head",
       {{"size", head.size},
        {"root", ToHex(head.root)},
        {"signature", Base64(head.signature)},
        {"key_id", head.key_id_hex}}},
      {"public_key", Base64(ledger->signer().public_key())},
      {"public_key_pem", ledger->signer().PublicKeyPem()},
      {"signed_message",
       "\"OCOP-TREE-HEAD-V1\" || 0x00 || size (8 bytes big-endian) || root (32 bytes)"},
      {"events", events},
      {"schema",
       {{"ledger/event.capnp", EventSchemaText()}, {"workflow/ocop.capnp", OcopSchemaText()}}}};
  return Status::OK();
}

Status VerifyBundle(const nlohmann::json& b, json* report) {
  json problems = json::array();
  auto problem = [&](std::string what) { problems.push_back(std::move(what)); };
  auto str = [&](const nlohmann::json& j, const char* key) -> std::string {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
  };
  if (!b.is_object() || str(b, "format") != kBundleFormat) {
    return Status::InvalidArgument(std::string("not a bundle: 'format' must be ") + kBundleFormat);
  }
  const std::string product = str(b, "product");
  const std::string stream = workflow::ProductStream(product);
  const auto& head = b.contains("tree_head") ? b["tree_head"] : nlohmann::json::object();
  uint64_t size =
      head.contains("size") && head["size"].is_number_unsigned() ? head["size"].get<uint64_t>() : 0;
  Hash root{};
  bool root_ok = FromHex(str(head, "root"), &root);
  if (!root_ok) problem("tree_head.root is not 64 hexadecimal digits");
  std::string pub, sig;
  if (!FromBase64(str(b, "public_key"), &pub) || pub.size() != 32) {
    problem("public_key is not a base64 Ed25519 key of 32 bytes");
  } else if (ToHex(ledger::merkle::Sha256(pub)) != str(head, "key_id")) {
    problem("tree_head.key_id is not the SHA-256 of public_key");
  }
  bool signature_ok = false;
  if (!FromBase64(str(head, "signature"), &sig)) {
    problem("tree_head.signature is not base64");
  } else if (pub.size() == 32 && root_ok) {
    signature_ok = ledger::Signer::Verify(pub, ledger::TreeHeadMessage(size, root), sig);
    if (!signature_ok) problem("the tree head signature does not verify with public_key");
  }
  uint64_t checked = 0, expect_version = 1, last_seq = 0;
  const auto& events =
      b.contains("events") && b["events"].is_array() ? b["events"] : nlohmann::json::array();
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& ev = events[i];
    std::string where = "events[" + std::to_string(i) + "]";
    std::string bytes;
    if (!FromBase64(str(ev, "leaf"), &bytes)) {
      problem(where + ".leaf is not base64");
      continue;
    }
    ledger::EventView view(bytes);
    if (!view.ok()) {
      problem(where + " does not decode: " + view.error());
      continue;
    }
    auto e = view.event();
    uint64_t seq = e.getSeq();
    if (ev.contains("seq") && ev["seq"] != seq)
      problem(where + ".seq does not match the event's own");
    if (std::string(e.getStream().cStr()) != stream)
      problem(where + " belongs to " + e.getStream().cStr());
    if (e.getVersion() != expect_version) {
      problem(where + " is version " + std::to_string(e.getVersion()) +
              " of the stream; expected " + std::to_string(expect_version) +
              " (an event is missing or out of order)");
    }
    expect_version = e.getVersion() + 1;
    if (seq <= last_seq) problem(where + " is not after the event before it");
    last_seq = seq;
    std::vector<Hash> path;
    bool path_ok = ev.contains("path") && ev["path"].is_array();
    for (const auto& h : path_ok ? ev["path"] : nlohmann::json::array()) {
      Hash x;
      if (!h.is_string() || !FromHex(h.get<std::string>(), &x)) path_ok = false;
      path.push_back(x);
    }
    if (!path_ok || seq == 0 ||
        !ledger::merkle::VerifyInclusion(ledger::merkle::LeafHash(bytes), seq - 1, size, path,
                                         root)) {
      problem(where + " (event " + std::to_string(seq) + ") is not in the signed tree");
      continue;
    }
    ++checked;
  }
  if (events.empty()) problem("the bundle holds no events");
  bool schema_ok = b.contains("schema") && b["schema"].is_object() &&
                   b["schema"].contains("workflow/ocop.capnp");
  if (!schema_ok) problem("the bundle carries no schema");
  *report = json{{"ok", problems.empty()},
                 {"product", product},
                 {"events", events.size()},
                 {"proved", checked},
                 {"tree_size", size},
                 {"root", str(head, "root")},
                 {"signature_ok", signature_ok},
                 {"problems", problems}};
  if (!problems.empty()) {
    return Status::Tampered("the bundle of '" + product +
                            "' fails verification: " + problems[0].get<std::string>());
  }
  return Status::OK();
}

}  // namespace ocop::replay
