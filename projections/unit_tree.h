// UnitTree: administrative units as they stood on a date, for roll-ups.
//
// A unit lies within its parent. A unit retired on or before the date asked
// has been replaced by its successor: what lay within it is counted with the
// successor from then on ("rolls up under today's units"), while reports of
// earlier dates still see it under its own parent.
#pragma once

#include <map>
#include <string>

#include "ledger/status.h"
#include "workflow/state.h"

namespace ocop::projections {

class ReadView;

class UnitTree {
 public:
  UnitTree() = default;
  explicit UnitTree(std::map<std::string, workflow::UnitState> units) : units_(std::move(units)) {}

  // The units of `view` into *out, for a read about `unit` (empty: all of
  // them): InvalidArgument, and nothing read, when `unit` is not one.
  static Status Load(const ReadView& view, const std::string& unit, UnitTree* out);

  // True when `unit` is `ancestor` or lies within it on `at`.
  bool Within(const std::string& unit, const std::string& ancestor, workflow::Date at) const;
  // The unit directly under `ancestor` through which `unit` rolls up on `at`
  // (`ancestor` itself for things recorded at its own level); empty when
  // `unit` is not within `ancestor`.
  std::string ChildUnder(const std::string& unit, const std::string& ancestor,
                         workflow::Date at) const;
  const workflow::UnitState* Find(const std::string& code) const;
  std::string Name(const std::string& code) const;

 private:
  std::map<std::string, workflow::UnitState> units_;
};

}  // namespace ocop::projections
