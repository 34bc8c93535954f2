// What the ledger's own tests share: a directory of their own, removed
// after the test, and options whose clock moves a millisecond a call.
#pragma once

#include <unistd.h>

#include <atomic>
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

}  // namespace ocop::ledger_support
