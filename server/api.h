// Api: INTERFACE.md's HTTP contract, one request in, one response out. What
// answers a path, on which lane, under which name, is one table (routes.cc),
// which both Handle and LaneOf read; the questions themselves are query/'s.
//
// Handle is called from worker threads, many at once. Appends go through the
// same Service and so the same group commit as the command line. Reads see
// every write already answered: they catch the projections up to it first
// (under a lock) when the follower thread has not, so a client reads its own
// writes.
#pragma once

#include <capnp/message.h>

#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "projections/projections.h"
#include "query/queries.h"
#include "server/dashboard_reads.h"
#include "server/metrics.h"
#include "server/reply.h"
#include "server/tokens.h"
#include "workflow/service.h"

namespace ocop::server {

class ProofRoutes;

class Api {
 public:
  Api(ledger::Ledger* ledger, projections::Projections* projections, Tokens tokens,
      Metrics* metrics)
      : ledger_(ledger),
        projections_(projections),
        service_(ledger),
        dashboard_(ledger),
        tokens_(std::move(tokens)),
        metrics_(metrics) {}

  // `principal` is set to who the request spoke for (empty if nobody); the
  // route name (for metrics and logs) is set too.
  Response Handle(const Request& req, std::string* principal, std::string* route);
  // Handle, but never throws: whatever escapes it (nothing should) is
  // answered 500 with JSON, and the server goes on.
  Response HandleSafely(const Request& req, std::string* principal, std::string* route);
  // The 500 answer for `what` escaping a handler.
  static Response Internal(const Request& req, const std::string& what);

  // Where a request is answered. Decided on the decoded path and query, as
  // Handle routes, so that no spelling of a blocking request (a long poll
  // written /%761/events?w%61it=30, say) reaches the I/O thread.
  enum class Lane {
    kInline,    // liveness, metrics, the dashboard's files: from memory, never blocks
    kCommands,  // POST /v1/commands: the committer, via HandleCommands
    kWaiting,   // may wait for new events (a wait= query): its own threads
    kWorker,    // every other read or write
  };
  static Lane LaneOf(const Request& req);
  // Answers each of `reqs` (all of Lane::kCommands) exactly as Handle would, but
  // the single commands among them are decided and appended together, in one
  // group commit (Service::SubmitEach): what a server under many writing
  // connections does per hand-off, instead of a thread blocked per command.
  //
  // What does not depend on the log is done before, by PrepareCommand, on
  // the thread that read the request (the server's I/O threads, several at
  // once): who the token speaks for, and the body parsed and checked against
  // the schema. The committer, which decides and appends one batch at a
  // time, then only decides and appends.
  struct Prepared {
    std::string who;  // the principal, if the token is known
    // The one command of the body, parsed and checked; null if the request
    // is anything else (refused, a list, invalid), which HandleCommands
    // answers alone, through Handle, as ever.
    std::unique_ptr<capnp::MallocMessageBuilder> command;
  };
  Prepared PrepareCommand(const Request& req);
  void HandleCommands(const std::vector<const Request*>& reqs,
                      const std::vector<Prepared>& prepared, std::vector<Response>* out,
                      std::vector<std::string>* principals, std::vector<std::string>* routes);

  // Folds new events into the projections; safe from any thread.
  Status CatchUp();
  // How many reads so far found the projections behind what was answered
  // and had to fold it first: a follower that sees it grow folds at once
  // rather than gathering appends (ocop/serve_command.cc).
  uint64_t reads_behind() const { return reads_behind_.load(std::memory_order_relaxed); }
  // Requests that wait for new events give up early when this is set.
  void set_stopping() { stopping_ = true; }
  Metrics* metrics() { return metrics_; }

 private:
  // One row of the route table (server/routes.h).
  struct Route;
  // The route of `path` (whatever the method), or null.
  static const Route* FindRoute(std::string_view path);

  // The routes' handlers (routes.cc), called with the principal if the route
  // needs one.
  Response Healthz(const Request& req, const Target& t, const std::string& who);
  Response MetricsText(const Request& req, const Target& t, const std::string& who);
  Response Static(const Request& req, const Target& t, const std::string& who);
  Response Commands(const Request& req, const Target& t, const std::string& who);
  Response Events(const Request& req, const Target& t, const std::string& who);
  Response Criteria(const Request& req, const Target& t, const std::string& who);
  Response PublicKey(const Request& req, const Target& t, const std::string& who);
  Response TreeHead(const Request& req, const Target& t, const std::string& who);
  Response InclusionProof(const Request& req, const Target& t, const std::string& who);
  Response ConsistencyProof(const Request& req, const Target& t, const std::string& who);
  Response Search(const Request& req, const Target& t, const std::string& who);
  Response History(const Request& req, const Target& t, const std::string& who);
  Response ProductStatus(const Request& req, const Target& t, const std::string& who);
  Response Deadlines(const Request& req, const Target& t, const std::string& who);
  Response Changes(const Request& req, const Target& t, const std::string& who);
  Response Reports(const Request& req, const Target& t, const std::string& who);
  // What the queries read: the ledger and `view`.
  query::Reader ReaderOn(const projections::ReadView& view) const;
  Response Notices(const Request& req, const Target& t, const std::string& who);
  Response ReportsDue(const Request& req, const Target& t, const std::string& who);
  // The public proof routes (server/proof_routes.h), answered by `proofs_`.
  Response Checkpoint(const Request& req, const Target& t, const std::string& who);
  Response Tile(const Request& req, const Target& t, const std::string& who);
  Response Receipt(const Request& req, const Target& t, const std::string& who);
  Response VerifyPage(const Request& req, const Target& t, const std::string& who);
  Response AddCheckpoint(const Request& req, const Target& t, const std::string& who);

 public:
  // Serves the public proof routes (/checkpoint, /tile/, receipts, /verify/,
  // /add-checkpoint) with `proofs`, and the dashboard's bundles with its map;
  // without it those routes answer 404.
  void ServeProofs(ProofRoutes* proofs, std::string origin);

 private:
  // The dashboard's own reads (server/dashboard_reads.h).
  Response Dashboard(const Request& req, const Target& t, const std::string& who);
  Response DashboardReply(const Request& req, const Status& s, DashboardReads::Answer& a);
  // A reply to a query's JSON (or its failure).
  Response Answer(const Request& req, const Status& s, const json& out);

  // Who the request speaks for; none, with the 401 in *refused, if nobody.
  std::optional<std::string> Authorize(const Request& req, Response* refused, std::string* route);
  // Parses a body of one command (a JSON object) into *msg.
  static bool ParseOneCommand(const Request& req, capnp::MallocMessageBuilder* msg);
  // The answer to a command decided and appended (or refused) with `s`.
  Response CommandReply(const Request& req, const Status& s, const workflow::Outcome& o,
                        std::chrono::steady_clock::time_point start);
  // Catches the projections up to the last answered append, if needed.
  Status CatchUpForRead();
  // Records that the appends `seqs` were answered (reported as recorded).
  void Answered(const std::vector<uint64_t>& seqs);

  ledger::Ledger* ledger_;
  projections::Projections* projections_;
  workflow::Service service_;
  DashboardReads dashboard_;  // the dashboard's own reads (whoami, units, forms...)
  Tokens tokens_;
  Metrics* metrics_;
  std::mutex catch_up_mu_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> answered_{0};      // highest sequence number answered
  std::atomic<uint64_t> reads_behind_{0};  // reads that had to catch up themselves
  ProofRoutes* proofs_ = nullptr;
};

}  // namespace ocop::server
