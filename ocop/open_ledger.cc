#include "ocop/open_ledger.h"

#include <chrono>

namespace ocop::cli {

int64_t WallClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status OpenLedger(const GlobalOptions& g, bool create, std::unique_ptr<ledger::Ledger>* out) {
  ledger::Options options;
  options.create_if_missing = create;
  options.clock = WallClockMicros;
  return ledger::Ledger::Open(g.data_dir, options, out);
}

}  // namespace ocop::cli
