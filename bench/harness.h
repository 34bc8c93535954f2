// The benchmark harness shared by ledger_bench and its PostgreSQL and SQLite
// peers. Every system runs the same driver code over the same generated
// events, so a ratio between two systems compares storage, not benchmark
// loops: the only per-system code is how one event, one batch, one scan and
// one verification are done (a System and its Sessions).
//
// Workloads, in the order they run (see RunWorkloads):
//   batch    `--batches` durable appends of `--batch-size` events, one writer,
//            each batch spread over `--batch-streams` streams with their
//            expected versions (a council session scoring many products).
//   scan     full scan in sequence order, decoding every event; one untimed
//            warm-up pass, then `--passes` timed passes, median reported.
//   verify   the system's integrity check over every event, same passes.
//   append   durable single-event appends from each count in `--writers`
//            concurrent writers for `--seconds` each; writer t owns the
//            streams s with s % writers == t and appends with the expected
//            version (the stream's current version), so no append conflicts.
//            Each starts from a settled system (System::Settle, then sync(2)).
// The batch phase runs first so that scan and verify read the same events in
// every system; the single appends then land on a non-empty store.
//
// Output: one machine-readable line per figure,
//   <system> <workload> key=value ...
// and human-readable notes on lines starting with '#'. bench/run.sh parses
// the former.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ocop::bench {

// One event to append. The harness tracks stream versions, so `version` is
// the version this event must get; the expected version is version - 1.
struct EventSpec {
  uint32_t stream = 0;   // index into the stream names, see StreamName
  uint64_t version = 0;  // 1-based
  uint32_t variant = 0;  // which content variant, see Content
};

// The realistic content of an event, identical for all systems: each system
// encodes it its own way (Cap'n Proto for the ledger, JSON for the peers).
struct Content {
  std::string type;                   // "ScoreRecorded"
  std::string effective;              // "2024-08-15"
  std::string principal, role, unit;  // who acted
  // The payload's three text fields: council, criterion, score. The ledger's
  // payload borrows the Actor struct's layout for them (principal, role, unit).
  std::string payload_principal, payload_role, payload_unit;
};
constexpr uint32_t kVariants = 64;
const Content& ContentOf(uint32_t variant);
// "product/CM-000123".
std::string StreamName(uint32_t stream);
// The JSON document the peers store in their data column for `variant`:
// {"effective":..,"actor":{..},"payload":{..}} (type, stream and version are
// columns of their own).
const std::string& ContentJson(uint32_t variant);
// Parses a stored JSON document and folds some of its fields into a number,
// so that the peers' "decode" reads the fields as the ledger's does.
uint64_t DecodeJsonChecksum(std::string_view json);
// SHA-256 of `data`, folded to 64 bits: the peers' analogue of re-hashing.
uint64_t Sha256Fold(std::string_view data);

// One writer's connection. Methods abort the process on failure: a benchmark
// that lost an event must not print a figure.
class Session {
 public:
  virtual ~Session() = default;
  // One durable transaction holding one event, checked against the stream's
  // expected version (e.version - 1).
  virtual void AppendOne(const EventSpec& e) = 0;
  // One durable transaction holding all of `events`, checked likewise.
  virtual void AppendBatch(const std::vector<EventSpec>& events) = 0;
};

class System {
 public:
  virtual ~System() = default;
  virtual std::string Name() const = 0;
  // Called from the thread that will use it; one per writer.
  virtual std::unique_ptr<Session> NewSession() = 0;
  // Reads every event in sequence order and decodes it; returns the number of
  // events read and adds a checksum of decoded fields to *checksum.
  virtual uint64_t ScanDecode(uint64_t* checksum) = 0;
  // The system's integrity check over every event; returns events checked.
  virtual uint64_t Verify() = 0;
  // Called before and after each append workload; a system may print '#'
  // notes on what it saw (the ledger: how many group commits it made).
  virtual void BeforeAppends() {}
  virtual void AfterAppends() {}
  // Around each single-append workload, outside its clock (the ledger
  // measures the disk's sync floor around the one-writer run).
  virtual void BeforeAppendWorkload(int /*writers*/) {}
  virtual void AfterAppendWorkload(int /*writers*/) {}
  // Before each single-append workload, outside its clock: waits until the
  // system's own background work, left by the workloads before (the ledger's
  // flushes and compactions of the batches, PostgreSQL's autovacuum), is
  // done; forces none (no checkpoint, no flush). Returns what it waited for.
  // The harness then calls sync(2) for every system alike, so that no earlier
  // writes are still queued for the disk when the clock starts.
  virtual std::string Settle() { return "nothing to wait for"; }
};

struct Params {
  std::vector<int> writers = {1, 8, 32};
  double seconds = 5;  // per single-append workload
  uint64_t batches = 1000;
  uint32_t batch_size = 1000;
  uint32_t batch_streams = 50;
  uint32_t streams = 4000;
  int passes = 3;
  std::vector<std::string> workloads = {"batch", "scan", "verify", "append"};
  uint64_t events = 0;  // memory mode (ledger only): append this many, then verify
};

// Parses `--key value` or `--key=value` arguments. Keys of Params are taken;
// any other key is left in *extra for the program (e.g. --dir, --pg). Unknown
// bare words or a missing value abort with a usage message.
Params ParseArgs(int argc, char** argv, std::map<std::string, std::string>* extra,
                 const char* usage);

// ParseArgs for a program with one option of its own, `--<key> VALUE`, which
// is required; returns its value. Any other unknown option aborts.
std::string ParseArgsWith(int argc, char** argv, const std::string& key, const char* usage,
                          Params* p);

// Runs a program's main body; an exception escaping it aborts with its message.
int Guarded(int (*body)(int, char**), int argc, char** argv);

// Runs the selected workloads against `sys`, printing the figures.
void RunWorkloads(System& sys, const Params& p);

// The events of batch number `b` (0-based), advancing `versions` (one entry
// per stream). Deterministic: every system gets the same batches.
std::vector<EventSpec> MakeBatch(const Params& p, uint64_t b, std::vector<uint64_t>* versions);

// Peak and current resident set of this process, in KiB, from
// /proc/self/status (VmHWM and VmRSS); 0 if unavailable.
uint64_t PeakRssKb();
uint64_t CurrentRssKb();

double NowSeconds();  // steady clock, for elapsed times only

// CPU seconds (user and system) used so far by the whole process, every thread
// of it (RocksDB's included), and by the calling thread alone: on this shared
// machine a figure's CPU is steadier than its wall time.
double CpuSeconds();
double ThreadCpuSeconds();

// Percentile q (0..1) of `v` by nearest rank, as every benchmark here reports
// its p50 and p99; reorders `v`.
template <typename T>
double Percentile(std::vector<T>& v, double q) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}
[[noreturn]] void Fail(const std::string& what);

}  // namespace ocop::bench
