#include "projections/annex.h"

#include "workflow/json.h"

#include <algorithm>
#include <set>

#include "projections/unit_tree.h"
#include "workflow/rules.h"

namespace ocop::projections {

using json = nlohmann::ordered_json;
using workflow::Date;
using workflow::FormatDate;

namespace {

// The unit's names from itself up to its province, as an address is written
// ("Xã Khánh An, Huyện U Minh, Cà Mau"); the ledger records producers'
// street addresses nowhere else.
std::string AddressOf(const UnitTree& tree, const std::string& unit) {
  std::string out, cur = unit;
  std::set<std::string> seen;
  while (!cur.empty() && seen.insert(cur).second) {
    const workflow::UnitState* u = tree.Find(cur);
    if (!u || u->level == workflow::UnitLevel::NATIONAL) break;
    out += (out.empty() ? "" : ", ") + u->name;
    cur = u->parent;
  }
  return out;
}

bool In(int32_t day, const Period& p) { return p.from.days <= day && day <= p.to.days; }

}  // namespace

Status ParseAnnexList(const std::string& text, AnnexList* out) {
  for (AnnexList l :
       {AnnexList::kRecognised, AnnexList::kRevoked, AnnexList::kActive, AnnexList::kExpiring}) {
    if (text == AnnexListName(l)) {
      *out = l;
      return Status::OK();
    }
  }
  return Status::InvalidArgument("list '" + text +
                                 "' is not one of recognised, revoked, active, expiring");
}

const char* AnnexListName(AnnexList l) {
  switch (l) {
    case AnnexList::kRecognised:
      return "recognised";
    case AnnexList::kRevoked:
      return "revoked";
    case AnnexList::kActive:
      return "active";
    case AnnexList::kExpiring:
      return "expiring";
  }
  return "recognised";
}

Status BuildAnnex(const ReadView& projections, AnnexList list, const ReportQuery& q, Annex* out) {
  *out = Annex();
  static_cast<ReportQuery&>(*out) = q;
  out->list = list;
  UnitTree tree;
  Status s = UnitTree::Load(projections, q.unit, &tree);
  if (!s.ok()) return s;
  const int32_t end = q.period.to.days;
  struct Pick {
    std::string product, no;
  };
  std::vector<Pick> picks;
  s = ForEachFactSeen(projections, q.known_at, q.as_of, [&](const FactSeen& v) {
    auto f = v.f;
    bool take = false;
    switch (list) {
      case AnnexList::kRecognised:
        take = In(f.getValidFrom(), q.period);
        break;
      case AnnexList::kRevoked:
        take = v.revoked && In(v.ended_on, q.period);
        break;
      case AnnexList::kActive:
        take = f.getValidFrom() <= end && end <= f.getValidUntil() && end < v.ended_on;
        break;
      case AnnexList::kExpiring:
        take = In(f.getValidUntil(), q.period) && f.getValidUntil() < v.ended_on;
        break;
    }
    if (!take) return;
    if (!q.unit.empty() && !tree.Within(f.getUnit().cStr(), q.unit, q.period.to)) return;
    picks.push_back(Pick{f.getProduct().cStr(), f.getNo().cStr()});
  });
  if (!s.ok()) return s;
  // Only the picked products are read in full: for the producer's name and
  // the decisions, which the facts do not carry.
  for (const Pick& pick : picks) {
    workflow::ProductState p;
    s = projections.Product(pick.product, &p);
    if (!s.ok()) return s;
    auto c = std::find_if(p.certificates.begin(), p.certificates.end(),
                          [&](const workflow::Certificate& c) { return c.no == pick.no; });
    if (c == p.certificates.end()) continue;  // annulled since the facts were read
    workflow::SubjectState subject;
    s = projections.Producer(p.subject, &subject);
    if (!s.ok() && !s.IsNotFound()) return s;
    AnnexRow row;
    row.product = p.id;
    row.name = p.name;
    row.producer = subject.name;
    row.legal_form = std::string(workflow::EnumName(subject.legal_form));
    row.address = AddressOf(tree, p.unit);
    row.unit = p.unit;
    row.unit_name = tree.Name(p.unit);
    std::string group = workflow::ReportGroupOf(p.group_list, p.group).name;
    row.group_name = group;
    row.stars = c->stars;
    row.certificate = c->no;
    row.valid_from = FormatDate(c->valid_from);
    row.valid_until = FormatDate(c->valid_until);
    const workflow::DecisionRef& d = list == AnnexList::kRevoked ? c->revoke_decision : c->decision;
    row.decision_no = d.no;
    row.decision_date = FormatDate(d.date);
    row.decision_issuer = d.issuer;
    row.decision_issuer_name = tree.Name(d.issuer);
    if (list == AnnexList::kRevoked) {
      static const char* kReasons[] = {"production_stopped", "criteria_not_met",   "violation",
                                       "owner_request",      "false_dossier",      "other",
                                       "not_reevaluated",    "failed_reevaluation"};
      size_t r = static_cast<size_t>(c->revoke_reason);
      row.reason = r < std::size(kReasons) ? kReasons[r] : "other";
    }
    out->rows.push_back(std::move(row));
  }
  std::sort(out->rows.begin(), out->rows.end(), [](const AnnexRow& a, const AnnexRow& b) {
    return std::tie(a.unit, a.product, a.certificate) < std::tie(b.unit, b.product, b.certificate);
  });
  return Status::OK();
}

json AnnexJson(const Annex& a) {
  json rows = json::array();
  for (const AnnexRow& r : a.rows) {
    json row{{"product", r.product},
             {"name", r.name},
             {"producer", r.producer},
             {"legal_form", r.legal_form},
             {"address", r.address},
             {"unit", r.unit},
             {"unit_name", r.unit_name},
             {"group_name", r.group_name},
             {"stars", r.stars},
             {"certificate", r.certificate},
             {"valid_from", r.valid_from},
             {"valid_until", r.valid_until},
             {"decision",
              {{"no", r.decision_no},
               {"date", r.decision_date},
               {"issuer", r.decision_issuer},
               {"issuer_name", r.decision_issuer_name}}}};
    if (a.list == AnnexList::kRevoked) row["reason"] = r.reason;
    rows.push_back(std::move(row));
  }
  json j{{"list", AnnexListName(a.list)}};
  AddQueryJson(a, &j);
  j["rows"] = std::move(rows);
  j["ledger"] = HeadJson(a.ledger);
  return j;
}

}  // namespace ocop::projections
