#include "replay/verify_report.h"

#include <filesystem>

#include "ledger/encoding.h"
#include "ledger/signer.h"
#include "projections/annex.h"
#include "projections/projections.h"

namespace ocop::replay {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using workflow::Date;

Status ReportToVerify::Parse(nlohmann::json report, ReportToVerify* out) {
  auto bad_input = [](const std::string& why) {
    return Status::InvalidArgument(why + " (verify-report reads reports made with --format json)");
  };
  if (!report.is_object() || !report.contains("ledger") || !report["ledger"].is_object()) {
    return bad_input("no 'ledger' head");
  }
  const auto& head = report["ledger"];
  if (!head.contains("size") || !head["size"].is_number_unsigned() || !head.contains("root") ||
      !head.contains("signature")) {
    return bad_input("the 'ledger' head needs size, root and signature");
  }
  ReportToVerify r;
  r.size_ = head["size"].get<uint64_t>();
  if (!ledger::merkle::FromHex(head["root"].get<std::string>(), &r.root_) ||
      !FromBase64(head["signature"].get<std::string>(), &r.signature_)) {
    return bad_input("unreadable root or signature");
  }
  // A period report, or a cohort's re-recognition funnel (it has "cohort").
  r.cohort_ = report.contains("cohort");
  projections::ReportQuery& q = r.query_;
  try {
    if (r.cohort_) {
      r.cohort_year_ = report["cohort"].get<int>();
      if (!workflow::ParseDate(report["as_of"].get<std::string>(), &r.cohort_as_of_)) {
        return bad_input("unreadable as_of");
      }
      if (report["unit"].is_string()) q.unit = report["unit"].get<std::string>();
    } else if (!workflow::ParseDate(report["period"]["from"].get<std::string>(), &q.period.from) ||
               !workflow::ParseDate(report["period"]["to"].get<std::string>(), &q.period.to)) {
      return bad_input("unreadable period");
    }
    if (report["unit"].is_string()) q.unit = report["unit"].get<std::string>();
    if (report["as_of"].is_string()) {
      Date d;
      workflow::ParseDate(report["as_of"].get<std::string>(), &d);
      q.as_of = d;
    }
  } catch (const std::exception&) {
    return bad_input("no period (or, for a cohort, no year and as_of)");
  }
  r.report_ = std::move(report);
  *out = std::move(r);
  return Status::OK();
}

Status ReportToVerify::Check(ledger::Ledger* l, const std::string& scratch, json* result) const {
  const uint64_t size = size_;
  (*result)["tree_size"] = size;
  bool ok = true;
  // 1. The head is the ledger's own and signed by its key.
  bool signature_ok = ledger::Signer::Verify(l->signer().public_key(),
                                             ledger::TreeHeadMessage(size, root_), signature_);
  (*result)["signature_ok"] = signature_ok;
  ok = ok && signature_ok;
  // 2. Today's tree extends that head: its root at that size is the head's,
  //    and a consistency proof from that size to now verifies.
  bool consistent = false;
  if (size <= l->Size()) {
    ledger::SignedTreeHead then, now;
    std::vector<ledger::merkle::Hash> proof;
    Status a = l->TreeHead(size, &then), b = l->TreeHead(l->Size(), &now);
    Status c = size > 0 ? l->Consistency(size, l->Size(), &proof) : Status::OK();
    consistent =
        a.ok() && b.ok() && c.ok() && then.root == root_ &&
        (size == 0 || ledger::merkle::VerifyConsistency(size, now.size, root_, now.root, proof));
    (*result)["current_size"] = now.size;
  }
  (*result)["consistent"] = consistent;
  ok = ok && consistent;
  // 3. The events themselves still hash to the tree.
  ledger::VerifyResult vr;
  Status vs = l->Verify(&vr);
  (*result)["log_intact"] = vs.ok();
  ok = ok && vs.ok();
  // 4. The same report, recomputed from the log up to that size.
  std::error_code ec;
  fs::remove_all(scratch, ec);
  Status s;
  json mine;
  {
    std::unique_ptr<projections::Projections> p;
    s = projections::Projections::OpenAt(l, scratch, &p);
    if (s.ok()) s = p->CatchUp({}, size);
    std::unique_ptr<projections::ReadView> view;
    if (s.ok()) view = p->View();
    if (cohort_) {
      projections::Cohort again;
      if (s.ok()) {
        s = projections::BuildCohort(*view, cohort_year_, cohort_as_of_, query_.unit, &again);
      }
      if (s.ok()) mine = projections::CohortJson(again);
    } else if (report_.contains("list")) {
      // An annex (report --list): the same rows, recomputed.
      projections::AnnexList list;
      projections::Annex again;
      if (s.ok() && report_["list"].is_string()) {
        s = projections::ParseAnnexList(report_["list"].get<std::string>(), &list);
      } else if (s.ok()) {
        s = Status::InvalidArgument("'list' must name the annex");
      }
      if (s.ok()) s = projections::BuildAnnex(*view, list, query_, &again);
      if (s.ok()) mine = projections::AnnexJson(again);
    } else {
      projections::Report again;
      if (s.ok()) s = projections::BuildReport(*view, query_, &again);
      if (s.ok()) mine = projections::ReportJson(again);
    }
  }
  fs::remove_all(scratch, ec);
  if (!s.ok()) return s;
  mine.erase("ledger");
  mine.erase("known_at");
  nlohmann::json theirs = report_;
  theirs.erase("ledger");
  theirs.erase("known_at");
  bool matches = nlohmann::json::parse(mine.dump()) == theirs;
  (*result)["matches"] = matches;
  if (!matches) {
    // Name the first section that differs, for the person reading.
    for (auto& [k, v] : theirs.items()) {
      if (!mine.contains(k) || nlohmann::json::parse(mine[k].dump()) != v) {
        (*result)["first_difference"] = k;
        break;
      }
    }
  }
  ok = ok && matches;
  (*result)["ok"] = ok;
  return Status::OK();
}

}  // namespace ocop::replay
