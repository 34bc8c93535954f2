// http_load: a load generator for `ocop serve`, over loopback only.
//
//   http_load --port P --token-file F --products-file F
//             [--post N] [--get M] [--seconds S] [--warmup S]
//             [--commands inspection,promotion] [--effective DATE] [--no-ids]
//
// N connections POST single commands (one JSON object each) to /v1/commands
// and M connections GET /v1/products/{id} of random products (or --get-path,
// e.g. /healthz, which measures HTTP alone), all at once,
// for S seconds after a warm-up. Each connection is one keep-alive HTTP/1.1
// connection driven by its own thread, one request at a time (a closed
// loop, like a client waiting for its write to be durable before the next).
//
// POST: the products of --products-file are dealt out to the writing
// connections (product i to connection i mod N), so no two connections ever
// write the same stream and no command can lose a race; each connection
// cycles through its own products, sending the --commands in turn. Each
// command carries a fresh `id` (idempotency key), as a client that retries
// safely would, unless --no-ids.
//
// Every request must succeed: a transport error or a status other than 2xx
// stops the run, prints the request and the response on stderr and exits 1
// without printing any figure (a benchmark that lost a write has no figure).
//
// Output, one line per kind of connection (and the server's view of the
// group commit if --metrics):
//   ocop http_post connections=32 seconds=10.0 requests=... requests_per_s=...
//        p50_us=... p99_us=... p999_us=... max_us=...
//   ocop http_get  connections=4  ...
#include <utility>  // first: boost/asio/awaitable.hpp uses std::exchange without it

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  std::string token;
  std::vector<std::string> products;
  int post = 0;
  int get = 0;
  double seconds = 10;
  double warmup = 1;
  std::vector<std::string> commands{"inspection", "promotion"};
  std::string effective = "2024-06-12";
  bool ids = true;
  std::string get_products_file;  // GET from these instead (default: --products-file)
  std::vector<std::string> get_products;
  std::string get_path;  // GET this path instead of products (e.g. /healthz: the bare HTTP cost)
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "http_load: " << why << "\n"
            << "usage: http_load --port P (--token T | --token-file F) --products-file F\n"
               "                 [--post N] [--get M] [--seconds S] [--warmup S]\n"
               "                 [--commands inspection,promotion] [--effective YYYY-MM-DD]\n"
               "                 [--get-products-file F] [--get-path PATH] [--no-ids]\n";
  std::exit(2);
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) Usage("cannot read " + path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--host")
      o.host = next();
    else if (a == "--port")
      o.port = static_cast<unsigned short>(std::stoi(next()));
    else if (a == "--token")
      o.token = next();
    else if (a == "--token-file") {
      auto lines = ReadLines(next());
      if (lines.empty()) Usage("empty token file");
      o.token = lines[0];
    } else if (a == "--products-file")
      o.products = ReadLines(next());
    else if (a == "--get-path")
      o.get_path = next();
    else if (a == "--get-products-file")
      o.get_products = ReadLines(next());
    else if (a == "--post")
      o.post = std::stoi(next());
    else if (a == "--get")
      o.get = std::stoi(next());
    else if (a == "--seconds")
      o.seconds = std::stod(next());
    else if (a == "--warmup")
      o.warmup = std::stod(next());
    else if (a == "--effective")
      o.effective = next();
    else if (a == "--no-ids")
      o.ids = false;
    else if (a == "--commands") {
      o.commands.clear();
      std::stringstream ss(next());
      std::string c;
      while (std::getline(ss, c, ',')) {
        if (c != "inspection" && c != "promotion") Usage("unknown command kind " + c);
        o.commands.push_back(c);
      }
    } else if (a == "--help" || a == "-h")
      Usage("help");
    else
      Usage("unknown argument " + a);
  }
  // Loopback only: this is a load generator, never to be pointed elsewhere.
  if (o.host != "127.0.0.1" && o.host != "localhost" && o.host != "::1") {
    Usage("--host must be a loopback address (127.0.0.1)");
  }
  if (o.token.empty()) Usage("--token or --token-file is required");
  if (o.products.empty()) Usage("--products-file is required and must list products");
  if (o.get_products.empty()) o.get_products = o.products;
  if (o.post < 0 || o.get < 0 || o.post + o.get == 0)
    Usage("--post N and/or --get M, at least one");
  if (o.post > static_cast<int>(o.products.size()))
    Usage("fewer products than writing connections");
  if (o.seconds <= 0 || o.seconds > 600) Usage("--seconds must be in (0, 600]");
  if (o.commands.empty()) Usage("--commands is empty");
  return o;
}

// Set once, by the first failure; every connection stops at its next turn.
std::atomic<bool> g_failed{false};
std::mutex g_err_mu;

void Fail(const std::string& what) {
  std::lock_guard<std::mutex> l(g_err_mu);
  if (!g_failed.exchange(true)) std::cerr << "http_load: FAILED: " << what << "\n";
}

struct Result {
  std::vector<uint32_t> latencies_us;  // of requests completed in the timed window
};

class Connection {
 public:
  Connection(const Options& o, asio::io_context& ioc) : o_(o), stream_(ioc) {}

  bool Connect() {
    beast::error_code ec;
    tcp::resolver resolver(stream_.get_executor());
    auto results = resolver.resolve(o_.host, std::to_string(o_.port), ec);
    if (!ec) stream_.connect(results, ec);
    if (ec) {
      Fail("connect to " + o_.host + ":" + std::to_string(o_.port) + ": " + ec.message());
      return false;
    }
    stream_.socket().set_option(tcp::no_delay(true), ec);
    return true;
  }

  // One request; false (after reporting) unless it got a 2xx.
  bool Do(http::verb verb, const std::string& target, const std::string& body) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, o_.host);
    req.set(http::field::authorization, "Bearer " + o_.token);
    req.keep_alive(true);
    if (verb == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    beast::error_code ec;
    stream_.expires_after(std::chrono::seconds(30));
    http::write(stream_, req, ec);
    http::response<http::string_body> res;
    if (!ec) http::read(stream_, buffer_, res, ec);
    if (ec) {
      Fail(std::string(http::to_string(verb)) + " " + target + " " + body + ": " + ec.message());
      return false;
    }
    if (res.result_int() < 200 || res.result_int() >= 300) {
      std::ostringstream os;
      os << http::to_string(verb) << " " << target << " " << body << "\n  -> " << res.result_int()
         << " " << res.body();
      Fail(os.str());
      return false;
    }
    if (!res.keep_alive()) {
      Fail("the server closed the connection after " + std::string(http::to_string(verb)) + " " +
           target);
      return false;
    }
    return true;
  }

 private:
  const Options& o_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// Shared clock of the run: requests count only if they end within
// [measure_from, measure_to).
struct Window {
  Clock::time_point measure_from, measure_to;
};

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

void RunWriter(const Options& o, int index, const Window& w, const std::string& nonce,
               Result* out) {
  asio::io_context ioc;
  Connection c(o, ioc);
  if (!c.Connect()) return;
  std::vector<const std::string*> mine;
  for (size_t i = index; i < o.products.size(); i += o.post) mine.push_back(&o.products[i]);
  uint64_t n = 0;
  out->latencies_us.reserve(1 << 16);
  while (!g_failed) {
    auto start = Clock::now();
    if (start >= w.measure_to) break;
    const std::string& product = *mine[n % mine.size()];
    const std::string& kind = o.commands[(n / mine.size()) % o.commands.size()];
    std::string body = "{\"type\":";
    if (kind == "inspection") {
      body +=
          "\"RecordInspection\",\"effective\":\"" + o.effective +
          "\",\"product\":" + JsonString(product) +
          ",\"compliant\":true,\"findings\":\"Đạt yêu cầu: nhãn, hạn dùng, điều kiện sản xuất\"";
    } else {
      body += "\"RecordPromotion\",\"effective\":\"" + o.effective +
              "\",\"product\":" + JsonString(product) +
              ",\"channel\":\"Hội chợ OCOP vùng Đồng bằng sông Cửu Long\"";
    }
    if (o.ids)
      body +=
          ",\"id\":\"load-" + nonce + "-" + std::to_string(index) + "-" + std::to_string(n) + "\"";
    body += "}";
    if (!c.Do(http::verb::post, "/v1/commands", body)) return;
    auto end = Clock::now();
    if (start >= w.measure_from && end < w.measure_to) {
      out->latencies_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(end - start).count()));
    }
    ++n;
  }
}

void RunReader(const Options& o, int index, const Window& w, Result* out) {
  asio::io_context ioc;
  Connection c(o, ioc);
  if (!c.Connect()) return;
  std::mt19937_64 rng(0x0C0Full * 1000003 + index);
  std::uniform_int_distribution<size_t> pick(0, o.get_products.size() - 1);
  out->latencies_us.reserve(1 << 16);
  while (!g_failed) {
    auto start = Clock::now();
    if (start >= w.measure_to) break;
    const std::string target =
        o.get_path.empty() ? "/v1/products/" + o.get_products[pick(rng)] : o.get_path;
    if (!c.Do(http::verb::get, target, "")) return;
    auto end = Clock::now();
    if (start >= w.measure_from && end < w.measure_to) {
      out->latencies_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(end - start).count()));
    }
  }
}

void Print(const char* name, int connections, double seconds, std::vector<Result>& results) {
  std::vector<uint32_t> all;
  for (auto& r : results) all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> uint32_t {
    if (all.empty()) return 0;
    size_t i = static_cast<size_t>(p * (all.size() - 1) + 0.5);
    return all[std::min(i, all.size() - 1)];
  };
  std::printf(
      "ocop %s connections=%d seconds=%.1f requests=%zu requests_per_s=%.0f p50_us=%u p99_us=%u "
      "p999_us=%u max_us=%u\n",
      name, connections, seconds, all.size(), all.size() / seconds, pct(0.5), pct(0.99), pct(0.999),
      all.empty() ? 0 : all.back());
}

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  std::string nonce = std::to_string(getpid()) + "-" +
                      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  Window w;
  w.measure_from = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.warmup));
  w.measure_to = w.measure_from + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.seconds));

  std::vector<Result> posts(o.post), gets(o.get);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.post; ++i)
    threads.emplace_back(RunWriter, std::cref(o), i, std::cref(w), nonce, &posts[i]);
  for (int i = 0; i < o.get; ++i)
    threads.emplace_back(RunReader, std::cref(o), i, std::cref(w), &gets[i]);
  for (auto& t : threads) t.join();
  if (g_failed) {
    std::cerr << "http_load: no figures: a request failed\n";
    return 1;
  }
  if (o.post) Print("http_post", o.post, o.seconds, posts);
  if (o.get) Print("http_get", o.get, o.seconds, gets);
  return 0;
}
