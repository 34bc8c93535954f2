#include "ocop/key_commands.h"

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ledger/checkpoint.h"
#include "ledger/encoding.h"
#include "ledger/key_history.h"
#include "ledger/note.h"
#include "ocop/open_ledger.h"

namespace ocop::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

json KeyJson(const std::string& origin, const std::string& key_id, const std::string& pub) {
  return {{"key_id", key_id},
          {"public_key", Base64(pub)},
          {"vkey", ledger::note::FormatVerifierKey(
                       ledger::note::MakeVerifierKey(origin, /*Ed25519*/ 0x01, pub))}};
}

// Lists the current key and every retired one, each handover checked: key i
// must have signed the rotation to key i+1 (the last to the current key).
int RunKeyList(const GlobalOptions& g) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  std::string origin;
  if (s.ok()) s = LedgerOrigin(g, *l, &origin);
  std::vector<ledger::RetiredKey> retired;
  if (s.ok()) s = ledger::LoadKeyHistory(l->dir(), &retired);
  if (!s.ok()) return Fail("key list", s);
  json out = {{"origin", origin},
              {"current", KeyJson(origin, l->signer().key_id_hex(), l->signer().public_key())},
              {"retired", json::array()}};
  bool intact = true;
  for (size_t i = 0; i < retired.size(); ++i) {
    const auto& k = retired[i];
    const std::string& next =
        i + 1 < retired.size() ? retired[i + 1].public_key : l->signer().public_key();
    bool ok = ledger::Signer::Verify(
        k.public_key, ledger::RotationMessage(k.last_size, k.last_root, next), k.handover);
    intact = intact && ok;
    json j = KeyJson(origin, k.key_id_hex, k.public_key);
    j["last_size"] = k.last_size;
    j["last_root"] = ledger::merkle::ToHex(k.last_root);
    j["handover_verified"] = ok;
    out["retired"].push_back(j);
  }
  std::cout << out.dump() << std::endl;
  if (!intact) {
    std::cerr << "ocop key list: a handover signature does not verify: " << l->dir()
              << "/key-history does not chain to the current key\n";
    return 1;
  }
  return 0;
}

// Retires the current key: signs the handover to a new key at the current
// head, records the old public key, and puts the new key in place. Needs the
// directory to itself (stop `ocop serve` first): the server signs with the
// key it loaded.
int RunKeyRotate(const GlobalOptions& g) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  if (s.ok()) {
    s = RequireSoleOwner(g, *l, "which signs with the key it loaded", "rotate, and start it again");
  }
  if (!s.ok()) return Fail("key rotate", s);
  ledger::SignedTreeHead head;
  s = l->TreeHead(l->Size(), &head);
  if (!s.ok()) return Fail("key rotate", s);
  const fs::path key_path = fs::path(l->dir()) / "signing-key.pem";
  const std::string next_path = key_path.string() + ".next";
  fs::remove(next_path);
  std::unique_ptr<ledger::Signer> next;
  s = ledger::Signer::Open(next_path, /*create=*/true, &next);
  if (!s.ok()) return Fail("key rotate", s);
  ledger::RetiredKey old;
  old.key_id_hex = l->signer().key_id_hex();
  old.public_key = l->signer().public_key();
  old.last_size = head.size;
  old.last_root = head.root;
  old.handover =
      l->signer().Sign(ledger::RotationMessage(head.size, head.root, next->public_key()));
  // The history first: a crash before the rename leaves the old key current
  // and listed as retired, which `key list` reports and a second rotation
  // mends; never a new key whose predecessor is forgotten.
  s = ledger::AppendKeyHistory(l->dir(), old);
  if (!s.ok()) return Fail("key rotate", s);
  std::error_code ec;
  fs::rename(next_path, key_path, ec);
  if (ec)
    return Fail("key rotate", Status::IOError("cannot put the new key in place: " + ec.message()));
  std::string origin;
  s = LedgerOrigin(g, *l, &origin);
  if (!s.ok()) return Fail("key rotate", s);
  json out = {{"retired", KeyJson(origin, old.key_id_hex, old.public_key)},
              {"current", KeyJson(origin, next->key_id_hex(), next->public_key())},
              {"at", {{"size", head.size}, {"root", ledger::merkle::ToHex(head.root)}}}};
  std::cout << out.dump() << std::endl;
  std::cerr << "ocop key rotate: key " << old.key_id_hex.substr(0, 16) << "… retired at size "
            << head.size << "; publish the new verifier key " << out["current"]["vkey"]
            << " beside the old one\n";
  return 0;
}

}  // namespace

void AddKeyCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto* key = app.add_subcommand("key", "The ledger's signing key: rotate it, list its history");
  key->require_subcommand(1);
  auto* rotate = key->add_subcommand(
      "rotate",
      "Retire the signing key: the old key signs the handover to a new one at the current head; "
      "its public half is kept in DATA/key-history so what it signed keeps verifying");
  rotate->callback([&global, selected] { *selected = [&global] { return RunKeyRotate(global); }; });
  auto* list = key->add_subcommand(
      "list", "The current and retired keys with their verifier keys; exit 1 if a handover fails");
  list->callback([&global, selected] { *selected = [&global] { return RunKeyList(global); }; });
}

}  // namespace ocop::cli
