// fold_bench: the server's projection follower alone, without HTTP or the
// committer: the CPU the live fold spends per event when it catches up in
// small batches, as `ocop serve`'s follower does after each group commit
// (bench/http_load.sh: about 13 appends a group).
//
//   fold_bench --dir LEDGER [--from N] [--step 13] [--rounds 3]
//
// LEDGER is an existing ledger (e.g. one `ocop submit` filled with
// bench/http_load.sh's world and its inspections and promotions; it is only
// read). Each round folds it into a fresh scratch projections directory
// (LEDGER/../fold-bench-projections): events 1..N in one catch-up, untimed,
// then the rest `--step` events at a time, timed. Prints, per round,
//   ocop fold step=S events=E cpu_us_per_event=.. thread_cpu_us_per_event=..
// (the process's CPU, RocksDB's background threads included, and the
// folding thread's own).
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include "harness.h"
#include "ledger/ledger.h"
#include "projections/projections.h"

int main(int argc, char** argv) {
  std::string dir;
  uint64_t from = 0, step = 13;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--dir")
      dir = argv[i + 1];
    else if (a == "--from")
      from = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--step")
      step = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
  }
  if (dir.empty() || step == 0) {
    std::fprintf(stderr, "usage: fold_bench --dir LEDGER [--from N] [--step 13] [--rounds 3]\n");
    return 2;
  }
  std::unique_ptr<ocop::ledger::Ledger> ledger;
  ocop::ledger::Options o;
  o.clock = [] { return int64_t{0}; };  // only read: nothing is appended here
  ocop::Status s = ocop::ledger::Ledger::Open(dir, o, &ledger);
  if (!s.ok()) {
    std::fprintf(stderr, "fold_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  const uint64_t total = ledger->Size();
  const std::string scratch =
      (std::filesystem::path(dir).parent_path() / "fold-bench-projections").string();
  for (int r = 0; r < rounds; ++r) {
    std::filesystem::remove_all(scratch);
    std::unique_ptr<ocop::projections::Projections> p;
    s = ocop::projections::Projections::OpenAt(ledger.get(), scratch, &p);
    if (s.ok() && from > 0) s = p->CatchUp({}, from);
    const double cpu0 = ocop::bench::CpuSeconds(), thread0 = ocop::bench::ThreadCpuSeconds();
    for (uint64_t up_to = from + step; s.ok() && p->checkpoint() < total; up_to += step) {
      s = p->CatchUp({}, up_to);
    }
    const double cpu = (ocop::bench::CpuSeconds() - cpu0) * 1e6,
                 thread = (ocop::bench::ThreadCpuSeconds() - thread0) * 1e6;
    if (!s.ok()) {
      std::fprintf(stderr, "fold_bench: %s\n", s.ToString().c_str());
      return 1;
    }
    const double events = static_cast<double>(total - from);
    std::printf(
        "ocop fold step=%llu events=%llu cpu_us_per_event=%.2f thread_cpu_us_per_event=%.2f\n",
        static_cast<unsigned long long>(step), static_cast<unsigned long long>(total - from),
        cpu / events, thread / events);
  }
  std::filesystem::remove_all(scratch);
  return 0;
}
