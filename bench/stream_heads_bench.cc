// stream_heads_bench: what the stream-heads map (ledger/stream_heads.h) costs
// and what proving a product's head costs, on a log of N events.
//
//   stream_heads_bench --dir DIR [--events N] [--streams S] [--batch B] [--every-ms T]
//                      [--fill-only] [--skip-append-rate] [--rounds R] [--only-map]
//
// --fill-only fills DIR/big to N events and stops (untimed: run it under
// `nice` beforehand, so that the timed parts need not wait for a 10 M fill);
// --skip-append-rate leaves out part 1; --rounds sets its interleaved rounds
// (default 2); --only-map runs only its with-map phase and stops (for a
// profiler: `perf record -g`).
//
// 1. Appends 400,000 events (durable, batches of B, over S product streams)
//    with nothing else running, with a thread that signs a checkpoint every T
//    ms (default 1000: a log publishing to witnesses) without the map, and
//    with the map folded for each: appends per second of each, and the ratio
//    (the goal: at most 10% fewer with the map).
// 2. Rebuild: folding the whole log into a fresh map (a new data directory or
//    a lost stream-heads file), and loading the persisted map instead.
// 3. Prove and verify a product's head at size N (p50, p99 over 2,000
//    products), and at a historic size N/2 once folded.
#include <sys/resource.h>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "harness.h"
#include "ledger/ledger.h"
#include "ledger/stream_heads.h"

using namespace ocop;
using namespace ocop::ledger;
using ocop::bench::NowSeconds;
using ocop::bench::Percentile;

namespace {

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "stream_heads_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(3);
  }
}

std::string Stream(uint64_t i) { return "product/P" + std::to_string(i); }

// Appends `events` events in batches; returns appends per second.
double Fill(Ledger* l, uint64_t events, uint64_t streams, uint64_t batch, std::mt19937_64* rng) {
  double t0 = NowSeconds();
  for (uint64_t done = 0; done < events; done += batch) {
    AppendRequest r;
    for (uint64_t i = 0; i < batch && done + i < events; ++i) {
      r.events.push_back(NewEvent{Stream((*rng)() % streams), "PromotionRecorded", "2024-01-01",
                                  Actor{"bench", "officer", "U"}, ""});
    }
    AppendResult res;
    Check(l->Append(r, &res), "append");
  }
  return static_cast<double>(events) / (NowSeconds() - t0);
}

std::unique_ptr<Ledger> OpenAt(const std::string& dir) {
  Options o;
  o.clock = [] { return int64_t{1700000000000000}; };
  std::unique_ptr<Ledger> l;
  Check(Ledger::Open(dir, o, &l), "open");
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  uint64_t events = 1000000, streams = 100000, batch = 1000;
  int interval_ms = 1000;
  bool fill_only = false, append_rate = true, only_map = false;
  int rounds = 2;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--fill-only")) {
      fill_only = true;
    } else if (!std::strcmp(argv[i], "--skip-append-rate")) {
      append_rate = false;
    } else if (!std::strcmp(argv[i], "--only-map")) {
      only_map = true;
    } else if (has_value && !std::strcmp(argv[i], "--rounds")) {
      rounds = std::max(1, std::stoi(argv[++i]));
    } else if (has_value && !std::strcmp(argv[i], "--dir")) {
      dir = argv[++i];
    } else if (has_value && !std::strcmp(argv[i], "--events")) {
      events = std::stoull(argv[++i]);
    } else if (has_value && !std::strcmp(argv[i], "--streams")) {
      streams = std::stoull(argv[++i]);
    } else if (has_value && !std::strcmp(argv[i], "--batch")) {
      batch = std::stoull(argv[++i]);
    } else if (has_value && !std::strcmp(argv[i], "--every-ms")) {
      interval_ms = std::stoi(argv[++i]);
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: stream_heads_bench --dir DIR [--events N] [--streams S]\n");
    return 2;
  }
  std::mt19937_64 rng(14);
  // 1. Append rate: with nothing else running, with a checkpoint signed every
  // `interval_ms` without the map (TreeHead and the note: what signing costs
  // anyway), and with the map (SignedCheckpoint). Run twice, interleaved,
  // since the machine is shared.
  if (append_rate && !fill_only) {
    const uint64_t probe = std::min<uint64_t>(events, 400000);
    auto run = [&](int mode, const std::string& name) {
      std::filesystem::remove_all(dir + "/" + name);
      auto l = OpenAt(dir + "/" + name);
      std::unique_ptr<StreamHeads> heads;
      Check(StreamHeads::Open(l.get(), &heads), "heads");
      std::atomic<bool> done{false};
      std::atomic<uint64_t> checkpoints{0};
      double signer_cpu = 0;  // the signer thread's CPU: what it takes from the appender
      std::thread signer([&] {
        while (mode > 0 && !done) {
          std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
          const uint64_t now = l->Size();
          Checkpoint c;
          std::string note;
          if (mode == 2) {
            Check(SignedCheckpoint(l.get(), heads.get(), "bench", now, HeadKind::kCheckpoint, &c,
                                   &note),
                  "checkpoint");
          } else {
            SignedTreeHead h;
            Check(l->TreeHead(now, &h, HeadKind::kCheckpoint), "tree head");
            c = Checkpoint{"bench", h.size, h.root, {}};
            note = SignCheckpoint(c, l->signer());
          }
          ++checkpoints;
        }
        signer_cpu = ocop::bench::ThreadCpuSeconds();
      });
      double rate = Fill(l.get(), probe, streams, batch, &rng);
      done = true;
      signer.join();
      std::filesystem::remove_all(dir + "/" + name);
      return std::make_tuple(rate, checkpoints.load(), signer_cpu);
    };
    // Each round's figures, then their means. The process's CPU (every
    // thread: the appender, RocksDB's, the signer) is what the map costs in
    // all, wherever its work runs (the feed runs on the appender's thread).
    double plain = 0, signing = 0, with_map = 0, cpu_signing = 0, cpu_map = 0;
    double proc_signing = 0, proc_map = 0;
    uint64_t checkpoints = 0;
    auto process_cpu = [] { return ocop::bench::CpuSeconds(); };
    for (int round = 0; round < rounds; ++round) {
      double p_rate = 0;
      if (!only_map) p_rate = std::get<0>(run(0, "plain"));
      double c0 = process_cpu();
      double s_rate = 0, s_cpu = 0;
      if (!only_map) std::tie(s_rate, std::ignore, s_cpu) = run(1, "signing");
      double c1 = process_cpu();
      auto [m_rate, m_n, m_cpu] = run(2, "map");
      double c2 = process_cpu();
      std::printf(
          "ocop append_rate_round round=%d plain_per_s=%.0f signing_no_map_per_s=%.0f "
          "with_map_per_s=%.0f ratio_vs_signing=%.3f map_checkpoints=%" PRIu64
          " signer_cpu_s_no_map=%.2f signer_cpu_s_with_map=%.2f "
          "process_cpu_s_no_map=%.2f process_cpu_s_with_map=%.2f\n",
          round + 1, p_rate, s_rate, m_rate, s_rate > 0 ? m_rate / s_rate : 0.0, m_n, s_cpu, m_cpu,
          c1 - c0, c2 - c1);
      std::fflush(stdout);
      plain += p_rate;
      signing += s_rate;
      cpu_signing += s_cpu;
      proc_signing += c1 - c0;
      with_map += m_rate;
      checkpoints += m_n;
      cpu_map += m_cpu;
      proc_map += c2 - c1;
    }
    if (only_map) return 0;
    const double n = rounds;
    std::printf("ocop append_rate events=%" PRIu64 " batch=%" PRIu64
                " checkpoint_every_ms=%d rounds=%d "
                "plain_per_s=%.0f signing_no_map_per_s=%.0f with_map_per_s=%.0f "
                "map_checkpoints=%" PRIu64
                " ratio_vs_signing=%.3f ratio_vs_plain=%.3f "
                "goal_at_least=0.90 %s signer_cpu_s_no_map=%.2f signer_cpu_s_with_map=%.2f "
                "map_cpu_us_per_event=%.2f process_cpu_us_per_event_no_map=%.2f "
                "process_cpu_us_per_event_with_map=%.2f\n",
                probe, batch, interval_ms, rounds, plain / n, signing / n, with_map / n,
                checkpoints, with_map / signing, with_map / plain,
                with_map / signing >= 0.9 ? "MET" : "NOT MET", cpu_signing / n, cpu_map / n,
                (cpu_map - cpu_signing) / n / static_cast<double>(probe) * 1e6,
                proc_signing / n / static_cast<double>(probe) * 1e6,
                proc_map / n / static_cast<double>(probe) * 1e6);
    std::fflush(stdout);
  }
  // The big log: filled once (reused when already that size).
  auto l = OpenAt(dir + "/big");
  if (l->Size() < events) {
    std::fprintf(stderr, "filling %" PRIu64 " events...\n", events - l->Size());
    Fill(l.get(), events - l->Size(), streams, 10000, &rng);
  }
  if (fill_only) return 0;
  const uint64_t size = l->Size();
  std::filesystem::remove(dir + "/big/" + StreamHeads::kFileName);
  std::unique_ptr<StreamHeads> heads;
  Check(StreamHeads::Open(l.get(), &heads, /*persist_every=*/1), "heads");
  double t0 = NowSeconds();
  merkle::Hash root;
  Check(heads->Root(size, &root), "root");
  double rebuild = NowSeconds() - t0;
  t0 = NowSeconds();
  std::unique_ptr<StreamHeads> loaded;
  Check(StreamHeads::Open(l.get(), &loaded), "reopen");
  merkle::Hash again;
  Check(loaded->Root(size, &again), "root again");
  double load = NowSeconds() - t0;
  std::printf("ocop stream_heads_rebuild events=%" PRIu64 " streams=%" PRIu64
              " fold_s=%.2f load_persisted_s=%.3f same_root=%s\n",
              size, streams, rebuild, load, root == again ? "yes" : "NO");
  std::fflush(stdout);
  // 3. Prove and verify at size N, then at N/2.
  for (uint64_t at : {size, size / 2}) {
    std::vector<double> prove_us, verify_us;
    size_t proof_bytes = 0;
    double first = 0;
    for (int k = 0; k < 2000; ++k) {
      std::string s = Stream(rng() % streams);
      HeadProof p;
      merkle::Hash r;
      double a = NowSeconds();
      Check(heads->Prove(at, s, &r, &p), "prove");
      double b = NowSeconds();
      StreamHead h;
      Check(VerifyHeadProof(s, p, r, &h), "verify");
      double c = NowSeconds();
      if (k == 0) {
        first = b - a;
      } else {
        prove_us.push_back((b - a) * 1e6);
      }
      verify_us.push_back((c - b) * 1e6);
      proof_bytes += p.siblings.size() * 32;
    }
    std::printf("ocop stream_head_proof size=%" PRIu64
                " first_s=%.2f prove_p50_us=%.1f "
                "prove_p99_us=%.1f verify_p50_us=%.1f verify_p99_us=%.1f mean_proof_bytes=%zu\n",
                at, first, Percentile(prove_us, 0.5), Percentile(prove_us, 0.99),
                Percentile(verify_us, 0.5), Percentile(verify_us, 0.99), proof_bytes / 2000);
    std::fflush(stdout);
  }
  return 0;
}
