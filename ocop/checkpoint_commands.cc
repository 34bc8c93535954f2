#include "ocop/checkpoint_commands.h"

#include <openssl/rand.h>

#include <ctime>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/durable_file.h"
#include "ledger/stream_heads.h"
#include "ledger/witness.h"
#include "ocop/open_ledger.h"

namespace ocop::cli {
namespace {

using json = nlohmann::ordered_json;
namespace note = ledger::note;

// A note from a file, or from standard input for "-".
Status ReadNote(const std::string& path, std::string* text) {
  if (path == "-") {
    text->assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return Status::OK();
  }
  Status s = ledger::ReadWholeFile(path, text);
  return s.IsNotFound() ? Status::InvalidArgument(s.message()) : s;
}

// `ocop consistency`'s JSON: {"from":M,"to":N,"path":[HEX...]}.
Status ReadProof(const std::string& path, ledger::ConsistencyProof* out) {
  std::string text;
  Status s = ledger::ReadWholeFile(path, &text);
  if (!s.ok()) return s.IsNotFound() ? Status::InvalidArgument(s.message()) : s;
  const auto garbled = [&](const std::string& why) {
    return Status::InvalidArgument("the consistency proof " + path + " is garbled: " + why +
                                   " (expected `ocop consistency`'s JSON "
                                   "{\"from\":M,\"to\":N,\"path\":[HEX,...]})");
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return garbled("it is not a JSON object");
  if (!j.contains("from") || !j["from"].is_number_unsigned() || !j.contains("to") ||
      !j["to"].is_number_unsigned()) {
    return garbled("\"from\" and \"to\" must be tree sizes");
  }
  if (!j.contains("path") || !j["path"].is_array()) return garbled("\"path\" must be an array");
  ledger::ConsistencyProof p;
  p.from = j["from"].get<uint64_t>();
  p.to = j["to"].get<uint64_t>();
  for (const auto& h : j["path"]) {
    ledger::merkle::Hash hash;
    if (!h.is_string() || !ledger::merkle::FromHex(h.get<std::string>(), &hash)) {
      return garbled("every element of \"path\" must be 64 hexadecimal digits");
    }
    p.path.push_back(hash);
  }
  *out = std::move(p);
  return Status::OK();
}

int RunCheckpoint(const GlobalOptions& g, const CLI::Option* size_opt, uint64_t size) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  if (!s.ok()) return Fail("checkpoint", s);
  std::string origin;
  s = LedgerOrigin(g, *l, &origin);
  std::unique_ptr<ledger::StreamHeads> heads;
  if (s.ok()) s = ledger::StreamHeads::Open(l.get(), &heads);
  ledger::Checkpoint c;
  std::string note;
  if (s.ok()) {
    s = ledger::SignedCheckpoint(l.get(), heads.get(), origin, size_opt->count() ? size : l->Size(),
                                 ledger::HeadKind::kCheckpoint, &c, &note);
  }
  if (!s.ok()) return Fail("checkpoint", s);
  std::cout << note << std::flush;
  return 0;
}

int RunWitnessKey(const std::string& out, const std::string& name) {
  std::string seed(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), 32) != 1) {
    return Fail("witness key", Status::IOError("the system's random source failed"));
  }
  ledger::WitnessKey key;
  Status s = ledger::CreateWitnessKey(out, name, seed, &key);
  if (!s.ok()) return Fail("witness key", s);
  std::cout << note::FormatVerifierKey(key.verifier) << std::endl;
  std::cerr << "ocop witness key: wrote " << out << " (keep it private); its verifier key is "
            << "on stdout\n";
  return 0;
}

struct CosignArgs {
  std::string state, key, log_vkey, checkpoint, proof;
  uint64_t time = 0;
  const CLI::Option* time_opt = nullptr;
};

int RunWitnessCosign(const CosignArgs& a) {
  const char* cmd = "witness cosign";
  // The edge: the only place the witness's time comes from.
  const uint64_t now = a.time_opt->count() ? a.time : static_cast<uint64_t>(std::time(nullptr));
  if (now == 0 || now > note::kMaxTimestamp) {
    return Fail(cmd, Status::InvalidArgument("--time must be seconds since 1970, not 0"));
  }
  note::VerifierKey log_key;
  Status s = note::ParseVerifierKey(a.log_vkey, &log_key);
  if (!s.ok()) return Fail(cmd, Status::InvalidArgument("--log-vkey: " + s.message()));
  if (log_key.type != note::kEd25519) {
    return Fail(cmd, Status::InvalidArgument("--log-vkey must be a log's Ed25519 key (type 0x01)"));
  }
  ledger::WitnessKey key;
  s = ledger::LoadWitnessKey(a.key, &key);
  if (!s.ok()) return Fail(cmd, s);
  std::optional<ledger::ConsistencyProof> proof;
  if (!a.proof.empty()) {
    proof.emplace();
    s = ReadProof(a.proof, &*proof);
    if (!s.ok()) return Fail(cmd, s);
  }
  std::string message;
  s = ReadNote(a.checkpoint, &message);
  ledger::Checkpoint cp;
  note::Note n;
  if (s.ok()) s = ledger::OpenCheckpoint(message, log_key, &cp, &n);
  if (!s.ok()) return Fail(cmd, s);

  std::unique_ptr<ledger::WitnessStore> store;
  s = ledger::WitnessStore::Open(a.state, &store);
  std::optional<ledger::WitnessRecord> last;
  if (s.ok()) s = store->Load(cp.origin, &last);
  if (s.ok()) s = ledger::CheckAppendOnly(last, log_key, cp, proof);
  if (!s.ok()) return Fail(cmd, s);

  // Keep the log's own signature only: the record is the log's statement.
  note::Note logs_note{n.text, {}};
  for (const auto& sig : n.signatures) {
    if (sig.name == log_key.name && sig.key_id == log_key.key_id)
      logs_note.signatures.push_back(sig);
  }
  s = store->Store(ledger::WitnessRecord{log_key, cp, note::FormatNote(logs_note)});
  if (!s.ok()) return Fail(cmd, s);
  note::Note cosigned = note::AddSignature(n, note::Cosign(*key.signer, key.name, now, n.text));
  std::cout << note::FormatNote(cosigned) << std::flush;
  return 0;
}

int RunWitnessVerify(const std::string& log_vkey, const std::vector<std::string>& witness_vkeys,
                     const std::string& checkpoint, size_t quorum) {
  const char* cmd = "witness verify";
  note::VerifierKey log_key;
  Status s = note::ParseVerifierKey(log_vkey, &log_key);
  if (!s.ok()) return Fail(cmd, Status::InvalidArgument("--log-vkey: " + s.message()));
  std::vector<note::VerifierKey> witnesses;
  for (const auto& w : witness_vkeys) {
    witnesses.emplace_back();
    s = note::ParseVerifierKey(w, &witnesses.back());
    if (!s.ok()) return Fail(cmd, Status::InvalidArgument("--witness-vkey: " + s.message()));
  }
  std::string message;
  s = ReadNote(checkpoint, &message);
  ledger::CosignedCheckpoint c;
  if (s.ok()) s = ledger::VerifyCosigned(message, log_key, witnesses, quorum, &c);
  if (!s.ok()) {
    std::cout << json{{"ok", false}, {"problem", s.message()}}.dump() << std::endl;
    return Fail(cmd, s);
  }
  json cosigners = json::array();
  for (const auto& v : c.cosigners) {
    cosigners.push_back({{"name", v.key.name}, {"timestamp", v.timestamp}});
  }
  std::cout << json{{"ok", true},
                    {"origin", c.checkpoint.origin},
                    {"size", c.checkpoint.size},
                    {"root", ledger::merkle::ToHex(c.checkpoint.root)},
                    {"cosigned_by", cosigners}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace

void AddCheckpointCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto* checkpoint = app.add_subcommand(
      "checkpoint",
      "Print the C2SP checkpoint (c2sp.org/tlog-checkpoint) of the first N events as a signed "
      "note, signed with the ledger's key");
  auto size = std::make_shared<uint64_t>(0);
  auto* size_opt = checkpoint->add_option("--size", *size, "Tree size (default: all events)");
  checkpoint->callback([&global, selected, size, size_opt] {
    *selected = [&global, size, size_opt] { return RunCheckpoint(global, size_opt, *size); };
  });

  auto* witness = app.add_subcommand(
      "witness", "Act as a witness of logs: cosign checkpoints that extend the last one cosigned");
  witness->require_subcommand(1);

  auto* key = witness->add_subcommand(
      "key", "Make a witness key (file mode 0600) and print its verifier key");
  auto key_out = std::make_shared<std::string>();
  auto key_name = std::make_shared<std::string>();
  key->add_option("--out", *key_out, "Where to write the key (never overwritten)")->required();
  key->add_option("--name", *key_name,
                  "The witness's name, e.g. witness.camau.gov.vn (default: from the key)");
  key->callback([selected, key_out, key_name] {
    *selected = [key_out, key_name] { return RunWitnessKey(*key_out, *key_name); };
  });

  auto* cosign = witness->add_subcommand(
      "cosign",
      "Check a checkpoint against the last one this witness cosigned for its log, keep it and "
      "print it with the witness's cosignature; exit 1 if it is older or a fork");
  auto ca = std::make_shared<CosignArgs>();
  cosign->add_option("--state", ca->state, "The witness's state directory")->required();
  cosign->add_option("--key", ca->key, "The witness's key file (from `ocop witness key`)")
      ->required();
  cosign->add_option("--log-vkey", ca->log_vkey, "The log's verifier key (ocop public-key --vkey)")
      ->required();
  cosign->add_option("--checkpoint", ca->checkpoint, "The log's signed checkpoint: a file, or -")
      ->required();
  cosign->add_option("--proof", ca->proof,
                     "Consistency proof from the last cosigned size (ocop consistency's JSON)");
  ca->time_opt = cosign->add_option("--time", ca->time,
                                    "The cosignature's time, seconds since 1970 (default: now)");
  cosign->callback([selected, ca] { *selected = [ca] { return RunWitnessCosign(*ca); }; });

  auto* verify = witness->add_subcommand(
      "verify", "Check a cosigned checkpoint: the log's signature and a quorum of witnesses");
  auto vlog = std::make_shared<std::string>();
  auto vwit = std::make_shared<std::vector<std::string>>();
  auto vcp = std::make_shared<std::string>();
  auto vquorum = std::make_shared<size_t>(1);
  verify->add_option("--log-vkey", *vlog, "The log's verifier key")->required();
  verify->add_option("--witness-vkey", *vwit, "A trusted witness's verifier key (repeatable)");
  verify->add_option("--checkpoint", *vcp, "The cosigned checkpoint: a file, or -")->required();
  verify->add_option("--quorum", *vquorum, "How many trusted witnesses must have cosigned")
      ->capture_default_str();
  verify->callback([selected, vlog, vwit, vcp, vquorum] {
    *selected = [vlog, vwit, vcp, vquorum] {
      return RunWitnessVerify(*vlog, *vwit, *vcp, *vquorum);
    };
  });
}

}  // namespace ocop::cli
