// report: the period report and the cohort funnel, signed, in every format.
#include "query/queries.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ledger/encoding.h"
#include "projections/report.h"
#include "query/report_format.h"

#include "query/arguments.h"

namespace ocop::query {

namespace fs = std::filesystem;

using workflow::Date;

namespace {

// A report for people in `format` (csv, md or xlsx), named `base`.
Status Render(const ReportTable& table, const std::string& format, Lang lang,
              const std::string& base, RenderedReport* out) {
  if (format == "csv") {
    *out = RenderedReport{"text/csv; charset=utf-8", RenderCsv(table, lang), base + ".csv"};
    return Status::OK();
  }
  if (format == "md") {
    *out =
        RenderedReport{"text/markdown; charset=utf-8", RenderMarkdown(table, lang), base + ".md"};
    return Status::OK();
  }
  return XlsxReport([&](const std::string& path) { return WriteXlsx(table, lang, path); }, base,
                    out);
}

}  // namespace

Status XlsxReport(const std::function<Status(const std::string& path)>& write,
                  const std::string& base, RenderedReport* out) {
  // libxlsxwriter writes files: render into a scratch file and read it back.
  std::string path =
      (fs::temp_directory_path() / ("ocop-report-" + std::to_string(::getpid()) + "-" +
                                    std::to_string(reinterpret_cast<uintptr_t>(out)) + ".xlsx"))
          .string();
  Status s = write(path);
  if (s.ok()) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    *out = RenderedReport{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          ss.str(), base + ".xlsx"};
  }
  fs::remove(path);
  return s;
}

Status ReportForm(const ReportQueryText& q, Lang* lang) {
  if (q.lang != "vi" && q.lang != "en") return Status::InvalidArgument("lang must be vi or en");
  if (q.format != "json" && q.format != "csv" && q.format != "md" && q.format != "xlsx") {
    return Status::InvalidArgument("format must be json, csv, md or xlsx");
  }
  *lang = q.lang == "en" ? Lang::kEn : Lang::kVi;
  return Status::OK();
}

Status SignedHead(const Reader& r, uint64_t known_at, projections::Report::Head* out) {
  ledger::SignedTreeHead head;
  Status hs = r.ledger->TreeHead(known_at ? known_at : r.view->checkpoint(), &head);
  if (hs.ok()) {
    *out = projections::Report::Head{head.size, ledger::merkle::ToHex(head.root),
                                     Base64(head.signature), head.key_id_hex};
  }
  return hs;
}

Status ReportScope(const Reader& r, const ReportQueryText& q, projections::ReportQuery* rq,
                   std::string* name) {
  Status s = KnownAtInView(r, q.known_at, &rq->known_at);
  if (!s.ok()) return s;
  rq->unit = q.unit;
  if (!q.period.empty()) {
    if (!q.from.empty() || !q.to.empty()) {
      return Status::InvalidArgument("give a period or from/to, not both");
    }
    s = projections::ParsePeriod(q.period, &rq->period);
    *name = q.period;
  } else if (!q.from.empty() && !q.to.empty()) {
    if (!workflow::ParseDate(q.from, &rq->period.from) ||
        !workflow::ParseDate(q.to, &rq->period.to)) {
      s = Status::InvalidArgument("from and to must be dates YYYY-MM-DD");
    } else if (rq->period.to < rq->period.from) {
      s = Status::InvalidArgument("to is before from");
    }
    *name = q.from + "_" + q.to;
  } else {
    s = Status::InvalidArgument("give a period (2022, 2022-H1, 2022-Q3, 2022-07) or from and to");
  }
  if (!s.ok()) return s;
  if (!q.as_of.empty()) {
    Date d;
    s = DateOr("as_of", q.as_of, r.today, &d);
    if (!s.ok()) return s;
    rq->as_of = d;
  }
  return Status::OK();
}

Status QueryReport(const Reader& r, const ReportQueryText& q, RenderedReport* out) {
  Lang lang;
  Status s = ReportForm(q, &lang);
  if (!s.ok()) return s;
  uint64_t known_at = 0;
  s = KnownAtInView(r, q.known_at, &known_at);
  if (!s.ok()) return s;

  // Every report says which log it was computed from, signed, so that
  // `ocop verify-report` (or anyone with the public key) can check it.
  auto signed_head = [&](projections::Report::Head* out) { return SignedHead(r, known_at, out); };

  if (!q.cohort.empty()) {
    int year = 0;
    try {
      year = std::stoi(q.cohort);
    } catch (const std::exception&) {
      return Status::InvalidArgument("cohort '" + q.cohort + "' must be a year");
    }
    Date as_of;
    s = DateOr("as_of", q.as_of, r.today, &as_of);
    projections::Cohort c;
    if (s.ok()) s = projections::BuildCohort(*r.view, year, as_of, q.unit, &c, known_at);
    projections::Report::Head head;
    if (s.ok()) s = signed_head(&head);
    if (!s.ok()) return s;
    std::string base = "ocop-cohort-" + q.cohort + (q.unit.empty() ? "" : "-" + q.unit);
    if (q.format == "json") {
      Json j = projections::CohortJson(c);
      j["known_at"] = known_at ? Json(known_at) : Json(nullptr);
      j["ledger"] = {{"size", head.size},
                     {"root", head.root},
                     {"signature", head.signature},
                     {"key_id", head.key_id}};
      *out = RenderedReport{"application/json", j.dump() + "\n", base + ".json"};
      return Status::OK();
    }
    return Render(CohortTable(c, head, lang), q.format, lang, base, out);
  }

  projections::ReportQuery rq;
  std::string name;
  s = ReportScope(r, q, &rq, &name);
  if (!s.ok()) return s;
  projections::Report rep;
  s = projections::BuildReport(*r.view, rq, &rep);
  projections::Report::Head head;
  if (s.ok()) s = signed_head(&head);
  if (!s.ok()) return s;
  rep.ledger = head;
  std::string base = "ocop-report-" + name + (q.unit.empty() ? "" : "-" + q.unit);
  if (q.format == "json") {
    *out = RenderedReport{"application/json", projections::ReportJson(rep).dump() + "\n",
                          base + ".json"};
    return Status::OK();
  }
  return Render(PeriodTable(rep, lang), q.format, lang, base, out);
}

}  // namespace ocop::query
