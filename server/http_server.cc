#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <vector>

#include "server/http_conventions.h"
#include "server/server_log.h"

namespace ocop::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class Session;

// What a session hands over to be answered off its I/O thread.
struct Job {
  std::shared_ptr<Session> session;
  std::shared_ptr<Request> req;
  bool head = false;  // a HEAD request, handled as a GET
  std::chrono::steady_clock::time_point start;
  uint64_t id = 0;
  Api::Prepared prepared;  // a command's principal and parsed body (Api::PrepareCommand)
};

// Threads that each take every POSTed command waiting and have them decided
// and appended together (Api::HandleCommands): one hand-off and one group
// commit for all of them. With a worker thread per command, each command
// cost two thread switches to reach a worker and a third waiting for the
// group's leader, which was a good part of a POST's CPU on two cores. One
// thread by default: with two, one deciding while the other waits for its
// sync, groups were smaller, syncs more frequent and the whole slower on two
// cores (bench/http_load.sh: 11 appends per sync instead of 16). Measured
// again on 2026-12-03 (BENCHMARKS.md, issue 18, n18h): two threads, with or
// without one deciding only once the other has handed its batch to the
// ledger, and four threads, each made smaller groups (8-12 appends a sync)
// and cost more CPU per command than one: a sync costs this machine's kernel
// 170-300 us of CPU, so large groups are what keeps the CPU per command low.
class Committer {
 public:
  using Answer = std::function<void(Job&, Response, std::string route, std::string principal)>;
  // Once `abandoned` is set (the I/O loop is stopping for good, nothing can
  // be answered), jobs not yet taken are dropped, neither decided nor
  // appended: a client that got no answer finds that nothing happened, or
  // resends with its id.
  Committer(Api& api, int threads, const std::atomic<bool>& abandoned, Answer answer)
      : api_(api), abandoned_(abandoned), answer_(std::move(answer)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  // Answers what was handed over (unless abandoned), then stops.
  ~Committer() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Add(Job job) {
    bool wake;
    {
      std::lock_guard<std::mutex> l(mu_);
      wake = queue_.empty();
      queue_.push_back(std::move(job));
    }
    if (wake) cv_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::vector<Job> jobs;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return !queue_.empty() || stop_; });
        if (queue_.empty() || abandoned_) return;
        jobs.swap(queue_);
      }
      std::vector<const Request*> reqs;
      std::vector<Api::Prepared> prepared;
      for (Job& j : jobs) {
        reqs.push_back(j.req.get());
        prepared.push_back(std::move(j.prepared));
      }
      std::vector<Response> out;
      std::vector<std::string> principals, routes;
      // HandleCommands answers every request, failures included; should
      // anything escape it all the same (memory exhausted), every request
      // is answered, not left waiting.
      try {
        api_.HandleCommands(reqs, prepared, &out, &principals, &routes);
      } catch (...) {
        out.assign(jobs.size(), Response());
        principals.assign(jobs.size(), "");
        routes.assign(jobs.size(), "/v1/commands");
        for (size_t i = 0; i < jobs.size(); ++i) {
          out[i] = Api::Internal(*jobs[i].req,
                                 "the command could not be handled; resend it with "
                                 "its id to learn whether it was appended");
        }
      }
      for (size_t i = 0; i < jobs.size(); ++i) {
        answer_(jobs[i], std::move(out[i]), std::move(routes[i]), std::move(principals[i]));
      }
    }
  }

  Api& api_;
  const std::atomic<bool>& abandoned_;
  Answer answer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

struct Shared {
  Shared(Api& a, const ServerOptions& o)
      : api(a), options(o), conventions{o.cors_origins}, workers(o.workers), waiters(o.waiters) {}
  Api& api;
  const ServerOptions& options;
  HttpConventions conventions;
  asio::thread_pool workers;
  asio::thread_pool waiters;
  std::atomic<size_t> connections{0};
  std::mutex clients_mu;
  std::map<std::string, size_t> per_client;  // open connections by remote address
  std::atomic<uint64_t> next_id{1};
  std::atomic<bool> stopping{false};
  // Set before the loop stops for good: handed-over requests not yet begun
  // (by the committer or the pools) are then dropped, neither decided nor
  // appended, since no answer could reach their client.
  std::atomic<bool> abandoned{false};
  std::function<void()> on_idle;  // called when stopping and the last connection closes
  std::mutex mu;
  std::vector<std::weak_ptr<Session>> sessions;  // to close the idle ones on stop
  std::unique_ptr<Committer> committer;          // POSTed commands
  // One line a request (server_log.h): its own logger if there is one.
  std::shared_ptr<spdlog::logger> request_log =
      spdlog::get(kRequestLog) ? spdlog::get(kRequestLog) : spdlog::default_logger();
};

// `s` as a JSON string. Names and route labels are plain ASCII nearly
// always, and are then quoted as they are; anything else is left to
// nlohmann::json, which escapes it and repairs bytes that are not UTF-8.
std::string_view JsonString(const std::string& s, std::string* scratch) {
  bool plain = true;
  for (unsigned char c : s) plain &= c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (plain) {
    scratch->reserve(s.size() + 2);
    scratch->push_back('"');
    scratch->append(s);
    scratch->push_back('"');
  } else {
    *scratch = nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return *scratch;
}

// One JSON line per request: {"request","principal","route","status","ms"},
// the time in milliseconds to the microsecond.
// Formatted directly: building and printing a JSON object for it cost about
// 3% of a POST's server CPU (perf, bench/http_load.sh --post-only).
void LogRequest(spdlog::logger& log, uint64_t id, const std::string& principal,
                const std::string& route, int status, double ms) {
  if (!log.should_log(spdlog::level::info)) return;
  std::string p, r;
  log.info("{{\"request\":{},\"principal\":{},\"route\":{},\"status\":{},\"ms\":{:.3f}}}", id,
           JsonString(principal, &p), JsonString(route, &r), status, ms);
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared& shared) : stream_(std::move(socket)), shared_(shared) {
    beast::error_code ec;
    client_ = stream_.socket().remote_endpoint(ec).address().to_string();
  }
  ~Session() {
    {
      std::lock_guard<std::mutex> l(shared_.clients_mu);
      auto it = shared_.per_client.find(client_);
      if (it != shared_.per_client.end() && --it->second == 0) shared_.per_client.erase(it);
    }
    if (--shared_.connections == 0 && shared_.stopping && shared_.on_idle) shared_.on_idle();
  }
  // Counts this connection against its client's share; false if over it.
  bool WithinClientShare() {
    std::lock_guard<std::mutex> l(shared_.clients_mu);
    return ++shared_.per_client[client_] <= shared_.options.max_connections_per_client;
  }

  void Start() {
    {
      std::lock_guard<std::mutex> l(shared_.mu);
      std::erase_if(shared_.sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
      shared_.sessions.push_back(weak_from_this());
    }
    Read();
  }

  // On stop: a connection waiting for its next request is closed now; one
  // whose request is being handled closes after answering.
  void StopIfIdle() {
    auto self = shared_from_this();
    asio::post(stream_.get_executor(), [self] {
      if (!self->busy_) {
        beast::error_code ec;
        self->stream_.socket().close(ec);
      }
    });
  }

  // Too many connections (in all, or from this client): answer 503 and close.
  void Refuse(const std::string& why) {
    auto res = std::make_shared<Response>(http::status::service_unavailable, 11);
    res->set(http::field::content_type, "application/json");
    res->set(http::field::retry_after, "1");
    res->body() = nlohmann::json{{"error", {{"code", "busy"}, {"message", why}}}}.dump() + "\n";
    res->keep_alive(false);
    res->prepare_payload();
    auto self = shared_from_this();
    stream_.expires_after(std::chrono::seconds(5));
    http::async_write(stream_, *res, [self, res](beast::error_code, size_t) {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    });
  }

 private:
  // The header must come within the header timeout (a slowloris client
  // trickling it byte by byte, or an idle keep-alive connection, is closed
  // then); the body within the request timeout.
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(shared_.options.max_header_bytes));
    parser_->body_limit(shared_.options.max_body_bytes);
    stream_.expires_after(std::chrono::seconds(shared_.options.header_timeout_seconds));
    auto self = shared_from_this();
    http::async_read_header(stream_, buffer_, *parser_, [self](beast::error_code ec, size_t) {
      if (ec) return self->OnRead(ec);
      self->stream_.expires_after(
          std::chrono::seconds(self->shared_.options.request_timeout_seconds));
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code ec2, size_t) { self->OnRead(ec2); });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return Close();
    }
    // Stopping closed this connection as idle after the request was read but
    // before this ran (both run on the session's strand): it could no longer
    // be answered, so it must not be carried out either. The client sees the
    // connection close unanswered and may retry with the same id.
    if (!stream_.socket().is_open()) return;
    if (ec) {
      // Malformed or over a limit: say so, then close.
      int status = ec == http::error::body_limit     ? 413
                   : ec == http::error::header_limit ? 431
                                                     : 400;
      Request dummy;
      dummy.version(11);
      auto res = std::make_shared<Response>(static_cast<http::status>(status), 11);
      res->set(http::field::content_type, "application/json");
      nlohmann::json e{{"error",
                        {{"code", status == 400 ? "invalid_argument" : "too_large"},
                         {"message", "the request could not be read: " + ec.message()}}}};
      res->body() = e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      res->keep_alive(false);
      res->prepare_payload();
      return Write(res, "(unreadable)", "", status, std::chrono::steady_clock::now(), 0);
    }
    busy_ = true;
    auto req = std::make_shared<Request>(parser_->release());
    auto start = std::chrono::steady_clock::now();
    uint64_t id = shared_.next_id++;
    auto self = shared_from_this();
    if (auto pre = shared_.conventions.Preflight(*req)) {
      auto res = std::make_shared<Response>(std::move(*pre));
      if (shared_.stopping) res->keep_alive(false);
      return Write(res, "(preflight)", "", 204, start, id);
    }
    // HEAD is GET without the body (HttpConventions::Finish drops it).
    const bool head = req->method() == http::verb::head;
    if (head) req->method(http::verb::get);
    const Api::Lane lane = Api::LaneOf(*req);
    if (lane == Api::Lane::kInline) {
      // Answered here, without a hand-off to a worker and back (which costs
      // more than the answer: bench/http_load --get-path /healthz).
      std::string principal, route;
      auto res = std::make_shared<Response>(shared_.api.HandleSafely(*req, &principal, &route));
      shared_.conventions.Finish(*req, head, res.get());
      if (shared_.stopping) res->keep_alive(false);
      return Write(res, route, principal, static_cast<int>(res->result_int()), start, id);
    }
    if (lane == Api::Lane::kCommands) {
      // Parsed here, by the I/O thread that read it, so that the committer
      // (one batch at a time) only decides and appends.
      Job job{self, req, head, start, id, {}};
      if (Thrown([&] { job.prepared = shared_.api.PrepareCommand(*req); })) job.prepared = {};
      return shared_.committer->Add(std::move(job));
    }
    asio::post(lane == Api::Lane::kWaiting ? shared_.waiters : shared_.workers,
               [self, req, head, start, id] {
                 if (self->shared_.abandoned) return;
                 std::string principal, route;
                 Response res = self->shared_.api.HandleSafely(*req, &principal, &route);
                 self->shared_.conventions.Finish(*req, head, &res);
                 self->Answer(std::move(res), std::move(route), std::move(principal), start, id);
               });
  }

 public:
  // From any thread: writes `res` on this session's own executor.
  void Answer(Response response, std::string route, std::string principal,
              std::chrono::steady_clock::time_point start, uint64_t id) {
    auto res = std::make_shared<Response>(std::move(response));
    if (shared_.stopping) res->keep_alive(false);
    int status = static_cast<int>(res->result_int());
    asio::post(stream_.get_executor(), [self = shared_from_this(), res = std::move(res),
                                        route = std::move(route), principal = std::move(principal),
                                        status, start, id]() mutable {
      self->Write(std::move(res), std::move(route), std::move(principal), status, start, id);
    });
  }

 private:
  void Write(std::shared_ptr<Response> res, std::string route, std::string principal, int status,
             std::chrono::steady_clock::time_point start, uint64_t id) {
    stream_.expires_after(std::chrono::seconds(shared_.options.request_timeout_seconds));
    auto self = shared_from_this();
    Response& r = *res;
    http::async_write(
        stream_, r,
        [self, res = std::move(res), route = std::move(route), principal = std::move(principal),
         status, start, id](beast::error_code ec, size_t) {
          double secs =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          self->shared_.api.metrics()->Request(route, status, secs);
          LogRequest(*self->shared_.request_log, id, principal, route, status, secs * 1000);
          self->busy_ = false;
          if (ec || !res->keep_alive() || self->shared_.stopping) return self->Close();
          self->Read();
        });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Shared& shared_;
  std::string client_;  // the remote address, for the per-client share
  bool busy_ = false;   // touched only on this session's strand
};

}  // namespace

Status ParseListen(const std::string& text, ServerOptions* o) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::InvalidArgument("--listen '" + text +
                                   "' must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string port = text.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoi(port) > 65535) {
    return Status::InvalidArgument("--listen port '" + port + "' must be a number 0..65535");
  }
  o->address = text.substr(0, colon);
  if (o->address.size() > 2 && o->address.front() == '[')
    o->address = o->address.substr(1, o->address.size() - 2);
  o->port = static_cast<unsigned short>(std::stoi(port));
  return Status::OK();
}

Status Serve(Api& api, const ServerOptions& options) {
  // Declared before the io_context so that sessions still queued in it when
  // it is destroyed find their shared state alive.
  Shared shared(api, options);
  shared.committer = std::make_unique<Committer>(
      api, options.committers, shared.abandoned,
      [&shared](Job& j, Response res, std::string route, std::string principal) {
        shared.conventions.Finish(*j.req, j.head, &res);
        j.session->Answer(std::move(res), std::move(route), std::move(principal), j.start, j.id);
      });
  asio::io_context ioc(options.io_threads);
  beast::error_code ec;
  auto address = asio::ip::make_address(options.address, ec);
  if (ec)
    return Status::InvalidArgument("cannot listen on '" + options.address + "': " + ec.message());
  tcp::acceptor acceptor(ioc);
  tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("cannot listen on " + options.address + ":" +
                           std::to_string(options.port) + ": " + ec.message());
  }
  spdlog::info(nlohmann::json{
      {"listening", options.address + ":" + std::to_string(acceptor.local_endpoint().port())}}
                   .dump());

  // A failed accept (EMFILE when descriptors run out, ENFILE, ENOBUFS...)
  // must not end accepting: it is logged, and accepting resumes after a
  // back-off that doubles up to a second while failures go on, giving
  // connections time to close and free descriptors.
  asio::steady_timer accept_retry(ioc);
  std::chrono::milliseconds backoff{0};
  std::function<void()> accept = [&] {
    acceptor.async_accept(asio::make_strand(ioc), [&](beast::error_code aec, tcp::socket socket) {
      if (aec == asio::error::operation_aborted || shared.stopping || !acceptor.is_open()) {
        return;  // closed by the stop signal
      }
      if (aec) {
        backoff = std::min<std::chrono::milliseconds>(
            std::max<std::chrono::milliseconds>(backoff * 2, std::chrono::milliseconds(10)),
            std::chrono::seconds(1));
        spdlog::warn(nlohmann::json{{"accept_failed", aec.message()},
                                    {"retry_in_ms", backoff.count()},
                                    {"connections", shared.connections.load()}}
                         .dump());
        accept_retry.expires_after(backoff);
        accept_retry.async_wait([&](beast::error_code e) {
          if (!e) accept();
        });
        return;
      }
      if (backoff.count() > 0) {
        spdlog::info(nlohmann::json{{"accepting_again", true}}.dump());
        backoff = std::chrono::milliseconds(0);
      }
      size_t now = ++shared.connections;
      auto session = std::make_shared<Session>(std::move(socket), shared);
      bool within_share = session->WithinClientShare();
      if (shared.stopping) {
        session->Refuse("the server is stopping; retry shortly");
      } else if (now > options.max_connections) {
        session->Refuse("too many connections; retry shortly");
      } else if (!within_share) {
        session->Refuse("this address has " + std::to_string(options.max_connections_per_client) +
                        " connections open already, the most allowed; reuse one");
      } else {
        session->Start();
      }
      accept();
    });
  };
  accept();

  // Stop: no new connections; requests in flight finish and answer (their
  // responses say Connection: close); when the last connection closes, or
  // after a grace period, the loop ends.
  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  asio::steady_timer grace(ioc);
  shared.on_idle = [&] { asio::post(ioc, [&] { ioc.stop(); }); };
  signals.async_wait([&](beast::error_code, int sig) {
    spdlog::info(nlohmann::json{{"stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT"}}.dump());
    shared.stopping = true;
    api.set_stopping();
    beast::error_code ignore;
    acceptor.close(ignore);
    accept_retry.cancel();
    {
      std::lock_guard<std::mutex> l(shared.mu);
      for (auto& w : shared.sessions) {
        if (auto session = w.lock()) session->StopIfIdle();
      }
    }
    if (shared.connections == 0) {
      ioc.stop();
      return;
    }
    grace.expires_after(std::chrono::seconds(options.request_timeout_seconds + 5));
    grace.async_wait([&](beast::error_code e) {
      if (e) return;
      // Abandoned before the loop stops, so that nothing taken from here on
      // is done without an answer.
      shared.abandoned = true;
      ioc.stop();
    });
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < options.io_threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  // The loop ends when the last connection has closed, every request
  // answered, or when the grace period ran out (everything not begun was
  // abandoned then). An append in flight completes; the pools run what they
  // hold while the io_context still exists (their handlers own sessions).
  shared.abandoned = true;
  shared.committer.reset();
  shared.workers.join();
  shared.waiters.join();
  spdlog::info(nlohmann::json{{"stopped", true}}.dump());
  return Status::OK();
}

}  // namespace ocop::server
