#include "ocop/queries.h"

#include <unistd.h>
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "ledger/encoding.h"
#include "ocop/open_ledger.h"
#include "ocop/report_format.h"
#include "projections/report.h"
#include "projections/status_json.h"
#include "projections/unit_tree.h"
#include "replay/as_of.h"
#include "replay/history.h"
#include "workflow/criteria.h"

namespace ocop::cli {

namespace fs = std::filesystem;
using workflow::Date;

Date TodayInVietnam() {
  int64_t secs = WallClockMicros() / 1000000 + 7 * 3600;
  return Date{static_cast<int32_t>(secs / 86400)};
}

namespace {

Status DateOr(const std::string& name, const std::string& text, Date fallback, Date* out) {
  if (text.empty()) {
    *out = fallback;
    return Status::OK();
  }
  if (!workflow::ParseDate(text, out)) {
    return Status::InvalidArgument(name + " '" + text + "' is not a date; use YYYY-MM-DD");
  }
  return Status::OK();
}

Status KnownAt(const Reader& r, const std::string& text, uint64_t* seq) {
  *seq = 0;
  return text.empty() ? Status::OK() : replay::ParseKnownAt(r.ledger, text, seq);
}

Status Tree(const Reader& r, const std::string& unit, std::unique_ptr<projections::UnitTree>* out) {
  std::map<std::string, workflow::UnitState> units;
  Status s = r.projections->Units(&units);
  if (!s.ok()) return s;
  if (!unit.empty() && !units.count(unit)) {
    return Status::InvalidArgument("unknown unit '" + unit + "'");
  }
  *out = std::make_unique<projections::UnitTree>(std::move(units));
  return Status::OK();
}

// Lower-case ASCII with Vietnamese diacritics removed: "Mật ong" -> "mat ong".
std::string Fold(const std::string& s) {
  static const std::unordered_map<char32_t, char> kBase = [] {
    std::unordered_map<char32_t, char> m;
    auto add = [&](const char* letters, char base) {
      std::u32string u;
      for (const unsigned char* p = reinterpret_cast<const unsigned char*>(letters); *p;) {
        char32_t c;
        if (*p < 0x80)
          c = *p++;
        else if ((*p & 0xE0) == 0xC0) {
          c = (*p & 0x1F) << 6 | (p[1] & 0x3F);
          p += 2;
        } else {
          c = (*p & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
          p += 3;
        }
        m[c] = base;
      }
    };
    add("àáảãạăằắẳẵặâầấẩẫậÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'a');
    add("đĐ", 'd');
    add("èéẻẽẹêềếểễệÈÉẺẼẸÊỀẾỂỄỆ", 'e');
    add("ìíỉĩịÌÍỈĨỊ", 'i');
    add("òóỏõọôồốổỗộơờớởỡợÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'o');
    add("ùúủũụưừứửữựÙÚỦŨỤƯỪỨỬỮỰ", 'u');
    add("ỳýỷỹỵỲÝỶỸỴ", 'y');
    return m;
  }();
  std::string out;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    char32_t c;
    int n = 1;
    if (*p < 0x80)
      c = *p;
    else if ((*p & 0xE0) == 0xC0 && p + 1 < end) {
      c = (*p & 0x1F) << 6 | (p[1] & 0x3F);
      n = 2;
    } else if ((*p & 0xF0) == 0xE0 && p + 2 < end) {
      c = (*p & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
      n = 3;
    } else {
      c = 0xFFFD;
      n = (*p & 0xF8) == 0xF0 ? 4 : 1;
    }
    p += n;
    if (c < 0x80)
      out.push_back(static_cast<char>(std::tolower(static_cast<int>(c))));
    else if (auto it = kBase.find(c); it != kBase.end())
      out.push_back(it->second);
    else
      out.push_back('?');
  }
  return out;
}

}  // namespace

Status QueryStatus(const Reader& r, const StatusQuery& q, Json* out) {
  if (q.product.empty()) return Status::InvalidArgument("name a product");
  Date as_of;
  Status s = DateOr("as_of", q.as_of, r.today, &as_of);
  if (!s.ok()) return s;
  workflow::ProductState p;
  uint64_t known_at = 0;
  if (q.as_of.empty() && q.known_at.empty()) {
    s = r.projections->Product(q.product, &p);  // the read model: current knowledge
  } else {
    replay::PointInTime at;
    if (!q.as_of.empty()) at.as_of = as_of;
    s = KnownAt(r, q.known_at, &known_at);
    at.known_at = known_at;
    if (s.ok()) s = replay::ProductAt(r.ledger, q.product, at, &p);
  }
  if (!s.ok()) return s;
  *out = projections::StatusJson(p, as_of);
  if (known_at) (*out)["known_at"] = known_at;
  return Status::OK();
}

Status QueryHistory(const Reader& r, const HistoryQuery& q, Json* out) {
  replay::HistoryOptions o;
  o.proofs = q.proofs;
  if (!q.as_of.empty()) {
    Date d;
    Status s = DateOr("as_of", q.as_of, r.today, &d);
    if (!s.ok()) return s;
    o.at.as_of = d;
  }
  Status s = KnownAt(r, q.known_at, &o.at.known_at);
  if (!s.ok()) return s;
  return replay::ProductHistory(r.ledger, q.product, o, out);
}

Status QueryDeadlines(const Reader& r, const DeadlinesQuery& q, Json* out) {
  Date as_of;
  Status s = DateOr("as_of", q.as_of, r.today, &as_of);
  if (!s.ok()) return s;
  int within = 0;
  try {
    size_t used = 0;
    within = std::stoi(q.within_days, &used);
    if (used != q.within_days.size() || within < 0 || within > 36600) throw std::out_of_range("");
  } catch (const std::exception&) {
    return Status::InvalidArgument("within_days '" + q.within_days +
                                   "' must be a whole number of days, 0 to 36600");
  }
  std::unique_ptr<projections::UnitTree> tree;
  s = Tree(r, q.unit, &tree);
  if (!s.ok()) return s;
  Json rows = Json::array();
  auto row = [&](const std::string& product, const std::string& name, const std::string& unit,
                 int stars, const std::string& no, Date until) {
    rows.push_back(Json{{"product", product},
                        {"name", name},
                        {"unit", unit},
                        {"stars", stars},
                        {"certificate", no},
                        {"valid_until", workflow::FormatDate(until)},
                        {"days_left", until - as_of}});
  };
  if (q.known_at.empty() && q.as_of.empty()) {
    // Today, as known now: the deadlines read model, soonest first.
    Status inner;
    s = r.projections->ForEachDeadline(as_of + within, [&](const std::string& id, uint32_t index) {
      workflow::ProductState p;
      inner = r.projections->Product(id, &p);
      if (!inner.ok()) return false;
      if (index >= p.certificates.size()) return true;
      const auto& c = p.certificates[index];
      if (c.valid_from > as_of) return true;
      if (!q.unit.empty() && !tree->Within(p.unit, q.unit, as_of)) return true;
      row(p.id, p.name, p.unit, c.stars, c.no, c.valid_until);
      return true;
    });
    if (s.ok()) s = inner;
  } else {
    // Another date or recording point: from the certificate history. A
    // product's certificate then is its latest issued and not yet ended.
    uint64_t known_at = 0;
    s = KnownAt(r, q.known_at, &known_at);
    struct Latest {
      int32_t from = INT32_MIN;
      bool open = false;
      std::string name, unit, no;
      int stars = 0;
      int32_t until = 0;
    };
    std::map<std::string, Latest> latest;
    auto see = [&](projections::schema::CertificateFact::Reader f) {
      if (f.getValidFrom() > as_of.days) return;
      Latest& l = latest[f.getProduct().cStr()];
      if (f.getValidFrom() < l.from) return;
      l = Latest{f.getValidFrom(),   f.getEndedOn() > as_of.days,
                 f.getName().cStr(), f.getUnit().cStr(),
                 f.getNo().cStr(),   f.getStars(),
                 f.getValidUntil()};
    };
    if (s.ok()) {
      s = known_at ? r.projections->ForEachFactKnownAt(known_at, see)
                   : r.projections->ForEachFact(see);
    }
    std::vector<std::pair<int32_t, std::string>> order;
    for (const auto& [id, l] : latest) {
      if (!l.open || l.until > (as_of + within).days) continue;
      if (!q.unit.empty() && !tree->Within(l.unit, q.unit, as_of)) continue;
      order.emplace_back(l.until, id);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [until, id] : order) {
      const Latest& l = latest[id];
      row(id, l.name, l.unit, l.stars, l.no, Date{until});
    }
  }
  if (!s.ok()) return s;
  *out = Json{{"as_of", workflow::FormatDate(as_of)},
              {"within_days", within},
              {"unit", q.unit.empty() ? Json(nullptr) : Json(q.unit)},
              {"rows", rows}};
  return Status::OK();
}

namespace {

// A report for people in `format` (csv, md or xlsx), named `base`.
Status Render(const ReportTable& table, const std::string& format, Lang lang,
              const std::string& base, RenderedReport* out) {
  if (format == "csv") {
    *out = RenderedReport{"text/csv; charset=utf-8", RenderCsv(table, lang), base + ".csv"};
    return Status::OK();
  }
  if (format == "md") {
    *out =
        RenderedReport{"text/markdown; charset=utf-8", RenderMarkdown(table, lang), base + ".md"};
    return Status::OK();
  }
  // libxlsxwriter writes files: render into a scratch file and read it back.
  std::string path =
      (fs::temp_directory_path() / ("ocop-report-" + std::to_string(::getpid()) + "-" +
                                    std::to_string(reinterpret_cast<uintptr_t>(out)) + ".xlsx"))
          .string();
  Status s = WriteXlsx(table, lang, path);
  if (s.ok()) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    *out = RenderedReport{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          ss.str(), base + ".xlsx"};
  }
  fs::remove(path);
  return s;
}

}  // namespace

Status QueryReport(const Reader& r, const ReportQueryText& q, RenderedReport* out) {
  if (q.lang != "vi" && q.lang != "en") return Status::InvalidArgument("lang must be vi or en");
  if (q.format != "json" && q.format != "csv" && q.format != "md" && q.format != "xlsx") {
    return Status::InvalidArgument("format must be json, csv, md or xlsx");
  }
  Lang lang = q.lang == "en" ? Lang::kEn : Lang::kVi;
  uint64_t known_at = 0;
  Status s = KnownAt(r, q.known_at, &known_at);
  if (!s.ok()) return s;

  // Every report says which log it was computed from, signed, so that
  // `ocop verify-report` (or anyone with the public key) can check it.
  auto signed_head = [&](projections::Report::Head* out) {
    ledger::SignedTreeHead head;
    Status hs = r.ledger->TreeHead(known_at ? known_at : r.projections->checkpoint(), &head);
    if (hs.ok()) {
      *out = projections::Report::Head{head.size, ledger::merkle::ToHex(head.root),
                                       Base64(head.signature), head.key_id_hex};
    }
    return hs;
  };

  if (!q.cohort.empty()) {
    int year = 0;
    try {
      year = std::stoi(q.cohort);
    } catch (const std::exception&) {
      return Status::InvalidArgument("cohort '" + q.cohort + "' must be a year");
    }
    Date as_of;
    s = DateOr("as_of", q.as_of, r.today, &as_of);
    projections::Cohort c;
    if (s.ok()) s = projections::BuildCohort(*r.projections, year, as_of, q.unit, &c, known_at);
    projections::Report::Head head;
    if (s.ok()) s = signed_head(&head);
    if (!s.ok()) return s;
    std::string base = "ocop-cohort-" + q.cohort + (q.unit.empty() ? "" : "-" + q.unit);
    if (q.format == "json") {
      Json j = projections::CohortJson(c);
      j["known_at"] = known_at ? Json(known_at) : Json(nullptr);
      j["ledger"] = {{"size", head.size},
                     {"root", head.root},
                     {"signature", head.signature},
                     {"key_id", head.key_id}};
      *out = RenderedReport{"application/json", j.dump() + "\n", base + ".json"};
      return Status::OK();
    }
    return Render(CohortTable(c, head, lang), q.format, lang, base, out);
  }

  projections::ReportQuery rq;
  rq.unit = q.unit;
  rq.known_at = known_at;
  std::string name;
  if (!q.period.empty()) {
    if (!q.from.empty() || !q.to.empty()) {
      return Status::InvalidArgument("give a period or from/to, not both");
    }
    s = projections::ParsePeriod(q.period, &rq.period);
    name = q.period;
  } else if (!q.from.empty() && !q.to.empty()) {
    if (!workflow::ParseDate(q.from, &rq.period.from) ||
        !workflow::ParseDate(q.to, &rq.period.to)) {
      s = Status::InvalidArgument("from and to must be dates YYYY-MM-DD");
    } else if (rq.period.to < rq.period.from) {
      s = Status::InvalidArgument("to is before from");
    }
    name = q.from + "_" + q.to;
  } else {
    s = Status::InvalidArgument("give a period (2022, 2022-H1, 2022-Q3, 2022-07) or from and to");
  }
  if (!s.ok()) return s;
  if (!q.as_of.empty()) {
    Date d;
    s = DateOr("as_of", q.as_of, r.today, &d);
    if (!s.ok()) return s;
    rq.as_of = d;
  }
  projections::Report rep;
  s = projections::BuildReport(*r.projections, rq, &rep);
  projections::Report::Head head;
  if (s.ok()) s = signed_head(&head);
  if (!s.ok()) return s;
  rep.ledger = head;
  std::string base = "ocop-report-" + name + (q.unit.empty() ? "" : "-" + q.unit);
  if (q.format == "json") {
    *out = RenderedReport{"application/json", projections::ReportJson(rep).dump() + "\n",
                          base + ".json"};
    return Status::OK();
  }
  return Render(PeriodTable(rep, lang), q.format, lang, base, out);
}

namespace {

// The district a unit reports under: itself or its district-level ancestor
// (the unit itself where there is none: a province, or a commune after 2025).
std::string DistrictOf(const projections::UnitTree& tree, const std::string& unit) {
  std::string cur = unit;
  for (int guard = 0; guard < 8 && !cur.empty(); ++guard) {
    const workflow::UnitState* u = tree.Find(cur);
    if (!u) break;
    if (u->level == workflow::UnitLevel::DISTRICT) return cur;
    cur = u->parent;
  }
  return unit;
}

// Each district's criteria with the lowest mean share of their maximum over
// the sheets scored in a period: what producers and advisers work on.
class WeakestCriteria {
 public:
  static constexpr size_t kPerUnit = 5;

  void Add(uint64_t seq, const std::string& unit, projections::schema::Change::Reader c) {
    const workflow::CriteriaSet* set = workflow::FindCriteriaSet(c.getSheetSet().cStr());
    if (!set) return;
    for (auto k : c.getCriteria()) {
      const workflow::Criterion* crit = set->Find(k.getId().cStr());
      if (!crit || crit->max <= 0) continue;
      sheets_.push_back(Point{seq, unit, set, crit, k.getPoints() / crit->max});
    }
  }

  cli::Json ToJson(const std::set<uint64_t>& annulled, const projections::UnitTree& tree) const {
    struct Mean {
      double sum = 0;
      uint64_t n = 0;
    };
    // unit -> (set, criterion) -> mean share
    std::map<std::string,
             std::map<std::pair<const workflow::CriteriaSet*, const workflow::Criterion*>, Mean>>
        by_unit;
    for (const Point& p : sheets_) {
      if (annulled.count(p.seq)) continue;
      Mean& m = by_unit[p.unit][{p.set, p.criterion}];
      m.sum += p.share;
      ++m.n;
    }
    cli::Json out = cli::Json::object();
    for (const auto& [unit, criteria] : by_unit) {
      std::vector<std::pair<double, cli::Json>> rows;
      for (const auto& [key, m] : criteria) {
        double mean = m.sum / static_cast<double>(m.n);
        rows.emplace_back(mean, cli::Json{{"set", key.first->id},
                                          {"criterion", key.second->id},
                                          {"text_vi", key.second->text_vi},
                                          {"max", key.second->max},
                                          {"mean_share", std::round(mean * 1000) / 1000},
                                          {"sheets", m.n}});
      }
      std::stable_sort(rows.begin(), rows.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      cli::Json list = cli::Json::array();
      for (size_t i = 0; i < rows.size() && i < kPerUnit; ++i) list.push_back(rows[i].second);
      out[unit] = cli::Json{{"name", tree.Name(unit)}, {"criteria", list}};
    }
    return out;
  }

 private:
  struct Point {
    uint64_t seq;
    std::string unit;
    const workflow::CriteriaSet* set;
    const workflow::Criterion* criterion;
    double share;
  };
  std::vector<Point> sheets_;
};

}  // namespace

Status QueryChanges(const Reader& r, const ChangesQuery& q, Json* out) {
  Date from, to;
  if (!workflow::ParseDate(q.from, &from) || !workflow::ParseDate(q.to, &to) || to < from) {
    return Status::InvalidArgument("from and to must be dates YYYY-MM-DD, to not before from");
  }
  uint64_t known_at = 0;
  Status s = KnownAt(r, q.known_at, &known_at);
  if (!s.ok()) return s;
  std::unique_ptr<projections::UnitTree> tree;
  s = Tree(r, q.unit, &tree);
  if (!s.ok()) return s;
  // Grouped twice, as a meeting reads it: by decision, then by product.
  std::map<std::string, Json> decisions;
  std::map<std::string, Json> products;
  uint64_t count = 0;
  WeakestCriteria weakest;
  std::set<uint64_t> annulled;  // scores annulled within the period leave the means
  s = r.projections->ForEachChange(
      from, to, known_at, [&](uint64_t seq, Date effective, projections::schema::Change::Reader c) {
        if (!q.unit.empty() && !tree->Within(c.getUnit().cStr(), q.unit, to)) return;
        if (!q.principal.empty() && q.principal != c.getPrincipal().cStr()) return;
        ++count;
        Json item{{"seq", seq},
                  {"effective", workflow::FormatDate(effective)},
                  {"type", c.getType().cStr()},
                  {"by", {{"principal", c.getPrincipal().cStr()}, {"role", c.getRole().cStr()}}}};
        if (c.getStars()) item["stars"] = c.getStars();
        if (c.getAnnuls()) item["annuls"] = c.getAnnuls();
        if (c.getAnnuls()) annulled.insert(c.getAnnuls());
        if (c.hasCriteria() && c.getCriteria().size()) {
          weakest.Add(seq, DistrictOf(*tree, c.getUnit().cStr()), c);
        }
        std::string decision_no = c.hasDecision() ? c.getDecision().getNo().cStr() : "";
        if (!decision_no.empty()) {
          item["decision"] = decision_no;
          Json& d = decisions[decision_no + "|" + c.getDecision().getIssuer().cStr()];
          if (d.is_null()) {
            d = Json{{"decision", decision_no},
                     {"date", c.getDecision().getDate().cStr()},
                     {"issuer", c.getDecision().getIssuer().cStr()},
                     {"type", c.getType().cStr()},
                     {"by", c.getPrincipal().cStr()},
                     {"products", Json::array()}};
          }
          d["products"].push_back(Json{{"product", c.getProduct().cStr()},
                                       {"name", c.getName().cStr()},
                                       {"stars", c.getStars()},
                                       {"seq", seq}});
        }
        Json& pr = products[c.getProduct().cStr()];
        if (pr.is_null()) {
          pr = Json{{"product", c.getProduct().cStr()},
                    {"name", c.getName().cStr()},
                    {"unit", c.getUnit().cStr()},
                    {"events", Json::array()}};
        }
        pr["events"].push_back(std::move(item));
      });
  if (!s.ok()) return s;
  Json d = Json::array(), pr = Json::array();
  for (auto& [k, v] : decisions) d.push_back(std::move(v));
  for (auto& [k, v] : products) pr.push_back(std::move(v));
  *out = Json{{"from", q.from},
              {"to", q.to},
              {"unit", q.unit.empty() ? Json(nullptr) : Json(q.unit)},
              {"principal", q.principal.empty() ? Json(nullptr) : Json(q.principal)},
              {"known_at", known_at ? Json(known_at) : Json(nullptr)},
              {"changes", count},
              {"decisions", d},
              {"products", pr},
              {"weakest_criteria", weakest.ToJson(annulled, *tree)}};
  return Status::OK();
}

Status QueryCriteria(const CriteriaQuery& q, Json* out) {
  std::optional<Date> on;
  if (!q.on.empty()) {
    Date d;
    if (!workflow::ParseDate(q.on, &d)) {
      return Status::InvalidArgument("on must be a date YYYY-MM-DD; got '" + q.on + "'");
    }
    on = d;
  }
  Json sets = Json::array();
  for (const workflow::CriteriaSet* set : workflow::CriteriaSetsOn(on)) {
    if (!q.set.empty() && set->id != q.set) continue;
    Json criteria = Json::array();
    for (const auto& c : set->criteria) {
      Json k{{"id", c.id},   {"part", c.part}, {"sub_part", c.sub_part},
             {"max", c.max}, {"hard", c.hard}, {"text_vi", c.text_vi}};
      if (c.hard) {
        Json levels = Json::array();
        for (const auto& [stars, points] : c.hard_levels) {
          levels.push_back(Json{{"stars", stars}, {"points", points}});
        }
        k["hard_levels"] = levels;
        if (!c.hard_note_vi.empty()) k["hard_note_vi"] = c.hard_note_vi;
      }
      criteria.push_back(std::move(k));
    }
    Json sub_parts = Json::array();
    for (const auto& sp : set->sub_parts) {
      sub_parts.push_back(Json{{"id", sp.id},
                               {"part", sp.part},
                               {"name_vi", sp.name_vi},
                               {"max", sp.max ? Json(*sp.max) : Json(nullptr)}});
    }
    sets.push_back(Json{
        {"id", set->id},
        {"title", set->title},
        {"rules", set->rules},
        {"rules_text", set->rules_text},
        {"group_list", set->group_list},
        {"groups", set->groups},
        {"complete", set->complete},
        {"source", set->source},
        {"note", set->note},
        {"sums", {{"A", set->PartSum("A")}, {"B", set->PartSum("B")}, {"C", set->PartSum("C")}}},
        {"sub_parts", sub_parts},
        {"criteria", criteria}});
  }
  if (!q.set.empty() && sets.empty()) {
    std::string known;
    for (const workflow::CriteriaSet* s : workflow::CriteriaSetsOn(on)) {
      known += (known.empty() ? "" : ", ") + s->id;
    }
    return Status::InvalidArgument("no criteria set '" + q.set + "'" +
                                   (on ? " in force on " + q.on : std::string()) + "; there are " +
                                   (known.empty() ? std::string("none") : known));
  }
  Json structure = Json::parse(workflow::CriteriaStructureText(), nullptr, false);
  *out = Json{{"on", on ? Json(q.on) : Json(nullptr)},
              {"frameworks",
               structure.is_discarded() ? Json(nullptr) : structure.value("frameworks", Json())},
              {"sets", sets}};
  return Status::OK();
}

Status QuerySearch(const Reader& r, const std::string& text, size_t limit, Json* out) {
  std::string needle = Fold(text);
  std::unique_ptr<projections::UnitTree> tree;
  Status s = Tree(r, "", &tree);
  if (!s.ok()) return s;
  Json rows = Json::array();
  s = r.projections->ForEachProduct([&](const workflow::ProductState& p) {
    workflow::SubjectState subject;
    r.projections->Subject(p.subject, &subject);
    std::string unit_name = tree->Name(p.unit);
    std::string hay =
        Fold(p.id + " " + p.name + " " + subject.name + " " + p.unit + " " + unit_name);
    if (!needle.empty() && hay.find(needle) == std::string::npos) return true;
    const auto* active = p.ActiveOn(r.today);
    rows.push_back(Json{{"product", p.id},
                        {"name", p.name},
                        {"subject", p.subject},
                        {"subject_name", subject.name},
                        {"unit", p.unit},
                        {"unit_name", unit_name},
                        {"stage", std::string(workflow::StageName(p.StageOn(r.today)))},
                        {"stars", active ? Json(active->stars) : Json(nullptr)}});
    return rows.size() < limit;
  });
  if (!s.ok()) return s;
  *out = Json{{"query", text}, {"rows", rows}};
  return Status::OK();
}

}  // namespace ocop::cli
