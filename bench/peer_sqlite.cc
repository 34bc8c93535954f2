// peer_sqlite: the harness's workloads against an SQLite event table in WAL
// mode with synchronous=FULL (every commit syncs the WAL, so it is durable):
//
//   events(seq integer primary key, stream text, version integer,
//          type text, data text (JSON), recorded_at integer,
//          unique (stream, version))
//
// One connection per writer thread, each with a busy timeout; writes take the
// write lock up front (BEGIN IMMEDIATE), so concurrent writers queue on the
// lock instead of failing at commit. SQLite 3.40 has no binary JSON, so the
// data column holds JSON text, parsed by the scan.
//
//   peer_sqlite --db FILE [harness options]
//
// FILE must not exist yet.
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "harness.h"

namespace ocop::bench {
namespace {

const char* const kUsage =
    "usage: peer_sqlite --db FILE [--writers 1,8,32] [--seconds 5] [--batches 1000]\n"
    "                   [--batch-size 1000] [--batch-streams 50] [--streams 4000] [--passes 3]\n"
    "                   [--workloads batch,scan,verify,append]\n";

// Long enough that 32 writers queueing on the one write lock never time out
// within a run; a timeout would abort the bench rather than skew it.
constexpr int kBusyTimeoutMs = 60000;

void Check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    Fail(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

void ExecSql(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string(sql) + ": " + (err ? err : "?");
    sqlite3_free(err);
    Fail(msg);
  }
}

sqlite3* OpenDb(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: each connection is used by one thread only.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) Fail("open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  ExecSql(db, "PRAGMA journal_mode=WAL");
  ExecSql(db, "PRAGMA synchronous=FULL");
  return db;
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  Check(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr), sql);
  return st;
}

class SqliteSession : public Session {
 public:
  explicit SqliteSession(const std::string& path) : db_(OpenDb(path)) {
    insert_ = Prepare(db_,
                      "INSERT INTO events (stream, version, type, data, recorded_at) "
                      "VALUES (?1, ?2, ?3, ?4, unixepoch())");
  }
  ~SqliteSession() override {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }

  void AppendOne(const EventSpec& e) override {
    Begin();
    Insert(e);
    Check(db_, sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), "COMMIT");
  }

  void AppendBatch(const std::vector<EventSpec>& events) override {
    Begin();
    for (const EventSpec& e : events) Insert(e);
    Check(db_, sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), "COMMIT");
  }

 private:
  // The busy handler waits up to kBusyTimeoutMs for the write lock; a BUSY
  // that still comes back is retried rather than counted as a failure.
  void Begin() {
    for (;;) {
      int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK) return;
      if (rc != SQLITE_BUSY) Check(db_, rc, "BEGIN IMMEDIATE");
    }
  }

  void Insert(const EventSpec& e) {
    std::string stream = StreamName(e.stream);
    const Content& c = ContentOf(e.variant);
    const std::string& json = ContentJson(e.variant);
    sqlite3_bind_text(insert_, 1, stream.data(), static_cast<int>(stream.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert_, 2, static_cast<sqlite3_int64>(e.version));
    sqlite3_bind_text(insert_, 3, c.type.data(), static_cast<int>(c.type.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_, 4, json.data(), static_cast<int>(json.size()), SQLITE_STATIC);
    Check(db_, sqlite3_step(insert_), "INSERT");  // a unique violation fails here
    sqlite3_reset(insert_);
  }

  sqlite3* db_;
  sqlite3_stmt* insert_ = nullptr;
};

class SqliteSystem : public System {
 public:
  explicit SqliteSystem(std::string path) : path_(std::move(path)), db_(OpenDb(path_)) {
    ExecSql(db_,
            "CREATE TABLE events ("
            " seq INTEGER PRIMARY KEY,"
            " stream TEXT NOT NULL,"
            " version INTEGER NOT NULL,"
            " type TEXT NOT NULL,"
            " data TEXT NOT NULL,"
            " recorded_at INTEGER NOT NULL,"
            " UNIQUE (stream, version))");
    std::printf("# sqlite: version=%s journal_mode=wal synchronous=full\n", sqlite3_libversion());
  }
  ~SqliteSystem() override { sqlite3_close(db_); }

  std::string Name() const override { return "sqlite"; }
  // SQLite has no background work: it checkpoints inside its commits.
  std::string Settle() override { return "nothing to wait for (no background work)"; }
  std::unique_ptr<Session> NewSession() override { return std::make_unique<SqliteSession>(path_); }

  uint64_t ScanDecode(uint64_t* checksum) override {
    uint64_t sum = 0;
    uint64_t n = ForEachRow("SELECT seq, stream, version, type, data FROM events ORDER BY seq",
                            [&](sqlite3_stmt* st) {
                              sum += static_cast<uint64_t>(sqlite3_column_int64(st, 0)) +
                                     static_cast<uint64_t>(sqlite3_column_int64(st, 2)) +
                                     static_cast<uint64_t>(sqlite3_column_bytes(st, 1)) +
                                     static_cast<uint64_t>(sqlite3_column_bytes(st, 3));
                              sum += DecodeJsonChecksum(Text(st, 4));
                            });
    *checksum += sum;
    return n;
  }

  uint64_t Verify() override {
    uint64_t fold = 0;
    uint64_t n = ForEachRow("SELECT seq, data FROM events ORDER BY seq",
                            [&](sqlite3_stmt* st) { fold ^= Sha256Fold(Text(st, 1)); });
    if (fold == 0 && n > 1) std::printf("# sqlite: unlikely hash fold\n");
    return n;
  }

 private:
  static std::string_view Text(sqlite3_stmt* st, int col) {
    const char* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
    return {p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, col))};
  }

  template <typename Fn>
  uint64_t ForEachRow(const char* sql, Fn fn) {
    sqlite3_stmt* st = Prepare(db_, sql);
    uint64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      fn(st);
      ++n;
    }
    Check(db_, rc, sql);
    sqlite3_finalize(st);
    return n;
  }

  std::string path_;
  sqlite3* db_;
};

int Main(int argc, char** argv) {
  Params p;
  std::string path = ParseArgsWith(argc, argv, "db", kUsage, &p);
  if (p.events > 0) Fail("--events (the memory run) is for ledger_bench only");
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    Fail(path + " exists; the bench measures a fresh database");
  SqliteSystem sys(path);
  RunWorkloads(sys, p);
  return 0;
}

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) { return ocop::bench::Guarded(ocop::bench::Main, argc, argv); }
