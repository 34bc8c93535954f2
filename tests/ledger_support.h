// What the ledger's own tests share: a directory of their own, removed
// after the test, options whose clock moves a millisecond a call, and a batch
// of plain events spread over a few streams.
#pragma once

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "ledger/ledger.h"

namespace ocop::ledger_support {

// A fresh, empty path under the temporary directory: `prefix`, the process
// and a counter, so that tests running at once never share one.
struct TempDir {
  explicit TempDir(const std::string& prefix) {
    static std::atomic<int> n{0};
    path = std::filesystem::temp_directory_path() /
           (prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path.string(); }
  std::filesystem::path path;
};

inline ledger::Options TestOptions() {
  using ledger::Options;
  Options o;
  auto t = std::make_shared<std::atomic<int64_t>>(1700000000000000);
  o.clock = [t] { return t->fetch_add(1000); };
  return o;
}

// Appends `n` "Happened" events in one call, over seven streams ("s/0" to
// "s/6", in turn); `pad` makes each event that many bytes larger.
inline void AppendBatch(ledger::Ledger* l, int n, size_t pad = 0) {
  ledger::AppendRequest r;
  for (int i = 0; i < n; ++i) {
    ledger::NewEvent e;
    e.stream = "s/" + std::to_string(i % 7);
    e.type = "Happened" + std::string(pad, 'x');
    e.effective = "2024-03-15";
    e.actor = {"tester", "officer", "CM"};
    r.events.push_back(e);
  }
  ledger::AppendResult res;
  REQUIRE(l->Append(r, &res).ok());
}

}  // namespace ocop::ledger_support
