#include "replay/receipt.h"

#include "ledger/encoding.h"
#include "ledger/event_view.h"
#include "projections/status_json.h"
#include "replay/proof_check.h"
#include "workflow/decide.h"
#include "workflow/stream_fold.h"

namespace ocop::replay {

using json = nlohmann::ordered_json;
using ledger::merkle::ToHex;

namespace {

// The public part of a product's status: no producer, no person.
json PublicStatus(const workflow::ProductState& p, workflow::Date as_of) {
  json all = projections::StatusJson(p, as_of);
  json out = json::object();
  for (const char* k :
       {"product", "name", "group_name", "stage", "stars", "certificate_state", "certificate"}) {
    if (all.contains(k)) out[k] = all[k];
  }
  return out;
}

json StatusOf(const std::vector<std::string>& leaves, workflow::Date as_of) {
  workflow::StreamFold fold;
  fold.events = leaves;
  fold.version = leaves.size();
  for (const std::string& bytes : leaves) {
    ledger::EventView v(bytes);
    if (!v.ok()) continue;
    auto e = v.As<workflow::schema::OcopEvent>();
    if (e.getPayload().isEventAnnulled()) {
      fold.annulled.insert(e.getPayload().getEventAnnulled().getTargetSeq());
    }
  }
  workflow::ProductState state;
  fold.Fold(&state);
  return PublicStatus(state, as_of);
}

}  // namespace

Status MakeReceipt(ledger::Ledger* ledger, ledger::StreamHeads* heads, const std::string& origin,
                   const std::string& product, workflow::Date as_of,
                   const std::string& checkpoint_note, json* out) {
  std::string note = checkpoint_note;
  ledger::Checkpoint c;
  Status s;
  if (note.empty()) {
    s = ledger::SignedCheckpoint(ledger, heads, origin, ledger->Size(),
                                 ledger::HeadKind::kCheckpoint, &c, &note);
  } else {
    s = ledger::OpenCheckpoint(note, ledger::LogVerifierKey(origin, ledger->signer()), &c);
  }
  if (!s.ok()) return s;
  const std::string stream = workflow::ProductStream(product);
  workflow::StreamFold fold;
  s = workflow::LoadStream(ledger, stream, &fold, c.size);
  if (!s.ok()) return s;
  if (fold.events.empty()) return Status::NotFound("no product '" + product + "'");
  json events = json::array();
  for (const std::string& bytes : fold.events) {
    ledger::EventView v(bytes);
    ledger::InclusionProof p;
    s = ledger->Inclusion(v.event().getSeq(), c.size, &p);
    if (!s.ok()) return s;
    json path = json::array();
    for (const auto& h : p.path) path.push_back(ToHex(h));
    events.push_back(json{{"seq", v.event().getSeq()}, {"leaf", Base64(bytes)}, {"path", path}});
  }
  ledger::merkle::Hash map_root;
  ledger::HeadProof head;
  s = heads->Prove(c.size, stream, &map_root, &head);
  if (!s.ok()) return s;
  *out = json{{"format", kReceiptFormat},
              {"product", product},
              {"as_of", workflow::FormatDate(as_of)},
              {"status", StatusOf(fold.events, as_of)},
              {"checkpoint", note},
              {"log_vkey",
               ledger::note::FormatVerifierKey(ledger::LogVerifierKey(origin, ledger->signer()))},
              {"public_key", Base64(ledger->signer().public_key())},
              {"stream_head", HeadProofJson(stream, head)},
              {"events", events}};
  return Status::OK();
}

Status VerifyReceipt(const nlohmann::json& r, const std::string& log_vkey,
                     const std::vector<ledger::note::VerifierKey>& witnesses, json* report) {
  const auto str = [&](const char* k) {
    return r.contains(k) && r[k].is_string() ? r[k].get<std::string>() : std::string();
  };
  if (!r.is_object() || str("format") != kReceiptFormat) {
    return Status::InvalidArgument(std::string("not a receipt: 'format' must be ") +
                                   kReceiptFormat);
  }
  json problems = json::array();
  const std::string product = str("product");
  const std::string stream = workflow::ProductStream(product);
  std::string pub;
  if (!FromBase64(str("public_key"), &pub)) problems.push_back("public_key is not base64");
  if (!log_vkey.empty() && log_vkey != str("log_vkey")) {
    problems.push_back("the receipt is signed by another log (" + str("log_vkey") +
                       ") than the one trusted here (" + log_vkey + ")");
  }
  CheckedCheckpoint cp;
  Status s = CheckCheckpoint(str("log_vkey"), str("checkpoint"), pub, &cp, witnesses);
  std::vector<std::string> leaves;
  uint64_t proved = 0;
  json cosigned = json::array();
  if (!s.ok()) {
    problems.push_back(s.message());
  } else {
    ledger::StreamHead head;
    s = CheckStreamHead(r.contains("stream_head") ? r["stream_head"] : nlohmann::json(), stream,
                        cp.map_root, &head);
    if (!s.ok()) problems.push_back(s.message());
    CheckStreamEvents(r.contains("events") ? r["events"] : nlohmann::json::array(), stream,
                      cp.checkpoint.size, cp.checkpoint.root,
                      s.ok() ? std::optional<ledger::StreamHead>(head) : std::nullopt, &problems,
                      &leaves, &proved);
    for (const auto& v : cp.cosigners) {
      cosigned.push_back({{"name", v.key.name}, {"timestamp", v.timestamp}});
    }
  }
  workflow::Date as_of;
  json derived;
  if (!workflow::ParseDate(str("as_of"), &as_of)) {
    problems.push_back("as_of is not a date (YYYY-MM-DD)");
  } else if (problems.empty()) {
    derived = StatusOf(leaves, as_of);
    // Compared as values: key order is not part of what is shown.
    const nlohmann::json shown = r.contains("status") ? r["status"] : nlohmann::json();
    if (nlohmann::json::parse(derived.dump()) != shown) {
      problems.push_back("the status shown " + shown.dump() +
                         " is not what the events say: " + derived.dump());
    }
  }
  if (!witnesses.empty() && cosigned.empty() && problems.empty()) {
    problems.push_back("no witness trusted here cosigned the checkpoint");
  }
  *report = json{{"ok", problems.empty()},
                 {"product", product},
                 {"as_of", str("as_of")},
                 {"status", problems.empty() ? derived : json(nullptr)},
                 {"tree_size", s.ok() || proved ? cp.checkpoint.size : 0},
                 {"events", proved},
                 {"cosigned_by", cosigned},
                 {"problems", problems}};
  if (!problems.empty()) {
    return Status::Tampered("the receipt of '" + product +
                            "' fails verification: " + problems[0].get<std::string>());
  }
  return Status::OK();
}

}  // namespace ocop::replay
