// DashboardReads: what the dashboard reads besides INTERFACE.md's routes, so
// that officials pick names instead of typing codes and see who they are:
//
//   GET /v1/whoami     the principal, its grants (role, unit and its name,
//                      council, dates) and whether each is in force today
//   GET /v1/units      every unit: code, name, level, parent, retired
//   GET /v1/subjects   producers (?q= text in the id or name, ?unit=)
//   GET /v1/councils   councils: id, level, unit and its name, decision
//   GET /v1/products/{id}/bundle   `ocop bundle` (the id's case ignored)
//   GET /v1/deadlines?format=xlsx  the deadlines as a workbook (Workbook)
//   GET /v1/forms      every command's form from the schema
//                      (workflow::CommandForms), each field labelled in
//                      Vietnamese from web/labels.json, each form marked
//                      "offered" when one of the principal's grants in force
//                      today has a role that may send it
//
// Producers and councils are listed by their streams (Ledger::ForEachStream,
// no scan of the log) and read from the read model or folded from their
// stream, so an annulled or erased record shows as the ledger now holds it.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/stream_heads.h"
#include "projections/projections.h"
#include "query/queries.h"
#include "workflow/date.h"

namespace ocop::server {

class DashboardReads {
 public:
  explicit DashboardReads(ledger::Ledger* ledger) : ledger_(ledger) {}
  // Bundles (GET /v1/products/{id}/bundle) are proved with `heads` (owned by
  // the caller, outliving this object) under the log's `origin`.
  void ServeBundles(ledger::StreamHeads* heads, std::string origin) {
    heads_ = heads;
    origin_ = std::move(origin);
  }

  struct Answer {
    bool handled = false;  // false: not one of these routes, Api answers it
    std::string route;     // the route's name, for metrics and logs
    nlohmann::ordered_json json;
    // A file instead of JSON, when filename is set.
    std::string filename, content_type, body;
  };
  // Answers `path` if it is one of the routes above, reading as `principal`.
  Status Read(const std::string& path, const std::map<std::string, std::string>& query,
              const std::string& principal, const query::Reader& reader, Answer* out);
  // The deadlines `rows` (QueryDeadlines's JSON) as an xlsx workbook.
  static Status Workbook(const nlohmann::ordered_json& deadlines, Answer* out);

 private:
  Status WhoAmI(const projections::ReadView& view, const std::string& principal,
                workflow::Date today, nlohmann::ordered_json* out);
  Status Units(const projections::ReadView& view, nlohmann::ordered_json* out);
  Status Subjects(const projections::ReadView& view, const std::string& q, const std::string& unit,
                  nlohmann::ordered_json* out);
  Status Councils(const projections::ReadView& view, nlohmann::ordered_json* out);
  Status Forms(const std::string& principal, workflow::Date today, nlohmann::ordered_json* out);

  // The ids of the streams "KIND/ID" (kind "subject" or "council").
  Status StreamIds(const std::string& kind, std::vector<std::string>* out);

  ledger::Ledger* ledger_;
  // What bundles are proved with (the server's one stream-heads map and the
  // log's origin); bundles are not served until set.
  ledger::StreamHeads* heads_ = nullptr;
  std::string origin_;
};

}  // namespace ocop::server
