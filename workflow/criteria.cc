#include "workflow/criteria.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "workflow/criteria_data.h"
#include "workflow/rules.h"

namespace ocop::workflow {

namespace {

using nlohmann::json;

// The parts and sub-parts of each decree, the group lists and the meaning of
// the star marks, as the sources give them (not a set).
constexpr std::string_view kStructureFile = "STRUCTURE.json";

std::string Points(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::optional<Rules> RulesById(const std::string& id) {
  for (Rules r : schema::RULES_IN_FORCE.get()) {
    if (id == r.getId().cStr()) return r;
  }
  return std::nullopt;
}

// A name as a file may give it: an id ("QD148") or the decision it cites
// ("QĐ 148/QĐ-TTg", "QĐ 148"), matched against the rules' titles.
std::vector<std::string> RulesNamed(const std::string& name) {
  std::vector<std::string> ids;
  for (Rules r : schema::RULES_IN_FORCE.get()) {
    std::string title = r.getTitle().cStr();
    bool cites =
        title.rfind(name, 0) == 0 && (title.size() == name.size() || title[name.size()] == ',' ||
                                      title[name.size()] == '/' || title[name.size()] == ' ');
    if (name == r.getId().cStr() || cites) ids.push_back(r.getId().cStr());
  }
  return ids;
}

// A group list by its id, its name ("QĐ 919"), or the rules that use it
// ("QĐ 148").
std::string GroupListNamed(const std::string& name) {
  for (GroupList l : schema::GROUP_LISTS.get()) {
    if (name == l.getId().cStr() || name == l.getName().cStr()) return l.getId().cStr();
  }
  for (const std::string& id : RulesNamed(name)) return RulesById(id)->getGroupList().cStr();
  return "";
}

// "… (2 điểm) có dấu ****": the points of a level and the stars it is the
// least for. The notes transcribe the sheet's star marks this way.
std::vector<std::pair<int, double>> LevelsInNote(const std::string& note) {
  std::map<int, double> least;  // stars -> fewest points marked for them
  const std::string kOpen = "(", kMark = " điểm) có dấu ";
  for (size_t at = note.find(kMark); at != std::string::npos; at = note.find(kMark, at + 1)) {
    size_t open = note.rfind(kOpen, at);
    if (open == std::string::npos) continue;
    std::string number = note.substr(open + 1, at - open - 1);
    for (char& ch : number) ch = ch == ',' ? '.' : ch;
    char* end = nullptr;
    double points = std::strtod(number.c_str(), &end);
    if (end == number.c_str() || *end != '\0') continue;
    size_t stars_at = at + kMark.size();
    int stars = 0;
    while (stars_at + stars < note.size() && note[stars_at + stars] == '*') ++stars;
    if (stars < 1 || stars > 5) continue;
    auto it = least.find(stars);
    if (it == least.end() || points < it->second) least[stars] = points;
  }
  return {least.begin(), least.end()};
}

// Text or a list of texts.
std::vector<std::string> Texts(const json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  return v.get<std::vector<std::string>>();
}

Status ParseSet(const std::string& file, const json& j, CriteriaSet* out) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("criteria file " + file + ": " + what);
  };
  try {
    out->id = j.at("id").get<std::string>();
    out->title = j.value("name_vi", j.value("title", ""));
    out->source = j.value("source", "");
    out->note = j.value("note", "");
    for (const std::string& r : Texts(j.at("rules"))) {
      out->rules_text += (out->rules_text.empty() ? "" : ", ") + r;
      std::vector<std::string> ids = RulesNamed(r);
      if (ids.empty()) return bad("no rules '" + r + "' in workflow/rules.capnp");
      out->rules.insert(out->rules.end(), ids.begin(), ids.end());
    }
    std::string list = j.at("group_list").get<std::string>();
    out->group_list = GroupListNamed(list);
    if (out->group_list.empty()) return bad("unknown group_list '" + list + "'");
    out->groups = j.at("groups").get<std::vector<int>>();
    out->complete = j.value("complete", false);
    for (const json& p : j.value("parts", json::array())) {
      std::string part = p.value("id", p.value("part", ""));
      for (const json& sp : p.value("subparts", p.value("sub_parts", json::array()))) {
        SubPart s;
        s.id = sp.at("id").get<std::string>();
        s.part = part;
        s.name_vi = sp.value("name_vi", "");
        if (sp.contains("max")) s.max = sp.at("max").get<double>();
        out->sub_parts.push_back(std::move(s));
      }
    }
    std::set<std::string> ids;
    for (const json& c : j.value("criteria", json::array())) {
      Criterion k;
      k.id = c.at("id").get<std::string>();
      k.part = c.at("part").get<std::string>();
      k.sub_part = c.value("subpart", c.value("sub_part", ""));
      k.max = c.at("max").get<double>();
      k.hard = c.value("hard", false);
      k.hard_note_vi = c.value("hard_note_vi", "");
      if (c.contains("hard_levels")) {
        for (const json& l : c.at("hard_levels")) {
          k.hard_levels.emplace_back(l.at("stars").get<int>(), l.at("points").get<double>());
        }
      } else if (k.hard) {
        k.hard_levels = LevelsInNote(k.hard_note_vi);
      }
      k.text_vi = c.at("text_vi").get<std::string>();
      if (k.part != "A" && k.part != "B" && k.part != "C") {
        return bad("criterion " + k.id + " has part '" + k.part + "'; parts are A, B, C");
      }
      for (const auto& [stars, points] : k.hard_levels) {
        if (points > k.max) {
          return bad("criterion " + k.id + " needs " + Points(points) + " points for " +
                     std::to_string(stars) + " stars, more than its maximum " + Points(k.max));
        }
      }
      if (!ids.insert(k.id).second) return bad("criterion " + k.id + " is listed twice");
      out->criteria.push_back(std::move(k));
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  // Complete means the decree's part maxima are all there.
  if (out->complete) {
    for (const std::string& r : out->rules) {
      Rules rules = *RulesById(r);
      const std::pair<const char*, double> maxima[] = {
          {"A", rules.getMaxA()}, {"B", rules.getMaxB()}, {"C", rules.getMaxC()}};
      for (const auto& [part, max] : maxima) {
        double sum = out->PartSum(part);
        if (std::fabs(sum - max) > 1e-9) {
          return bad("set " + out->id + " claims to be complete, but its criteria of part " + part +
                     " add up to " + Points(sum) + ", not " + Points(max) + " as " +
                     rules.getTitle().cStr() + " sets");
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace

double CriteriaSet::PartSum(const std::string& part) const {
  double sum = 0;
  for (const Criterion& c : criteria) {
    if (c.part == part) sum += c.max;
  }
  return sum;
}

const Criterion* CriteriaSet::Find(const std::string& id) const {
  for (const Criterion& c : criteria) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

Status ParseCriteriaSet(const std::string& file, std::string_view text, CriteriaSet* out) {
  *out = CriteriaSet();
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Status::InvalidArgument("criteria file " + file + " is not valid JSON");
  return ParseSet(file, j, out);
}

Status LoadCriteriaSets(std::vector<CriteriaSet>* out) {
  out->clear();
  Status first;
  std::set<std::string> ids;
  for (size_t i = 0; i < kCriteriaFileCount; ++i) {
    const EmbeddedFile& f = kCriteriaFiles[i];
    if (std::string_view(f.name) == kStructureFile) continue;
    CriteriaSet set;
    Status s = ParseCriteriaSet(f.name, f.text, &set);
    if (s.ok() && !ids.insert(set.id).second) {
      s = Status::InvalidArgument(std::string("criteria file ") + f.name + ": set id " + set.id +
                                  " is used by another file");
    }
    if (!s.ok()) {
      if (first.ok()) first = s;
      continue;
    }
    out->push_back(std::move(set));
  }
  return first;
}

std::string_view CriteriaStructureText() {
  for (size_t i = 0; i < kCriteriaFileCount; ++i) {
    if (std::string_view(kCriteriaFiles[i].name) == kStructureFile) return kCriteriaFiles[i].text;
  }
  return "{}";
}

const std::vector<CriteriaSet>& CriteriaSets() {
  static const std::vector<CriteriaSet> sets = [] {
    std::vector<CriteriaSet> v;
    // A file that does not parse is left out here; LoadCriteriaSets' own
    // callers (the tests, `ocop criteria`) report it.
    static_cast<void>(LoadCriteriaSets(&v));
    return v;
  }();
  return sets;
}

const CriteriaSet* FindCriteriaSet(const std::string& id) {
  for (const CriteriaSet& s : CriteriaSets()) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

bool SetAppliesTo(const CriteriaSet& set, Rules rules) {
  for (const std::string& r : set.rules) {
    if (r == rules.getId().cStr() || r == rules.getCriteriaOf().cStr()) return true;
  }
  return false;
}

std::vector<const CriteriaSet*> CriteriaSetsOn(std::optional<Date> date) {
  std::optional<Rules> rules;
  if (date) {
    rules = RulesInForce(*date);
    if (!rules) return {};
  }
  std::vector<const CriteriaSet*> out;
  for (const CriteriaSet& s : CriteriaSets()) {
    if (!rules || SetAppliesTo(s, *rules)) out.push_back(&s);
  }
  return out;
}

bool SetScoresGroup(const CriteriaSet& set, const std::string& list, int code) {
  int mapped = code;
  if (list != set.group_list) {
    // Only the list reports count by has a mapping into it.
    if (set.group_list != schema::REPORT_GROUP_LIST.get().cStr()) return false;
    mapped = ReportGroupOf(list, code).code;
  }
  for (int g : set.groups) {
    if (g == mapped) return true;
  }
  return false;
}

Status ScoreSheet(const CriteriaSet& set, const std::vector<std::pair<std::string, double>>& points,
                  SheetResult* out) {
  *out = SheetResult();
  std::set<std::string> seen;
  for (const auto& [id, p] : points) {
    const Criterion* c = set.Find(id);
    const std::string path = "sheet.criteria." + id, field = "field '" + path + "'";
    if (!c) {
      return Status::InvalidArgument(field + ": set " + set.id + " has no criterion " + id)
          .WithField(path);
    }
    if (!seen.insert(id).second) {
      return Status::InvalidArgument(field + ": criterion " + id + " is scored twice")
          .WithField(path);
    }
    if (!(p >= 0 && p <= c->max)) {
      return Status::InvalidArgument(field + ": criterion " + id + " (" + c->text_vi +
                                     ") is scored from 0 to " + Points(c->max) + "; got " +
                                     Points(p))
          .WithField(path);
    }
    (c->part == "A" ? out->a : c->part == "B" ? out->b : out->c) += p;
    int allowed = 5;
    for (const auto& [stars, least] : c->hard_levels) {
      if (p < least) allowed = std::min(allowed, stars - 1);
    }
    if (allowed < 5) {
      out->hard_missed.push_back(c->id + " (" + c->text_vi + ": " + Points(p) + " points, " +
                                 std::to_string(allowed + 1) + " stars need more)");
      out->max_stars = std::min(out->max_stars, allowed);
    }
  }
  std::string missing;
  for (const Criterion& c : set.criteria) {
    if (!seen.count(c.id)) missing += (missing.empty() ? "" : ", ") + c.id;
  }
  if (!missing.empty()) {
    return Status::InvalidArgument("field 'sheet.criteria': set " + set.id +
                                   " needs points for every criterion; missing " + missing)
        .WithField("sheet.criteria");
  }
  return Status::OK();
}

}  // namespace ocop::workflow
