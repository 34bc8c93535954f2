// parse_command_bench (issue 18): what decoding one JSON command costs, the
// work `ocop serve` does on its I/O threads for every POST /v1/commands.
//
//   parse_command_bench [--rounds 5] [--seconds 1] [--only command]
//
// Decodes commands of the forms the HTTP load posts (RecordInspection and
// RecordPromotion with an idempotency key, as bench/http_load.sh sends them)
// and two RecordScore forms (parts; a scoring sheet), in turn, on one thread.
// Each round times, one after the other (so a machine whose speed drifts
// weighs on both alike):
//   json       workflow::ParseJson alone (the text to a DOM, with limits)
//   command    workflow::ParseCommand (what the server calls)
//   reference  workflow::ParseCommandByCodec: the check, then capnp::JsonCodec
//              (the path ParseCommand replaced, kept as its reference)
// --only command times ParseCommand alone (for a profiler).
// Output, per round and summed over the rounds (thread CPU time per command):
//   ocop parse_command round=R json_ns=.. command_ns=.. reference_ns=..
//   ocop parse_command total commands=N json_ns=.. command_ns=.. reference_ns=.. speedup=..
#include <capnp/message.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "harness.h"
#include "workflow/json.h"

namespace ocop::bench {
namespace {

namespace wf = ocop::workflow;

std::vector<std::string> Corpus() {
  return {
      R"({"type":"RecordInspection","effective":"2026-03-01","product":"CM-000123",)"
      R"("compliant":true,"findings":"Đạt yêu cầu: nhãn, hạn dùng, điều kiện sản xuất",)"
      R"("id":"load-7f3a-12-3456"})",
      R"({"type":"RecordPromotion","effective":"2026-03-01","product":"CM-000124",)"
      R"("channel":"Hội chợ OCOP vùng Đồng bằng sông Cửu Long","id":"load-7f3a-13-3457"})",
      R"({"type":"RecordScore","effective":"2026-03-02","product":"CM-000125",)"
      R"("council":"HD-CM","parts":{"A":30,"B":20.5,"C":30}})",
      R"({"type":"RecordScore","effective":"2026-03-02","product":"CM-000126","council":"HD-CM",)"
      R"("sheet":{"set":"qd148-2023-food","criteria":{"A1.1":3,"A1.2":2,"A2.1":4,"B1.1":5,)"
      R"("B2.3":2.5,"C1.1":10,"C2.2":8}},"expected_version":7})",
  };
}

// Thread CPU seconds for `n` decodings of the corpus in turn by `decode`.
double Time(const std::vector<std::string>& corpus, size_t n,
            const std::function<bool(const std::string&)>& decode) {
  double start = ThreadCpuSeconds();
  for (size_t i = 0; i < n; ++i) {
    if (!decode(corpus[i % corpus.size()])) Fail("decoding failed: " + corpus[i % corpus.size()]);
  }
  return ThreadCpuSeconds() - start;
}

int Main(int argc, char** argv) {
  int rounds = 5;
  double seconds = 1;
  bool only_command = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) {
      rounds = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--only") == 0 && std::strcmp(argv[i + 1], "command") == 0) {
      only_command = true;
    } else if (std::strcmp(argv[i], "--seconds") == 0) {
      seconds = std::atof(argv[i + 1]);
    } else {
      Fail("usage: parse_command_bench [--rounds 5] [--seconds 1] [--only command]");
    }
  }
  std::vector<std::string> corpus = Corpus();
  auto json = [](const std::string& text) {
    nlohmann::json j;
    return wf::ParseJson(text, &j).ok();
  };
  auto command = [](const std::string& text) {
    capnp::MallocMessageBuilder msg;
    return wf::ParseCommand(text, &msg).ok();
  };
  auto reference = [](const std::string& text) {
    capnp::MallocMessageBuilder msg;
    return wf::ParseCommandByCodec(text, &msg).ok();
  };
  if (only_command) {
    size_t n = static_cast<size_t>(seconds * 2e5);
    std::printf("ocop parse_command command_ns=%.0f\n", Time(corpus, n, command) * 1e9 / n);
    return 0;
  }
  // Size a round so that the reference path takes about `seconds`.
  size_t n = 1000;
  while (Time(corpus, n, reference) < seconds / 4) n *= 2;
  n *= 4;
  double total[3] = {0, 0, 0};
  for (int r = 0; r < rounds; ++r) {
    double t[3] = {Time(corpus, n, json), Time(corpus, n, command), Time(corpus, n, reference)};
    for (int k = 0; k < 3; ++k) total[k] += t[k];
    std::printf("ocop parse_command round=%d json_ns=%.0f command_ns=%.0f reference_ns=%.0f\n", r,
                t[0] * 1e9 / n, t[1] * 1e9 / n, t[2] * 1e9 / n);
  }
  double all = static_cast<double>(n) * rounds;
  std::printf(
      "ocop parse_command total commands=%.0f json_ns=%.0f command_ns=%.0f reference_ns=%.0f "
      "speedup=%.2f\n",
      all, total[0] * 1e9 / all, total[1] * 1e9 / all, total[2] * 1e9 / all, total[2] / total[1]);
  return 0;
}

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) { return ocop::bench::Main(argc, argv); }
