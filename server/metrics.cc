#include "server/metrics.h"

#include <cstdio>
#include <sstream>

namespace ocop::server {

void Metrics::Request(const std::string& route, int status, double) {
  std::lock_guard<std::mutex> l(mu_);
  ++requests_[{route, status}];
}

void Metrics::Append(double seconds) {
  std::lock_guard<std::mutex> l(mu_);
  ++append_count_;
  append_sum_ += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++append_buckets_[i];
  }
}

std::string Metrics::Render(const ledger::CommitStats& c, uint64_t size, uint64_t projected) const {
  std::lock_guard<std::mutex> l(mu_);
  std::ostringstream o;
  o << "# HELP ocop_http_requests_total HTTP requests by route and status.\n"
    << "# TYPE ocop_http_requests_total counter\n";
  for (const auto& [k, n] : requests_) {
    o << "ocop_http_requests_total{route=\"" << k.first << "\",status=\"" << k.second << "\"} " << n
      << "\n";
  }
  o << "# HELP ocop_append_seconds Time to decide and durably append one request.\n"
    << "# TYPE ocop_append_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    o << "ocop_append_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << append_buckets_[i] << "\n";
  }
  o << "ocop_append_seconds_bucket{le=\"+Inf\"} " << append_count_ << "\n"
    << "ocop_append_seconds_sum " << append_sum_ << "\n"
    << "ocop_append_seconds_count " << append_count_ << "\n";
  o << "# HELP ocop_group_commit_calls Append calls carried by one durable write.\n"
    << "# TYPE ocop_group_commit_calls histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < c.calls_per_group.size(); ++i) {
    cumulative += c.calls_per_group[i];
    o << "ocop_group_commit_calls_bucket{le=\"" << ((uint64_t{1} << (i + 1)) - 1) << "\"} "
      << cumulative << "\n";
  }
  o << "ocop_group_commit_calls_bucket{le=\"+Inf\"} " << c.groups << "\n"
    << "ocop_group_commit_calls_sum " << c.calls << "\n"
    << "ocop_group_commit_calls_count " << c.groups << "\n";
  o << "# HELP ocop_ledger_events Events in the ledger.\n# TYPE ocop_ledger_events gauge\n"
    << "ocop_ledger_events " << size << "\n";
  o << "# HELP ocop_projection_lag_events Events appended but not yet folded into projections.\n"
    << "# TYPE ocop_projection_lag_events gauge\n"
    << "ocop_projection_lag_events " << (size > projected ? size - projected : 0) << "\n";
  return o.str();
}

}  // namespace ocop::server
