#include "ledger/key_history.h"

#include <filesystem>
#include <sstream>

#include "ledger/durable_file.h"
#include "ledger/encoding.h"
#include "ledger/keys.h"

namespace ocop::ledger {

std::string RotationMessage(uint64_t size, const merkle::Hash& root, std::string_view next_key) {
  std::string m = "OCOP-KEY-ROTATION-V1";
  m.push_back('\0');
  keys::PutBE64(&m, size);
  m.append(reinterpret_cast<const char*>(root.data()), root.size());
  m.append(next_key);
  return m;
}

static std::string PathOf(const std::string& dir) {
  return (std::filesystem::path(dir) / kKeyHistoryFile).string();
}

Status LoadKeyHistory(const std::string& dir, std::vector<RetiredKey>* out) {
  out->clear();
  std::string text;
  Status s = ReadWholeFile(PathOf(dir), &text);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  std::istringstream lines(text);
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    ++n;
    std::istringstream f(line);
    RetiredKey k;
    std::string pub, root, sig, extra;
    bool read = static_cast<bool>(f >> k.key_id_hex >> pub >> k.last_size >> root >> sig);
    if (!read || (f >> extra) || !FromBase64(pub, &k.public_key) || k.public_key.size() != 32 ||
        !merkle::FromHex(root, &k.last_root) || !FromBase64(sig, &k.handover) ||
        k.handover.size() != 64) {
      return Status::Corruption(PathOf(dir) + ":" + std::to_string(n) +
                                ": not a retired key ('KEY_ID PUBLIC_KEY SIZE ROOT HANDOVER'); "
                                "restore the file from a backup");
    }
    out->push_back(std::move(k));
  }
  return Status::OK();
}

Status AppendKeyHistory(const std::string& dir, const RetiredKey& key) {
  std::string text;
  Status s = ReadWholeFile(PathOf(dir), &text);
  if (!s.ok() && !s.IsNotFound()) return s;
  text += key.key_id_hex + " " + Base64(key.public_key) + " " + std::to_string(key.last_size) +
          " " + merkle::ToHex(key.last_root) + " " + Base64(key.handover) + "\n";
  return WriteFileDurably(PathOf(dir), text, 0644);
}

}  // namespace ocop::ledger
