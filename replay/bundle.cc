#include "replay/bundle.h"

#include "ledger/encoding.h"
#include "ledger/event_view.h"
#include "ledger/signer.h"
#include "replay/history.h"
#include "replay/proof_check.h"
#include "replay/schema_event.h"
#include "workflow/decide.h"
#include "workflow/stream_fold.h"

namespace ocop::replay {

using json = nlohmann::ordered_json;
using ledger::merkle::FromHex;
using ledger::merkle::Hash;
using ledger::merkle::ToHex;

namespace {

Status ProvedEvent(ledger::Ledger* ledger, uint64_t seq, uint64_t size, const std::string& bytes,
                   json* out) {
  ledger::InclusionProof p;
  Status s = ledger->Inclusion(seq, size, &p);
  if (!s.ok()) return s;
  json path = json::array();
  for (const auto& h : p.path) path.push_back(ToHex(h));
  *out = json{{"seq", seq}, {"leaf", Base64(bytes)}, {"path", path}};
  return Status::OK();
}

}  // namespace

Status MakeBundle(ledger::Ledger* ledger, ledger::StreamHeads* heads, const std::string& origin,
                  const std::string& product, json* out) {
  workflow::StreamFold fold;
  const std::string stream = workflow::ProductStream(product);
  // The size first, then the stream's events up to it: an event appended
  // meanwhile is neither in the bundle nor under its head (read the other way
  // round, it would be under the head and missing from the bundle).
  uint64_t version = 0;
  Status s = ledger->StreamVersion(stream, &version);
  if (!s.ok()) return s;
  if (version == 0) return Status::NotFound("no product '" + product + "'");
  ledger::Checkpoint c;
  std::string note;
  s = ledger::SignedCheckpoint(ledger, heads, origin, ledger->Size(), ledger::HeadKind::kTreeHead,
                               &c, &note);
  if (s.ok()) s = workflow::LoadStream(ledger, stream, &fold, c.size);
  if (!s.ok()) return s;
  if (fold.events.empty()) return Status::NotFound("no product '" + product + "'");
  ledger::SignedTreeHead head;
  s = ledger->TreeHead(c.size, &head);
  if (!s.ok()) return s;
  json events = json::array();
  for (const std::string& bytes : fold.events) {
    ledger::EventView v(bytes);
    json ev;
    s = ProvedEvent(ledger, v.event().getSeq(), head.size, bytes, &ev);
    if (!s.ok()) return s;
    events.push_back(std::move(ev));
  }
  Hash map_root;
  ledger::HeadProof stream_head, schema_head;
  s = heads->Prove(head.size, stream, &map_root, &stream_head);
  if (s.ok()) s = heads->Prove(head.size, kSchemaStream, &map_root, &schema_head);
  if (!s.ok()) return s;
  json schema_event;
  if (schema_head.end == ledger::HeadProof::End::kHead) {
    std::string bytes;
    s = ledger->Get(schema_head.head.seq, &bytes);
    if (s.ok()) s = ProvedEvent(ledger, schema_head.head.seq, head.size, bytes, &schema_event);
    if (!s.ok()) return s;
    schema_event["stream_head"] = HeadProofJson(kSchemaStream, schema_head);
  }
  *out = json{{"format", kBundleFormat},
              {"product", product},
              {"stream", stream},
              {"tree_head",
               {{"size", head.size},
                {"root", ToHex(head.root)},
                {"signature", Base64(head.signature)},
                {"key_id", head.key_id_hex}}},
              {"public_key", Base64(ledger->signer().public_key())},
              {"public_key_pem", ledger->signer().PublicKeyPem()},
              {"signed_message",
               "\"OCOP-TREE-HEAD-V1\" || 0x00 || size (8 bytes big-endian) || root (32 bytes)"},
              {"checkpoint", note},
              {"log_vkey",
               ledger::note::FormatVerifierKey(ledger::LogVerifierKey(origin, ledger->signer()))},
              {"stream_head", HeadProofJson(stream, stream_head)},
              {"events", events},
              {"schema", ProgramSchema()},
              {"schema_event", schema_event}};
  json producer = SealedProducer(ledger, fold, head.size);
  if (!producer.is_null()) (*out)["producer"] = std::move(producer);
  return Status::OK();
}

Status VerifyBundle(const nlohmann::json& b, json* report) {
  json problems = json::array();
  auto problem = [&](std::string what) { problems.push_back(std::move(what)); };
  auto str = [&](const nlohmann::json& j, const char* key) -> std::string {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
  };
  if (!b.is_object() || str(b, "format") != kBundleFormat) {
    return Status::InvalidArgument(std::string("not a bundle: 'format' must be ") + kBundleFormat +
                                   (b.is_object() && str(b, "format") == "ocop-bundle-1"
                                        ? " (an ocop-bundle-1 bundle cannot show that it is "
                                          "complete; ask for a new bundle)"
                                        : ""));
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
  // The checkpoint: the same tree, and the stream heads it commits to.
  CheckedCheckpoint cp;
  Status s = CheckCheckpoint(str(b, "log_vkey"), str(b, "checkpoint"), pub, &cp);
  bool heads_ok = s.ok();
  if (!s.ok()) {
    problem(s.message());
  } else if (cp.checkpoint.size != size || cp.checkpoint.root != root) {
    heads_ok = false;
    problem("the checkpoint is of another tree (size " + std::to_string(cp.checkpoint.size) +
            ") than tree_head (size " + std::to_string(size) + ")");
  }
  ledger::StreamHead last{};
  if (heads_ok) {
    s = CheckStreamHead(b.contains("stream_head") ? b["stream_head"] : nlohmann::json(), stream,
                        cp.map_root, &last);
    if (!s.ok()) {
      heads_ok = false;
      problem(s.message());
    }
  }
  const auto& events =
      b.contains("events") && b["events"].is_array() ? b["events"] : nlohmann::json::array();
  std::optional<ledger::StreamHead> proved_head;
  if (heads_ok) proved_head = last;
  std::vector<std::string> leaves;
  uint64_t checked = 0;
  CheckStreamEvents(events, stream, size, root, proved_head, &problems, &leaves, &checked);
  bool schema_ok = false;
  if (heads_ok) {
    s = CheckSchema(b.contains("schema") ? b["schema"] : nlohmann::json(),
                    b.contains("schema_event") ? b["schema_event"] : nlohmann::json(), size, root,
                    cp.map_root);
    schema_ok = s.ok();
    if (!s.ok()) problem(s.message());
  }
  *report = json{{"ok", problems.empty()},
                 {"product", product},
                 {"events", events.size()},
                 {"proved", checked},
                 {"complete", heads_ok && problems.empty()},
                 {"schema_bound", schema_ok},
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
