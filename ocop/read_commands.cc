#include "ocop/read_commands.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ocop/open_ledger.h"
#include "projections/projections.h"
#include "query/annex_format.h"
#include "query/notices_query.h"
#include "query/queries.h"

namespace ocop::cli {

using query::ApplyCalendar;
using query::CriteriaQuery;
using query::DeadlinesQuery;
using query::Json;
using query::NoticesQuery;
using query::QueryAnnex;
using query::QueryCriteria;
using query::QueryDeadlines;
using query::QueryNotices;
using query::QueryReport;
using query::QueryReportsDue;
using query::QueryStatus;
using query::Reader;
using query::RenderedReport;
using query::ReportQueryText;
using query::ReportsDueQuery;
using query::StatusQuery;
using query::TodayInVietnam;
namespace {

using json = nlohmann::ordered_json;

void PrintProgress(const char* what, uint64_t done, uint64_t total,
                   std::chrono::steady_clock::time_point start) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  double left = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  int width = 30;
  int filled = total ? static_cast<int>(width * done / total) : width;
  std::fprintf(stderr, "\r%s [%s%s] %3d%% %llu/%llu events, %.0f events/s, %.1f s left   ", what,
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
               total ? static_cast<int>(100 * done / total) : 100,
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), rate,
               left);
  std::fflush(stderr);
}

struct ReportArgs : ReportQueryText {
  std::string out;
};

int RunReport(const GlobalOptions& g, const ReportArgs& o) {
  if (o.format == "xlsx" && o.out.empty()) {
    return Fail("report", Status::InvalidArgument("--format xlsx writes a file: give --out FILE"));
  }
  ReadContext ctx;
  Status s = OpenForRead(g, &ctx);
  if (!s.ok()) return Fail("report", s);
  RenderedReport r;
  ReportQueryText q = o;
  s = ApplyCalendar(&q);
  if (!s.ok()) return Fail("report", s);
  s = q.list.empty() ? QueryReport(ctx.Reader(), q, &r) : QueryAnnex(ctx.Reader(), q, &r);
  if (!s.ok()) return Fail("report", s);
  if (o.out.empty()) {
    std::cout << r.body;
    return 0;
  }
  std::ofstream f(o.out, std::ios::binary);
  f << r.body;
  if (!f.good()) return Fail("report", Status::IOError("cannot write " + o.out));
  std::cerr << "ocop report: wrote " << o.out << "\n";
  return 0;
}

// ---------------------------------------------------------------- compact

// The ledger and every read model folded from it (the directory's own, and
// the readers' copy if one was made), caught up and compacted: after an
// erasure, no older version of a producer's record is left in any file.
int RunCompact(const GlobalOptions& g) {
  ReadContext ctx;
  Status s = OpenForRead(g, &ctx, /*catch_up=*/false);
  if (s.ok()) s = RequireSoleOwner(g, *ctx.ledger, "", "compact");
  std::vector<std::string> compacted;
  auto compact = [&](projections::Projections* p, const std::string& name) {
    if (s.ok()) s = p->CatchUp();
    if (s.ok()) s = p->Compact();
    if (s.ok()) compacted.push_back(name);
  };
  if (s.ok()) s = ctx.ledger->Compact();
  if (s.ok()) compacted.push_back("ledger");
  if (s.ok()) compact(ctx.projections.get(), "projections");
  const std::string reader = (std::filesystem::path(g.data_dir) / "projections-reader").string();
  if (s.ok() && std::filesystem::exists(std::filesystem::path(reader) / "CURRENT")) {
    std::unique_ptr<projections::Projections> copy;
    s = projections::Projections::OpenAt(ctx.ledger.get(), reader, &copy);
    if (s.ok()) compact(copy.get(), "projections-reader");
  }
  if (!s.ok()) return Fail("compact", s);
  std::cout << json{{"compacted", compacted}}.dump() << std::endl;
  return 0;
}

// ---------------------------------------------------------------- rebuild

int RunRebuild(const GlobalOptions& g) {
  ReadContext ctx;
  Status s = OpenForRead(g, &ctx, /*catch_up=*/false);
  if (s.ok()) {
    s = RequireSoleOwner(g, *ctx.ledger, "whose projections cannot be dropped under it", "rebuild");
  }
  if (!s.ok()) return Fail("rebuild", s);
  auto start = std::chrono::steady_clock::now();
  s = ctx.projections->Rebuild(
      [&](uint64_t done, uint64_t total) { PrintProgress("rebuild", done, total, start); });
  std::fprintf(stderr, "\n");
  if (!s.ok()) return Fail("rebuild", s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << json{{"rebuilt", ctx.projections->checkpoint()}, {"seconds", secs}}.dump()
            << std::endl;
  return 0;
}

}  // namespace

void AddReadCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto so = std::make_shared<StatusQuery>();
  auto* status =
      app.add_subcommand("status", "A product's state as of a date, as recorded up to a point");
  status->add_option("product", so->product, "The product's id")->required();
  status->add_option("--as-of", so->as_of, "Effective date YYYY-MM-DD (default: today in Vietnam)");
  status->add_option("--known-at", so->known_at,
                     "Recording point: a sequence number or an ISO 8601 timestamp");
  status->callback([&global, selected, so] {
    *selected = [&global, so] { return RunJsonQuery(global, "status", *so, QueryStatus); };
  });

  auto nq = std::make_shared<NoticesQuery>();
  auto* notices = app.add_subcommand(
      "notices",
      "Certificates reaching 90, 30 and 7 days before their end, and lapses, with "
      "the unit and producer to tell");
  notices->add_option("--as-of", nq->as_of, "Date YYYY-MM-DD (default: today in Vietnam)");
  notices->add_option("--since", nq->since,
                      "Also the notices due from this date on (default: only those of as-of)");
  notices->add_option("--unit", nq->unit, "Only this unit and the units within it");
  notices->callback([&global, selected, nq] {
    *selected = [&global, nq] { return RunJsonQuery(global, "notices", *nq, QueryNotices); };
  });
  auto rd = std::make_shared<ReportsDueQuery>();
  auto* due = app.add_subcommand(
      "reports-due", "The reports of the reporting calendar due soon (15/6, 15/12, ...)");
  due->add_option("--from", rd->from, "Date YYYY-MM-DD (default: today in Vietnam)");
  due->add_option("--within-days", rd->within_days, "How many days ahead (default 45)");
  due->callback([&global, selected, rd] {
    *selected = [&global, rd] { return RunJsonQuery(global, "reports-due", *rd, QueryReportsDue); };
  });

  auto dl = std::make_shared<DeadlinesQuery>();
  auto* deadlines = app.add_subcommand(
      "deadlines", "Certificates ending within N days after a date, and those lapsed unrenewed");
  deadlines->add_option("--as-of", dl->as_of, "Date YYYY-MM-DD (default: today in Vietnam)");
  deadlines->add_option("--within-days", dl->within_days, "How many days ahead (default 90)");
  deadlines->add_option("--unit", dl->unit, "Only this unit and the units within it");
  deadlines->add_option(
      "--known-at", dl->known_at,
      "Recording time: as the ledger knew it at this sequence number or timestamp");
  deadlines->callback([&global, selected, dl] {
    *selected = [&global, dl] { return RunJsonQuery(global, "deadlines", *dl, QueryDeadlines); };
  });

  auto ro = std::make_shared<ReportArgs>();
  auto* report =
      app.add_subcommand("report", "The period report: recognised, revoked, expired, active");
  report->add_option("--period", ro->period, "2022, 2022-H1, 2022-Q3 or 2022-07");
  report->add_option("--from", ro->from, "First day YYYY-MM-DD (with --to)");
  report->add_option("--to", ro->to, "Last day YYYY-MM-DD (with --from)");
  report->add_option("--unit", ro->unit, "Only this unit and the units within it");
  report->add_option("--format", ro->format, "json (default), csv, md or xlsx");
  report->add_option("--lang", ro->lang, "vi (default) or en, for csv, md and xlsx");
  report->add_option("--out", ro->out, "Write to FILE instead of stdout (required for xlsx)");
  report->add_option("--list", ro->list,
                     "The annex instead of the counts: recognised, revoked, active or expiring "
                     "(one row per product with producer, address, stars and the decision)");
  report->add_option("--calendar", ro->calendar,
                     "civil (default) or reporting: periods close on the 14th (a year runs "
                     "15/12 to 14/12, a half 15/12 to 14/6, ...)");
  report->add_option("--cohort", ro->cohort,
                     "The re-recognition funnel of the certificates issued in YEAR");
  report->add_option("--as-of", ro->as_of,
                     "Effective time: leave out acts that took effect after this date; with "
                     "--cohort, the date lapses are judged by (default today)");
  report->add_option("--known-at", ro->known_at,
                     "Recording time: the report as the ledger knew it at this sequence number "
                     "or ISO 8601 timestamp");
  report->callback(
      [&global, selected, ro] { *selected = [&global, ro] { return RunReport(global, *ro); }; });

  auto cq = std::make_shared<CriteriaQuery>();
  auto* criteria = app.add_subcommand(
      "criteria", "The criteria sets (scoring sheets) of the rules in force, as shipped");
  criteria->add_option("--on", cq->on, "Only the sets of the rules in force on this date");
  criteria->add_option("--set", cq->set, "Only the set with this id");
  criteria->callback([selected, cq] {
    *selected = [cq] {
      Json out;
      Status s = QueryCriteria(*cq, &out);
      if (!s.ok()) return Fail("criteria", s);
      std::cout << out.dump() << std::endl;
      return 0;
    };
  });

  auto* compact = app.add_subcommand(
      "compact",
      "Compact the ledger and its read models, deleting obsolete files (after an erasure)");
  compact->callback([&global, selected] { *selected = [&global] { return RunCompact(global); }; });

  auto* rebuild = app.add_subcommand("rebuild", "Drop and rebuild every projection from the log");
  rebuild->callback([&global, selected] { *selected = [&global] { return RunRebuild(global); }; });
}

}  // namespace ocop::cli
