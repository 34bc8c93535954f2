// Private to query/: the arguments every query reads, parsed once, the same
// way, with the same errors.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "projections/report.h"
#include "projections/unit_tree.h"
#include "query/queries.h"
#include "query/report_format.h"

namespace ocop::query {

// `text` as a date named `name`; `fallback` when empty.
Status DateOr(const std::string& name, const std::string& text, workflow::Date fallback,
              workflow::Date* out);
// A recording point (a sequence number, an ISO 8601 timestamp or a date);
// 0 when empty.
Status KnownAt(const Reader& r, const std::string& text, uint64_t* seq);
// KnownAt for what the projections answer: a point after the view's
// checkpoint is the checkpoint (the view has folded nothing later).
Status KnownAtInView(const Reader& r, const std::string& text, uint64_t* seq);
// The unit tree; InvalidArgument if `unit` is given and unknown.
Status Tree(const Reader& r, const std::string& unit, std::unique_ptr<projections::UnitTree>* out);

// What every report and annex reads alike (query/report.cc): the format and
// language; the period (a period, or from and to), unit, known-at and as-of;
// the signed head of the log at the point it is computed from (known_at, or
// the projections' checkpoint); and an xlsx written by `write` to a scratch
// file, returned as the rendered bytes named `base`.xlsx.
Status ReportForm(const ReportQueryText& q, Lang* lang);
Status ReportScope(const Reader& r, const ReportQueryText& q, projections::ReportQuery* rq,
                   std::string* name);
Status SignedHead(const Reader& r, uint64_t known_at, projections::Report::Head* out);
Status XlsxReport(const std::function<Status(const std::string& path)>& write,
                  const std::string& base, RenderedReport* out);

}  // namespace ocop::query
