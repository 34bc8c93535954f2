// query/: the questions people ask the ledger, answered as JSON (or a
// rendered report), once for both the command line (ocop/) and the HTTP
// server (server/), which include nothing of each other. One file a question
// (status.cc, history.cc, deadlines.cc, report.cc, changes.cc, criteria.cc,
// search.cc); arguments.h parses what they share. Arguments
// arrive as text, exactly as typed or sent; a bad one is InvalidArgument with
// a message naming it and what is allowed.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ledger/ledger.h"
#include "projections/projections.h"
#include "workflow/date.h"

namespace ocop::query {

using Json = nlohmann::ordered_json;

// What every query reads: the ledger, and one view of the projections
// (projections/read_view.h) through which every read of the query goes. The
// projections are caught up by whoever makes the view; what the ledger adds
// after the view's checkpoint is not seen by reads that default to "now"
// (they read up to the checkpoint), and an answer that is signed is signed
// at the checkpoint its figures came from. `today` comes from the program's
// edge (the only wall clock).
//
// Thread safety: the queries are pure functions of their Reader and
// arguments; many may run at once over one ledger and one view.
struct Reader {
  ledger::Ledger* ledger = nullptr;
  const projections::ReadView* view = nullptr;
  workflow::Date today;
};

// Today's date in Vietnam, from the wall clock: called by the program's edges
// (ocop/, server/) to fill Reader::today; no query reads the clock.
workflow::Date TodayInVietnam();

struct StatusQuery {
  std::string product, as_of, known_at;
};
// Adds "checkpoint": the view's, the point of the log the answer stands on.
Status QueryStatus(const Reader& r, const StatusQuery& q, Json* out);

struct HistoryQuery {
  std::string product, as_of, known_at;
  bool proofs = false;
};
Status QueryHistory(const Reader& r, const HistoryQuery& q, Json* out);

// Rows also name the producer (subject, subject_name) and the unit
// (unit_name); "total" counts them.
struct DeadlinesQuery {
  std::string as_of, unit, known_at, within_days = "90";
};
Status QueryDeadlines(const Reader& r, const DeadlinesQuery& q, Json* out);

struct ReportQueryText {
  std::string period, from, to, unit, format = "json", lang = "vi", as_of, known_at, cohort;
  // Issue 15: an annex (recognised, revoked, active, expiring) instead of the
  // counts (query/annex_format.h), and the calendar the period is read in.
  std::string list, calendar;
};
struct RenderedReport {
  std::string content_type;  // application/json, text/csv, text/markdown, or xlsx
  std::string body;          // for json: the JSON text
  std::string filename;      // a name to save it under
};
Status QueryReport(const Reader& r, const ReportQueryText& q, RenderedReport* out);

struct ChangesQuery {
  std::string from, to, unit, known_at;
  std::string principal;  // only the acts of this principal (empty: everyone's)
};
Status QueryChanges(const Reader& r, const ChangesQuery& q, Json* out);

// The criteria sets of the rules in force on `on` (every set when empty),
// or only the set `set`: {"on","sets":[{"id","title","rules","group_list",
// "groups","complete","source","sums","sub_parts","criteria":[{"id","part",
// "sub_part","max","hard","text_vi"}]}]}. Needs no ledger.
struct CriteriaQuery {
  std::string on, set;
};
Status QueryCriteria(const CriteriaQuery& q, Json* out);

// The id of the product `id` names: itself when a product has it, else the
// one whose id differs only in case ("cm-um-18" for CM-UM-18), else `id`
// unchanged (for the query to say it is unknown). Status and history use it.
Status ProductId(const Reader& r, const std::string& id, std::string* out);

// Products whose id, name, producer, unit, certificate number or decision
// number contains `text` (case and Vietnamese diacritics ignored): "total"
// counts them all, "rows" lists the first `limit` (a row found by its
// certificate or decision says so in "matched").
Status QuerySearch(const Reader& r, const std::string& text, size_t limit, Json* out);

}  // namespace ocop::query
