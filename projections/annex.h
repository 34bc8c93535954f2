// The annexes officials attach to a decision or a report (Kiên Giang report
// 352, Phụ lục 01/02): one row per product with its producer, address, unit,
// group, stars, certificate and the decision that made it so.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/status.h"
#include "projections/projections.h"
#include "projections/report.h"

namespace ocop::projections {

// Which products: certificates issued in the period (recognised), revoked in
// the period (revoked), in force at the period's end (active), or whose
// validity ends within the period while still in force then (expiring).
enum class AnnexList { kRecognised, kRevoked, kActive, kExpiring };
Status ParseAnnexList(const std::string& text, AnnexList* out);
const char* AnnexListName(AnnexList l);

struct AnnexRow {
  std::string product, name, producer, legal_form, address, unit, unit_name, group_name;
  int stars = 0;
  std::string certificate, valid_from, valid_until;
  // The decision cited: the one that issued the certificate, or for the
  // revoked list the one that revoked it.
  std::string decision_no, decision_date, decision_issuer, decision_issuer_name;
  std::string reason;  // revoked list: the reason's code
};

// Like a report, an annex states what it answers (ReportQuery).
struct Annex : ReportQuery {
  AnnexList list = AnnexList::kRecognised;
  std::vector<AnnexRow> rows;  // by unit, then product
  std::optional<Report::Head> ledger;
};

// `query` as for the period report: unit, known_at, as_of.
Status BuildAnnex(const ReadView& projections, AnnexList list, const ReportQuery& query,
                  Annex* out);
// {"list","period","unit","as_of","known_at","rows":[{"product","name","producer",
// "legal_form","address","unit","group_name","stars","certificate","decision",...}],
// "ledger"}.
nlohmann::ordered_json AnnexJson(const Annex& a);

}  // namespace ocop::projections
