// Metrics: what /metrics exposes, in the Prometheus text format. Counters
// are updated from request threads; rendering takes a consistent copy.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "ledger/ledger.h"

namespace ocop::server {

class Metrics {
 public:
  void Request(const std::string& route, int status, double seconds);
  void Append(double seconds);
  // `ledger_size` and `projected` give the projection lag.
  std::string Render(const ledger::CommitStats& commits, uint64_t ledger_size,
                     uint64_t projected) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                      0.05,   0.1,   0.25,  0.5,   1,    2.5};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::array<uint64_t, kBuckets.size()> append_buckets_{};
  uint64_t append_count_ = 0;
  double append_sum_ = 0;
};

}  // namespace ocop::server
