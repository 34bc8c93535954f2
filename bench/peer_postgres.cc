// peer_postgres: the harness's workloads against a PostgreSQL event table,
// the design the ledger is meant to beat:
//
//   events(seq bigserial primary key, stream text, version bigint,
//          type text, data jsonb, recorded_at timestamptz default now(),
//          unique (stream, version))
//
// The unique constraint is the optimistic-concurrency check: a writer inserts
// version v + 1 of a stream it read at v, and a concurrent writer of the same
// version fails. Every write is its own transaction with the server's default
// synchronous_commit (on), so a commit returns once its WAL is flushed; the
// server groups concurrent flushes itself.
//
//   peer_postgres --pg "host=/path/to/socket dbname=postgres user=postgres" [harness options]
//
// The table is dropped and recreated at start.
#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "harness.h"
#include "pg_client.h"

namespace ocop::bench {
namespace {

const char* const kUsage =
    "usage: peer_postgres --pg CONNINFO [--writers 1,8,32] [--seconds 5] [--batches 1000]\n"
    "                     [--batch-size 1000] [--batch-streams 50] [--streams 4000] [--passes 3]\n"
    "                     [--workloads batch,scan,verify,append]\n";

// Rows fetched per round trip by the scans: large enough that the round trip
// is amortised, small enough that memory stays bounded.
constexpr int kFetchRows = 10000;

class PgSession : public Session {
 public:
  explicit PgSession(const std::string& conninfo) : c_(Connect(conninfo)) {
    PGresult* r = PQprepare(c_, "append",
                            "INSERT INTO events (stream, version, type, data) "
                            "VALUES ($1, $2, $3, $4::jsonb) RETURNING seq",
                            4, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      Fail(std::string("prepare: ") + PQresultErrorMessage(r));
    PQclear(r);
  }
  ~PgSession() override { PQfinish(c_); }

  // One row, one implicit transaction: durable when the result arrives.
  void AppendOne(const EventSpec& e) override {
    std::string stream = StreamName(e.stream);
    std::string version = std::to_string(e.version);
    const Content& content = ContentOf(e.variant);
    const char* values[4] = {stream.c_str(), version.c_str(), content.type.c_str(),
                             ContentJson(e.variant).c_str()};
    PGresult* r = PQexecPrepared(c_, "append", 4, values, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
      Fail(std::string("insert: ") + PQresultErrorMessage(r));
    }
    PQclear(r);
  }

  // COPY is PostgreSQL's fastest way in, and a single COPY statement is one
  // transaction, so a batch is all or nothing and durable at the end.
  void AppendBatch(const std::vector<EventSpec>& events) override {
    std::string buf;
    buf.reserve(events.size() * 320);
    for (const EventSpec& e : events) {
      AppendCopyField(&buf, StreamName(e.stream));
      buf += '\t';
      buf += std::to_string(e.version);
      buf += '\t';
      AppendCopyField(&buf, ContentOf(e.variant).type);
      buf += '\t';
      AppendCopyField(&buf, ContentJson(e.variant));
      buf += '\n';
    }
    PQclear(Exec(c_, "COPY events (stream, version, type, data) FROM STDIN", PGRES_COPY_IN));
    if (PQputCopyData(c_, buf.data(), static_cast<int>(buf.size())) != 1 ||
        PQputCopyEnd(c_, nullptr) != 1) {
      Fail(std::string("copy: ") + PQerrorMessage(c_));
    }
    PGresult* r = PQgetResult(c_);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      Fail(std::string("copy: ") + PQresultErrorMessage(r));
    PQclear(r);
    while ((r = PQgetResult(c_)) != nullptr) PQclear(r);
  }

 private:
  PGconn* c_;
};

class PgSystem : public System {
 public:
  explicit PgSystem(std::string conninfo) : conninfo_(std::move(conninfo)), c_(Connect(conninfo_)) {
    ExecClear(c_, "SET client_min_messages = warning");
    ExecClear(c_, "DROP TABLE IF EXISTS events");
    ExecClear(c_,
              "CREATE TABLE events ("
              " seq bigserial PRIMARY KEY,"
              " stream text NOT NULL,"
              " version bigint NOT NULL,"
              " type text NOT NULL,"
              " data jsonb NOT NULL,"
              " recorded_at timestamptz NOT NULL DEFAULT now(),"
              " UNIQUE (stream, version))");
    // For the record: the settings that make the comparison fair.
    std::string settings;
    for (const char* name : {"server_version", "synchronous_commit", "fsync", "wal_sync_method",
                             "full_page_writes", "shared_buffers", "max_wal_size"}) {
      PGresult* r = Exec(c_, (std::string("SHOW ") + name).c_str(), PGRES_TUPLES_OK);
      settings += std::string(" ") + name + "=" + PQgetvalue(r, 0, 0);
      PQclear(r);
    }
    std::printf("# postgres:%s\n", settings.c_str());
  }
  ~PgSystem() override { PQfinish(c_); }

  std::string Name() const override { return "postgres"; }
  std::unique_ptr<Session> NewSession() override { return std::make_unique<PgSession>(conninfo_); }

  // PostgreSQL's background work after the batches is autovacuum (1M rows
  // inserted pass its insert threshold); its checkpoint is not forced, since
  // the full-page images that follow one would then weigh on the appends.
  std::string Settle() override {
    const double start = NowSeconds();
    for (;;) {
      PGresult* r = Exec(c_,
                         "SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                         "'autovacuum worker'",
                         PGRES_TUPLES_OK);
      const long workers = std::strtol(PQgetvalue(r, 0, 0), nullptr, 10);
      PQclear(r);
      if (workers == 0) return "waited until no autovacuum worker was running";
      if (NowSeconds() - start > 120) return "autovacuum still running after 120 s";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Reads every row in seq order and parses its jsonb (sent as JSON text).
  uint64_t ScanDecode(uint64_t* checksum) override {
    uint64_t sum = 0;
    uint64_t n = ForEachRow("SELECT seq, stream, version, type, data FROM events ORDER BY seq",
                            [&](PGresult* r, int i) {
                              sum += std::strtoull(PQgetvalue(r, i, 0), nullptr, 10) +
                                     std::strtoull(PQgetvalue(r, i, 2), nullptr, 10) +
                                     PQgetlength(r, i, 1) + PQgetlength(r, i, 3);
                              sum += DecodeJsonChecksum(
                                  {PQgetvalue(r, i, 4), static_cast<size_t>(PQgetlength(r, i, 4))});
                            });
    *checksum += sum;
    return n;
  }

  // The analogue of the ledger's re-hashing: SHA-256 of each row's data.
  uint64_t Verify() override {
    uint64_t fold = 0;
    uint64_t n = ForEachRow("SELECT seq, data FROM events ORDER BY seq", [&](PGresult* r, int i) {
      fold ^= Sha256Fold({PQgetvalue(r, i, 1), static_cast<size_t>(PQgetlength(r, i, 1))});
    });
    if (fold == 0 && n > 1) std::printf("# postgres: unlikely hash fold\n");
    return n;
  }

 private:
  // A server-side cursor keeps client memory bounded whatever the table size.
  template <typename Fn>
  uint64_t ForEachRow(const std::string& select, Fn fn) {
    ExecClear(c_, "BEGIN");
    ExecClear(c_, ("DECLARE scan NO SCROLL CURSOR FOR " + select).c_str());
    std::string fetch = "FETCH FORWARD " + std::to_string(kFetchRows) + " FROM scan";
    uint64_t n = 0;
    for (;;) {
      PGresult* r = Exec(c_, fetch.c_str(), PGRES_TUPLES_OK);
      int rows = PQntuples(r);
      for (int i = 0; i < rows; ++i) fn(r, i);
      PQclear(r);
      n += static_cast<uint64_t>(rows);
      if (rows == 0) break;
    }
    ExecClear(c_, "COMMIT");
    return n;
  }

  std::string conninfo_;
  PGconn* c_;
};

int Main(int argc, char** argv) {
  Params p;
  std::string conninfo = ParseArgsWith(argc, argv, "pg", kUsage, &p);
  if (p.events > 0) Fail("--events (the memory run) is for ledger_bench only");
  PgSystem sys(conninfo);
  RunWorkloads(sys, p);
  return 0;
}

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) { return ocop::bench::Guarded(ocop::bench::Main, argc, argv); }
