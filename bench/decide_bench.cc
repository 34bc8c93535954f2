// decide_bench: what deciding costs on top of appending. Issue 3 asks that
// the decide-and-append path on realistic commands cost at most 20% more than
// the ledger's own append at 32 concurrent writers.
//
//   decide_bench --dir DIR [--writers 1,8,32] [--seconds 5] [--streams 4000] [--rounds 3]
//                [--ids yes]
//
// In one run, on one fresh ledger in DIR (durable: every append returns once
// its group commit is synced), for each writer count, `--rounds` times in
// turn (so that a machine whose load changes during the run weighs on both
// alike; the figures add up the rounds), `--seconds` each:
//   raw     durable single-event Ledger::Append from each writer, with the
//           stream's expected version, as ledger_bench's append workload; the
//           event is an OCOP PromotionRecorded of the same envelope and size
//           class as those the Service writes.
//   submit  workflow::Service::Submit from each writer, of real commands on
//           certified products prepared beforehand (writer t owns products
//           p with p % writers == t, so no command conflicts with another
//           writer's). Half the products (a hash of the number picks
//           which) go round RecordInspection (inspector) -> RecordPromotion
//           (officer), legal while certified; the other half go round
//           SubmitDossier renewal for the next cycle year (officer; it
//           replaces the previous cycle's dossier) -> RecordScore 75
//           (province council). Effective dates advance a few days a cycle
//           from 2024-03-01 (QĐ 148; the certificate of 2024-02-20 stays in
//           force for over 300 cycles). A product keeps one certificate and
//           at most one dossier, as real ones do, however long the run: the
//           figures do not drift with the state's size.
//           Every command is decided as a named principal (no superuser):
//           roles, units, councils and the product are read from the ledger.
// Output (bench/harness.h conventions):
//   ocop decide_raw writers=W events=N seconds=S events_per_s=R p50_us=.. p99_us=..
//        cpu_us_per_op=..
//   ocop decide_submit writers=W commands=N events=N seconds=S commands_per_s=R p50_us=..
//        p99_us=.. cpu_us_per_op=..
//   ocop decide_overhead writers=W raw_per_s=.. submit_per_s=.. overhead_pct=..
//        cpu_overhead_pct=..
// (each on one line; cpu_us_per_op is the process's CPU time, user + system,
// per append or command)
// where overhead_pct = (raw_per_s / submit_per_s - 1) * 100: how much more a
// command costs than a bare append (the goal: at most 20 at 32 writers), and
// cpu_overhead_pct the same for CPU time per operation.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "ledger/ledger.h"
#include "workflow/date.h"
#include "workflow/json.h"
#include "workflow/service.h"

namespace ocop::bench {
namespace {

namespace lg = ocop::ledger;
namespace wf = ocop::workflow;

const char* const kUsage =
    "usage: decide_bench --dir DIR [--writers 1,8,32] [--seconds 5] [--streams 4000] [--rounds 3]\n"
    "                    [--ids yes]\n"
    "  --streams: how many certified products the commands go round (and raw streams)\n"
    "  --rounds: how many times raw and submit alternate per writer count\n"
    "  --ids yes: every command carries an id, and every raw append an idempotency key,\n"
    "             as a client that retries safely sends them (default: none)\n";

constexpr int kDistricts = 8;

std::string ProductId(uint32_t p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "CM-%06u", p);
  return buf;
}
std::string DistrictOf(uint32_t p) { return "H" + std::to_string(p % kDistricts); }
std::string Day(int offset) { return wf::FormatDate(wf::FromCivil(2024, 3, 1) + offset); }

// Submits one JSON command (set-up only; the timed loop builds Cap'n Proto).
void MustSubmit(wf::Service& service, const wf::Principal& who, const std::string& json) {
  capnp::MallocMessageBuilder msg;
  Status s = wf::ParseCommand(json, &msg);
  if (!s.ok()) Fail("set-up command does not parse: " + s.ToString() + "\n" + json);
  wf::Outcome out;
  s = service.Submit(who, msg.getRoot<wf::schema::Command>(), &out);
  if (!s.ok()) Fail("set-up command refused: " + s.ToString() + "\n" + json);
}

// The directory (a province, its districts, councils, principals, one
// producer per district) and `products` products certified with 4 stars by
// the province on 2024-02-20. Products go in atomic batches of 64, each
// decided in one view and appended in one durable write.
void SetUp(wf::Service& service, uint32_t products) {
  wf::Principal root{"local", true};
  MustSubmit(
      service, root,
      R"({"type":"DefineUnit","effective":"2019-01-01","unit":"VN","name":"Việt Nam","level":"national"})");
  MustSubmit(
      service, root,
      R"({"type":"DefineUnit","effective":"2019-01-01","unit":"CM","name":"Cà Mau","level":"province","parent":"VN"})");
  for (int d = 0; d < kDistricts; ++d) {
    std::string h = "H" + std::to_string(d);
    MustSubmit(service, root,
               R"({"type":"DefineUnit","effective":"2019-01-01","unit":")" + h +
                   R"(","name":"Huyện )" + h + R"(","level":"district","parent":"CM"})");
    MustSubmit(service, root,
               R"({"type":"RegisterSubject","effective":"2019-03-01","subject":"S)" +
                   std::to_string(d) + R"(","name":"HTX Thành Công )" + h +
                   R"(","legal_form":"HTX","unit":")" + h + R"(","woman_owned":true})");
  }
  MustSubmit(
      service, root,
      R"({"type":"ConstituteCouncil","effective":"2019-02-01","council":"HD-CM","level":"province","unit":"CM","decision":{"no":"1/QĐ-UBND","date":"2019-02-01","issuer":"CM"}})");
  const char* const grants[][4] = {{"officer.cm", "officer", "CM", ""},
                                   {"inspector.cm", "inspector", "CM", ""},
                                   {"hd.cm", "council", "CM", "HD-CM"},
                                   {"ubnd.cm", "authority", "CM", ""}};
  for (const auto& g : grants) {
    std::string council = *g[3] ? std::string(R"(,"council":")") + g[3] + "\"" : "";
    MustSubmit(service, root,
               std::string(R"({"type":"GrantRole","effective":"2019-02-01","principal":")") + g[0] +
                   R"(","role":")" + g[1] + R"(","unit":")" + g[2] + "\"" + council + "}");
  }
  const uint32_t kChunk = 64;
  for (uint32_t first = 0; first < products; first += kChunk) {
    std::vector<std::string> jsons;
    for (uint32_t p = first; p < std::min(products, first + kChunk); ++p) {
      std::string id = ProductId(p), h = DistrictOf(p),
                  subject = "S" + std::to_string(p % kDistricts);
      jsons.push_back(R"({"type":"RegisterIdea","effective":"2024-01-10","product":")" + id +
                      R"(","subject":")" + subject + R"(","name":"Mắm tôm chua )" + id +
                      R"(","group":1,"unit":")" + h + R"(","cycle_year":2024})");
      jsons.push_back(R"({"type":"ReviewIdea","effective":"2024-01-15","product":")" + id +
                      R"(","outcome":"selected"})");
      jsons.push_back(
          R"({"type":"SubmitPlan","effective":"2024-01-20","product":")" + id +
          R"(","document":{"title":"Phương án kinh doanh","sha256":"abababababababababababababababababababababababababababababababab"}})");
      jsons.push_back(R"({"type":"ReviewPlan","effective":"2024-01-25","product":")" + id +
                      R"(","outcome":"approved"})");
      jsons.push_back(R"({"type":"SubmitDossier","effective":"2024-02-01","product":")" + id +
                      R"(","cycle_year":2024,"entry":"new"})");
      jsons.push_back(R"({"type":"RecordScore","effective":"2024-02-10","product":")" + id +
                      R"(","council":"HD-CM","parts":{"A":30,"B":20,"C":25}})");
      jsons.push_back(
          R"({"type":"ApproveResults","effective":"2024-02-20","decision":{"no":"20/QĐ-UBND","date":"2024-02-20","issuer":"CM"},"level":"province","items":[{"product":")" +
          id + R"(","stars":4,"certificate":"GCN-)" + id + R"(-0"}]})");
    }
    std::vector<capnp::MallocMessageBuilder> msgs(jsons.size());
    std::vector<wf::schema::Command::Reader> commands;
    for (size_t i = 0; i < jsons.size(); ++i) {
      Status s = wf::ParseCommand(jsons[i], &msgs[i]);
      if (!s.ok()) Fail("set-up command does not parse: " + s.ToString());
      commands.push_back(msgs[i].getRoot<wf::schema::Command>().asReader());
    }
    std::vector<wf::Outcome> outs;
    size_t failed = 0;
    Status s = service.SubmitAll(root, commands, &outs, &failed);
    if (!s.ok()) Fail("set-up batch refused at " + jsons[failed] + ": " + s.ToString());
  }
}

// Command n of product p: step n % 2 of cycle n / 2, of the inspection and
// promotion cycle or of the dossier and score cycle (steps 2 and 3). Built
// with Cap'n Proto directly, as a server does after parsing; returns the
// principal.
std::string BuildCommand(uint32_t p, uint64_t n, bool with_id, capnp::MallocMessageBuilder* msg) {
  const bool dossiers = ((p * 2654435761u) >> 16) & 1;
  const uint64_t cycle = n / 2, step = n % 2 + (dossiers ? 2 : 0);
  const int base = static_cast<int>(cycle) * 3;  // days from 2024-03-01
  std::string id = ProductId(p);
  auto cmd = msg->initRoot<wf::schema::Command>();
  if (with_id) cmd.setId(id + "-" + std::to_string(n));
  cmd.setEffective(Day(base + static_cast<int>(n % 2)));
  auto body = cmd.initBody();
  switch (step) {
    case 0: {
      auto c = body.initRecordInspection();
      c.setProduct(id);
      c.setCompliant(true);
      c.setFindings("Điều kiện sản xuất đạt; nhãn đúng quy định");
      return "inspector.cm";
    }
    case 1: {
      auto c = body.initRecordPromotion();
      c.setProduct(id);
      c.setChannel("Hội chợ OCOP Cà Mau");
      return "officer.cm";
    }
    case 2: {
      auto c = body.initSubmitDossier();
      c.setProduct(id);
      c.setCycleYear(static_cast<uint16_t>(2024 + cycle));
      c.setEntry(wf::schema::Entry::RENEWAL);
      return "officer.cm";
    }
    default: {
      auto c = body.initRecordScore();
      c.setProduct(id);
      c.setCouncil("HD-CM");
      auto parts = c.initParts();
      parts.setA(30);
      parts.setB(20);
      parts.setC(25);
      c.setMandatoryMet(true);
      return "hd.cm";
    }
  }
}

// A PromotionRecorded payload, as the raw appends' event.
std::string PromotionPayload(const std::string& id) {
  capnp::MallocMessageBuilder msg;
  auto p = msg.initRoot<wf::schema::Payload>().initPromotionRecorded();
  p.setProduct(id);
  p.setChannel("Hội chợ OCOP Cà Mau");
  auto words = capnp::messageToFlatArray(msg);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

struct PerWriter {
  uint64_t ops = 0, events = 0;
  double end = 0;
  std::vector<float> latency_us;
};

struct Figures {
  uint64_t ops = 0, events = 0;
  double seconds = 0, cpu_seconds = 0;  // process CPU time, user + system
  std::vector<float> latency_us;

  void Add(Figures&& o) {
    ops += o.ops;
    events += o.events;
    seconds += o.seconds;
    cpu_seconds += o.cpu_seconds;
    latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
  }
  double CpuUsPerOp() const { return ops ? cpu_seconds * 1e6 / static_cast<double>(ops) : 0; }
};

// Runs `body(t, &r)` once per operation on `writers` threads for `seconds`;
// body returns the events it appended and records its own latency.
template <typename Body>
Figures RunWriters(int writers, double seconds, Body body) {
  std::vector<PerWriter> results(writers);
  std::latch ready(writers + 1), go(1);
  double deadline = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      PerWriter& r = results[t];
      r.latency_us.reserve(1 << 16);
      ready.count_down();
      go.wait();
      while (NowSeconds() < deadline) {
        r.events += body(t, &r);
        ++r.ops;
      }
      r.end = NowSeconds();
    });
  }
  ready.arrive_and_wait();
  double cpu = CpuSeconds();
  double start = NowSeconds();
  deadline = start + seconds;
  go.count_down();
  for (auto& th : threads) th.join();
  cpu = CpuSeconds() - cpu;
  Figures f;
  double end = start;
  for (auto& r : results) {
    f.ops += r.ops;
    f.events += r.events;
    end = std::max(end, r.end);  // the last operation in flight at the deadline counts
    f.latency_us.insert(f.latency_us.end(), r.latency_us.begin(), r.latency_us.end());
  }
  f.seconds = end - start;
  f.cpu_seconds = cpu;
  return f;
}

int Main(int argc, char** argv) {
  std::map<std::string, std::string> extra;
  Params p = ParseArgs(argc, argv, &extra, kUsage);
  std::string dir = extra["dir"];
  int rounds = extra.count("rounds") ? std::atoi(extra["rounds"].c_str()) : 3;
  const std::string ids_arg = extra.count("ids") ? extra["ids"] : "no";
  if (ids_arg != "yes" && ids_arg != "no") Fail("--ids takes yes or no\n" + std::string(kUsage));
  const bool ids = ids_arg == "yes";
  for (const auto& [key, value] : extra) {
    if (key != "dir" && key != "rounds" && key != "ids")
      Fail("unknown option --" + key + "\n" + kUsage);
  }
  if (dir.empty()) Fail(std::string("--dir is required\n") + kUsage);
  if (rounds < 1) Fail("--rounds must be at least 1");
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    Fail(dir + " is not empty; the bench measures a fresh ledger");
  }
  lg::Options options;
  options.sync = true;  // durable appends, as the CLI and the server make them
  std::atomic<uint64_t> groups{0};
  options.clock = [&groups] {
    return int64_t{1723680000000000} + static_cast<int64_t>(groups.fetch_add(1));
  };
  std::unique_ptr<lg::Ledger> ledger;
  Status s = lg::Ledger::Open(dir, options, &ledger);
  if (!s.ok()) Fail("open " + dir + ": " + s.ToString());
  wf::Service service(ledger.get());

  double t0 = NowSeconds();
  SetUp(service, p.streams);
  std::printf("# decide: commands %s ids, raw appends %s idempotency keys\n",
              ids ? "with" : "without", ids ? "with" : "without");
  std::printf("# decide: set up %u certified products (%llu events) in %.1f s\n", p.streams,
              static_cast<unsigned long long>(ledger->Size()), NowSeconds() - t0);
  std::fflush(stdout);

  std::vector<uint64_t> raw_versions(p.streams, 0);  // of the raw streams
  std::vector<uint64_t> steps(p.streams, 0);         // commands done per product
  std::vector<std::string> raw_payloads;
  for (uint32_t i = 0; i < p.streams; ++i) raw_payloads.push_back(PromotionPayload(ProductId(i)));
  using Clock = std::chrono::steady_clock;

  for (int writers : p.writers) {
    if (writers < 1 || static_cast<uint32_t>(writers) > p.streams) {
      Fail("--writers must be between 1 and --streams");
    }
    // (a) the ledger alone. Writer t owns raw streams t, t + writers, ...
    std::vector<uint32_t> next(writers);
    auto run_raw = [&] {
      for (int t = 0; t < writers; ++t) next[t] = static_cast<uint32_t>(t);
      return RunWriters(writers, p.seconds, [&](int t, PerWriter* r) -> uint64_t {
        uint32_t i = next[t];
        next[t] = i + writers < p.streams ? i + writers : static_cast<uint32_t>(t);
        lg::AppendRequest req;
        lg::NewEvent ev;
        ev.stream = "raw/" + ProductId(i);
        ev.type = "PromotionRecorded";
        ev.effective = "2024-03-02";
        ev.actor = {"officer.cm", "officer", "CM"};
        ev.payload = raw_payloads[i];
        req.events.push_back(std::move(ev));
        req.expected.push_back({req.events[0].stream, raw_versions[i]});
        if (ids)
          req.idempotency_key = "raw-" + ProductId(i) + "-" + std::to_string(raw_versions[i]);
        auto a = Clock::now();
        lg::AppendResult res;
        Status st = ledger->Append(req, &res);
        auto b = Clock::now();
        if (!st.ok()) Fail("raw append: " + st.ToString());
        ++raw_versions[i];
        r->latency_us.push_back(std::chrono::duration<float, std::micro>(b - a).count());
        return res.seqs.size();
      });
    };
    // (b) decide and append. Writer t owns products t, t + writers, ...
    auto run_submit = [&] {
      for (int t = 0; t < writers; ++t) next[t] = static_cast<uint32_t>(t);
      return RunWriters(writers, p.seconds, [&](int t, PerWriter* r) -> uint64_t {
        uint32_t i = next[t];
        next[t] = i + writers < p.streams ? i + writers : static_cast<uint32_t>(t);
        capnp::MallocMessageBuilder msg;
        wf::Principal who{BuildCommand(i, steps[i], ids, &msg), false};
        auto a = Clock::now();
        wf::Outcome out;
        Status st = service.Submit(who, msg.getRoot<wf::schema::Command>(), &out);
        auto b = Clock::now();
        if (!st.ok()) {
          Fail("submit refused (product " + ProductId(i) + ", step " + std::to_string(steps[i]) +
               "): " + st.ToString());
        }
        ++steps[i];
        r->latency_us.push_back(std::chrono::duration<float, std::micro>(b - a).count());
        return out.seqs.size();
      });
    };
    Figures raw, sub;
    uint64_t raw_groups = 0, sub_groups = 0;
    for (int round = 0; round < rounds; ++round) {
      uint64_t g = groups.load();
      Figures r = run_raw();
      raw_groups += groups.load() - g;
      g = groups.load();
      Figures u = run_submit();
      sub_groups += groups.load() - g;
      std::printf("# round %d: raw %.0f events/s, submit %.0f commands/s\n", round + 1,
                  static_cast<double>(r.events) / r.seconds,
                  static_cast<double>(u.ops) / u.seconds);
      std::fflush(stdout);
      raw.Add(std::move(r));
      sub.Add(std::move(u));
    }
    std::printf(
        "ocop decide_raw writers=%d events=%llu seconds=%.3f events_per_s=%.0f p50_us=%.0f "
        "p99_us=%.0f cpu_us_per_op=%.1f\n",
        writers, static_cast<unsigned long long>(raw.events), raw.seconds,
        static_cast<double>(raw.events) / raw.seconds, Percentile(raw.latency_us, 0.5),
        Percentile(raw.latency_us, 0.99), raw.CpuUsPerOp());
    std::printf(
        "# decide_raw: %.1f events per group commit\n",
        raw_groups ? static_cast<double>(raw.events) / static_cast<double>(raw_groups) : 0.0);
    std::printf(
        "ocop decide_submit writers=%d commands=%llu events=%llu seconds=%.3f "
        "commands_per_s=%.0f p50_us=%.0f p99_us=%.0f cpu_us_per_op=%.1f\n",
        writers, static_cast<unsigned long long>(sub.ops),
        static_cast<unsigned long long>(sub.events), sub.seconds,
        static_cast<double>(sub.ops) / sub.seconds, Percentile(sub.latency_us, 0.5),
        Percentile(sub.latency_us, 0.99), sub.CpuUsPerOp());
    std::printf(
        "# decide_submit: %.1f events per group commit\n",
        sub_groups ? static_cast<double>(sub.events) / static_cast<double>(sub_groups) : 0.0);
    double raw_rate = static_cast<double>(raw.events) / raw.seconds;
    double sub_rate = static_cast<double>(sub.ops) / sub.seconds;
    std::printf(
        "ocop decide_overhead writers=%d raw_per_s=%.0f submit_per_s=%.0f overhead_pct=%.1f "
        "cpu_overhead_pct=%.1f\n",
        writers, raw_rate, sub_rate, (raw_rate / sub_rate - 1) * 100,
        (sub.CpuUsPerOp() / raw.CpuUsPerOp() - 1) * 100);
    std::fflush(stdout);
  }
  std::printf("ocop decide rss peak_mb=%.1f\n", PeakRssKb() / 1024.0);
  return 0;
}

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) {
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
