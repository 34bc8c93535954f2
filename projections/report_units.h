// ReportUnits: the unit each certificate or change of a period report is
// counted under, by dense numbers.
//
// A report of a unit counts under each child of it through which a fact's
// unit rolls up at the period's end; a national report, under the top-level
// units (a retired unit's facts under its successor). A national report asks
// this two hundred thousand times for a few thousand distinct units, so each
// unit code is resolved once and then found by its text without a copy.
//
// Invariants: reporting units are numbered 0, 1, ... in the order first
// reached, and a code always maps to the same number.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "projections/id_index.h"
#include "workflow/date.h"

namespace ocop::projections {

class UnitTree;

class ReportUnits {
 public:
  // `unit`: the unit asked (empty: the whole country). `tree` must outlive this.
  ReportUnits(const UnitTree& tree, std::string unit, workflow::Date end);

  // The reporting unit `unit` (a fact's or change's unit code) is counted
  // under, or -1 when it lies outside the unit asked. The last code asked is
  // answered without a lookup: a product's certificates are adjacent.
  int Of(std::string_view unit) {
    if (unit != last_) {
      last_.assign(unit);
      last_index_ = Resolve(unit);
    }
    return last_index_;
  }
  // The code of reporting unit `index`.
  const std::string& Code(int index) const { return reporting_.id(static_cast<uint32_t>(index)); }
  size_t size() const { return reporting_.size(); }

 private:
  int Resolve(std::string_view unit);
  std::string Bucket(const std::string& unit) const;

  const UnitTree& tree_;
  const std::string unit_;
  const workflow::Date end_;
  IdIndex seen_;              // every unit code asked about
  std::vector<int> of_seen_;  // by seen_'s slot: its reporting unit, or -1
  IdIndex reporting_;         // reporting units' codes, slot = number
  std::string last_;          // the code asked last, and its answer
  int last_index_ = -1;
};

// The reporting unit of each unit number in one pass's records (numbers the
// fold gave unit codes, or the pass itself), each number resolved once
// through a ReportUnits that the report's two passes share, under `mu`.
class UnitNumbers {
 public:
  // `codes`: the code of each number; it may grow while this is used.
  UnitNumbers(ReportUnits* units, std::mutex* mu, const std::vector<std::string>* codes)
      : units_(units), mu_(mu), codes_(codes) {}

  // ReportUnits::Of of the code numbered `number`.
  int Of(uint32_t number) {
    if (number < index_.size() && index_[number] != kUnresolved) return index_[number];
    return Resolve(number);
  }

 private:
  static constexpr int kUnresolved = -2;
  int Resolve(uint32_t number);

  ReportUnits* units_;
  std::mutex* mu_;
  const std::vector<std::string>* codes_;
  std::vector<int> index_;  // by number: the reporting unit, -1 outside, or kUnresolved
};

}  // namespace ocop::projections
