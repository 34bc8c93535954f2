#include "ocop/ledger_commands.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "ledger/checkpoint.h"
#include "ledger/encoding.h"
#include "ledger/event.capnp.h"
#include "ledger/event_view.h"
#include "ledger/key_history.h"
#include "ledger/ledger.h"
#include "ledger/stream_heads.h"
#include "ocop/open_ledger.h"

namespace ocop::cli {
namespace {

using json = nlohmann::ordered_json;
using ledger::merkle::ToHex;

// Reports a failed status the way every subcommand does: the message on
// stderr, the exit code from its kind.
json TreeHeadJson(const ledger::SignedTreeHead& h) {
  return json{{"size", h.size},
              {"root", ToHex(h.root)},
              {"signature", Base64(h.signature)},
              {"key_id", h.key_id_hex}};
}

json HashesJson(const std::vector<ledger::merkle::Hash>& path) {
  json a = json::array();
  for (const auto& h : path) a.push_back(ToHex(h));
  return a;
}

void Print(const json& j) { std::cout << j.dump() << std::endl; }

int RunVerify(GlobalOptions g) {
  g.verifying = true;
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  if (!s.ok()) return Fail("verify", s);
  ledger::VerifyResult r;
  auto start = std::chrono::steady_clock::now();
  s = l->Verify(&r, [&](uint64_t done) {
    std::cerr << "\rverified " << done << " of " << l->Size() << " events" << std::flush;
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "\n";
  if (s.IsTampered()) {
    Print(json{{"ok", false},
               {"first_bad_seq", r.first_bad_seq},
               {"problem", r.problem},
               {"checked", r.checked}});
    return Fail("verify", s);
  }
  if (!s.ok()) return Fail("verify", s);
  // The stream-heads map as persisted and as last signed, against a fresh
  // fold of the log (ledger/stream_heads.h's AuditStreamHeads).
  std::string origin;
  std::vector<ledger::RetiredKey> retired;
  s = LedgerOrigin(g, *l, &origin);
  if (s.ok()) s = ledger::LoadKeyHistory(l->dir(), &retired);
  if (!s.ok()) return Fail("verify", s);
  std::vector<ledger::note::VerifierKey> keys{ledger::LogVerifierKey(origin, l->signer())};
  for (const auto& k : retired) {
    keys.push_back(ledger::note::MakeVerifierKey(origin, ledger::note::kEd25519, k.public_key));
  }
  ledger::StreamHeadsAudit audit;
  s = ledger::AuditStreamHeads(l.get(), keys, &audit);
  if (s.IsTampered()) {
    Print(json{{"ok", false}, {"checked", r.checked}, {"problem", s.message()}});
    return Fail("verify", s);
  }
  if (!s.ok()) return Fail("verify", s);
  json heads = json::object();
  heads["file_size"] = audit.file ? json(audit.file_size) : json(nullptr);
  heads["checkpoint_size"] = audit.checkpoint ? json(audit.checkpoint_size) : json(nullptr);
  Print(
      json{{"ok", true}, {"checked", r.checked}, {"root", ToHex(r.root)}, {"stream_heads", heads}});
  secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "ocop verify: " << r.checked << " events intact, stream heads "
            << (audit.file || audit.checkpoint ? "agree with the log" : "not persisted") << " ("
            << secs << " s)\n";
  return 0;
}

int RunTreeHead(const GlobalOptions& g, const CLI::Option* size_opt, uint64_t size) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  if (!s.ok()) return Fail("tree-head", s);
  ledger::SignedTreeHead h;
  s = l->TreeHead(size_opt->count() ? size : l->Size(), &h);
  if (!s.ok()) return Fail("tree-head", s);
  Print(TreeHeadJson(h));
  return 0;
}

int RunProof(const GlobalOptions& g, uint64_t seq, const CLI::Option* size_opt, uint64_t size) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  if (!s.ok()) return Fail("proof", s);
  ledger::InclusionProof p;
  s = l->Inclusion(seq, size_opt->count() ? size : l->Size(), &p);
  if (!s.ok()) return Fail("proof", s);
  Print(json{{"seq", p.seq},
             {"index", p.seq - 1},
             {"size", p.size},
             {"leaf", Base64(p.leaf)},
             {"leaf_hash", ToHex(p.leaf_hash)},
             {"path", HashesJson(p.path)},
             {"root", ToHex(p.root)}});
  return 0;
}

int RunConsistency(const GlobalOptions& g, uint64_t from, uint64_t to) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  if (!s.ok()) return Fail("consistency", s);
  std::vector<ledger::merkle::Hash> path;
  s = l->Consistency(from, to, &path);
  if (!s.ok()) return Fail("consistency", s);
  Print(json{{"from", from}, {"to", to}, {"path", HashesJson(path)}});
  return 0;
}

int RunPublicKey(const GlobalOptions& g, bool vkey) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  if (!s.ok()) return Fail("public-key", s);
  if (vkey) {  // c2sp.org/signed-note's verifier key, named by the log's origin
    std::string origin;
    s = LedgerOrigin(g, *l, &origin);
    if (!s.ok()) return Fail("public-key", s);
    std::cout << ledger::note::FormatVerifierKey(ledger::LogVerifierKey(origin, l->signer()))
              << std::endl;
    return 0;
  }
  Print(json{{"key_id", l->signer().key_id_hex()},
             {"public_key", Base64(l->signer().public_key())},
             {"pem", l->signer().PublicKeyPem()}});
  return 0;
}

// The smoke run: until the OCOP workflow exists, the main job proves the log
// end to end on the default data directory: append, sign a head, verify.
int RunSmoke(const GlobalOptions& g, uint64_t events) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, true, &l);
  if (!s.ok()) return Fail("smoke", s);
  const uint64_t before = l->Size();
  // Its sample events are permanent, as every event is: smoke appends only to
  // an empty data directory or to one holding nothing but its own sample,
  // never to a ledger of real acts. The first foreign event stops the scan
  // (in a real ledger, event 1).
  uint64_t foreign = 0;
  std::string foreign_stream;
  s = l->Scan(1, before, [&](uint64_t seq, std::string_view bytes) {
    ledger::EventView view(bytes);
    std::string stream = view.ok() ? view.event().getStream().cStr() : "";
    if (stream.rfind("smoke/", 0) == 0) return true;
    foreign = seq;
    foreign_stream = stream;
    return false;
  });
  if (!s.ok()) return Fail("smoke", s);
  if (foreign) {
    return Fail("smoke", Status::Refused(g.data_dir + " holds " + std::to_string(before) +
                                         " events that are not smoke's own sample (event " +
                                         std::to_string(foreign) + ", stream '" + foreign_stream +
                                         "'); smoke appends permanent sample events, so it runs "
                                         "only on an empty data directory or its own: give "
                                         "--data with a new directory"));
  }
  // The payload is an ordinary Cap'n Proto message; an Actor struct stands in
  // for a domain event until the workflow publishes its schema.
  capnp::MallocMessageBuilder payload_msg;
  auto who = payload_msg.initRoot<ledger::schema::Actor>();
  who.setPrincipal("smoke");
  who.setRole("officer");
  who.setUnit("VN-CM");
  auto flat = capnp::messageToFlatArray(payload_msg);
  std::string payload(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size());

  const uint64_t kBatch = 100;
  for (uint64_t done = 0; done < events;) {
    ledger::AppendRequest req;
    uint64_t n = std::min(kBatch, events - done);
    for (uint64_t i = 0; i < n; ++i) {
      ledger::NewEvent e;
      e.stream = "smoke/" + std::to_string((before + done + i) % 10);
      e.type = "SmokeRecorded";
      e.effective = "2026-01-01";
      e.actor = {"smoke", "officer", "VN-CM"};
      e.payload = payload;
      req.events.push_back(std::move(e));
    }
    ledger::AppendResult res;
    s = l->Append(req, &res);
    if (!s.ok()) return Fail("smoke", s);
    done += n;
  }
  std::cerr << "ocop smoke: appended " << events << " events to " << g.data_dir << " (now "
            << l->Size() << ")\n";
  ledger::SignedTreeHead head;
  s = l->TreeHead(l->Size(), &head);
  if (!s.ok()) return Fail("smoke", s);
  ledger::VerifyResult r;
  s = l->Verify(&r);
  if (!s.ok()) return Fail("smoke", s);
  bool signature_ok = ledger::Signer::Verify(
      l->signer().public_key(), ledger::TreeHeadMessage(head.size, head.root), head.signature);
  bool roots_agree = r.root == head.root;
  Print(json{{"appended", events},
             {"tree_head", TreeHeadJson(head)},
             {"verified", r.checked},
             {"signature_ok", signature_ok},
             {"roots_agree", roots_agree}});
  if (!signature_ok || !roots_agree) {
    std::cerr << "ocop smoke: the signed head and the recomputed tree disagree\n";
    return 1;
  }
  std::cerr << "ocop smoke: tree head signed, " << r.checked << " events verified\n";
  return 0;
}

}  // namespace

void AddLedgerCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto* verify = app.add_subcommand(
      "verify",
      "Re-check every stored event against the hash tree; exit 1 naming the first bad "
      "sequence number");
  verify->callback([&global, selected] { *selected = [&global] { return RunVerify(global); }; });

  auto* tree_head =
      app.add_subcommand("tree-head", "Print the signed tree head of the first N events");
  auto th_size = std::make_shared<uint64_t>(0);
  auto* th_opt = tree_head->add_option("--size", *th_size, "Tree size (default: all events)");
  tree_head->callback([&global, selected, th_size, th_opt] {
    *selected = [&global, th_size, th_opt] { return RunTreeHead(global, th_opt, *th_size); };
  });

  auto* proof = app.add_subcommand("proof", "Inclusion proof of event S in the tree of size N");
  auto p_seq = std::make_shared<uint64_t>(0);
  auto p_size = std::make_shared<uint64_t>(0);
  proof->add_option("--seq", *p_seq, "Sequence number of the event")->required();
  auto* p_size_opt = proof->add_option("--size", *p_size, "Tree size (default: all events)");
  proof->callback([&global, selected, p_seq, p_size, p_size_opt] {
    *selected = [&global, p_seq, p_size, p_size_opt] {
      return RunProof(global, *p_seq, p_size_opt, *p_size);
    };
  });

  auto* consistency =
      app.add_subcommand("consistency", "Consistency proof between tree sizes M and N");
  auto c_from = std::make_shared<uint64_t>(0);
  auto c_to = std::make_shared<uint64_t>(0);
  consistency->add_option("--from", *c_from, "The older tree size M (M >= 1)")->required();
  consistency->add_option("--to", *c_to, "The newer tree size N (N >= M)")->required();
  consistency->callback([&global, selected, c_from, c_to] {
    *selected = [&global, c_from, c_to] { return RunConsistency(global, *c_from, *c_to); };
  });

  auto* public_key =
      app.add_subcommand("public-key", "Print the ledger's Ed25519 public key and its id");
  auto vkey = std::make_shared<bool>(false);
  public_key->add_flag("--vkey", *vkey,
                       "Print the verifier key of its checkpoints instead (c2sp.org/signed-note: "
                       "ORIGIN+KEYID+BASE64)");
  public_key->callback([&global, selected, vkey] {
    *selected = [&global, vkey] { return RunPublicKey(global, *vkey); };
  });

  auto* smoke = app.add_subcommand(
      "smoke", "Append sample events, print the signed tree head and verify the whole log");
  auto s_events = std::make_shared<uint64_t>(1000);
  smoke->add_option("--events", *s_events, "How many sample events to append")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  smoke->callback([&global, selected, s_events] {
    *selected = [&global, s_events] { return RunSmoke(global, *s_events); };
  });
}

}  // namespace ocop::cli
