// libFuzzer target: raw bytes arriving on the server's socket. They go
// through Beast's parser with the server's limits, then through Api::Handle
// against a real ledger in a scratch directory, as `ocop serve` would.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "ledger/ledger.h"
#include "projections/projections.h"
#include "server/api.h"
#include "server/tokens.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

struct Fixture {
  std::unique_ptr<ocop::ledger::Ledger> ledger;
  std::unique_ptr<ocop::projections::Projections> projections;
  ocop::server::Metrics metrics;
  std::unique_ptr<ocop::server::Api> api;

  Fixture() {
    fs::path dir = fs::temp_directory_path() / ("ocop-http-fuzz-" + std::to_string(getpid()));
    fs::remove_all(dir);
    // Removed when the fuzzer exits (run by CTest, it would pile up in /tmp).
    static std::string scratch = dir.string();
    std::atexit([] { fs::remove_all(scratch); });
    ocop::ledger::Options options;
    int64_t clock = 1700000000000000;
    options.clock = [clock]() mutable { return clock += 1000; };
    options.sync = false;  // fuzzing speed; durability is tested elsewhere
    if (!ocop::ledger::Ledger::Open(dir.string(), options, &ledger).ok()) abort();
    if (!ocop::projections::Projections::Open(ledger.get(), &projections).ok()) abort();
    // The token "fuzz" speaks for principal "fuzzer": seeds use it.
    std::string path = (dir / "tokens").string();
    FILE* f = fopen(path.c_str(), "w");
    fprintf(
        f, "fuzzer %s\n",
        "93850b707585e404e4951a3ddc1f05a34b3d4f5fc081d616f46d8a2e8f1c8e68");  // SHA-256 of "fuzz"
    fclose(f);
    ocop::server::Tokens tokens;
    if (!ocop::server::Tokens::Load(
             path, [] { return std::string("2026-01-01"); }, &tokens)
             .ok())
      abort();
    api = std::make_unique<ocop::server::Api>(ledger.get(), projections.get(), std::move(tokens),
                                              &metrics);
    api->set_stopping();  // long polls return at once instead of waiting
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.header_limit(16 << 10);
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  std::string principal, route;
  auto res = fixture.api->Handle(parser.get(), &principal, &route);
  (void)res;
  return 0;
}
