// backup_bench: a backup of a large ledger while it takes durable appends,
// and its verified restore (issue 17).
//
//   backup_bench --dir DIR --backups B --restore R [--writers 32] [--seconds 20] [--rate-mb 0]
//
// DIR is an existing ledger (e.g. made by `ledger_bench --dir DIR --events
// 10000000`); B and R must not exist. In one process, as `ocop serve` does
// it (the server runs ledger::BackupLedger on its own open ledger when `ocop
// backup` asks through the control socket):
//   1. W writers append single durable events for S seconds: appends/s alone;
//   2. the same writers while BackupLedger copies DIR into B: the backup's
//      time and size, and appends/s during it;
//   3. a second backup under the same load: what an incremental one copies;
//   4. the ledger closed, RestoreLedger into R: every file's checksum, every
//      event re-hashed, the signed head checked; its time.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "ledger/backup.h"
#include "ledger/ledger.h"

namespace {

namespace lg = ocop::ledger;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "backup_bench: %s\n", why.c_str());
  std::exit(1);
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Seconds(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

// W writers, each appending one durable event at a time to streams of its
// own, until stopped; counts what was acknowledged.
class Load {
 public:
  Load(lg::Ledger* l, int writers) {
    for (int t = 0; t < writers; ++t) {
      threads_.emplace_back([this, l, t] {
        lg::NewEvent e;
        e.type = "InspectionRecorded";
        e.effective = "2026-06-01";
        e.actor = {"thanhtra.bench", "inspector", "VN"};
        e.payload.clear();
        for (uint64_t i = 0; !stop_; ++i) {
          e.stream = "bench/w" + std::to_string(t) + "/" + std::to_string(i % 1000);
          lg::AppendRequest r;
          r.events.push_back(e);
          lg::AppendResult res;
          ocop::Status s = l->Append(r, &res);
          if (!s.ok()) Die("append: " + s.ToString());
          ++done_;
        }
      });
    }
  }
  uint64_t done() const { return done_.load(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  ~Load() {
    if (!threads_.empty()) Stop();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> done_{0};
  std::vector<std::thread> threads_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir, backups, restore;
  int writers = 32;
  double seconds = 20;
  uint64_t rate_mb = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--dir")
      dir = v;
    else if (a == "--backups")
      backups = v;
    else if (a == "--restore")
      restore = v;
    else if (a == "--writers")
      writers = std::stoi(v);
    else if (a == "--seconds")
      seconds = std::stod(v);
    else if (a == "--rate-mb")
      rate_mb = std::stoull(v);
    else
      Die("unknown option " + a);
  }
  if (dir.empty() || backups.empty() || restore.empty())
    Die("usage: backup_bench --dir DIR --backups B --restore R [--writers 32] [--seconds 20] "
        "[--rate-mb 0]");
  if (fs::exists(backups) || fs::exists(restore))
    Die(backups + " and " + restore + " must not exist");

  lg::Options o;
  o.create_if_missing = false;
  o.clock = Now;
  std::unique_ptr<lg::Ledger> l;
  ocop::Status s = lg::Ledger::Open(dir, o, &l);
  if (!s.ok()) Die(s.ToString());
  const uint64_t events = l->Size();
  std::printf("ocop backup_bench events=%llu data_bytes=%llu writers=%d\n",
              static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(DirBytes(dir)), writers);

  // 1. Appends alone.
  double alone = 0;
  {
    Load load(l.get(), writers);
    auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    uint64_t n = load.done();
    alone = static_cast<double>(n) / Seconds(t0);
    load.Stop();
  }
  std::printf("ocop appends_alone appends_per_s=%.0f\n", alone);

  // 2 and 3. Backups under the same load.
  lg::BackupOptions bo;
  bo.rate_limit = rate_mb << 20;
  for (int round = 1; round <= 2; ++round) {
    Load load(l.get(), writers);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the load at its pace
    uint64_t n0 = load.done();
    auto t0 = Clock::now();
    lg::BackupResult r;
    s = lg::BackupLedger(l.get(), backups, bo, &r);
    double secs = Seconds(t0);
    uint64_t n = load.done() - n0;
    load.Stop();
    if (!s.ok()) Die("backup: " + s.ToString());
    double during = static_cast<double>(n) / secs;
    std::printf(
        "ocop backup round=%d seconds=%.1f size=%llu bytes_total=%llu bytes_new=%llu "
        "appends_per_s_during=%.0f ratio_to_alone=%.2f\n",
        round, secs, static_cast<unsigned long long>(r.head.size),
        static_cast<unsigned long long>(r.bytes_total),
        static_cast<unsigned long long>(r.bytes_new), during, during / alone);
  }
  const uint64_t final_size = l->Size();
  l.reset();

  // 4. The verified restore.
  auto t0 = Clock::now();
  lg::RestoreResult rr;
  s = lg::RestoreLedger(backups, 0, restore, o, &rr);
  if (!s.ok()) Die("restore: " + s.ToString());
  std::printf("ocop restore seconds=%.1f events=%llu verified=%llu (ledger had %llu at close)\n",
              Seconds(t0), static_cast<unsigned long long>(rr.events),
              static_cast<unsigned long long>(rr.verify.checked),
              static_cast<unsigned long long>(final_size));
  return 0;
}
