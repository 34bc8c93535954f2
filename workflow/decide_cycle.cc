// The start of the cycle: ideas, products, plans and support.
#include "workflow/decider.h"

#include <capnp/dynamic.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <set>

#include "workflow/admissible.h"
#include "workflow/criteria.h"
#include "workflow/json.h"
#include "workflow/rules.h"

namespace ocop::workflow::internal {

Status Decider::RequireNewProduct(const std::string& subject, const std::string& unit, int group,
                                  const std::string& list_id, bool group_optional, const char* what,
                                  std::string* list) {
  Status s = RequireSubject(subject);
  if (!s.ok()) return s;
  const UnitState* u = nullptr;
  s = RequireUnit(unit, "unit", &u);
  if (!s.ok()) return s;
  list->clear();
  if (group != 0 || !group_optional) {
    s = CheckGroup(group, list_id, effective_, list);
    if (!s.ok()) return s;
  }
  return Authorize(unit, what);
}

Status Decider::RegisterIdea(C::Body::Reader b) {
  auto c = b.getRegisterIdea();
  std::string id = c.getProduct().cStr(), unit = c.getUnit().cStr(),
              subject = c.getSubject().cStr();
  if (id.empty()) return BadField("product", " must not be empty");
  if (c.getName().size() == 0) return BadField("name", " must not be empty");
  if (c.getCycleYear() < 2018 || c.getCycleYear() > 2100) {
    return BadField("cycle_year", " must be a year of the programme, 2018 or later");
  }
  const ProductState* existing = nullptr;
  uint64_t version = 0;
  Status s = view_.Product(id, &existing, &version);
  if (!s.ok()) return s;
  s = CheckExpectedVersion(id, version);
  if (!s.ok()) return s;
  bool resubmission = false;
  if (existing->exists) {
    if (existing->stage != Stage::kIdeaRejected) {
      return Status::Refused("product " + Quote(id) + " is already registered (stage " +
                             std::string(StageName(existing->StageOn(effective_))) +
                             "); only a rejected idea may be submitted again");
    }
    Date earliest = *existing->rejected_on + 7;
    if (effective_ < earliest) {
      return Status::Refused(
          "the idea " + Quote(id) + " was rejected on " + FormatDate(*existing->rejected_on) +
          "; it may be submitted again from " + FormatDate(earliest) + " (at least 7 days later)");
    }
    resubmission = true;
  }
  std::string list;
  s = RequireNewProduct(subject, unit, c.getGroup(), c.getGroupList().cStr(),
                        /*group_optional=*/true, "register product ideas", &list);
  if (!s.ok()) return s;
  Emit(ProductStream(id), [&](schema::Payload::Builder p) {
    auto r = p.initIdeaRegistered();
    r.setIdea(c);
    r.getIdea().setGroupList(list);
    r.setResubmission(resubmission);
  });
  return Status::OK();
}

// Direct entry: a product already on the market enters evaluation with no
// idea or business-plan record (the cycle is applied flexibly: Cà Mau's and
// Trà Vinh's plans say so, and Kiên Giang's district councils took existing
// products straight to scoring). Its group is needed to score it.
Status Decider::RegisterProduct(C::Body::Reader b) {
  auto c = b.getRegisterProduct();
  std::string id = c.getProduct().cStr(), unit = c.getUnit().cStr(),
              subject = c.getSubject().cStr();
  if (id.empty()) return BadField("product", " must not be empty");
  if (c.getName().size() == 0) return BadField("name", " must not be empty");
  const ProductState* existing = nullptr;
  uint64_t version = 0;
  Status s = view_.Product(id, &existing, &version);
  if (!s.ok()) return s;
  if (existing->exists) {
    return Status::Refused("product " + Quote(id) + " is already registered (stage " +
                           std::string(StageName(existing->StageOn(effective_))) + ")");
  }
  s = CheckExpectedVersion(id, version);
  if (!s.ok()) return s;
  std::string list;
  s = RequireNewProduct(subject, unit, c.getGroup(), c.getGroupList().cStr(),
                        /*group_optional=*/false, "register products", &list);
  if (!s.ok()) return s;
  Emit(ProductStream(id), [&](schema::Payload::Builder p) {
    p.setProductRegistered(c);
    p.getProductRegistered().setGroupList(list);
  });
  return Status::OK();
}

Status Decider::ClassifyProduct(C::Body::Reader b) {
  auto c = b.getClassifyProduct();
  if (c.getGroupList().size() == 0 && !RulesInForce(effective_)) {
    return BadField("group",
                    " must be one of 1-6 of a list of product "
                    "groups; no rules were in force on " +
                        FormatDate(effective_) +
                        " to choose one: name it in "
                        "'group_list'");
  }
  std::string list;
  Status s = CheckGroup(c.getGroup(), c.getGroupList().cStr(), effective_, &list);
  if (!s.ok()) return s;
  return ProductAct(c.getProduct().cStr(), {}, "classify products",
                    [&](schema::Payload::Builder p) {
                      p.setProductClassified(c);
                      p.getProductClassified().setGroupList(list);
                    });
}

Status Decider::ReviewIdea(C::Body::Reader b) {
  auto c = b.getReviewIdea();
  return ProductAct(c.getProduct().cStr(), {Stage::kIdeaRegistered}, "review product ideas",
                    [&](schema::Payload::Builder p) { p.setIdeaReviewed(c); });
}

Status Decider::SubmitPlan(C::Body::Reader b) {
  auto c = b.getSubmitPlan();
  std::string sha = c.getDocument().getSha256().cStr();
  bool hex =
      sha.size() == 64 && std::all_of(sha.begin(), sha.end(), [](char ch) {
        return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
      });
  if (!hex) {
    return BadField("document.sha256", " must be 64 hexadecimal digits");
  }
  return ProductAct(c.getProduct().cStr(), {Stage::kIdeaSelected, Stage::kPlanRejected},
                    "submit business plans",
                    [&](schema::Payload::Builder p) { p.setPlanSubmitted(c); });
}

Status Decider::ReviewPlan(C::Body::Reader b) {
  auto c = b.getReviewPlan();
  return ProductAct(c.getProduct().cStr(), {Stage::kPlanSubmitted}, "review business plans",
                    [&](schema::Payload::Builder p) { p.setPlanReviewed(c); });
}

// The sources support may come from (DOMAIN.md: central, provincial,
// district budget, the producer's own, credit).
const char* const kSupportSources[] = {"central",  "province", "district", "commune",
                                       "producer", "credit",   "other"};

Status Decider::GrantSupport(C::Body::Reader b) {
  auto c = b.getGrantSupport();
  if (c.getAmountVnd() == 0) return BadField("amount_vnd", " must be positive");
  std::string source = c.getSource().cStr();
  if (std::find_if(std::begin(kSupportSources), std::end(kSupportSources),
                   [&](const char* k) { return source == k; }) == std::end(kSupportSources)) {
    std::string allowed;
    for (const char* k : kSupportSources) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
    return BadField("source", " must be one of " + allowed + "; got " + Quote(source));
  }
  const ProductState* p = nullptr;
  Status s = RequireProduct(c.getProduct().cStr(), "product", &p);
  if (!s.ok()) return s;
  const ProductState* on_date = nullptr;
  s = ProductOnDate(*p, &on_date);
  if (!s.ok()) return s;
  // Support reaches products with an approved plan and, by star level, rated
  // and imported ones (Cà Mau, Trà Vinh).
  if (!on_date->plan_approved && on_date->certificates.empty()) {
    return Status::Refused("product " + Quote(p->id) +
                           " has neither an approved business plan nor a certificate; state "
                           "support is only for approved plans and rated products");
  }
  if (StateBudgetSource(source)) {
    std::string province;
    s = ProvinceOf(p->unit, &province);
    if (!s.ok()) return s;
    const UnitState* u = nullptr;
    if (!province.empty()) {
      s = view_.Unit(province, &u);
      if (!s.ok()) return s;
    }
    const uint64_t cap = u ? u->SupportCapOn(effective_).value_or(0) : 0;  // 0: none
    const uint64_t granted = p->StateSupportVnd();
    if (cap && granted + c.getAmountVnd() > cap) {
      uint64_t remaining = granted < cap ? cap - granted : 0;
      return Status::Refused("support of " + Vnd(c.getAmountVnd()) + " to product " + Quote(p->id) +
                             " exceeds the cap of " + Vnd(cap) +
                             " of state support per product that province " + Quote(province) +
                             " sets on " + FormatDate(effective_) + ": " + Vnd(granted) +
                             " already granted, " + Vnd(remaining) + " remaining");
    }
  }
  return ProductAct(c.getProduct().cStr(), {}, "grant support",
                    [&](schema::Payload::Builder pb) { pb.setSupportGranted(c); });
}

Status Decider::SetSupportCap(C::Body::Reader b) {
  auto c = b.getSetSupportCap();
  std::string code = c.getUnit().cStr();
  const UnitState* u = nullptr;
  Status s = RequireUnit(code, "unit", &u);
  if (!s.ok()) return s;
  if (u->level != UnitLevel::PROVINCE) {
    return BadField("unit", ": " + Quote(code) +
                                " is not a province; a cap on support per product is a "
                                "province's rule");
  }
  s = Authorize(code, "set the support cap");
  if (!s.ok()) return s;
  Emit(UnitStream(code), [&](schema::Payload::Builder pb) { pb.setSupportCapSet(c); });
  return Status::OK();
}

Status Decider::CheckGroup(int group, const std::string& list_id, Date date, std::string* list) {
  Status s = ChooseGroupList(list_id, date, list);
  if (!s.ok()) return s;
  auto l = FindGroupList(*list);
  if (!l || !GroupExists(*l, group)) {
    return BadField("group", " must be one of " + (l ? DescribeGroups(*l) : std::string()) +
                                 "; got " + std::to_string(group));
  }
  return Status::OK();
}

Status Decider::ProvinceOf(const std::string& unit, std::string* out) {
  out->clear();
  std::string cur = unit;
  for (int guard = 0; guard < 16 && !cur.empty(); ++guard) {
    const UnitState* u = nullptr;
    Status s = view_.Unit(cur, &u);
    if (!s.ok()) return s;
    if (!u->exists) return Status::OK();
    if (u->level == UnitLevel::PROVINCE) {
      // A province merged by the act's date answers through its successor.
      if (u->retired && u->retired_on <= effective_ && !u->successor.empty()) {
        cur = u->successor;
        continue;
      }
      *out = cur;
      return Status::OK();
    }
    cur = u->parent;
  }
  return Status::OK();
}

}  // namespace ocop::workflow::internal
