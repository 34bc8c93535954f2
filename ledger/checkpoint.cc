#include "ledger/checkpoint.h"

#include "ledger/encoding.h"

namespace ocop::ledger {

std::string CheckpointText(const Checkpoint& c) {
  std::string t =
      c.origin + "\n" + std::to_string(c.size) + "\n" +
      Base64(std::string_view(reinterpret_cast<const char*>(c.root.data()), c.root.size())) + "\n";
  for (const auto& e : c.extensions) t += e + "\n";
  return t;
}

Status ParseCheckpoint(std::string_view text, Checkpoint* out) {
  const auto bad = [](const std::string& why) {
    return Status::InvalidArgument("not a checkpoint: " + why);
  };
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    if (eol == std::string_view::npos) return bad("its last line does not end with a newline");
    lines.push_back(text.substr(0, eol));
    text.remove_prefix(eol + 1);
  }
  if (lines.size() < 3) {
    return bad("it has " + std::to_string(lines.size()) +
               " lines; a checkpoint has an origin, a size and a root hash");
  }
  Checkpoint c;
  if (lines[0].empty()) return bad("the origin (line 1) is empty");
  c.origin = std::string(lines[0]);
  std::string_view size = lines[1];
  bool digits = !size.empty() && size.size() <= 20;
  for (char ch : size) digits &= ch >= '0' && ch <= '9';
  if (!digits || (size.size() > 1 && size[0] == '0')) {
    return bad("the tree size (line 2) '" + std::string(size) +
               "' is not a decimal number without leading zeroes");
  }
  for (char ch : size) {
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (c.size > (UINT64_MAX - d) / 10) return bad("the tree size (line 2) is too large");
    c.size = c.size * 10 + d;
  }
  std::string root;
  if (!FromBase64(lines[2], &root) || Base64(root) != lines[2] || root.size() != c.root.size()) {
    return bad("the root hash (line 3) is not the base64 of 32 bytes");
  }
  std::copy(root.begin(), root.end(), c.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return bad("extension line " + std::to_string(i + 1) + " is empty");
    c.extensions.emplace_back(lines[i]);
  }
  *out = std::move(c);
  return Status::OK();
}

note::VerifierKey LogVerifierKey(std::string_view origin, const Signer& log_key) {
  return note::MakeVerifierKey(origin, note::kEd25519, log_key.public_key());
}

std::string SignCheckpoint(const Checkpoint& c, const Signer& log_key) {
  note::Note n;
  n.text = CheckpointText(c);
  n.signatures.push_back(note::SignEd25519(log_key, c.origin, n.text));
  return note::FormatNote(n);
}

Status OpenCheckpoint(std::string_view message, const note::VerifierKey& log, Checkpoint* out,
                      note::Note* note) {
  note::Note n;
  Status s = note::OpenNote(message, {log}, &n, nullptr);
  if (!s.ok()) return s;
  Checkpoint c;
  s = ParseCheckpoint(n.text, &c);
  if (!s.ok()) return s;
  if (c.origin != log.name) {
    return Status::Tampered("the checkpoint's origin is '" + c.origin + "' but the log's key is " +
                            "named '" + log.name + "': a head of another log");
  }
  *out = std::move(c);
  if (note) *note = std::move(n);
  return Status::OK();
}

}  // namespace ocop::ledger
