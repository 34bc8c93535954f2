#include "ledger/log_origin.h"

#include <filesystem>

#include "ledger/durable_file.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

namespace ocop::ledger {

std::string DefaultOrigin(std::string_view public_key) {
  return "ocop-ledger/" + merkle::ToHex(merkle::Sha256(public_key)).substr(0, 16);
}

Status CheckOrigin(std::string_view origin) {
  Status s = note::CheckKeyName(origin);
  if (!s.ok()) {
    return Status::InvalidArgument("the origin '" + std::string(origin) + "' cannot name a log: " +
                                   s.message() + " (use e.g. ocop.camau.gov.vn/ledger)");
  }
  return Status::OK();
}

Status LoadOrigin(const std::string& dir, std::string_view public_key, std::string* origin) {
  const std::string path = (std::filesystem::path(dir) / kOriginFile).string();
  std::string text;
  Status s = ReadWholeFile(path, &text);
  if (s.IsNotFound()) {
    *origin = DefaultOrigin(public_key);
    return Status::OK();
  }
  if (!s.ok()) return s;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  s = CheckOrigin(text);
  if (!s.ok()) return Status::Corruption(path + " is damaged: " + s.message());
  *origin = std::move(text);
  return Status::OK();
}

Status RecordOrigin(const std::string& dir, std::string_view chosen, std::string_view public_key,
                    bool log_is_empty) {
  if (!chosen.empty()) {
    Status s = CheckOrigin(chosen);
    if (!s.ok()) return s;
  }
  const std::string path = (std::filesystem::path(dir) / kOriginFile).string();
  std::string current;
  bool recorded = std::filesystem::exists(path);
  Status s = LoadOrigin(dir, public_key, &current);
  if (!s.ok()) return s;
  if (!chosen.empty() && chosen != current && (recorded || !log_is_empty)) {
    return Status::Refused("the log in " + dir + " has the origin '" + current +
                           "'; it cannot become '" + std::string(chosen) +
                           "': witnesses and checkpoints already out know the log by its origin");
  }
  if (recorded) return Status::OK();
  return WriteFileDurably(path, (chosen.empty() ? current : std::string(chosen)) + "\n", 0644);
}

}  // namespace ocop::ledger
