// Notices: a certificate reaching 90, 30 and 7 days before its end, and its
// lapse (the day after its last valid day, still unrenewed), each addressed
// to the unit and the producer who must act (INTERFACE.md "Additions").
//
// A notice falls due on one day; asking for the days [from, to] gives those
// that fell due then, so a daily run that missed a day still sees them. A certificate renewed,
// upgraded or revoked is no longer current and gets no further notice. Read from the current record
// (the deadlines read model), as officials are told today.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ledger/status.h"
#include "projections/projections.h"
#include "workflow/date.h"

namespace ocop::projections {

struct Notice {
  std::string id;    // PRODUCT/CERTIFICATE/KIND: the same notice, wherever it is asked
  std::string kind;  // "90_days", "30_days", "7_days", "lapsed"
  workflow::Date due;
  std::string product, name, unit, unit_name, producer, producer_name;
  std::vector<std::string> tell;  // the unit and every unit above it, up to the province
  int stars = 0;
  std::string certificate;
  workflow::Date valid_until;
  int days_left = 0;  // on the day the notice falls due (90, 30, 7, or -1 when lapsed)
};

// The notices due on a day in [from, to], within `unit` (empty: everywhere),
// by due date, then product.
Status BuildNotices(const ReadView& projections, workflow::Date from, workflow::Date to,
                    const std::string& unit, std::vector<Notice>* out);

nlohmann::ordered_json NoticeJson(const Notice& n);

}  // namespace ocop::projections
