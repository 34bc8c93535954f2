// ledger_bench: the ledger's figures (see bench/harness.h for the workloads).
//
//   ledger_bench --dir DIR [harness options]   the comparison workloads
//   ledger_bench --dir DIR --events 10000000   the memory run: append that many
//                                              events in durable batches, scan
//                                              and verify them, report peak RSS
//
// DIR must not exist yet or be empty: the figures are for a fresh ledger.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unordered_map>

#include "harness.h"
#include "ledger/event.capnp.h"
#include "ledger/event_view.h"
#include "ledger/ledger.h"
#include "sync_floor.h"

namespace ocop::bench {
namespace {

namespace lg = ocop::ledger;

const char* const kUsage =
    "usage: ledger_bench --dir DIR [--writers 1,8,32] [--seconds 5] [--batches 1000]\n"
    "                    [--batch-size 1000] [--batch-streams 50] [--streams 4000] [--passes 3]\n"
    "                    [--workloads batch,scan,verify,append]\n"
    "       ledger_bench --dir DIR --events N [--batch-size 1000]   (memory run)\n";

// The payload of a variant: a flat unpacked Cap'n Proto message. The ledger
// treats payloads as opaque structs, so the bench borrows the ledger's own
// Actor struct for three text fields rather than defining a schema of its own.
std::string PayloadBytes(const Content& c) {
  capnp::MallocMessageBuilder msg;
  auto a = msg.initRoot<lg::schema::Actor>();
  a.setPrincipal(c.payload_principal);
  a.setRole(c.payload_role);
  a.setUnit(c.payload_unit);
  auto words = capnp::messageToFlatArray(msg);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

class LedgerSession;

class LedgerSystem : public System {
 public:
  LedgerSystem(lg::Ledger* ledger, const std::atomic<uint64_t>* groups, std::string floor_dir)
      : ledger_(ledger), groups_(groups), floor_dir_(std::move(floor_dir)) {
    for (uint32_t v = 0; v < kVariants; ++v) payloads_.push_back(PayloadBytes(ContentOf(v)));
  }
  std::string Name() const override { return "ocop"; }
  std::unique_ptr<Session> NewSession() override;

  uint64_t ScanDecode(uint64_t* checksum) override {
    uint64_t n = 0, sum = 0;
    Status s = ledger_->Scan(1, 0, [&](uint64_t seq, std::string_view bytes) {
      // EventView is how the ledger's readers decode; it validates the message
      // and copies it only when RocksDB hands back unaligned bytes.
      lg::EventView view(bytes);
      if (!view.ok()) Fail("event " + std::to_string(seq) + ": " + view.error());
      auto e = view.event();
      auto payload = e.getPayload().getAs<lg::schema::Actor>();
      sum += e.getSeq() + e.getVersion() + e.getStream().size() + e.getType().size() +
             e.getEffective().size() + e.getActor().getPrincipal().size() +
             payload.getRole().size();
      ++n;
      return true;
    });
    if (!s.ok()) Fail("scan: " + s.ToString());
    *checksum += sum;
    return n;
  }

  uint64_t Verify() override {
    lg::VerifyResult r;
    Status s = ledger_->Verify(&r);
    if (!s.ok()) Fail("verify: " + s.ToString());
    return r.checked;
  }

  // The ledger calls Options::clock once per group commit, so counting the
  // calls tells how well concurrent appends were grouped.
  void BeforeAppends() override {
    groups_before_ = groups_->load();
    syncs_before_ = ledger_->Stats().syncs;
    size_before_ = ledger_->Size();
  }
  void AfterAppends() override {
    uint64_t groups = groups_->load() - groups_before_;
    uint64_t syncs = ledger_->Stats().syncs - syncs_before_;
    uint64_t events = ledger_->Size() - size_before_;
    std::printf(
        "# ocop: %llu group commits, %.1f events per group; %llu WAL syncs, %.1f events "
        "per sync\n",
        static_cast<unsigned long long>(groups),
        groups ? static_cast<double>(events) / static_cast<double>(groups) : 0.0,
        static_cast<unsigned long long>(syncs),
        syncs ? static_cast<double>(events) / static_cast<double>(syncs) : 0.0);
  }

  std::string Settle() override {
    bool idle = false;
    Status s = ledger_->AwaitBackgroundIdle(std::chrono::seconds(120), &idle);
    if (!s.ok()) Fail("waiting for RocksDB's background work: " + s.ToString());
    return idle ? "waited until RocksDB had no flush or compaction running or pending"
                : "RocksDB's flushes and compactions still busy after 120 s";
  }

  // The one-writer run is bracketed by two measurements of the disk's sync
  // floor (bench/sync_floor.h), 2 s each, so that the floor and the append
  // see the same disk, the same background compactions and the same load.
  // The record written is the size of one append's WAL record.
  void BeforeAppendWorkload(int writers) override {
    if (writers == 1) floor_ = MeasureSyncFloor(floor_dir_, 2.0, kWalRecordBytes);
  }
  void AfterAppendWorkload(int writers) override {
    if (writers != 1) return;
    SyncFloor after = MeasureSyncFloor(floor_dir_, 2.0, kWalRecordBytes);
    std::vector<float> all = floor_.us;
    all.insert(all.end(), after.us.begin(), after.us.end());
    std::printf("# ocop: sync floor p50 %.0f us before the one-writer run, %.0f us after\n",
                Percentile(floor_.us, 0.5), Percentile(after.us, 0.5));
    std::printf("ocop sync_floor samples=%zu record_bytes=%zu p50_us=%.0f p99_us=%.0f\n",
                all.size(), kWalRecordBytes, Percentile(all, 0.5), Percentile(all, 0.99));
    SyncFloor growing = MeasureGrowingSync(floor_dir_, 2.0, kWalRecordBytes);
    std::printf("ocop sync_growing samples=%zu record_bytes=%zu p50_us=%.0f p99_us=%.0f\n",
                growing.us.size(), kWalRecordBytes, Percentile(growing.us, 0.5),
                Percentile(growing.us, 0.99));
    std::fflush(stdout);
  }

  lg::NewEvent MakeEvent(const EventSpec& e) const {
    const Content& c = ContentOf(e.variant);
    lg::NewEvent ev;
    ev.stream = StreamName(e.stream);
    ev.type = c.type;
    ev.effective = c.effective;
    ev.actor = {c.principal, c.role, c.unit};
    ev.payload = payloads_[e.variant % kVariants];
    return ev;
  }

  void Append(const lg::AppendRequest& req) {
    lg::AppendResult res;
    Status s = ledger_->Append(req, &res);
    if (!s.ok()) Fail("append: " + s.ToString());
    if (res.seqs.size() != req.events.size()) Fail("append returned the wrong number of seqs");
  }

 private:
  lg::Ledger* ledger_;
  // One event's WAL record: the event (288 bytes), its stream entry, its tree
  // node(s) and its stream's head, with RocksDB's framing.
  static constexpr size_t kWalRecordBytes = 512;
  const std::atomic<uint64_t>* groups_;
  std::string floor_dir_;
  SyncFloor floor_;
  uint64_t groups_before_ = 0, syncs_before_ = 0, size_before_ = 0;
  std::vector<std::string> payloads_;
};

// The ledger is one object shared by all threads (group commit happens inside
// it), so a session is only a handle.
class LedgerSession : public Session {
 public:
  explicit LedgerSession(LedgerSystem* sys) : sys_(sys) {}

  void AppendOne(const EventSpec& e) override {
    lg::AppendRequest req;
    req.events.push_back(sys_->MakeEvent(e));
    req.expected.push_back({req.events[0].stream, e.version - 1});
    sys_->Append(req);
  }

  void AppendBatch(const std::vector<EventSpec>& events) override {
    lg::AppendRequest req;
    req.events.reserve(events.size());
    // One expected version per stream: the version before its first event here.
    std::unordered_map<uint32_t, uint64_t> first;
    for (const EventSpec& e : events) {
      req.events.push_back(sys_->MakeEvent(e));
      if (first.emplace(e.stream, e.version - 1).second) {
        req.expected.push_back({req.events.back().stream, e.version - 1});
      }
    }
    sys_->Append(req);
  }

 private:
  LedgerSystem* sys_;
};

std::unique_ptr<Session> LedgerSystem::NewSession() {
  return std::make_unique<LedgerSession>(this);
}

// The memory run: a 10-million-event ledger is appended in durable batches,
// then scanned and verified, reporting the resident set as it goes. VmHWM is
// the process's peak, so the last line bounds every phase.
void MemoryRun(LedgerSystem& sys, lg::Ledger& ledger, const Params& p) {
  std::vector<uint64_t> versions(p.streams, 0);
  auto session = sys.NewSession();
  uint64_t batches = (p.events + p.batch_size - 1) / p.batch_size;
  uint64_t report_every = std::max<uint64_t>(1, 1000000 / p.batch_size);
  double start = NowSeconds(), last = start;
  uint64_t last_events = 0;
  for (uint64_t b = 0; b < batches; ++b) {
    session->AppendBatch(MakeBatch(p, b, &versions));
    if ((b + 1) % report_every == 0 || b + 1 == batches) {
      double now = NowSeconds();
      uint64_t events = ledger.Size();
      std::printf("# appended %llu events, %.0f events/s lately, rss %.1f MB, peak %.1f MB\n",
                  static_cast<unsigned long long>(events),
                  static_cast<double>(events - last_events) / (now - last), CurrentRssKb() / 1024.0,
                  PeakRssKb() / 1024.0);
      std::fflush(stdout);
      last = now;
      last_events = events;
    }
  }
  double append_secs = NowSeconds() - start;
  uint64_t total = ledger.Size();
  std::printf("ocop memory_append events=%llu seconds=%.1f events_per_s=%.0f peak_rss_mb=%.1f\n",
              static_cast<unsigned long long>(total), append_secs,
              static_cast<double>(total) / append_secs, PeakRssKb() / 1024.0);
  std::fflush(stdout);

  double t0 = NowSeconds();
  uint64_t checksum = 0;
  uint64_t scanned = sys.ScanDecode(&checksum);
  double scan_secs = NowSeconds() - t0;
  std::printf("ocop memory_scan events=%llu seconds=%.1f events_per_s=%.0f peak_rss_mb=%.1f\n",
              static_cast<unsigned long long>(scanned), scan_secs,
              static_cast<double>(scanned) / scan_secs, PeakRssKb() / 1024.0);
  std::fflush(stdout);

  t0 = NowSeconds();
  uint64_t checked = sys.Verify();
  double verify_secs = NowSeconds() - t0;
  std::printf("ocop memory_verify events=%llu seconds=%.1f events_per_s=%.0f peak_rss_mb=%.1f\n",
              static_cast<unsigned long long>(checked), verify_secs,
              static_cast<double>(checked) / verify_secs, PeakRssKb() / 1024.0);
  std::printf("ocop memory peak_rss_mb=%.1f events=%llu\n", PeakRssKb() / 1024.0,
              static_cast<unsigned long long>(total));
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Params p;
  std::string dir = ParseArgsWith(argc, argv, "dir", kUsage, &p);
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    Fail(dir + " is not empty; the bench measures a fresh ledger");
  }

  lg::Options options;
  options.sync = true;  // durable appends: the figure the issue asks for
  // The ledger never reads the wall clock. A counter from 2024-08-15T00:00Z,
  // one microsecond per call (one call per group commit), keeps recordedAt
  // increasing; the number of calls is the number of group commits.
  std::atomic<uint64_t> groups{0};
  options.clock = [&groups] {
    return int64_t{1723680000000000} + static_cast<int64_t>(groups.fetch_add(1));
  };
  std::unique_ptr<lg::Ledger> ledger;
  Status s = lg::Ledger::Open(dir, options, &ledger);
  if (!s.ok()) Fail("open " + dir + ": " + s.ToString());

  // The floor's file goes beside the ledger's directory: the same disk.
  std::string floor_dir = std::filesystem::absolute(dir).parent_path().string();
  LedgerSystem sys(ledger.get(), &groups, floor_dir);
  {
    // The size of what is stored per event, for the record.
    std::vector<uint64_t> versions(p.streams, 0);
    Params one = p;
    one.batch_size = 1;
    one.batch_streams = 1;
    auto e = MakeBatch(one, 0, &versions)[0];
    lg::NewEvent ev = sys.MakeEvent(e);
    std::printf("# ocop: payload %zu bytes; JSON document of the peers %zu bytes\n",
                ev.payload.size(), ContentJson(e.variant).size());
  }
  if (p.events > 0) {
    MemoryRun(sys, *ledger, p);
  } else {
    RunWorkloads(sys, p);
  }
  // Report the stored event size once something is stored.
  std::string bytes;
  if (ledger->Size() > 0 && ledger->Get(1, &bytes).ok()) {
    std::printf("# ocop: stored event 1 is %zu bytes (the envelope with its payload)\n",
                bytes.size());
  }
  return 0;
}

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) {
  // Cap'n Proto reports a malformed message by kj::Exception, which is not a
  // std::exception; turn it into a failure here, the rest in Guarded.
  return ocop::bench::Guarded(
      [](int argc, char** argv) {
        try {
          return ocop::bench::Main(argc, argv);
        } catch (const kj::Exception& e) {
          ocop::bench::Fail(std::string("Cap'n Proto: ") + e.getDescription().cStr());
        }
      },
      argc, argv);
}
