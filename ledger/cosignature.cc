#include "ledger/cosignature.h"

namespace ocop::ledger::note {

std::string CosignatureMessage(uint64_t timestamp, std::string_view text) {
  std::string m = "cosignature/v1\ntime " + std::to_string(timestamp) + "\n";
  m.append(text);
  return m;
}

Signature Cosign(const Signer& signer, std::string_view name, uint64_t timestamp,
                 std::string_view text) {
  std::string bytes;
  for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<char>(timestamp >> (8 * i)));
  bytes += signer.Sign(CosignatureMessage(timestamp, text));
  return Signature{std::string(name), KeyId(name, kCosignatureV1, signer.public_key()),
                   std::move(bytes)};
}

}  // namespace ocop::ledger::note
