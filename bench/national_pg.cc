// national_pg: the PostgreSQL peer of national_bench. The same events, the
// same rebuild of read models and the same year's report, as SQL.
//
//   national_pg --pg CONNINFO --dir DIR [--year 2024] [--repeats 11] [--samples 5000]
//               [--skip-load]
//
// Load (not timed against the ledger; its time is printed): every event of the
// ledger in DIR, in sequence order, becomes a row of the event table an
// event-sourced PostgreSQL design would keep,
//
//   events(seq bigint primary key, stream text, version bigint, type text,
//          effective date, recorded timestamptz, actor jsonb, payload jsonb,
//          unique (stream, version)), index on (type)
//
// with the payload's JSON derived from the Cap'n Proto schema (the same
// capnp::JsonCodec the ledger serves), sent with COPY.
//
// Rebuild (timed, one transaction): the read models of projections/ derived
// with CREATE TABLE ... AS SELECT, window functions and joins: units,
// subjects, products (identity, stage, support, version), certificates (one
// row per certificate: its end by supersession or revocation, with the
// product's unit and group and the producer's legal form, as the ledger's
// certificate facts), deadlines, targets and changes (every product event by
// effective date), each with the index its reads need (the ledger's column
// families are all ordered by key).
//
// Report (timed): the year's national report from those tables, one round
// trip, counts by section as projections::BuildReport makes them; the
// recognised and active totals are printed so that bench/national.sh can
// check that both systems counted the same.
//
// Status: one product's row with its certificates, by a prepared statement,
// for random products (a round trip over the Unix socket included).
//
// Annulments are not modelled in the SQL (national_gen writes none).
#include <capnp/dynamic.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"
#include "ledger/event_view.h"
#include "ledger/ledger.h"
#include "pg_client.h"
#include "workflow/date.h"
#include "workflow/json.h"
#include "workflow/ocop.capnp.h"

namespace ocop::bench {
namespace {

const char* const kUsage =
    "usage: national_pg --pg CONNINFO --dir DIR [--year 2024] [--repeats 11] [--samples 5000] "
    "[--skip-load]\n";

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The ISO timestamp of microseconds since the epoch, in UTC.
std::string Timestamp(int64_t micros) {
  int64_t secs = micros / 1000000;
  workflow::Date d{static_cast<int32_t>(secs / 86400)};
  int64_t s = secs % 86400;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %02d:%02d:%02d.%06d+00", workflow::FormatDate(d).c_str(),
                static_cast<int>(s / 3600), static_cast<int>(s / 60 % 60), static_cast<int>(s % 60),
                static_cast<int>(micros % 1000000));
  return buf;
}

void Load(PGconn* c, ledger::Ledger* ledger) {
  double t0 = NowSeconds();
  ExecClear(c,
            "DROP TABLE IF EXISTS events, units, subjects, products, certificates, deadlines, "
            "targets, changes");
  ExecClear(
      c,
      "CREATE TABLE events (seq bigint NOT NULL, stream text NOT NULL, version bigint NOT NULL, "
      "type text NOT NULL, effective date NOT NULL, recorded timestamptz NOT NULL, "
      "actor jsonb NOT NULL, payload jsonb NOT NULL)");
  PQclear(Exec(c, "COPY events FROM STDIN", PGRES_COPY_IN));
  std::string buf;
  auto send = [&] {
    if (PQputCopyData(c, buf.data(), static_cast<int>(buf.size())) != 1) {
      Fail(std::string("copy: ") + PQerrorMessage(c));
    }
    buf.clear();
  };
  Status failure;
  Status s = ledger->Scan(1, 0, [&](uint64_t seq, std::string_view bytes) {
    ledger::EventView view(bytes);
    if (!view.ok()) {
      failure = Status::Corruption("event " + std::to_string(seq) + ": " + view.error());
      return false;
    }
    auto e = view.As<workflow::schema::OcopEvent>();
    // The payload's own struct (the union's member), as the ledger serves it.
    auto dyn = capnp::toDynamic(e.getPayload());
    std::string payload = "{}";
    KJ_IF_MAYBE (f, dyn.which()) {
      payload = workflow::ToJson(dyn.get(*f).as<capnp::DynamicStruct>());
    }
    nlohmann::json actor = {{"principal", e.getActor().getPrincipal().cStr()},
                            {"role", e.getActor().getRole().cStr()},
                            {"unit", e.getActor().getUnit().cStr()}};
    buf += std::to_string(seq);
    buf += '\t';
    AppendCopyField(&buf, e.getStream().cStr());
    buf += '\t';
    buf += std::to_string(e.getVersion());
    buf += '\t';
    AppendCopyField(&buf, e.getType().cStr());
    buf += '\t';
    buf += e.getEffective().cStr();
    buf += '\t';
    buf += Timestamp(e.getRecordedAt());
    buf += '\t';
    AppendCopyField(&buf, actor.dump());
    buf += '\t';
    AppendCopyField(&buf, payload);
    buf += '\n';
    if (buf.size() > (8 << 20)) send();
    if (seq % 1000000 == 0) {
      std::fprintf(stderr, "# postgres load %" PRIu64 " %.0f s\n", seq, NowSeconds() - t0);
    }
    return true;
  });
  if (!s.ok()) Fail("scan: " + s.ToString());
  if (!failure.ok()) Fail(failure.ToString());
  send();
  if (PQputCopyEnd(c, nullptr) != 1) Fail(std::string("copy end: ") + PQerrorMessage(c));
  PGresult* r = PQgetResult(c);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) Fail(std::string("copy: ") + PQresultErrorMessage(r));
  PQclear(r);
  while ((r = PQgetResult(c)) != nullptr) PQclear(r);
  double copied = NowSeconds() - t0;
  ExecClear(c, "ALTER TABLE events ADD PRIMARY KEY (seq)");
  ExecClear(c, "ALTER TABLE events ADD UNIQUE (stream, version)");
  ExecClear(c, "CREATE INDEX events_type ON events (type)");
  ExecClear(c, "VACUUM ANALYZE events");
  std::printf("postgres load events=%" PRIu64 " copy_seconds=%.1f seconds=%.1f\n", ledger->Size(),
              copied, NowSeconds() - t0);
  std::fflush(stdout);
}

// The read models, as SQL. Each statement is one read model of projections/.
const char* const kRebuild[] = {
    "DROP TABLE IF EXISTS units, subjects, products, certificates, deadlines, targets, changes",
    // units: code -> its definition and, since the reform, its successor.
    R"(CREATE TABLE units AS
       SELECT d.payload->>'unit' AS code, d.payload->>'name' AS name, d.payload->>'level' AS level,
              d.payload->>'parent' AS parent, r.payload->>'successor' AS successor,
              r.effective AS retired_on
       FROM events d LEFT JOIN events r ON r.stream = d.stream AND r.type = 'UnitRetired'
       WHERE d.type = 'UnitDefined')",
    "ALTER TABLE units ADD PRIMARY KEY (code)",
    R"(CREATE TABLE subjects AS
       SELECT payload->>'subject' AS id, payload->>'name' AS name, payload->>'unit' AS unit,
              payload->>'legal_form' AS legal_form,
              coalesce((payload->>'woman_owned')::bool, false) AS woman_owned
       FROM events WHERE type = 'SubjectRegistered')",
    "ALTER TABLE subjects ADD PRIMARY KEY (id)",
    R"(CREATE TABLE targets AS
       SELECT DISTINCT ON (stream, payload->>'year', payload->>'indicator')
              substr(stream, 6) AS unit, (payload->>'year')::int AS year,
              payload->>'indicator' AS indicator, (payload->>'value')::float8 AS value
       FROM events WHERE type = 'TargetSet'
       ORDER BY stream, payload->>'year', payload->>'indicator', version DESC)",
    // products: identity from the latest registration, the stage from the
    // latest event that sets one, support summed, the stream's version.
    R"(CREATE TABLE products AS
       WITH a AS (
         SELECT stream, count(*) AS events, max(version) AS version,
                coalesce(sum((payload->>'amount_vnd')::bigint)
                         FILTER (WHERE type = 'SupportGranted'), 0) AS support_vnd
         FROM events WHERE stream LIKE 'product/%' GROUP BY stream),
       s AS (
         SELECT DISTINCT ON (stream) stream, type, effective, payload
         FROM events
         WHERE type IN ('IdeaRegistered', 'IdeaReviewed', 'PlanSubmitted', 'PlanReviewed',
                        'DossierSubmitted', 'ScoreRecorded', 'Certified', 'RatingRevoked')
         ORDER BY stream, version DESC),
       i AS (
         SELECT DISTINCT ON (stream) stream, payload->'idea' AS idea
         FROM events WHERE type = 'IdeaRegistered' ORDER BY stream, version DESC),
       p AS (
         SELECT DISTINCT ON (stream) stream, payload->>'outcome' = 'approved' AS approved
         FROM events WHERE type = 'PlanReviewed' ORDER BY stream, version DESC)
       SELECT substr(a.stream, 9) AS id, i.idea->>'name' AS name, i.idea->>'subject' AS subject,
              i.idea->>'unit' AS unit, (i.idea->>'group')::int AS grp,
              (i.idea->>'cycle_year')::int AS cycle_year,
              CASE s.type
                WHEN 'IdeaRegistered' THEN 'idea_registered'
                WHEN 'IdeaReviewed' THEN CASE s.payload->>'outcome' WHEN 'selected'
                                         THEN 'idea_selected' ELSE 'idea_rejected' END
                WHEN 'PlanSubmitted' THEN 'plan_submitted'
                WHEN 'PlanReviewed' THEN CASE s.payload->>'outcome' WHEN 'approved'
                                         THEN 'plan_approved' ELSE 'plan_rejected' END
                WHEN 'DossierSubmitted' THEN 'dossier_submitted'
                WHEN 'ScoreRecorded' THEN 'scored'
                WHEN 'Certified' THEN 'certified'
                WHEN 'RatingRevoked' THEN 'revoked' END AS stage,
              s.effective AS stage_date, a.support_vnd, coalesce(p.approved, false) AS plan_approved,
              a.events, a.version
       FROM a JOIN s USING (stream) LEFT JOIN i USING (stream) LEFT JOIN p USING (stream))",
    "ALTER TABLE products ADD PRIMARY KEY (id)",
    // certificates: one row per certificate, ended by the next renewal or
    // upgrade (the earlier of its date and the day after the old one's
    // validity) or by revocation, with what reports group by.
    R"(CREATE TABLE certificates AS
       WITH c AS (
         SELECT stream, version, payload->>'product' AS product, payload->>'certificate' AS no,
                (payload->>'stars')::int AS stars, payload->>'level' AS level,
                payload->>'entry' AS entry, (payload->>'valid_from')::date AS valid_from,
                (payload->>'valid_until')::date AS valid_until,
                payload->'decision'->>'no' AS decision_no,
                lead(payload->>'entry') OVER w AS next_entry,
                lead((payload->>'valid_from')::date) OVER w AS next_from
         FROM events WHERE type = 'Certified'
         WINDOW w AS (PARTITION BY stream ORDER BY version)),
       r AS (
         SELECT payload->>'product' AS product, payload->>'certificate' AS no,
                (payload->'decision'->>'date')::date AS revoked_on, payload->>'reason' AS reason
         FROM events WHERE type = 'RatingRevoked'),
       d AS (
         SELECT stream, effective FROM events
         WHERE type = 'DossierSubmitted' AND payload->>'entry' <> 'new')
       SELECT c.product, c.version AS idx, c.no, c.stars, c.level, c.entry, c.valid_from,
              c.valid_until, c.decision_no,
              CASE WHEN r.no IS NOT NULL THEN r.revoked_on
                   WHEN c.next_entry IN ('renewal', 'upgrade')
                   THEN least(c.next_from, c.valid_until + 1) END AS ended_on,
              r.no IS NOT NULL AS revoked, r.reason AS revoke_reason,
              EXISTS (SELECT 1 FROM d WHERE d.stream = c.stream
                      AND d.effective BETWEEN c.valid_from AND c.valid_until) AS renewal_entered,
              r.no IS NULL AND c.next_entry IN ('renewal', 'upgrade') AS renewed,
              p.unit, p.grp, p.subject, p.name, s.legal_form, s.woman_owned
       FROM c LEFT JOIN r ON r.product = c.product AND r.no = c.no
       JOIN products p ON p.id = c.product LEFT JOIN subjects s ON s.id = p.subject)",
    "CREATE INDEX certificates_product ON certificates (product, idx)",
    // deadlines: each product's current certificate by its last valid day.
    R"(CREATE TABLE deadlines AS
       SELECT DISTINCT ON (product) valid_until, product, no, ended_on IS NULL AS current
       FROM certificates ORDER BY product, idx DESC)",
    "DELETE FROM deadlines WHERE NOT current",
    "CREATE INDEX deadlines_until ON deadlines (valid_until, product)",
    // changes: what happened on products, by effective date.
    R"(CREATE TABLE changes AS
       SELECT e.effective, e.seq, p.id AS product, p.name, p.unit, e.type,
              e.payload->'decision' AS decision, (e.payload->>'stars')::int AS stars,
              e.actor->>'principal' AS principal, e.actor->>'role' AS role
       FROM events e JOIN products p ON p.id = substr(e.stream, 9)
       WHERE e.stream LIKE 'product/%')",
    "CREATE INDEX changes_day ON changes (effective, seq)",
    "ANALYZE units, subjects, products, certificates, deadlines, changes",
};

// The national report of [from, to]: the same sections and counts as
// projections::BuildReport, certificates bucketed under their province.
std::string ReportSql(const std::string& from, const std::string& to) {
  std::string f = "'" + from + "'::date", t = "'" + to + "'::date";
  return R"(WITH f AS (
      SELECT c.*, coalesce(p2.code, p1.code) AS bucket,
             c.valid_from <= )" +
         t + " AND " + t + R"( <= c.valid_until
               AND (c.ended_on IS NULL OR )" +
         t + R"( < c.ended_on) AS active
      FROM certificates c JOIN units u ON u.code = c.unit
      LEFT JOIN units p1 ON p1.code = u.parent
      LEFT JOIN units p2 ON p2.code = p1.parent AND p2.level = 'province')
    SELECT 'recognised', coalesce(entry, '') || '|' || coalesce(grp::text, '') || '|' ||
           coalesce(legal_form, '') || '|' || coalesce(bucket, ''), stars, count(*)
      FROM f WHERE valid_from BETWEEN )" +
         f + " AND " + t + R"(
      GROUP BY GROUPING SETS ((stars), (entry, stars), (grp), (legal_form), (bucket))
    UNION ALL
    SELECT 'revoked', coalesce(revoke_reason, ''), stars, count(*)
      FROM f WHERE revoked AND ended_on BETWEEN )" +
         f + " AND " + t + R"(
      GROUP BY GROUPING SETS ((stars), (revoke_reason))
    UNION ALL
    SELECT 'expired', '', stars, count(*)
      FROM f WHERE valid_until + 1 BETWEEN )" +
         f + " AND " + t + R"(
       AND coalesce(ended_on, 'infinity'::date) >= valid_until + 1
      GROUP BY stars
    UNION ALL
    SELECT 'active', coalesce(bucket, ''), stars, count(*)
      FROM f WHERE active GROUP BY GROUPING SETS ((stars), (bucket), (bucket, stars))
    UNION ALL
    SELECT 'subjects', coalesce(legal_form, ''), NULL, count(DISTINCT subject)
      FROM f WHERE active GROUP BY ROLLUP (legal_form)
    UNION ALL
    SELECT 'woman_owned', '', NULL, count(DISTINCT subject)
      FROM f WHERE active AND woman_owned)";
}

int Main(int argc, char** argv) {
  std::string conninfo, dir;
  int year = 2024, repeats = 11;
  size_t samples = 5000;
  bool load = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail("missing value for " + a + "\n" + kUsage);
      return argv[++i];
    };
    if (a == "--pg")
      conninfo = value();
    else if (a == "--dir")
      dir = value();
    else if (a == "--year")
      year = std::stoi(value());
    else if (a == "--repeats")
      repeats = std::stoi(value());
    else if (a == "--samples")
      samples = std::stoull(value());
    else if (a == "--skip-load")
      load = false;
    else
      Fail("unknown argument '" + a + "'\n" + kUsage);
  }
  if (conninfo.empty() || dir.empty()) Fail(std::string("--pg and --dir are required\n") + kUsage);
  std::ifstream meta_file(std::filesystem::path(dir) / "national.json");
  if (!meta_file) Fail(dir + "/national.json is missing: generate the ledger with national_gen");
  nlohmann::json meta = nlohmann::json::parse(meta_file);
  const uint64_t n_products = meta["products"];

  ledger::Options options;
  options.create_if_missing = false;
  options.clock = [] { return static_cast<int64_t>(NowSeconds() * 1e6); };
  std::unique_ptr<ledger::Ledger> ledger;
  Status s = ledger::Ledger::Open(dir, options, &ledger);
  if (!s.ok()) Fail("open " + dir + ": " + s.ToString());
  const uint64_t size = ledger->Size();

  PGconn* c = Connect(conninfo);
  // What a server doing analytics would be given; the defaults (4 MB) make
  // every sort spill to disk.
  ExecClear(c, "SET work_mem = '256MB'");
  ExecClear(c, "SET maintenance_work_mem = '512MB'");
  if (load) Load(c, ledger.get());
  ledger.reset();

  {
    double t0 = NowSeconds();
    ExecClear(c, "BEGIN");
    for (const char* sql : kRebuild) {
      double t1 = NowSeconds();
      ExecClear(c, sql);
      std::string first(sql);
      first = first.substr(0, first.find('\n'));
      std::fprintf(stderr, "# postgres %6.2f s  %.70s\n", NowSeconds() - t1, first.c_str());
    }
    ExecClear(c, "COMMIT");
    double secs = NowSeconds() - t0;
    std::printf("postgres rebuild events=%" PRIu64 " seconds=%.2f events_per_s=%.0f\n", size, secs,
                static_cast<double>(size) / secs);
    std::fflush(stdout);
  }
  {
    char from[16], to[16];
    std::snprintf(from, sizeof from, "%04d-01-01", year);
    std::snprintf(to, sizeof to, "%04d-12-31", year);
    std::string sql = ReportSql(from, to);
    std::vector<double> ms;
    uint64_t recognised = 0, active = 0, revoked = 0, expired = 0;
    for (int k = 0; k < repeats + 1; ++k) {
      double t0 = NowSeconds();
      PGresult* r = Exec(c, sql, PGRES_TUPLES_OK);
      double t = (NowSeconds() - t0) * 1e3;
      recognised = active = revoked = expired = 0;
      for (int i = 0; i < PQntuples(r); ++i) {
        std::string section = PQgetvalue(r, i, 0), key = PQgetvalue(r, i, 1);
        bool by_stars_only = !PQgetisnull(r, i, 2) && (key == "|||" || key.empty());
        uint64_t n = std::strtoull(PQgetvalue(r, i, 3), nullptr, 10);
        if (section == "recognised" && by_stars_only) recognised += n;
        if (section == "active" && by_stars_only) active += n;
        if (section == "revoked" && by_stars_only) revoked += n;
        if (section == "expired") expired += n;
      }
      PQclear(r);
      if (k > 0) ms.push_back(t);
    }
    std::printf("postgres report year=%d repeats=%d p50_ms=%.2f p99_ms=%.2f recognised=%" PRIu64
                " active_at_end=%" PRIu64 " revoked=%" PRIu64 " expired=%" PRIu64 "\n",
                year, repeats, Percentile(ms, 0.5), Percentile(ms, 0.99), recognised, active,
                revoked, expired);
    std::fflush(stdout);
  }
  {
    PGresult* r = PQprepare(c, "status",
                            "SELECT p.*, (SELECT json_agg(c ORDER BY c.idx) FROM certificates c "
                            "WHERE c.product = p.id) FROM products p WHERE p.id = $1",
                            1, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      Fail(std::string("prepare: ") + PQresultErrorMessage(r));
    PQclear(r);
    std::vector<double> us;
    size_t found = 0;
    for (size_t k = 0; k < samples + 500; ++k) {
      char id[32];
      std::snprintf(id, sizeof id, "SP%07" PRIu64, Mix(k) % n_products + 1);
      const char* values[1] = {id};
      double t0 = NowSeconds();
      r = PQexecPrepared(c, "status", 1, values, nullptr, nullptr, 0);
      double t = (NowSeconds() - t0) * 1e6;
      if (PQresultStatus(r) != PGRES_TUPLES_OK)
        Fail(std::string("status: ") + PQresultErrorMessage(r));
      if (k >= 500) {
        us.push_back(t);
        found += PQntuples(r) > 0;
      }
      PQclear(r);
    }
    std::printf("postgres status samples=%zu found=%zu p50_us=%.1f p99_us=%.1f\n", us.size(), found,
                Percentile(us, 0.5), Percentile(us, 0.99));
  }
  PQfinish(c);
  return 0;
}

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) { return ocop::bench::Guarded(ocop::bench::Main, argc, argv); }
