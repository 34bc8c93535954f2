#include "query/report_sections_format.h"

#include <map>
#include <sstream>

namespace ocop::query {
namespace {

using projections::IdeaCounts;
using projections::RoundLine;

struct Label {
  const char* vi;
  const char* en;
};

// The words of the sections, in both languages; others come from
// ReportLabel (report_format.cc).
std::string S(const std::string& key, Lang lang) {
  static const std::map<std::string, Label> k = {
      {"round", {"Kết quả đánh giá, phân hạng trong kỳ", "Evaluation round in the period"}},
      {"entered", {"Số sản phẩm tham gia đánh giá", "Dossiers entered"}},
      {"round_table",
       {"Bảng tổng hợp kết quả đánh giá, phân hạng theo loại hồ sơ", "The round by entry kind"}},
      {"recognised", {"Được công nhận", "Recognised"}},
      {"not_recognised", {"Không được công nhận", "Not recognised"}},
      {"pending", {"Chưa có kết quả", "Not yet decided"}},
      {"producers_recognised",
       {"Chủ thể có sản phẩm được công nhận", "Producers with products recognised"}},
      {"producers_entered", {"Chủ thể tham gia", "Producers taking part"}},
      {"all_entries", {"Tổng cộng", "Total"}},
      {"entry_kind", {"Loại hồ sơ", "Entry kind"}},
      {"upgrade_row", {"Nâng hạng (3→4 sao)", "Upgrade (3→4★)"}},
      {"woman_products",
       {"Sản phẩm của chủ thể do phụ nữ làm chủ (còn hiệu lực cuối kỳ)",
        "Products of woman-owned producers (active at the end)"}},
      {"woman_recognised",
       {"Sản phẩm của chủ thể do phụ nữ làm chủ được công nhận trong kỳ",
        "Products of woman-owned producers recognised in the period"}},
      {"producers",
       {"Chủ thể có sản phẩm còn hiệu lực cuối kỳ (tỷ lệ %)",
        "Producers with active products at the end (share %)"}},
      {"share", {"Tỷ lệ (%)", "Share (%)"}},
      {"kinds_of_dn", {"Doanh nghiệp, theo loại", "Enterprises by kind"}},
      {"active_by_group",
       {"Sản phẩm còn hiệu lực cuối kỳ theo nhóm (tên theo QĐ 919)",
        "Active products at the end by group (QĐ 919 names)"}},
      {"support_by_unit", {"Hỗ trợ trong kỳ theo đơn vị (đồng)", "Support by unit (VND)"}},
      {"ideas", {"Ý tưởng sản phẩm trong kỳ", "Product ideas in the period"}},
      {"registered", {"Đăng ký", "Registered"}},
      {"selected", {"Được chọn", "Selected"}},
      {"rejected", {"Không được chọn", "Rejected"}},
      {"by_cycle_year", {"Theo năm chu trình", "By cycle year"}},
      {"chart_stars", {"Phân bố theo hạng sao", "Star distribution"}},
      {"chart_trend", {"Sản phẩm OCOP qua các năm", "Products by year"}},
      {"chart_deadlines",
       {"Giấy chứng nhận hết hạn theo tháng (12 tháng tới)",
        "Certificates ending by month (next 12 months)"}},
      {"series_recognised", {"Được công nhận", "Recognised"}},
      {"series_active", {"Còn hiệu lực", "In force"}},
      {"series_ending", {"Hết hạn", "Ending"}},
  };
  auto it = k.find(key);
  if (it == k.end()) return ReportLabel(key, lang);
  return lang == Lang::kVi ? it->second.vi : it->second.en;
}

std::string Num(uint64_t n) { return std::to_string(n); }

// A share already rounded to two decimals (SharePercent), written as a
// spreadsheet writes the number: 39.5, 100, 66.67.
std::string Pct(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

uint64_t Stars(const projections::Tally& t, const char* k) {
  auto it = t.by_stars.find(k);
  return it == t.by_stars.end() ? 0 : it->second;
}

std::string UnitName(const projections::Report& r, const std::string& code) {
  auto it = r.unit_names.find(code);
  return it == r.unit_names.end() ? code : it->second + " (" + code + ")";
}

// The lines of the round table: each entry kind, then the total.
std::vector<std::pair<std::string, RoundLine>> RoundLines(const projections::Report& r, Lang lang) {
  std::vector<std::pair<std::string, RoundLine>> out;
  for (const char* e : {"new", "renewal", "upgrade"}) {
    auto it = r.sections.round.by_entry.find(e);
    out.emplace_back(S(std::string(e) == "upgrade" ? "upgrade_row" : e, lang),
                     it == r.sections.round.by_entry.end() ? RoundLine() : it->second);
  }
  out.emplace_back(S("all_entries", lang), r.sections.round.total);
  return out;
}

}  // namespace

void AddSectionRows(const projections::Report& r, Lang lang, std::vector<ReportRow>* rows) {
  const auto& sec = r.sections;
  const std::string round = S("round", lang);
  for (const auto& [kind, l] : RoundLines(r, lang)) {
    rows->push_back({round, kind, S("entered", lang), Num(l.entered)});
    rows->push_back({round, kind, S("recognised", lang), Num(l.recognised.total)});
    for (const char* s : {"5", "4", "3"}) {
      rows->push_back({round, kind, S("recognised", lang) + " " + s + " " + S("stars", lang),
                       Num(Stars(l.recognised, s))});
    }
    rows->push_back({round, kind, S("not_recognised", lang), Num(l.not_recognised)});
    rows->push_back({round, kind, S("pending", lang), Num(l.pending)});
    rows->push_back({round, kind, S("producers_recognised", lang), Num(l.recognised_producers)});
    rows->push_back({round, kind, S("producers_entered", lang), Num(l.entered_producers)});
  }
  for (const auto& [key, t] : {std::pair{"woman_products", &sec.woman_owned_active},
                               std::pair{"woman_recognised", &sec.woman_owned_recognised}}) {
    rows->push_back({S(key, lang), S("total", lang), "", Num(t->total)});
    for (const char* s : {"3", "4", "5"}) {
      rows->push_back({S(key, lang), S("by_stars", lang), std::string(s) + " " + S("stars", lang),
                       Num(Stars(*t, s))});
    }
  }
  const std::string producers = S("producers", lang);
  rows->push_back({producers, S("total", lang), "", Num(r.subjects_at_end)});
  rows->push_back({producers, S("woman_owned", lang), S("share", lang),
                   Pct(projections::SharePercent(r.subjects_woman_owned, r.subjects_at_end))});
  for (const auto& [form, n] : projections::LegalFormsGrouped(r.subjects_by_legal_form)) {
    rows->push_back({producers, S("by_legal_form", lang), S(form, lang), Num(n)});
    rows->push_back({producers, S("by_legal_form", lang), S(form, lang) + " — " + S("share", lang),
                     Pct(projections::SharePercent(n, r.subjects_at_end))});
  }
  for (const auto& [form, n] : r.subjects_by_legal_form) {
    if (projections::IsEnterpriseKind(form))
      rows->push_back({producers, S("kinds_of_dn", lang), S(form, lang), Num(n)});
  }
  for (const auto& [name, n] : sec.active_by_group_name) {
    rows->push_back({S("active_by_group", lang), S("by_group_name", lang),
                     name == "none" ? S("none", lang) : name, Num(n)});
  }
  for (const auto& [unit, vnd] : sec.support_by_unit) {
    rows->push_back({S("support_by_unit", lang), S("by_unit", lang), UnitName(r, unit), Num(vnd)});
  }
  const std::string ideas = S("ideas", lang);
  auto idea_rows = [&](const std::string& breakdown, const IdeaCounts& c) {
    rows->push_back({ideas, breakdown, S("registered", lang), Num(c.registered)});
    rows->push_back({ideas, breakdown, S("selected", lang), Num(c.selected)});
    rows->push_back({ideas, breakdown, S("rejected", lang), Num(c.rejected)});
  };
  idea_rows(S("total", lang), sec.ideas);
  for (const auto& [unit, c] : sec.ideas_by_unit) idea_rows(UnitName(r, unit), c);
  for (const auto& [year, c] : sec.ideas_by_cycle_year) {
    idea_rows(S("by_cycle_year", lang) + " " + std::to_string(year), c);
  }
}

std::string SectionsMarkdown(const projections::Report& r, Lang lang) {
  std::ostringstream out;
  out << "## " << S("round_table", lang) << "\n\n| " << S("entry_kind", lang) << " | "
      << S("entered", lang) << " | " << S("recognised", lang) << " | 5★ | 4★ | 3★ | "
      << S("not_recognised", lang) << " | " << S("pending", lang) << " | "
      << S("producers_recognised", lang) << " | " << S("producers_entered", lang)
      << " |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [kind, l] : RoundLines(r, lang)) {
    out << "| " << kind << " | " << l.entered << " | " << l.recognised.total << " | "
        << Stars(l.recognised, "5") << " | " << Stars(l.recognised, "4") << " | "
        << Stars(l.recognised, "3") << " | " << l.not_recognised << " | " << l.pending << " | "
        << l.recognised_producers << " | " << l.entered_producers << " |\n";
  }
  return out.str();
}

std::vector<Chart> SectionCharts(const projections::Report& r, Lang lang) {
  std::vector<Chart> out;
  Chart stars{S("chart_stars", lang), Chart::Kind::kColumn, {}, {}};
  std::vector<double> recognised, active;
  for (const char* k : {"3", "4", "5"}) {
    stars.categories.push_back(std::string(k) + "★");
    recognised.push_back(static_cast<double>(Stars(r.recognised, k)));
    active.push_back(static_cast<double>(Stars(r.active_at_end, k)));
  }
  stars.series = {{S("series_recognised", lang), recognised}, {S("series_active", lang), active}};
  out.push_back(stars);
  Chart trend{S("chart_trend", lang), Chart::Kind::kLine, {}, {}};
  std::vector<double> by_year_recognised, by_year_active;
  for (const auto& [year, p] : r.sections.trend) {
    trend.categories.push_back(std::to_string(year));
    by_year_recognised.push_back(static_cast<double>(p.recognised));
    by_year_active.push_back(static_cast<double>(p.active));
  }
  trend.series = {{S("series_recognised", lang), by_year_recognised},
                  {S("series_active", lang), by_year_active}};
  out.push_back(trend);
  Chart deadlines{S("chart_deadlines", lang), Chart::Kind::kColumn, {}, {}};
  std::vector<double> ending;
  for (const auto& [month, n] : r.sections.deadlines_by_month) {
    deadlines.categories.push_back(month.substr(5, 2) + "/" + month.substr(0, 4));
    ending.push_back(static_cast<double>(n));
  }
  deadlines.series = {{S("series_ending", lang), ending}};
  out.push_back(deadlines);
  return out;
}

}  // namespace ocop::query
