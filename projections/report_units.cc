#include "projections/report_units.h"

#include "projections/unit_tree.h"

namespace ocop::projections {

ReportUnits::ReportUnits(const UnitTree& tree, std::string unit, workflow::Date end)
    : tree_(tree), unit_(std::move(unit)), end_(end) {
  last_index_ = Resolve(last_);  // the empty code, so that last_ always has its answer
}

int ReportUnits::Resolve(std::string_view unit) {
  if (auto slot = seen_.Find(unit)) return of_seen_[*slot];
  const std::string code = Bucket(std::string(unit));
  int index = -1;  // outside the asked unit
  if (!code.empty()) {
    auto known = reporting_.Find(code);
    index = static_cast<int>(known ? *known : reporting_.Add(code));
  }
  seen_.Add(unit);
  of_seen_.push_back(index);
  return index;
}

std::string ReportUnits::Bucket(const std::string& unit) const {
  if (!unit_.empty()) return tree_.ChildUnder(unit, unit_, end_);
  std::string cur = unit;
  for (int guard = 0; guard < 16; ++guard) {
    const auto* u = tree_.Find(cur);
    if (!u) return cur;
    if (u->retired && u->retired_on <= end_ && !u->successor.empty()) {
      cur = u->successor;
    } else if (!u->parent.empty() && tree_.Find(u->parent) &&
               tree_.Find(u->parent)->level != workflow::UnitLevel::NATIONAL) {
      cur = u->parent;
    } else {
      return cur;
    }
  }
  return cur;
}

int UnitNumbers::Resolve(uint32_t number) {
  if (number >= index_.size()) index_.resize(number + 1, kUnresolved);
  // A number no code was written for (a damaged store) counts nowhere.
  const std::string none;
  const std::string& code = number < codes_->size() ? (*codes_)[number] : none;
  std::lock_guard<std::mutex> l(*mu_);
  return index_[number] = units_->Of(code);
}

}  // namespace ocop::projections
