// national_pg: the PostgreSQL peer of national_bench. The same events, the
// same rebuild of read models and the same year's report, as SQL.
//
//   national_pg --pg CONNINFO --dir DIR [--year 2024] [--repeats 11] [--samples 5000]
//               [--skip-load] [--skip-rebuild] [--check OCOP_REPORT_JSON]
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
// trip, with every section projections::BuildReport fills (the round table,
// woman-owned producers' products, producers by legal form, products by
// named group, support by source and unit, ideas by unit and cycle year,
// the five-year trend, deadlines by month), one row per figure. With
// --check, the figures are compared one by one with the report national_bench
// wrote (--report-json) and every difference is printed ("postgres check").
//
// Status: one product's row with its certificates, by a prepared statement,
// for random products (a round trip over the Unix socket included).
//
// --skip-load and --skip-rebuild reuse the events and read models an earlier
// run left in the same database: a run that only times the report (next to
// national_bench's, in the same minutes) need not redo either.
//
// Annulments are not modelled in the SQL (national_gen writes none).
#include <capnp/dynamic.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
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
#include "workflow/rules.h"

namespace ocop::bench {
namespace {

const char* const kUsage =
    "usage: national_pg --pg CONNINFO --dir DIR [--year 2024] [--repeats 11] [--samples 5000] "
    "[--skip-load] [--skip-rebuild] [--check OCOP_REPORT_JSON]\n";

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
            "targets, changes, report_changes, report_groups");
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
    "DROP TABLE IF EXISTS units, subjects, products, certificates, deadlines, targets, changes, "
    "report_changes",
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
              coalesce(i.idea->>'group_list', '') AS group_list,
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
              p.unit, p.grp, p.group_list, p.subject, p.name, s.legal_form, s.woman_owned
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
    // report_changes: as the ledger's projections (format 7), the events the
    // period report counts, with the producer, entry kind, cycle year and
    // outcome (an idea's review in the cycle year of its latest
    // registration before it).
    R"(CREATE TABLE report_changes AS
       SELECT e.effective, e.seq, p.id AS product, p.unit, e.type, p.subject,
              coalesce(e.payload->>'entry', 'new') AS entry,
              CASE e.type
                WHEN 'IdeaRegistered' THEN (e.payload->'idea'->>'cycle_year')::int
                WHEN 'IdeaReviewed' THEN
                  (SELECT (r.payload->'idea'->>'cycle_year')::int FROM events r
                   WHERE r.stream = e.stream AND r.version < e.version
                     AND r.type = 'IdeaRegistered' ORDER BY r.version DESC LIMIT 1)
                ELSE (e.payload->>'cycle_year')::int END AS cycle_year,
              coalesce(e.payload->>'outcome',
                       CASE e.type WHEN 'IdeaReviewed' THEN 'selected' ELSE 'recognised' END)
                AS outcome,
              (e.payload->>'stars')::int AS stars,
              (e.payload->>'amount_vnd')::bigint AS amount_vnd, e.payload->>'source' AS source
       FROM events e JOIN products p ON p.id = substr(e.stream, 9)
       WHERE e.type IN ('SupportGranted', 'DossierSubmitted', 'DossierEnded', 'Certified',
                        'IdeaRegistered', 'IdeaReviewed'))",
    "CREATE INDEX report_changes_day ON report_changes (effective, seq)",
    "ANALYZE units, subjects, products, certificates, deadlines, changes, report_changes",
};

// The group names reports count by (QĐ 919), for each list and code: the
// reference table workflow::ReportGroupOf is, as a table the SQL joins.
void LoadReportGroups(PGconn* c) {
  ExecClear(c, "DROP TABLE IF EXISTS report_groups");
  ExecClear(
      c, "CREATE TABLE report_groups (list text, code int, name text, PRIMARY KEY (list, code))");
  std::string values;
  for (const char* list : {"", "QD1048", "QD919"}) {
    for (int code = 0; code < 256; ++code) {
      std::string name = workflow::ReportGroupOf(list, code).name;
      if (name.empty()) continue;
      std::string quoted;
      for (char ch : name) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
      values += std::string(values.empty() ? "" : ",") + "('" + list + "'," + std::to_string(code) +
                ",'" + quoted + "')";
    }
  }
  if (!values.empty()) ExecClear(c, "INSERT INTO report_groups VALUES " + values);
}

// The national report of [from, to] with every section of
// projections::BuildReport, one round trip: one row per figure, named by its
// path in the report's JSON ("round.recognised.new.by_stars.4"), so that
// CheckAgainst can compare the two figure by figure. Certificates and
// changes are bucketed under their province at the period's end.
std::string ReportSql(int year) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", year);
  const std::string y = buf, f = "'" + y + "-01-01'::date", t = "'" + y + "-12-31'::date";
  std::string sql = R"(WITH b AS (
      SELECT u.code, coalesce(p2.code, p1.code) AS bucket
      FROM units u LEFT JOIN units p1 ON p1.code = u.parent
      LEFT JOIN units p2 ON p2.code = p1.parent AND p2.level = 'province'),
    f AS MATERIALIZED (
      SELECT c.stars, c.entry, c.grp, c.group_list, c.legal_form, c.subject, c.woman_owned,
             c.valid_from, c.valid_until, c.ended_on, c.revoked, c.revoke_reason, b.bucket,
             c.valid_from <= @T AND @T <= c.valid_until
               AND (c.ended_on IS NULL OR @T < c.ended_on) AS active,
             c.valid_from BETWEEN @F AND @T AS rec, coalesce(g.name, 'none') AS group_name
      FROM certificates c JOIN b ON b.code = c.unit
      LEFT JOIN report_groups g ON g.list = c.group_list AND g.code = c.grp),
    rc AS MATERIALIZED (
      SELECT r.*, b.bucket FROM report_changes r JOIN b ON b.code = r.unit
      WHERE r.effective BETWEEN @F AND @T),
    rd AS (
      SELECT rc.type, rc.entry, rc.subject, lead(rc.type) OVER w AS next_type,
             lead(rc.stars) OVER w AS next_stars
      FROM rc WHERE rc.type IN ('DossierSubmitted', 'Certified')
                 OR (rc.type = 'DossierEnded' AND rc.outcome = 'not_recognised')
      WINDOW w AS (PARTITION BY rc.product ORDER BY rc.seq)),
    rn AS MATERIALIZED (
      SELECT entry, subject, next_stars AS stars,
             CASE next_type WHEN 'Certified' THEN 'recognised'
                            WHEN 'DossierEnded' THEN 'not_recognised' ELSE 'pending' END AS outcome
      FROM rd WHERE type = 'DossierSubmitted'),
    reg AS (
      SELECT DISTINCT ON (product) product, cycle_year FROM rc WHERE type = 'IdeaRegistered'
      ORDER BY product, effective DESC, seq DESC),
    ia AS MATERIALIZED (
      SELECT rc.bucket,
             CASE WHEN rc.type = 'IdeaRegistered' THEN 'registered' ELSE rc.outcome END AS kind,
             CASE WHEN rc.type = 'IdeaRegistered' THEN rc.cycle_year
                  ELSE coalesce(reg.cycle_year, rc.cycle_year) END AS year
      FROM rc LEFT JOIN reg USING (product) WHERE rc.type IN ('IdeaRegistered', 'IdeaReviewed')),
    trend_years AS (SELECT y, make_date(y, 1, 1) AS first, make_date(y, 12, 31) AS last
                    FROM generate_series(@Y - 4, @Y) AS y)
    SELECT 'recognised.total', count(*) FROM f WHERE rec
    UNION ALL SELECT 'recognised.by_stars.' || stars, count(*) FROM f WHERE rec GROUP BY stars
    UNION ALL SELECT 'recognised.by_entry.' || entry || '.total', count(*) FROM f WHERE rec GROUP BY entry
    UNION ALL SELECT 'recognised.by_entry.' || entry || '.by_stars.' || stars, count(*)
      FROM f WHERE rec GROUP BY entry, stars
    UNION ALL SELECT 'recognised.by_group.' || CASE grp WHEN 0 THEN 'none' ELSE grp::text END,
      count(*) FROM f WHERE rec GROUP BY grp
    UNION ALL SELECT 'recognised.by_group_name.' || group_name, count(*) FROM f WHERE rec
      GROUP BY group_name
    UNION ALL SELECT 'recognised.by_legal_form.' || legal_form, count(*) FROM f WHERE rec
      GROUP BY legal_form
    UNION ALL SELECT 'recognised.by_unit.' || bucket, count(*) FROM f WHERE rec GROUP BY bucket
    UNION ALL SELECT 'revoked.total', count(*) FROM f WHERE revoked AND ended_on BETWEEN @F AND @T
    UNION ALL SELECT 'revoked.by_stars.' || stars, count(*) FROM f
      WHERE revoked AND ended_on BETWEEN @F AND @T GROUP BY stars
    UNION ALL SELECT 'revoked.by_reason.' || revoke_reason, count(*) FROM f
      WHERE revoked AND ended_on BETWEEN @F AND @T GROUP BY revoke_reason
    UNION ALL SELECT 'expired.total', count(*) FROM f WHERE valid_until + 1 BETWEEN @F AND @T
      AND coalesce(ended_on, 'infinity'::date) >= valid_until + 1
    UNION ALL SELECT 'expired.by_stars.' || stars, count(*) FROM f
      WHERE valid_until + 1 BETWEEN @F AND @T
        AND coalesce(ended_on, 'infinity'::date) >= valid_until + 1 GROUP BY stars
    UNION ALL SELECT 'active_at_end.total', count(*) FROM f WHERE active
    UNION ALL SELECT 'active_at_end.by_stars.' || stars, count(*) FROM f WHERE active GROUP BY stars
    UNION ALL SELECT 'active_at_end.by_unit.' || bucket, count(*) FROM f WHERE active GROUP BY bucket
    UNION ALL SELECT 'active_at_end.by_unit_stars.' || bucket || '.' || stars, count(*) FROM f
      WHERE active GROUP BY bucket, stars
    UNION ALL SELECT 'active_at_end.by_group_name.' || group_name, count(*) FROM f WHERE active
      GROUP BY group_name
    UNION ALL SELECT 'subjects_at_end.total', count(DISTINCT subject) FROM f WHERE active
    UNION ALL SELECT 'producers_at_end.total', count(DISTINCT subject) FROM f WHERE active
    UNION ALL SELECT 'subjects_at_end.by_legal_form.' || legal_form, count(DISTINCT subject) FROM f
      WHERE active GROUP BY legal_form
    UNION ALL SELECT 'producers_at_end.by_legal_form.' || CASE WHEN legal_form IN
      ('DN', 'TNHH', 'CTCP', 'DNTN') THEN 'DN' ELSE legal_form END || '.total',
      count(DISTINCT subject) FROM f WHERE active GROUP BY 1
    UNION ALL SELECT 'producers_at_end.by_legal_form.DN.kinds.' || legal_form, count(DISTINCT subject)
      FROM f WHERE active AND legal_form IN ('DN', 'TNHH', 'CTCP', 'DNTN') GROUP BY legal_form
    UNION ALL SELECT 'subjects_at_end.woman_owned', count(DISTINCT subject) FROM f
      WHERE active AND woman_owned
    UNION ALL SELECT 'producers_at_end.woman_owned.total', count(DISTINCT subject) FROM f
      WHERE active AND woman_owned
    UNION ALL SELECT 'woman_owned_products.producers', count(DISTINCT subject) FROM f
      WHERE active AND woman_owned
    UNION ALL SELECT 'woman_owned_products.total', count(*) FROM f WHERE active AND woman_owned
    UNION ALL SELECT 'woman_owned_products.by_stars.' || stars, count(*) FROM f
      WHERE active AND woman_owned GROUP BY stars
    UNION ALL SELECT 'woman_owned_products.recognised_in_period.total', count(*) FROM f
      WHERE rec AND woman_owned
    UNION ALL SELECT 'woman_owned_products.recognised_in_period.by_stars.' || stars, count(*) FROM f
      WHERE rec AND woman_owned GROUP BY stars
    UNION ALL SELECT 'trend.' || y || '.recognised', count(*) FROM f JOIN trend_years
      ON f.valid_from BETWEEN first AND last GROUP BY y
    UNION ALL SELECT 'trend.' || y || '.active', count(*) FROM f JOIN trend_years
      ON f.valid_from <= last AND last <= f.valid_until AND (f.ended_on IS NULL OR last < f.ended_on)
         AND last <= @T GROUP BY y
    UNION ALL SELECT 'deadlines_by_month.' || to_char(valid_until, 'YYYY-MM'), count(*) FROM f
      WHERE active AND valid_until > @T
        AND valid_until < (date_trunc('month', @T) + interval '13 months')::date GROUP BY 1
    UNION ALL SELECT 'support.total_vnd', coalesce(sum(amount_vnd), 0) FROM rc
      WHERE type = 'SupportGranted'
    UNION ALL SELECT 'support.by_source.' || source, sum(amount_vnd) FROM rc
      WHERE type = 'SupportGranted' GROUP BY source
    UNION ALL SELECT 'support.by_unit.' || bucket, sum(amount_vnd) FROM rc
      WHERE type = 'SupportGranted' GROUP BY bucket
    UNION ALL SELECT 'round.entered_total', count(*) FROM rn
    UNION ALL SELECT 'round.participants', count(DISTINCT subject) FROM rn
    UNION ALL SELECT 'round.entered.' || entry || '.total', count(*) FROM rn GROUP BY entry
    UNION ALL SELECT 'round.entered.' || entry || '.producers', count(DISTINCT subject) FROM rn
      GROUP BY entry
    UNION ALL SELECT 'round.' || outcome, count(*) FROM rn WHERE outcome <> 'recognised'
      GROUP BY outcome
    UNION ALL SELECT 'round.' || outcome || '_by_entry.' || entry, count(*) FROM rn
      WHERE outcome <> 'recognised' GROUP BY outcome, entry
    UNION ALL SELECT 'round.recognised.' || coalesce(entry, 'total') || '.total', count(*) FROM rn
      WHERE outcome = 'recognised' GROUP BY ROLLUP (entry)
    UNION ALL SELECT 'round.recognised.' || coalesce(entry, 'total') || '.producers',
      count(DISTINCT subject) FROM rn WHERE outcome = 'recognised' GROUP BY ROLLUP (entry)
    UNION ALL SELECT 'round.recognised.' || coalesce(entry, 'total') || '.by_stars.' || stars,
      count(*) FROM rn WHERE outcome = 'recognised' GROUP BY GROUPING SETS ((entry, stars), (stars))
    UNION ALL SELECT 'ideas.' || kind, count(*) FROM ia GROUP BY kind
    UNION ALL SELECT 'ideas.by_unit.' || bucket || '.' || kind, count(*) FROM ia GROUP BY bucket, kind
    UNION ALL SELECT 'ideas.by_cycle_year.' || year || '.' || kind, count(*) FROM ia
      GROUP BY year, kind)";
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size()))
      sql.replace(at, from.size(), to);
  };
  replace("@F", f);
  replace("@T", t);
  replace("@Y", y);
  return sql;
}

// Every number in the report's JSON by its path ("a.b.c"), but for what is
// not a count of the ledger's (the period, the signed head, the unit names,
// shares in percent).
void Flatten(const nlohmann::json& j, const std::string& path, std::map<std::string, double>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (path.empty() && (k == "period" || k == "ledger" || k == "unit_names" || k == "targets" ||
                           k == "known_at" || k == "as_of" || k == "unit"))
        continue;
      if (k == "share") continue;
      Flatten(v, path.empty() ? k : path + "." + k, out);
    }
  } else if (j.is_number()) {
    (*out)[path] = j.get<double>();
  }
}

// Compares the figures both systems computed (a figure missing on one side
// is a zero there); prints the differences and returns their number.
size_t CheckAgainst(const std::map<std::string, double>& pg, const std::string& ocop_file,
                    size_t* compared) {
  std::ifstream in(ocop_file);
  if (!in) Fail("cannot read " + ocop_file);
  std::map<std::string, double> ours;
  Flatten(nlohmann::json::parse(in), "", &ours);
  std::map<std::string, std::pair<double, double>> all;
  for (const auto& [k, v] : ours) all[k].first = v;
  for (const auto& [k, v] : pg) all[k].second = v;
  size_t differ = 0;
  for (const auto& [k, v] : all) {
    if (v.first == v.second) continue;
    if (++differ <= 40)
      std::printf("# mismatch %s ocop=%.0f postgres=%.0f\n", k.c_str(), v.first, v.second);
  }
  *compared = all.size();
  return differ;
}

int Main(int argc, char** argv) {
  std::string conninfo, dir, ocop_report;
  int year = 2024, repeats = 11;
  size_t samples = 5000;
  bool load = true, rebuild = true;
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
    else if (a == "--skip-rebuild")
      rebuild = false;
    else if (a == "--check")
      ocop_report = value();
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

  if (rebuild) {
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
  LoadReportGroups(c);  // reference data, as the ledger's rules carry it
  {
    const std::string sql = ReportSql(year);
    std::vector<double> ms;
    std::map<std::string, double> figures;
    for (int k = 0; k < repeats + 1; ++k) {
      double t0 = NowSeconds();
      PGresult* r = Exec(c, sql, PGRES_TUPLES_OK);
      double t = (NowSeconds() - t0) * 1e3;
      figures.clear();
      for (int i = 0; i < PQntuples(r); ++i) {
        if (PQgetisnull(r, i, 0)) continue;
        figures[PQgetvalue(r, i, 0)] = std::strtod(PQgetvalue(r, i, 1), nullptr);
      }
      PQclear(r);
      if (k > 0) ms.push_back(t);
    }
    auto n = [&](const char* path) { return static_cast<uint64_t>(figures[path]); };
    std::printf("postgres report year=%d repeats=%d p50_ms=%.2f p99_ms=%.2f recognised=%" PRIu64
                " active_at_end=%" PRIu64 " revoked=%" PRIu64 " expired=%" PRIu64 " figures=%zu\n",
                year, repeats, Percentile(ms, 0.5), Percentile(ms, 0.99), n("recognised.total"),
                n("active_at_end.total"), n("revoked.total"), n("expired.total"), figures.size());
    if (!ocop_report.empty()) {
      size_t compared = 0, differ = CheckAgainst(figures, ocop_report, &compared);
      std::printf("postgres check figures=%zu mismatches=%zu\n", compared, differ);
    }
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
