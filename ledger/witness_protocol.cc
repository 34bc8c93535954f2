#include "ledger/witness_protocol.h"

#include "ledger/cosignature.h"
#include "ledger/encoding.h"

namespace ocop::ledger {

std::string FormatAddCheckpoint(const AddCheckpointRequest& r) {
  std::string out = "old " + std::to_string(r.old_size) + "\n";
  for (const auto& h : r.proof) {
    out += Base64(std::string_view(reinterpret_cast<const char*>(h.data()), h.size())) + "\n";
  }
  return out + "\n" + r.checkpoint;
}

Status ParseAddCheckpoint(std::string_view body, AddCheckpointRequest* out) {
  const auto bad = [](const std::string& why) {
    return Status::InvalidArgument("not an add-checkpoint request: " + why);
  };
  size_t eol = body.find('\n');
  if (eol == std::string_view::npos || !body.starts_with("old ")) {
    return bad("it must begin with \"old SIZE\"");
  }
  std::string_view size = body.substr(4, eol - 4);
  if (size.empty() || size.size() > 19 || (size.size() > 1 && size[0] == '0')) {
    return bad("\"old\" must be a decimal size");
  }
  out->old_size = 0;
  for (char c : size) {
    if (c < '0' || c > '9') return bad("\"old\" must be a decimal size");
    out->old_size = out->old_size * 10 + static_cast<uint64_t>(c - '0');
  }
  body.remove_prefix(eol + 1);
  out->proof.clear();
  while (true) {
    eol = body.find('\n');
    if (eol == std::string_view::npos) return bad("no blank line before the checkpoint");
    std::string_view line = body.substr(0, eol);
    body.remove_prefix(eol + 1);
    if (line.empty()) break;
    std::string bytes;
    if (!FromBase64(line, &bytes) || bytes.size() != 32) {
      return bad("a proof line is not a base64 hash of 32 bytes");
    }
    if (out->proof.size() >= 63) return bad("the proof has more than 63 hashes");
    merkle::Hash h;
    std::copy(bytes.begin(), bytes.end(), h.begin());
    out->proof.push_back(h);
  }
  out->checkpoint = std::string(body);
  return Status::OK();
}

AddCheckpointAnswer WitnessAddCheckpoint(WitnessStore* store, const WitnessKey& key,
                                         const std::vector<note::VerifierKey>& logs,
                                         std::string_view checkpoint,
                                         std::optional<uint64_t> old_size,
                                         const std::optional<ConsistencyProof>& proof,
                                         uint64_t now) {
  AddCheckpointAnswer a;
  const auto refuse = [&](int http, Status s) {
    a.http_status = http;
    a.status = std::move(s);
    return a;
  };
  note::Note n;
  Status s = note::ParseNote(checkpoint, &n);
  if (!s.ok()) return refuse(400, s);
  Checkpoint cp;
  s = ParseCheckpoint(n.text, &cp);
  if (!s.ok()) return refuse(400, s);
  const note::VerifierKey* log = nullptr;
  for (const auto& k : logs) {
    if (k.name == cp.origin) log = &k;
  }
  if (!log)
    return refuse(404, Status::NotFound("this witness does not witness '" + cp.origin + "'"));
  s = OpenCheckpoint(checkpoint, *log, &cp, &n);
  if (!s.ok()) return refuse(403, s);
  std::optional<WitnessRecord> last;
  s = store->Load(cp.origin, &last);
  if (!s.ok()) return refuse(500, s);
  const uint64_t have = last ? last->checkpoint.size : 0;
  if (old_size && *old_size != have) {
    a.http_status = 409;
    a.body = std::to_string(have) + "\n";
    a.status =
        Status::Conflict("this witness's last checkpoint of '" + cp.origin + "' is of size " +
                         std::to_string(have) + ", not " + std::to_string(*old_size));
    return a;
  }
  s = CheckAppendOnly(last, *log, cp, proof);
  if (!s.ok()) return refuse(422, s);  // a fork, an older checkpoint, a wrong proof
  // Keep the log's own signature only: the record is the log's statement.
  note::Note logs_note{n.text, {}};
  for (const auto& sig : n.signatures) {
    if (sig.name == log->name && sig.key_id == log->key_id) logs_note.signatures.push_back(sig);
  }
  s = store->Store(WitnessRecord{*log, cp, note::FormatNote(logs_note)});
  if (!s.ok()) return refuse(500, s);
  note::Signature cosig = note::Cosign(*key.signer, key.name, now, n.text);
  a.body = note::SignatureLine(cosig);
  a.cosigned = note::FormatNote(note::AddSignature(n, cosig));
  return a;
}

}  // namespace ocop::ledger
