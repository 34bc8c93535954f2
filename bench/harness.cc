#include "harness.h"

#include <openssl/evp.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <latch>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace ocop::bench {

namespace {

// A few officers and councils of real provinces; the variants combine them so
// that events differ in content and size the way real ones do (UTF-8 names
// included), without the benchmark spending time generating text.
const char* const kPrincipals[] = {"nguyen.van.an@camau", "tran.thi.binh@soctrang",
                                   "le.hoang.cuong@bentre", "pham.minh.duc@hagiang"};
const char* const kUnits[] = {"Cà Mau", "Sóc Trăng", "Bến Tre", "Hà Giang"};
const char* const kRoles[] = {"council-member", "officer"};
const char* const kCriteria[] = {"A1.1", "A1.2", "A2.1", "B1.3", "B2.2", "C1.1", "C3.4", "D1.2"};

std::vector<Content> MakeContents() {
  std::vector<Content> out;
  for (uint32_t v = 0; v < kVariants; ++v) {
    Content c;
    c.type = "ScoreRecorded";
    c.effective = "2024-08-15";
    c.principal = kPrincipals[v % 4];
    c.role = kRoles[(v / 4) % 2];
    c.unit = kUnits[v % 4];
    // The payload: which council scored which criterion, and the score.
    c.payload_principal = std::string(v % 2 ? "HD-CM-" : "HD-ST-") + std::to_string(10 + v % 9);
    c.payload_role = kCriteria[v % 8];
    c.payload_unit = std::to_string(1 + v % 5) + "/5";
    out.push_back(std::move(c));
  }
  return out;
}

const std::vector<Content>& Contents() {
  static const std::vector<Content> contents = MakeContents();
  return contents;
}

std::vector<std::string> MakeJsons() {
  std::vector<std::string> out;
  for (const Content& c : Contents()) {
    nlohmann::json j = {{"effective", c.effective},
                        {"actor", {{"principal", c.principal}, {"role", c.role}, {"unit", c.unit}}},
                        {"payload",
                         {{"council", c.payload_principal},
                          {"criterion", c.payload_role},
                          {"score", c.payload_unit}}}};
    out.push_back(j.dump());
  }
  return out;
}

// Reused per thread: EVP_MD_fetch and context creation cost more than hashing
// a 200-byte row, and the ledger's own hashing reuses its context likewise
// (ledger/merkle.cc), so the peers get the same treatment.
struct Digester {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Digester() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

uint32_t VariantOf(uint32_t stream, uint64_t version) {
  return static_cast<uint32_t>((stream * 7 + version) % kVariants);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

uint64_t StatusField(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::strtoull(line.c_str() + n + 1, nullptr, 10);  // "VmHWM:   1234 kB"
    }
  }
  return 0;
}

void RunBatches(System& sys, const Params& p, std::vector<uint64_t>* versions) {
  auto session = sys.NewSession();
  sys.BeforeAppends();
  std::vector<float> latency_ms;
  latency_ms.reserve(p.batches);
  double start = NowSeconds();
  for (uint64_t b = 0; b < p.batches; ++b) {
    // Building the batch is client work and is timed, as it is for every system.
    double t0 = NowSeconds();
    session->AppendBatch(MakeBatch(p, b, versions));
    latency_ms.push_back(static_cast<float>((NowSeconds() - t0) * 1e3));
  }
  double secs = NowSeconds() - start;
  sys.AfterAppends();
  uint64_t events = p.batches * p.batch_size;
  double p50 = Percentile(latency_ms, 0.50), p99 = Percentile(latency_ms, 0.99);
  std::printf(
      "%s batch_%u events=%llu seconds=%.3f events_per_s=%.0f batch_p50_ms=%.2f "
      "batch_p99_ms=%.2f\n",
      sys.Name().c_str(), p.batch_size, static_cast<unsigned long long>(events), secs,
      static_cast<double>(events) / secs, p50, p99);
  std::fflush(stdout);
}

// One untimed warm-up pass (page cache, PostgreSQL hint bits), then
// p.passes timed ones; the median rate is the figure.
template <typename Fn>
void RunPasses(System& sys, const Params& p, const char* workload, Fn pass) {
  uint64_t warm = pass();
  std::vector<double> rates;
  std::string each;
  for (int i = 0; i < p.passes; ++i) {
    double t0 = NowSeconds();
    uint64_t n = pass();
    double secs = NowSeconds() - t0;
    if (n != warm) {
      Fail(std::string(workload) + " read " + std::to_string(n) + " events, the warm-up pass " +
           std::to_string(warm));
    }
    rates.push_back(static_cast<double>(n) / secs);
    if (!each.empty()) each += ',';
    each += std::to_string(static_cast<long long>(rates.back()));
  }
  std::printf("%s %s events=%llu passes=%d events_per_s=%.0f each=%s\n", sys.Name().c_str(),
              workload, static_cast<unsigned long long>(warm), p.passes, Median(rates),
              each.c_str());
  std::fflush(stdout);
}

void RunAppends(System& sys, const Params& p, int writers, std::vector<uint64_t>* versions) {
  if (writers < 1 || static_cast<uint32_t>(writers) > p.streams) {
    Fail("--writers must be between 1 and --streams");
  }
  struct PerWriter {
    uint64_t events = 0;
    double end = 0;
    std::vector<float> latency_us;
  };
  std::vector<PerWriter> results(writers);
  std::latch ready(writers + 1), go(1);
  double deadline = 0;  // written before `go` opens, read after
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      // Connections are made before the clock starts.
      auto session = sys.NewSession();
      PerWriter& r = results[t];
      r.latency_us.reserve(1 << 16);
      ready.count_down();
      go.wait();
      // Writer t owns streams t, t + writers, ...: only it touches their
      // versions, so the expected version it sends is always current.
      uint32_t stream = static_cast<uint32_t>(t);
      using Clock = std::chrono::steady_clock;
      while (NowSeconds() < deadline) {
        EventSpec e;
        e.stream = stream;
        e.version = ++(*versions)[stream];
        e.variant = VariantOf(stream, e.version);
        auto t0 = Clock::now();
        session->AppendOne(e);
        auto t1 = Clock::now();
        r.latency_us.push_back(std::chrono::duration<float, std::micro>(t1 - t0).count());
        ++r.events;
        stream += static_cast<uint32_t>(writers);
        if (stream >= p.streams) stream = static_cast<uint32_t>(t);
      }
      r.end = NowSeconds();
      session.reset();
    });
  }
  ready.arrive_and_wait();
  sys.BeforeAppends();
  double start = NowSeconds();
  deadline = start + p.seconds;
  go.count_down();
  for (auto& th : threads) th.join();
  sys.AfterAppends();

  uint64_t events = 0;
  double end = start;
  std::vector<float> all;
  for (auto& r : results) {
    events += r.events;
    end = std::max(end, r.end);  // the last append in flight at the deadline counts
    all.insert(all.end(), r.latency_us.begin(), r.latency_us.end());
  }
  double secs = end - start;
  double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99);
  std::printf(
      "%s append_1 writers=%d events=%llu seconds=%.3f events_per_s=%.0f p50_us=%.0f "
      "p99_us=%.0f\n",
      sys.Name().c_str(), writers, static_cast<unsigned long long>(events), secs,
      static_cast<double>(events) / secs, p50, p99);
  std::fflush(stdout);
}

// A single-append workload measures appends, not what earlier workloads left
// for the disk: a sync waits behind every write queued before it, so a
// compaction or vacuum still running would land in the appends' latencies
// (BENCHMARKS.md, issue 18: the one-writer p99 of 12 ms after the batches).
// Every system gets the same treatment, and the time it took is printed.
void Settle(System& sys, int writers) {
  double t0 = NowSeconds();
  std::string what = sys.Settle();
  double waited = NowSeconds() - t0;
  ::sync();
  std::printf("# %s: before %d writers: %s (%.0f ms), then sync(2) (%.0f ms)\n", sys.Name().c_str(),
              writers, what.c_str(), waited * 1e3, (NowSeconds() - t0 - waited) * 1e3);
  std::fflush(stdout);
}

bool Selected(const Params& p, const std::string& w) {
  return std::find(p.workloads.begin(), p.workloads.end(), w) != p.workloads.end();
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

uint64_t ToNumber(const std::string& key, const std::string& v) {
  char* end = nullptr;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0') Fail("--" + key + " wants a whole number, not '" + v + "'");
  return n;
}

}  // namespace

const Content& ContentOf(uint32_t variant) { return Contents()[variant % kVariants]; }

std::string StreamName(uint32_t stream) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "product/CM-%06u", stream);
  return buf;
}

const std::string& ContentJson(uint32_t variant) {
  static const std::vector<std::string> jsons = MakeJsons();
  return jsons[variant % kVariants];
}

uint64_t DecodeJsonChecksum(std::string_view json) {
  try {
    auto j = nlohmann::json::parse(json.begin(), json.end());
    return j.at("effective").get_ref<const std::string&>().size() +
           j.at("actor").at("principal").get_ref<const std::string&>().size() +
           j.at("payload").at("criterion").get_ref<const std::string&>().size();
  } catch (const std::exception& e) {
    Fail(std::string("stored JSON does not decode: ") + e.what());
  }
}

uint64_t Sha256Fold(std::string_view data) {
  thread_local Digester d;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestInit_ex(d.ctx, d.md, nullptr) != 1 ||
      EVP_DigestUpdate(d.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(d.ctx, out, &len) != 1) {
    Fail("OpenSSL SHA-256 failed");
  }
  uint64_t v;
  std::memcpy(&v, out, sizeof v);
  return v;
}

Params ParseArgs(int argc, char** argv, std::map<std::string, std::string>* extra,
                 const char* usage) {
  Params p;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", usage);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) Fail("unexpected argument '" + arg + "'\n" + usage);
    std::string key = arg.substr(2), value;
    if (size_t eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Fail("--" + key + " needs a value\n" + usage);
    }
    if (key == "writers") {
      p.writers.clear();
      for (const auto& w : SplitCommas(value))
        p.writers.push_back(static_cast<int>(ToNumber(key, w)));
    } else if (key == "seconds") {
      p.seconds = std::strtod(value.c_str(), nullptr);
      if (!(p.seconds > 0)) Fail("--seconds wants a positive number");
    } else if (key == "batches") {
      p.batches = ToNumber(key, value);
    } else if (key == "batch-size") {
      p.batch_size = static_cast<uint32_t>(ToNumber(key, value));
    } else if (key == "batch-streams") {
      p.batch_streams = static_cast<uint32_t>(ToNumber(key, value));
    } else if (key == "streams") {
      p.streams = static_cast<uint32_t>(ToNumber(key, value));
    } else if (key == "passes") {
      p.passes = static_cast<int>(ToNumber(key, value));
    } else if (key == "workloads") {
      p.workloads = SplitCommas(value);
    } else if (key == "events") {
      p.events = ToNumber(key, value);
    } else {
      (*extra)[key] = value;
    }
  }
  if (p.batch_size == 0 || p.batch_streams == 0 || p.batch_streams > p.batch_size ||
      p.batch_streams > p.streams || p.passes < 1) {
    Fail("need 0 < --batch-streams <= --batch-size, --batch-streams <= --streams, --passes >= 1");
  }
  return p;
}

std::string ParseArgsWith(int argc, char** argv, const std::string& key, const char* usage,
                          Params* p) {
  std::map<std::string, std::string> extra;
  *p = ParseArgs(argc, argv, &extra, usage);
  std::string value = extra[key];
  extra.erase(key);
  if (value.empty()) Fail("--" + key + " is required\n" + usage);
  if (!extra.empty()) Fail("unknown option --" + extra.begin()->first + "\n" + usage);
  return value;
}

int Guarded(int (*body)(int, char**), int argc, char** argv) {
  try {
    return body(argc, argv);
  } catch (const std::exception& e) {
    Fail(e.what());
  }
}

std::vector<EventSpec> MakeBatch(const Params& p, uint64_t b, std::vector<uint64_t>* versions) {
  std::vector<EventSpec> events(p.batch_size);
  // Consecutive batches take consecutive groups of streams, wrapping round.
  uint64_t first = (b * p.batch_streams) % p.streams;
  for (uint32_t i = 0; i < p.batch_size; ++i) {
    EventSpec& e = events[i];
    e.stream = static_cast<uint32_t>((first + i % p.batch_streams) % p.streams);
    e.version = ++(*versions)[e.stream];
    e.variant = VariantOf(e.stream, e.version);
  }
  return events;
}

void RunWorkloads(System& sys, const Params& p) {
  std::string writers;
  for (int w : p.writers) {
    if (!writers.empty()) writers += ',';
    writers += std::to_string(w);
  }
  std::printf("# %s: workloads", sys.Name().c_str());
  for (const auto& w : p.workloads) std::printf(" %s", w.c_str());
  std::printf(
      "; writers=%s seconds=%g batches=%llu batch_size=%u batch_streams=%u streams=%u "
      "passes=%d\n",
      writers.c_str(), p.seconds, static_cast<unsigned long long>(p.batches), p.batch_size,
      p.batch_streams, p.streams, p.passes);
  std::fflush(stdout);

  // versions[s]: the current version of stream s, kept by the harness so that
  // every append can state its expected version.
  std::vector<uint64_t> versions(p.streams, 0);
  if (Selected(p, "batch")) RunBatches(sys, p, &versions);
  if (Selected(p, "scan")) {
    RunPasses(sys, p, "scan", [&] {
      uint64_t checksum = 0;
      return sys.ScanDecode(&checksum);
    });
  }
  if (Selected(p, "verify")) RunPasses(sys, p, "verify", [&] { return sys.Verify(); });
  if (Selected(p, "append")) {
    for (int w : p.writers) {
      Settle(sys, w);
      sys.BeforeAppendWorkload(w);
      RunAppends(sys, p, w, &versions);
      sys.AfterAppendWorkload(w);
    }
  }
  std::printf("%s rss peak_mb=%.1f\n", sys.Name().c_str(), PeakRssKb() / 1024.0);
  std::fflush(stdout);
}

uint64_t PeakRssKb() { return StatusField("VmHWM"); }
uint64_t CurrentRssKb() { return StatusField("VmRSS"); }

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void Fail(const std::string& what) {
  std::fflush(stdout);
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::_Exit(3);  // other threads may be mid-append; do not run destructors under them
}

}  // namespace ocop::bench
