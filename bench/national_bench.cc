// national_bench: the scale figures of issues 4 and 5, on a ledger written by
// national_gen.
//
//   national_bench --dir DIR [--year 2024] [--samples 20000] [--repeats 21]
//                  [--skip-rebuild] [--report-json FILE] [--report-only]
//
// Figures, one machine-readable line each (bench/harness.h conventions):
//   ocop rebuild           Projections::Rebuild of every read model from the
//                          whole log: events/s, wall seconds, peak resident
//                          set, and the CPU seconds of all threads (on a shared
//                          machine the wall time depends on what else runs)
//   ocop report            a year's national report from the projections
//                          (BuildReport and its JSON, every section of issue
//                          15 included), median and p99; --report-json writes
//                          that JSON, which national_pg --check compares with
//                          PostgreSQL's figures; cpu_p50_ms is the process's
//                          CPU time (the report runs two threads),
//                          thread_cpu_p50_ms the calling thread's
//   ocop facts_scan        reading every certificate's facts without counting
//                          (the Cap'n Proto facts annexes read; the report
//                          reads its own fixed-layout records since format 8)
//   ocop status            one product's status in-process: the read model's
//                          record and its JSON (query::QueryStatus), random products
//   ocop status_as_of      replay::ProductAt as of a random date (the
//                          product's own stream, not the projections)
//   ocop report_known_at   the same year's report as the ledger knew it at
//                          half its events (the certificate fact versions)
//   ocop verify_bundle     VerifyBundle of the dispute bundle of the product
//                          with 100 events (MakeBundle is not timed)
// --report-only stops after the report (for profiling and for interleaved
// runs of two binaries). The peak resident set is read (VmHWM) right after the rebuild, before any
// query, so it is the rebuild's.
#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"
#include "ledger/ledger.h"
#include "projections/projections.h"
#include "projections/report.h"
#include "projections/status_json.h"
#include "query/queries.h"
#include "replay/as_of.h"
#include "replay/bundle.h"
#include "workflow/date.h"

namespace ocop::bench {
namespace {

const char* const kUsage =
    "usage: national_bench --dir DIR [--year 2024] [--samples 20000] [--repeats 21] "
    "[--skip-rebuild] [--report-json FILE] [--report-only]\n";

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The 1-minute load average: how busy the shared machine was.
std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string one;
  f >> one;
  return one;
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Fail(what + ": " + s.ToString());
}

int Main(int argc, char** argv) {
  std::string dir, report_json;
  int year = 2024, repeats = 21;
  size_t samples = 20000;
  bool rebuild = true, report_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail("missing value for " + a + "\n" + kUsage);
      return argv[++i];
    };
    if (a == "--dir")
      dir = value();
    else if (a == "--year")
      year = std::stoi(value());
    else if (a == "--samples")
      samples = std::stoull(value());
    else if (a == "--repeats")
      repeats = std::stoi(value());
    else if (a == "--skip-rebuild")
      rebuild = false;
    else if (a == "--report-json")
      report_json = value();
    else if (a == "--report-only")
      report_only = true;
    else
      Fail("unknown argument '" + a + "'\n" + kUsage);
  }
  if (dir.empty()) Fail(std::string("--dir is required\n") + kUsage);
  std::ifstream meta_file(std::filesystem::path(dir) / "national.json");
  if (!meta_file) Fail(dir + "/national.json is missing: generate the ledger with national_gen");
  nlohmann::json meta = nlohmann::json::parse(meta_file);
  const std::string bundle_product = meta["bundle_product"];
  const uint64_t n_products = meta["products"];
  workflow::Date first_day = workflow::FromCivil(meta["first_year"].get<int>(), 1, 1), last_day;
  workflow::ParseDate(meta["last_date"].get<std::string>(), &last_day);

  ledger::Options options;
  options.create_if_missing = false;
  options.clock = [] { return static_cast<int64_t>(NowSeconds() * 1e6); };
  std::unique_ptr<ledger::Ledger> ledger;
  Check(ledger::Ledger::Open(dir, options, &ledger), "open " + dir);
  const uint64_t size = ledger->Size();
  std::printf("# ledger %s: %" PRIu64 " events, %" PRIu64 " products, bundle product %s\n",
              dir.c_str(), size, n_products, bundle_product.c_str());

  std::unique_ptr<projections::Projections> proj;
  Check(projections::Projections::Open(ledger.get(), &proj), "open projections");
  if (rebuild) {
    double t0 = NowSeconds(), c0 = CpuSeconds();
    Check(proj->Rebuild([&](uint64_t done, uint64_t total) {
      if (done % 1000000 < 50000) {
        std::fprintf(stderr, "# rebuild %" PRIu64 "/%" PRIu64 " %.1f s\n", done, total,
                     NowSeconds() - t0);
      }
    }),
          "rebuild");
    double secs = NowSeconds() - t0, cpu = CpuSeconds() - c0;
    std::printf("ocop rebuild events=%" PRIu64
                " seconds=%.2f events_per_s=%.0f cpu_seconds=%.2f "
                "peak_rss_mb=%.0f load_avg=%s\n",
                size, secs, static_cast<double>(size) / secs, cpu, PeakRssKb() / 1024.0,
                LoadAverage().c_str());
  } else {
    Check(proj->CatchUp(), "catch up");
  }
  std::fflush(stdout);

  // (b) A year's national report, from the projections.
  projections::ReportQuery q;
  Check(projections::ParsePeriod(std::to_string(year), &q.period), "period");
  auto time_report = [&](const projections::ReportQuery& query, int n, const char* name) {
    std::vector<double> ms, cpu_ms, thread_ms;
    projections::Report r;
    size_t bytes = 0;
    for (int k = 0; k < n + 1; ++k) {
      double t0 = NowSeconds(), c0 = CpuSeconds(), tc0 = ThreadCpuSeconds();
      Check(projections::BuildReport(*proj->View(), query, &r), "report");
      bytes = projections::ReportJson(r).dump().size();
      double t = (NowSeconds() - t0) * 1e3;
      if (k > 0) {  // the first run warms the block cache
        ms.push_back(t);
        // The process's: the report's two passes run on two threads (and
        // any background compaction of the read models counts here too).
        cpu_ms.push_back((CpuSeconds() - c0) * 1e3);
        thread_ms.push_back((ThreadCpuSeconds() - tc0) * 1e3);
      }
    }
    if (query.known_at == 0 && !report_json.empty()) {
      std::ofstream(report_json) << projections::ReportJson(r).dump(1) << "\n";
    }
    std::printf("ocop %s year=%d known_at=%" PRIu64
                " repeats=%d p50_ms=%.2f p99_ms=%.2f cpu_p50_ms=%.2f thread_cpu_p50_ms=%.2f "
                "recognised=%" PRIu64 " active_at_end=%" PRIu64 " revoked=%" PRIu64
                " expired=%" PRIu64 " json_bytes=%zu\n",
                name, year, query.known_at, n, Percentile(ms, 0.5), Percentile(ms, 0.99),
                Percentile(cpu_ms, 0.5), Percentile(thread_ms, 0.5), r.recognised.total,
                r.active_at_end.total, r.revoked.total, r.expired.total, bytes);
    std::fflush(stdout);
  };
  time_report(q, repeats, "report");
  if (report_only) return 0;
  {
    // What the report reads, without the counting: every certificate's facts.
    std::vector<double> ms;
    uint64_t facts = 0;
    for (int k = 0; k < repeats + 1; ++k) {
      facts = 0;
      double t0 = NowSeconds();
      Check(proj->View()->ForEachFact(
                [&](projections::schema::CertificateFact::Reader f) { facts += f.getStars() > 0; }),
            "facts");
      if (k > 0) ms.push_back((NowSeconds() - t0) * 1e3);
    }
    std::printf("ocop facts_scan facts=%" PRIu64 " p50_ms=%.2f\n", facts, Percentile(ms, 0.5));
  }

  // (c) One product's status, in-process: as `ocop status` and GET
  // /v1/products/{id} answer it (a view of its own, the read model, then its
  // JSON).
  {
    std::vector<double> us;
    us.reserve(samples);
    size_t found = 0;
    for (size_t k = 0; k < samples + 1000; ++k) {
      char id[32];
      std::snprintf(id, sizeof id, "SP%07" PRIu64, Mix(k) % n_products + 1);
      query::StatusQuery sq;
      sq.product = id;
      query::Json out;
      double t0 = NowSeconds();
      std::unique_ptr<projections::ReadView> view = proj->View();
      Status s = query::QueryStatus(query::Reader{ledger.get(), view.get(), last_day}, sq, &out);
      double t = (NowSeconds() - t0) * 1e6;
      if (!s.ok() && !s.IsNotFound()) Check(s, "status");
      if (k >= 1000) {  // after a warm-up
        us.push_back(t);
        found += s.ok();
      }
    }
    std::printf("ocop status samples=%zu found=%zu p50_us=%.1f p99_us=%.1f\n", us.size(), found,
                Percentile(us, 0.5), Percentile(us, 0.99));
    std::fflush(stdout);
  }

  // (d) Issue 5: the past, at the full size of the log.
  {
    std::vector<double> us;
    size_t n = std::min<size_t>(samples, 5000);
    uint64_t events = 0;
    for (size_t k = 0; k < n + 200; ++k) {
      char id[32];
      std::snprintf(id, sizeof id, "SP%07" PRIu64, Mix(k + 7777) % n_products + 1);
      replay::PointInTime at;
      at.as_of = first_day +
                 static_cast<int>(Mix(k + 99) % static_cast<uint64_t>(last_day - first_day + 1));
      workflow::ProductState st;
      double t0 = NowSeconds();
      Status s = replay::ProductAt(ledger.get(), id, at, &st);
      double t = (NowSeconds() - t0) * 1e6;
      if (!s.ok() && !s.IsNotFound()) Check(s, "as of");
      if (k >= 200) us.push_back(t);
      uint64_t v = 0;
      if (k >= 200 && ledger->StreamVersion(std::string("product/") + id, &v).ok()) events += v;
    }
    std::printf("ocop status_as_of samples=%zu mean_stream_events=%.1f p50_us=%.1f p99_us=%.1f\n",
                us.size(), static_cast<double>(events) / static_cast<double>(us.size()),
                Percentile(us, 0.5), Percentile(us, 0.99));
    std::fflush(stdout);
  }
  {
    projections::ReportQuery kq = q;
    kq.known_at = size / 2;
    time_report(kq, std::max(3, repeats / 4), "report_known_at");
  }
  {
    nlohmann::ordered_json bundle;
    std::unique_ptr<ledger::StreamHeads> heads;
    Check(ledger::StreamHeads::Open(ledger.get(), &heads), "stream heads");
    Check(replay::MakeBundle(ledger.get(), heads.get(), "national-bench", bundle_product, &bundle),
          "make bundle");
    // The party checking it has the file, not our objects: parse it back.
    std::string text = bundle.dump();
    nlohmann::json parsed = nlohmann::json::parse(text);
    size_t events = parsed.contains("events") ? parsed["events"].size() : 0;
    std::vector<double> ms;
    for (int k = 0; k < repeats + 1; ++k) {
      nlohmann::ordered_json report;
      double t0 = NowSeconds();
      Status s = replay::VerifyBundle(parsed, &report);
      double t = (NowSeconds() - t0) * 1e3;
      Check(s, "verify bundle");
      if (k > 0) ms.push_back(t);
    }
    std::printf(
        "ocop verify_bundle product=%s events=%zu bundle_bytes=%zu repeats=%d p50_ms=%.2f "
        "p99_ms=%.2f\n",
        bundle_product.c_str(), events, text.size(), repeats, Percentile(ms, 0.5),
        Percentile(ms, 0.99));
  }
  std::printf("ocop rss peak_mb=%.0f\n", PeakRssKb() / 1024.0);
  return 0;
}

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) { return ocop::bench::Guarded(ocop::bench::Main, argc, argv); }
