#include "server/follower.h"

#include "server/http_client.h"

#include <ctime>
#include <optional>

#include "ledger/checkpoint.h"
#include "ledger/witness_protocol.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ledger/durable_file.h"
#include "ledger/encoding.h"
#include "workflow/json.h"

namespace ocop::server {
namespace {

using ledger::merkle::Hash;

// GETs a route of the primary's API and parses its JSON answer, which is
// checked like any input from outside.
Status Get(const Url& u, const std::string& token, const std::string& target, int timeout_s,
           nlohmann::json* out) {
  PeerRequest r;
  r.target = target;
  r.bearer = token;
  r.timeout_s = timeout_s;
  r.answer_limit = 64 << 20;  // a page of 1,000 events
  PeerAnswer a;
  Status s = Send(u, r, &a);
  if (!s.ok()) return Status::IOError("the primary: " + s.message());
  if (!workflow::ParseJson(a.body, out, workflow::JsonLimits{64 << 20, 64}).ok()) {
    *out = nlohmann::json(nlohmann::json::value_t::discarded);
  }
  if (a.status != 200) {
    std::string why = out->is_object() && out->contains("error") ? (*out)["error"].dump() : a.body;
    return a.status == 401 || a.status == 403
               ? Status::Forbidden("the primary refused " + target + ": " + why)
               : Status::IOError("the primary answered " + std::to_string(a.status) + " to " +
                                 target + ": " + why);
  }
  if (out->is_discarded()) return Status::IOError("the primary sent no JSON for " + target);
  return Status::OK();
}

// The replica as a witness of its primary: the primary's current checkpoint,
// if the replica has verified its tree at that size, cosigned by the
// witness's rule. A checkpoint of another size is left for a later round.
Status CosignPrimary(ledger::Ledger* replica, const Url& u, const std::string& pub,
                     const ledger::WitnessKey& key, const std::string& state_dir,
                     uint64_t verified_size, const Hash& verified_root) {
  int status = 0;
  std::string note;
  Status s = Fetch(u, "/checkpoint", 30, &status, &note);
  if (!s.ok()) return s;
  if (status != 200)
    return Status::IOError("the primary answered " + std::to_string(status) + " to /checkpoint");
  ledger::note::Note n;
  ledger::Checkpoint cp;
  s = ledger::note::ParseNote(note, &n);
  if (s.ok()) s = ledger::ParseCheckpoint(n.text, &cp);
  if (!s.ok()) return Status::Tampered("the primary's checkpoint: " + s.message());
  if (cp.size != verified_size) return Status::OK();
  if (cp.root != verified_root) {
    return Status::Tampered("MISMATCH: the primary's checkpoint of size " +
                            std::to_string(cp.size) +
                            " has another root than the tree this replica verified");
  }
  const auto log = ledger::note::MakeVerifierKey(cp.origin, ledger::note::kEd25519, pub);
  std::unique_ptr<ledger::WitnessStore> store;
  s = ledger::WitnessStore::Open(state_dir, &store);
  std::optional<ledger::WitnessRecord> last;
  if (s.ok()) s = store->Load(cp.origin, &last);
  std::optional<ledger::ConsistencyProof> proof;
  if (s.ok() && last && last->checkpoint.size > 0 && last->checkpoint.size <= cp.size) {
    proof.emplace();
    proof->from = last->checkpoint.size;
    proof->to = cp.size;
    s = replica->Consistency(proof->from, proof->to, &proof->path);
  }
  if (!s.ok()) return s;
  // The server's edge: the cosignature's time is the wall clock's.
  ledger::AddCheckpointAnswer a =
      ledger::WitnessAddCheckpoint(store.get(), key, {log}, note, std::nullopt, proof,
                                   static_cast<uint64_t>(std::time(nullptr)));
  if (a.http_status != 200) return Status::Tampered("as a witness: " + a.status.message());
  s = ledger::WriteFileDurably(replica->dir() + "/COSIGNED_CHECKPOINT", a.cosigned, 0644);
  if (s.ok()) {
    spdlog::info(
        nlohmann::json{{"follow", "cosigned"}, {"size", cp.size}, {"witness", key.name}}.dump());
  }
  return s;
}

}  // namespace

Status Follow(ledger::Ledger* replica, const FollowOptions& o, const std::atomic<bool>& stop) {
  Url u;
  Status s = ParseUrl(o.url, "the primary", &u);
  if (!s.ok()) return s;
  namespace fs = std::filesystem;
  const fs::path dir = replica->dir();

  // Pin the primary's key on first contact; a different key later is an alarm.
  nlohmann::json key;
  s = Get(u, o.token, "/v1/public-key", 30, &key);
  if (!s.ok()) return s;
  std::string pub;
  if (!key.contains("public_key") || !FromBase64(key["public_key"].get<std::string>(), &pub) ||
      pub.size() != 32) {
    return Status::Corruption("the primary's public key is unreadable");
  }
  const fs::path pinned = dir / "PRIMARY_KEY";
  if (fs::exists(pinned)) {
    std::ifstream f(pinned);
    std::string have;
    f >> have;
    if (have != Base64(pub)) {
      return Status::Tampered("the primary now signs with another key (" +
                              key["key_id"].get<std::string>() + ") than the one pinned in " +
                              pinned.string() + "; stopping");
    }
  } else {
    // Durable before anything is appended: a pin lost in a crash would let
    // the next start accept another key.
    s = ledger::WriteFileDurably(pinned.string(), Base64(pub) + "\n", 0644);
    if (s.ok()) s = ledger::WriteFileDurably((dir / "REPLICA_OF").string(), o.url + "\n", 0644);
    if (!s.ok()) return s;
  }

  std::unique_ptr<ledger::WitnessKey> witness;
  const std::string witness_state =
      o.witness_state.empty() ? (dir / "witness").string() : o.witness_state;
  uint64_t cosigned_size = 0;
  if (!o.witness_key.empty()) {
    witness = std::make_unique<ledger::WitnessKey>();
    s = ledger::LoadWitnessKey(o.witness_key, witness.get());
    if (!s.ok()) return s;
  }
  // The last head verified, persisted so a restart resumes the chain.
  uint64_t verified_size = 0;
  Hash verified_root{};
  const fs::path verified_file = dir / "VERIFIED_HEAD";
  if (fs::exists(verified_file)) {
    std::ifstream f(verified_file);
    std::string root;
    f >> verified_size >> root;
    ledger::merkle::FromHex(root, &verified_root);
  }

  int failures = 0;
  while (!stop) {
    nlohmann::json page;
    // --once only catches up: it asks without holding the request open, so
    // its last, empty page comes back at once instead of after the wait.
    const int wait = o.once ? 0 : o.wait_seconds;
    std::string target = "/v1/events?from=" + std::to_string(replica->Size() + 1) +
                         "&limit=1000&wait=" + std::to_string(wait);
    s = Get(u, o.token, target, wait + 30, &page);
    if (s.IsForbidden()) return s;
    if (!s.ok()) {
      if (++failures > 20) return s;
      spdlog::warn(nlohmann::json{{"follow", "retrying"}, {"why", s.message()}}.dump());
      std::this_thread::sleep_for(std::chrono::seconds(std::min(failures, 5)));
      continue;
    }
    failures = 0;
    std::vector<std::string> batch;
    for (const auto& e : page["events"]) {
      std::string bytes;
      if (!FromBase64(e["bytes"].get<std::string>(), &bytes))
        return Status::Corruption("unreadable event bytes");
      batch.push_back(std::move(bytes));
    }
    // The page is checked against the primary's signed head of the size it
    // would make before any of it is appended: a page that does not hash to
    // what the primary signed never enters the replica.
    const uint64_t size = replica->Size() + batch.size();
    if (!batch.empty()) {
      nlohmann::json head;
      s = Get(u, o.token, "/v1/tree-head?size=" + std::to_string(size), 30, &head);
      if (!s.ok()) return s;
      Hash root;
      std::string sig;
      if (!head.contains("root") || !head["root"].is_string() || !head.contains("signature") ||
          !head["signature"].is_string() ||
          !ledger::merkle::FromHex(head["root"].get<std::string>(), &root) ||
          !FromBase64(head["signature"].get<std::string>(), &sig) ||
          !ledger::Signer::Verify(pub, ledger::TreeHeadMessage(size, root), sig)) {
        return Status::Tampered("the primary's head of size " + std::to_string(size) +
                                " is not signed by its pinned key; stopping");
      }
      Hash mine;
      s = replica->RootWith(batch, &mine);
      if (!s.ok()) return s;
      if (mine != root) {
        return Status::Tampered("MISMATCH at size " + std::to_string(size) +
                                ": the primary signs root " + ledger::merkle::ToHex(root) +
                                " but the events it sent hash to " + ledger::merkle::ToHex(mine) +
                                "; nothing of them was appended; stopping");
      }
      if (verified_size > 0 && size != verified_size) {
        // The smaller of the two heads must be a prefix of the larger.
        const uint64_t from = std::min(size, verified_size), to = std::max(size, verified_size);
        nlohmann::json proof;
        s = Get(u, o.token,
                "/v1/proofs/consistency?from=" + std::to_string(from) + "&to=" + std::to_string(to),
                30, &proof);
        if (!s.ok()) return s;
        std::vector<Hash> path;
        for (const auto& h : proof["path"]) {
          Hash x;
          if (!h.is_string() || !ledger::merkle::FromHex(h.get<std::string>(), &x)) {
            return Status::Tampered("the primary's consistency proof is unreadable; stopping");
          }
          path.push_back(x);
        }
        const Hash& from_root = size < verified_size ? root : verified_root;
        const Hash& to_root = size < verified_size ? verified_root : root;
        if (!ledger::merkle::VerifyConsistency(from, to, from_root, to_root, path)) {
          return Status::Tampered("MISMATCH: the primary's tree of size " + std::to_string(size) +
                                  " is not consistent with the head of size " +
                                  std::to_string(verified_size) +
                                  " verified before; it rewrote history; stopping");
        }
      } else if (size == verified_size && root != verified_root) {
        return Status::Tampered("MISMATCH at size " + std::to_string(size) +
                                ": the primary now signs another root than the one verified "
                                "before; it rewrote history; stopping");
      }
      s = replica->AppendReplicated(batch);
      if (!s.ok()) {
        return Status::Tampered("the primary's events do not continue this replica: " +
                                s.message());
      }
      // Kept in the replica's signed-heads store: a replica that later lost
      // events refuses to open, as its primary would.
      s = replica->RecordHead(ledger::HeadKind::kFollowedHead, size, root);
      if (!s.ok()) return s;
      if (size > verified_size) {
        verified_size = size;
        verified_root = root;
        s = ledger::WriteFileDurably(
            verified_file.string(),
            std::to_string(verified_size) + " " + ledger::merkle::ToHex(verified_root) + "\n",
            0644);
        if (!s.ok()) return s;
      }
      spdlog::info(nlohmann::json{
          {"follow", "verified"}, {"size", size}, {"root", ledger::merkle::ToHex(root)}}
                       .dump());
    }
    if (witness && batch.empty() && verified_size > 0 && verified_size != cosigned_size) {
      s = CosignPrimary(replica, u, pub, *witness, witness_state, verified_size, verified_root);
      if (!s.ok()) return s;
      cosigned_size = verified_size;
    }
    if (o.once && batch.empty()) return Status::OK();
  }
  return Status::OK();
}

}  // namespace ocop::server
