#include "ocop/read_commands.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ledger/encoding.h"
#include "ocop/open_ledger.h"
#include "ocop/report_format.h"
#include "projections/projections.h"
#include "projections/report.h"
#include "projections/status_json.h"
#include "projections/unit_tree.h"
#include "replay/as_of.h"

namespace ocop::cli {
namespace {

using json = nlohmann::ordered_json;
using workflow::Date;

int Fail(const std::string& command, const Status& s) {
  std::cerr << "ocop " << command << ": " << s.message() << "\n";
  return s.ExitCode();
}

// Today in Vietnam (UTC+7): the only place a read asks the clock, and only
// when the user gave no date.
Date TodayInVietnam() {
  int64_t secs = WallClockMicros() / 1000000 + 7 * 3600;
  return Date{static_cast<int32_t>(secs / 86400)};
}

Status ParseDateOption(const std::string& name, const std::string& text, Date* out) {
  if (text.empty()) {
    *out = TodayInVietnam();
    return Status::OK();
  }
  if (!workflow::ParseDate(text, out)) {
    return Status::InvalidArgument(name + " '" + text + "' is not a date; use YYYY-MM-DD");
  }
  return Status::OK();
}

// Opens the ledger and its projections, folded up to the last append.
struct ReadContext {
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<projections::Projections> projections;
};

Status OpenForRead(const GlobalOptions& g, ReadContext* ctx, bool catch_up = true) {
  Status s = OpenLedger(g, /*create=*/false, &ctx->ledger);
  if (!s.ok()) return s;
  s = projections::Projections::Open(ctx->ledger.get(), &ctx->projections);
  if (!s.ok()) return s;
  return catch_up ? ctx->projections->CatchUp() : Status::OK();
}

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

// ---------------------------------------------------------------- status

struct StatusOptions {
  std::string product, as_of, known_at;
};

int RunStatus(const GlobalOptions& g, const StatusOptions& o) {
  ReadContext ctx;
  Status s = OpenForRead(g, &ctx, /*catch_up=*/o.known_at.empty() && o.as_of.empty());
  if (!s.ok()) return Fail("status", s);
  Date as_of;
  s = ParseDateOption("--as-of", o.as_of, &as_of);
  if (!s.ok()) return Fail("status", s);
  workflow::ProductState p;
  json extra;
  if (o.as_of.empty() && o.known_at.empty()) {
    s = ctx.projections->Product(o.product, &p);  // the read model: current knowledge
  } else {
    replay::PointInTime at;
    if (!o.as_of.empty()) at.as_of = as_of;
    if (!o.known_at.empty()) {
      s = replay::ParseKnownAt(ctx.ledger.get(), o.known_at, &at.known_at);
      if (!s.ok()) return Fail("status", s);
      extra["known_at"] = at.known_at;
    }
    s = replay::ProductAt(ctx.ledger.get(), o.product, at, &p);
  }
  if (!s.ok()) return Fail("status", s);
  json j = projections::StatusJson(p, as_of);
  for (auto& [k, v] : extra.items()) j[k] = v;
  std::cout << j.dump() << std::endl;
  return 0;
}

// ---------------------------------------------------------------- deadlines

struct DeadlineOptions {
  std::string as_of, unit, known_at;
  int within = 90;
};

int RunDeadlines(const GlobalOptions& g, const DeadlineOptions& o) {
  ReadContext ctx;
  Status s = OpenForRead(g, &ctx);
  if (!s.ok()) return Fail("deadlines", s);
  Date as_of;
  s = ParseDateOption("--as-of", o.as_of, &as_of);
  if (!s.ok()) return Fail("deadlines", s);
  std::map<std::string, workflow::UnitState> units;
  s = ctx.projections->Units(&units);
  if (!s.ok()) return Fail("deadlines", s);
  if (!o.unit.empty() && !units.count(o.unit)) {
    return Fail("deadlines", Status::InvalidArgument("unknown unit '" + o.unit + "'"));
  }
  projections::UnitTree tree(std::move(units));
  json rows = json::array();
  auto row = [&](const std::string& product, const std::string& name, const std::string& unit,
                 int stars, const std::string& no, Date until) {
    rows.push_back(json{{"product", product},
                        {"name", name},
                        {"unit", unit},
                        {"stars", stars},
                        {"certificate", no},
                        {"valid_until", workflow::FormatDate(until)},
                        {"days_left", until - as_of}});
  };
  if (o.known_at.empty() && o.as_of.empty()) {
    // Today, as known now: the deadlines read model, soonest first.
    Status inner;
    s = ctx.projections->ForEachDeadline(as_of + o.within, [&](const std::string& id, uint32_t index) {
      workflow::ProductState p;
      inner = ctx.projections->Product(id, &p);
      if (!inner.ok()) return false;
      if (index >= p.certificates.size()) return true;
      const auto& c = p.certificates[index];
      if (c.valid_from > as_of) return true;
      if (!o.unit.empty() && !tree.Within(p.unit, o.unit, as_of)) return true;
      row(p.id, p.name, p.unit, c.stars, c.no, c.valid_until);
      return true;
    });
    if (s.ok()) s = inner;
  } else {
    // Another date or recording point: from the certificate history. A
    // product's certificate then is its latest issued and not yet ended.
    uint64_t known_at = 0;
    if (!o.known_at.empty()) s = replay::ParseKnownAt(ctx.ledger.get(), o.known_at, &known_at);
    struct Latest {
      int32_t from = INT32_MIN;
      bool open = false;
      std::string name, unit, no;
      int stars = 0;
      int32_t until = 0;
    };
    std::map<std::string, Latest> latest;
    auto see = [&](projections::schema::CertificateFact::Reader f) {
      if (f.getValidFrom() > as_of.days) return;
      Latest& l = latest[f.getProduct().cStr()];
      if (f.getValidFrom() < l.from) return;
      l = Latest{f.getValidFrom(), f.getEndedOn() > as_of.days, f.getName().cStr(),
                 f.getUnit().cStr(), f.getNo().cStr(), f.getStars(), f.getValidUntil()};
    };
    if (s.ok()) {
      s = known_at ? ctx.projections->ForEachFactKnownAt(known_at, see)
                   : ctx.projections->ForEachFact(see);
    }
    std::vector<std::pair<int32_t, std::string>> order;
    for (const auto& [id, l] : latest) {
      if (!l.open || l.until > (as_of + o.within).days) continue;
      if (!o.unit.empty() && !tree.Within(l.unit, o.unit, as_of)) continue;
      order.emplace_back(l.until, id);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [until, id] : order) {
      const Latest& l = latest[id];
      row(id, l.name, l.unit, l.stars, l.no, Date{until});
    }
  }
  if (!s.ok()) return Fail("deadlines", s);
  std::cout << json{{"as_of", workflow::FormatDate(as_of)},
                    {"within_days", o.within},
                    {"unit", o.unit.empty() ? json(nullptr) : json(o.unit)},
                    {"rows", rows}}
                   .dump()
            << std::endl;
  return 0;
}

// ---------------------------------------------------------------- report

struct ReportOptions {
  std::string period, from, to, unit, format = "json", lang = "vi", out, as_of, known_at;
  int cohort = 0;
};

int RunReport(const GlobalOptions& g, const ReportOptions& o) {
  if (o.lang != "vi" && o.lang != "en") {
    return Fail("report", Status::InvalidArgument("--lang must be vi or en"));
  }
  if (o.format != "json" && o.format != "csv" && o.format != "md" && o.format != "xlsx") {
    return Fail("report", Status::InvalidArgument("--format must be json, csv, md or xlsx"));
  }
  if (o.format == "xlsx" && o.out.empty()) {
    return Fail("report", Status::InvalidArgument("--format xlsx writes a file: give --out FILE"));
  }
  ReadContext ctx;
  Status s = OpenForRead(g, &ctx);
  if (!s.ok()) return Fail("report", s);
  Lang lang = o.lang == "en" ? Lang::kEn : Lang::kVi;
  uint64_t known_at = 0;
  if (!o.known_at.empty()) {
    s = replay::ParseKnownAt(ctx.ledger.get(), o.known_at, &known_at);
    if (!s.ok()) return Fail("report", s);
  }

  if (o.cohort) {
    Date as_of;
    s = ParseDateOption("--as-of", o.as_of, &as_of);
    projections::Cohort c;
    if (s.ok()) s = projections::BuildCohort(*ctx.projections, o.cohort, as_of, o.unit, &c, known_at);
    if (!s.ok()) return Fail("report", s);
    std::cout << projections::CohortJson(c).dump() << std::endl;
    return 0;
  }

  projections::ReportQuery q;
  q.unit = o.unit;
  if (!o.period.empty()) {
    if (!o.from.empty() || !o.to.empty()) {
      return Fail("report", Status::InvalidArgument("give --period or --from/--to, not both"));
    }
    s = projections::ParsePeriod(o.period, &q.period);
  } else if (!o.from.empty() && !o.to.empty()) {
    if (!workflow::ParseDate(o.from, &q.period.from) || !workflow::ParseDate(o.to, &q.period.to)) {
      s = Status::InvalidArgument("--from and --to must be dates YYYY-MM-DD");
    } else if (q.period.to < q.period.from) {
      s = Status::InvalidArgument("--to is before --from");
    }
  } else {
    s = Status::InvalidArgument("give --period P (2022, 2022-H1, 2022-Q3, 2022-07) or --from and --to");
  }
  if (!s.ok()) return Fail("report", s);
  q.known_at = known_at;
  if (!o.as_of.empty()) {
    Date d;
    s = ParseDateOption("--as-of", o.as_of, &d);
    if (!s.ok()) return Fail("report", s);
    q.as_of = d;
  }
  projections::Report r;
  s = projections::BuildReport(*ctx.projections, q, &r);
  if (!s.ok()) return Fail("report", s);
  // The report says which log it was computed from, signed, so that
  // `ocop verify-report` (or anyone with the public key) can check it.
  ledger::SignedTreeHead head;
  s = ctx.ledger->TreeHead(known_at ? known_at : ctx.projections->checkpoint(), &head);
  if (!s.ok()) return Fail("report", s);
  r.ledger = projections::Report::Head{head.size, ledger::merkle::ToHex(head.root),
                                       Base64(head.signature), head.key_id_hex};

  std::string text;
  if (o.format == "json") text = projections::ReportJson(r).dump() + "\n";
  if (o.format == "csv") text = RenderCsv(r, lang);
  if (o.format == "md") text = RenderMarkdown(r, lang);
  if (o.format == "xlsx") {
    s = WriteXlsx(r, lang, o.out);
    if (!s.ok()) return Fail("report", s);
    std::cerr << "ocop report: wrote " << o.out << "\n";
    return 0;
  }
  if (o.out.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream f(o.out, std::ios::binary);
  f << text;
  if (!f.good()) return Fail("report", Status::IOError("cannot write " + o.out));
  std::cerr << "ocop report: wrote " << o.out << "\n";
  return 0;
}

// ---------------------------------------------------------------- rebuild

int RunRebuild(const GlobalOptions& g) {
  ReadContext ctx;
  Status s = OpenForRead(g, &ctx, /*catch_up=*/false);
  if (!s.ok()) return Fail("rebuild", s);
  auto start = std::chrono::steady_clock::now();
  s = ctx.projections->Rebuild([&](uint64_t done, uint64_t total) {
    PrintProgress("rebuild", done, total, start);
  });
  std::fprintf(stderr, "\n");
  if (!s.ok()) return Fail("rebuild", s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << json{{"rebuilt", ctx.projections->checkpoint()}, {"seconds", secs}}.dump() << std::endl;
  return 0;
}

}  // namespace

void AddReadCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto so = std::make_shared<StatusOptions>();
  auto* status = app.add_subcommand("status", "A product's state as of a date, as recorded up to a point");
  status->add_option("product", so->product, "The product's id")->required();
  status->add_option("--as-of", so->as_of, "Effective date YYYY-MM-DD (default: today in Vietnam)");
  status->add_option("--known-at", so->known_at,
                     "Recording point: a sequence number or an ISO 8601 timestamp");
  status->callback([&global, selected, so] {
    *selected = [&global, so] { return RunStatus(global, *so); };
  });

  auto dl = std::make_shared<DeadlineOptions>();
  auto* deadlines = app.add_subcommand(
      "deadlines", "Certificates ending within N days after a date, and those lapsed unrenewed");
  deadlines->add_option("--as-of", dl->as_of, "Date YYYY-MM-DD (default: today in Vietnam)");
  deadlines->add_option("--within-days", dl->within, "How many days ahead (default 90)")
      ->check(CLI::Range(0, 36600));
  deadlines->add_option("--unit", dl->unit, "Only this unit and the units within it");
  deadlines->add_option("--known-at", dl->known_at,
                        "Recording time: as the ledger knew it at this sequence number or timestamp");
  deadlines->callback([&global, selected, dl] {
    *selected = [&global, dl] { return RunDeadlines(global, *dl); };
  });

  auto ro = std::make_shared<ReportOptions>();
  auto* report = app.add_subcommand("report", "The period report: recognised, revoked, expired, active");
  report->add_option("--period", ro->period, "2022, 2022-H1, 2022-Q3 or 2022-07");
  report->add_option("--from", ro->from, "First day YYYY-MM-DD (with --to)");
  report->add_option("--to", ro->to, "Last day YYYY-MM-DD (with --from)");
  report->add_option("--unit", ro->unit, "Only this unit and the units within it");
  report->add_option("--format", ro->format, "json (default), csv, md or xlsx");
  report->add_option("--lang", ro->lang, "vi (default) or en, for csv, md and xlsx");
  report->add_option("--out", ro->out, "Write to FILE instead of stdout (required for xlsx)");
  report->add_option("--cohort", ro->cohort,
                     "The re-recognition funnel of the certificates issued in YEAR");
  report->add_option("--as-of", ro->as_of,
                     "Effective time: leave out acts that took effect after this date; with "
                     "--cohort, the date lapses are judged by (default today)");
  report->add_option("--known-at", ro->known_at,
                     "Recording time: the report as the ledger knew it at this sequence number "
                     "or ISO 8601 timestamp");
  report->callback([&global, selected, ro] {
    *selected = [&global, ro] { return RunReport(global, *ro); };
  });

  auto* rebuild = app.add_subcommand("rebuild", "Drop and rebuild every projection from the log");
  rebuild->callback([&global, selected] { *selected = [&global] { return RunRebuild(global); }; });
}

}  // namespace ocop::cli
