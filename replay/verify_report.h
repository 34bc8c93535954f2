// Checking a signed report (`ocop report --format json`, GET /v1/reports)
// against the ledger it names: `ocop verify-report`'s logic.
//
// A report carries the signed tree head of the log it was counted from
// ("ledger": size, root, signature). Checking it means: the head is signed by
// this ledger's key; today's tree extends it (same root at that size, and a
// consistency proof to now); every event still hashes to the tree; and the
// report computed afresh from the first `size` events is the same report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "projections/report.h"

namespace ocop::replay {

class ReportToVerify {
 public:
  // Reads what the report claims; InvalidArgument naming what is missing or
  // unreadable if it is not a JSON report with a head.
  static Status Parse(nlohmann::json report, ReportToVerify* out);

  uint64_t size() const { return size_; }

  // Checks it against `ledger`, refolding into `scratch_dir` (created, and
  // removed afterwards). Adds to *result "tree_size", "signature_ok",
  // "current_size" (if the ledger holds the size), "consistent",
  // "log_intact", "matches", "first_difference" (the first section that
  // differs) and "ok". A failed check is a result, not an error: the Status
  // is not OK only if the refold itself failed.
  Status Check(ledger::Ledger* ledger, const std::string& scratch_dir,
               nlohmann::ordered_json* result) const;

 private:
  nlohmann::json report_;
  uint64_t size_ = 0;
  ledger::merkle::Hash root_{};
  std::string signature_;
  bool cohort_ = false;
  int cohort_year_ = 0;
  workflow::Date cohort_as_of_;
  projections::ReportQuery query_;
};

}  // namespace ocop::replay
