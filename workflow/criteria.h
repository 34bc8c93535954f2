// Criteria sets: the scoring sheets of the OCOP rules, as data.
//
// Each set is a JSON file in workflow/criteria/ (the shape is described in
// workflow/criteria/README.md), embedded in the program when
// it is built (CMake turns the files into criteria_data.cc), so a new set is
// a data file, not code, and the binary needs no data directory. A set names
// the rules it belongs to (QD1048, QD148, ...), the product groups it scores
// (by group list and code), its parts and sub-parts, and its criteria, each
// with its id, part, sub-part, maximum points, whether it is hard
// (mandatory) and its Vietnamese text.
//
// Promises:
//  * A set is `complete` only when its file says so and its criteria maxima
//    add up to the rules' part maxima (A/B/C), checked when the sets load; a
//    file claiming completeness whose sums disagree is refused by
//    LoadCriteriaSets (the tests load every file), never silently accepted.
//  * A partial set (criteria not all transcribed from the decree's annex) is
//    listed, but cannot be used to score: stars are never decided on a sheet
//    that misses criteria of the decree.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"
#include "workflow/date.h"
#include "workflow/rules.h"

namespace ocop::workflow {

struct Criterion {
  std::string id;        // unique within its set, e.g. "A1.2"
  std::string part;      // "A", "B" or "C"
  std::string sub_part;  // the sub-part's id, e.g. "A1"
  double max = 0;        // maximum points
  // Hard (mandatory): for each (stars, points) of `hard_levels`, a product
  // scoring fewer points cannot get that many stars, whatever its total. The
  // levels come from the file's `hard_levels`, or are read from its note
  // ("… (2 điểm) có dấu ****": 2 points needed for 4 stars). A hard criterion
  // with no level read limits no star by its points (its requirement is
  // judged by the council: `mandatory_met`).
  bool hard = false;
  std::vector<std::pair<int, double>> hard_levels;
  std::string hard_note_vi;
  std::string text_vi;
};

struct SubPart {
  std::string id, part, name_vi;
  std::optional<double> max;  // when the decree states it
};

struct CriteriaSet {
  std::string id, title, source, note;
  std::string rules_text;          // as the file names them, "QĐ 148/QĐ-TTg"
  std::vector<std::string> rules;  // ids of rules.capnp entries it belongs to
  std::string group_list;          // the list `groups` are codes of
  std::vector<int> groups;         // the product groups it scores
  bool complete = false;
  std::vector<SubPart> sub_parts;
  std::vector<Criterion> criteria;
  double PartSum(const std::string& part) const;  // of the criteria maxima
  const Criterion* Find(const std::string& id) const;
};

// Every set shipped, parsed once; a file that cannot be read is reported by
// LoadCriteriaSets and left out here.
const std::vector<CriteriaSet>& CriteriaSets();
// Parses the embedded files again and says what is wrong with any of them
// (for tests and `ocop criteria`).
Status LoadCriteriaSets(std::vector<CriteriaSet>* out);

// One file's set, parsed and checked (`file` names it in messages).
Status ParseCriteriaSet(const std::string& file, std::string_view text, CriteriaSet* out);

// workflow/criteria/STRUCTURE.json: the parts and sub-parts of QĐ 1048 and
// QĐ 148 with their maxima, as the sources state or sum them.
std::string_view CriteriaStructureText();

const CriteriaSet* FindCriteriaSet(const std::string& id);
// Whether products are scored with `set` under `rules` (its own rules, or
// the rules whose sets they keep: QĐ 1489 keeps QĐ 148's).
bool SetAppliesTo(const CriteriaSet& set, Rules rules);
// The sets of the rules in force on `date` (all when empty).
std::vector<const CriteriaSet*> CriteriaSetsOn(std::optional<Date> date);
// Whether `set` scores a product of group `code` of list `list` (through
// the mapping between lists when they differ).
bool SetScoresGroup(const CriteriaSet& set, const std::string& list, int code);

// A scored sheet, checked against its set.
struct SheetResult {
  double a = 0, b = 0, c = 0;            // the part sums
  int max_stars = 5;                     // what the hard criteria allow
  std::vector<std::string> hard_missed;  // ids of the hard criteria missed, "A1.2 (…)"
};
// Checks `points` (criterion id -> points, in the order given) against the
// set: every criterion named exactly once, none unknown, none above its
// maximum or below 0. InvalidArgument naming the criterion otherwise.
Status ScoreSheet(const CriteriaSet& set, const std::vector<std::pair<std::string, double>>& points,
                  SheetResult* out);

}  // namespace ocop::workflow
