#include "query/report_format.h"

#include <algorithm>
#include "query/charts.h"
#include "query/report_sections_format.h"

#include <xlsxwriter.h>

#include <cstdio>
#include <map>
#include <sstream>

namespace ocop::query {
namespace {

using projections::Counts;
using projections::Report;
using projections::Tally;

struct Label {
  const char* vi;
  const char* en;
};

// Every word an official reads, in both languages.
const std::map<std::string, Label>& Labels() {
  static const std::map<std::string, Label> k = {
      {"title", {"Báo cáo kết quả thực hiện Chương trình OCOP", "OCOP programme report"}},
      {"period", {"Kỳ báo cáo", "Period"}},
      {"unit", {"Đơn vị", "Unit"}},
      {"all_units", {"Toàn bộ", "All units"}},
      {"section", {"Mục", "Section"}},
      {"breakdown", {"Phân loại", "Breakdown"}},
      {"item", {"Chỉ tiêu", "Item"}},
      {"value", {"Số lượng", "Value"}},
      {"recognised", {"Sản phẩm được công nhận trong kỳ", "Products recognised in the period"}},
      {"revoked", {"Sản phẩm bị thu hồi trong kỳ", "Ratings revoked in the period"}},
      {"expired", {"Giấy chứng nhận hết hạn trong kỳ", "Certificates expired in the period"}},
      {"active_at_end", {"Sản phẩm còn hiệu lực cuối kỳ", "Products active at the end"}},
      {"subjects_at_end",
       {"Chủ thể có sản phẩm còn hiệu lực cuối kỳ", "Producers with active products at the end"}},
      {"targets", {"Chỉ tiêu kế hoạch", "Targets"}},
      {"total", {"Tổng số", "Total"}},
      {"by_stars", {"Theo hạng sao", "By stars"}},
      {"by_entry", {"Theo loại hồ sơ", "By entry kind"}},
      {"by_group", {"Theo nhóm sản phẩm", "By product group"}},
      {"by_group_name",
       {"Theo nhóm sản phẩm (tên theo QĐ 919)", "By product group (QĐ 919 names)"}},
      {"support", {"Hỗ trợ trong kỳ (đồng)", "Support granted in the period (VND)"}},
      {"by_source", {"Theo nguồn", "By source"}},
      {"source_central", {"Ngân sách trung ương", "Central budget"}},
      {"source_province", {"Ngân sách tỉnh", "Provincial budget"}},
      {"source_district", {"Ngân sách huyện", "District budget"}},
      {"source_commune", {"Ngân sách xã", "Commune budget"}},
      {"source_producer", {"Vốn của chủ thể", "Producer's own funds"}},
      {"source_credit", {"Vốn tín dụng", "Credit"}},
      {"source_other", {"Nguồn khác", "Other sources"}},
      {"by_legal_form", {"Theo loại hình chủ thể", "By legal form"}},
      {"by_unit", {"Theo đơn vị hành chính", "By unit"}},
      {"by_reason", {"Theo lý do", "By reason"}},
      {"woman_owned", {"Do phụ nữ làm chủ", "Woman-owned"}},
      {"new", {"Đánh giá lần đầu", "New"}},
      {"renewal", {"Công nhận lại", "Re-recognition"}},
      {"upgrade", {"Nâng hạng", "Upgrade"}},
      {"import", {"Đã công nhận trước khi có sổ cái", "Imported"}},
      {"production_stopped", {"Ngừng sản xuất", "Production stopped"}},
      {"criteria_not_met", {"Không còn đáp ứng tiêu chí", "Criteria no longer met"}},
      {"violation", {"Vi phạm (chất lượng, ATTP, nhãn, SHTT)", "Violation"}},
      {"owner_request", {"Theo đề nghị của chủ thể", "Producer's request"}},
      {"false_dossier", {"Hồ sơ không trung thực", "False dossier"}},
      {"other", {"Lý do khác", "Other"}},
      {"not_reevaluated", {"Không đánh giá lại khi hết hạn", "Not re-evaluated by expiry"}},
      {"failed_reevaluation", {"Đánh giá lại không đạt", "Failed re-evaluation"}},
      {"stars", {"sao", "stars"}},
      {"group", {"Nhóm", "Group"}},
      {"none", {"Chưa phân nhóm", "Unclassified"}},
      {"target", {"Kế hoạch", "Target"}},
      {"actual", {"Thực hiện", "Actual"}},
      {"HTX", {"Hợp tác xã", "Cooperative (HTX)"}},
      {"THT", {"Tổ hợp tác", "Cooperative group (THT)"}},
      {"DN", {"Doanh nghiệp", "Enterprise (DN)"}},
      {"HKD", {"Hộ kinh doanh", "Household business (HKD)"}},
      {"CSSX", {"Cơ sở sản xuất", "Production facility (CSSX)"}},
      {"TNHH", {"Công ty TNHH", "Limited liability company (TNHH)"}},
      {"CTCP", {"Công ty cổ phần", "Joint-stock company (CTCP)"}},
      {"DNTN", {"Doanh nghiệp tư nhân", "Private enterprise (DNTN)"}},
      {"OTHER", {"Khác", "Other"}},
      {"ledger", {"Sổ cái (để kiểm chứng)", "Ledger (for verification)"}},
      {"tree_size", {"Số sự kiện", "Tree size"}},
      {"root", {"Gốc cây băm", "Root hash"}},
      {"signature", {"Chữ ký", "Signature"}},
      {"cohort_title",
       {"Theo dõi công nhận lại các sản phẩm được công nhận năm",
        "Re-recognition funnel of the certificates of"}},
      {"as_of", {"tính đến ngày", "as of"}},
      {"cohort", {"Sản phẩm được công nhận trong năm", "Certificates issued that year"}},
      {"cohort_due",
       {"Phải công nhận lại (tổng số giấy chứng nhận)", "Due for re-recognition (all)"}},
      {"cohort_entered", {"Đã nộp hồ sơ công nhận lại", "Entered for re-recognition"}},
      {"cohort_renewed", {"Đã được công nhận lại", "Re-recognised"}},
      {"cohort_revoked", {"Bị thu hồi", "Revoked"}},
      {"cohort_lapsed", {"Hết hạn, không công nhận lại", "Lapsed without renewal"}},
      {"cohort_pending", {"Còn hiệu lực, chưa đến hạn", "Still valid, not yet due"}},
  };
  return k;
}

std::string L(const std::string& key, Lang lang) {
  auto it = Labels().find(key);
  if (it == Labels().end()) return key;
  return lang == Lang::kVi ? it->second.vi : it->second.en;
}

std::string Num(uint64_t n) { return std::to_string(n); }

}  // namespace

std::string ReportLabel(const std::string& key, Lang lang) { return L(key, lang); }

namespace {

void AddTally(std::vector<ReportRow>* rows, const std::string& section, const Tally& t, Lang lang) {
  rows->push_back({L(section, lang), L("total", lang), "", Num(t.total)});
  for (const char* s : {"3", "4", "5"}) {
    auto it = t.by_stars.find(s);
    rows->push_back({L(section, lang), L("by_stars", lang), std::string(s) + " " + L("stars", lang),
                     Num(it == t.by_stars.end() ? 0 : it->second)});
  }
}

void AddCounts(std::vector<ReportRow>* rows, const std::string& section,
               const std::string& breakdown, const Counts& c, Lang lang,
               const std::function<std::string(const std::string&)>& name) {
  for (const auto& [k, v] : c)
    rows->push_back({L(section, lang), L(breakdown, lang), name(k), Num(v)});
}

// The signed tree head a rendered report was computed from.
void AddHead(std::vector<ReportRow>* rows, const Report::Head& head, Lang lang) {
  rows->push_back({L("ledger", lang), L("tree_size", lang), "", std::to_string(head.size)});
  rows->push_back({L("ledger", lang), L("root", lang), head.root, ""});
  rows->push_back({L("ledger", lang), L("signature", lang), head.signature, ""});
}

std::string DateText(workflow::Date d) { return workflow::FormatDate(d); }

}  // namespace

std::string PeriodTitle(const Report& r, Lang lang) {
  return L("title", lang) + " — " + L("period", lang) + " " + DateText(r.period.from) + " – " +
         DateText(r.period.to) + " — " + L("unit", lang) + ": " +
         (r.unit.empty() ? L("all_units", lang) : r.unit);
}

std::vector<ReportRow> PeriodRows(const Report& r, Lang lang) {
  std::vector<ReportRow> rows;
  auto as_is = [&](const std::string& k) { return L(k, lang); };
  auto unit_name = [&](const std::string& code) {
    auto it = r.unit_names.find(code);
    return it == r.unit_names.end() ? code : it->second + " (" + code + ")";
  };
  auto group_name = [&](const std::string& g) {
    return g == "none" ? L("none", lang) : L("group", lang) + " " + g;
  };
  AddTally(&rows, "recognised", r.recognised, lang);
  for (const char* e : {"new", "renewal", "upgrade", "import"}) {
    auto it = r.recognised_by_entry.find(e);
    rows.push_back({L("recognised", lang), L("by_entry", lang), L(e, lang),
                    Num(it == r.recognised_by_entry.end() ? 0 : it->second.total)});
  }
  AddCounts(&rows, "recognised", "by_group", r.recognised_by_group, lang, group_name);
  AddCounts(&rows, "recognised", "by_group_name", r.recognised_by_group_name, lang,
            [&](const std::string& g) { return g == "none" ? L("none", lang) : g; });
  AddCounts(&rows, "recognised", "by_legal_form", r.recognised_by_legal_form, lang, as_is);
  AddCounts(&rows, "recognised", "by_unit", r.recognised_by_unit, lang, unit_name);
  AddTally(&rows, "revoked", r.revoked, lang);
  AddCounts(&rows, "revoked", "by_reason", r.revoked_by_reason, lang, as_is);
  AddTally(&rows, "expired", r.expired, lang);
  AddTally(&rows, "active_at_end", r.active_at_end, lang);
  AddCounts(&rows, "active_at_end", "by_unit", r.active_by_unit, lang, unit_name);
  rows.push_back({L("subjects_at_end", lang), L("total", lang), "", Num(r.subjects_at_end)});
  AddCounts(&rows, "subjects_at_end", "by_legal_form", r.subjects_by_legal_form, lang, as_is);
  rows.push_back(
      {L("subjects_at_end", lang), L("woman_owned", lang), "", Num(r.subjects_woman_owned)});
  for (const auto& t : r.targets) {
    char target[32], actual[32];
    std::snprintf(target, sizeof target, "%g", t.target);
    std::snprintf(actual, sizeof actual, "%g", t.actual.value_or(0));
    std::string item = t.indicator + " (" + std::to_string(t.year) + ")";
    rows.push_back({L("targets", lang), L("target", lang), item, target});
    rows.push_back({L("targets", lang), L("actual", lang), item, t.actual ? actual : "—"});
  }
  rows.push_back({L("support", lang), L("total", lang), "", Num(r.support_total_vnd)});
  AddCounts(&rows, "support", "by_source", r.support_by_source, lang, [&](const std::string& k) {
    std::string label = L("source_" + k, lang);
    return label == "source_" + k ? k : label;  // a source named before the list
  });
  AddSectionRows(r, lang, &rows);
  if (r.ledger) {
    AddHead(&rows, *r.ledger, lang);
  }
  return rows;
}

ReportTable PeriodTable(const Report& r, Lang lang) {
  return ReportTable{PeriodTitle(r, lang), PeriodRows(r, lang), SectionsMarkdown(r, lang),
                     SectionCharts(r, lang)};
}

ReportTable CohortTable(const projections::Cohort& c, const Report::Head& head, Lang lang) {
  ReportTable t;
  t.title = L("cohort_title", lang) + " " + std::to_string(c.year) + " — " + L("as_of", lang) +
            " " + DateText(c.as_of) + " — " + L("unit", lang) + ": " +
            (c.unit.empty() ? L("all_units", lang) : c.unit);
  const std::string section = L("cohort", lang);
  for (const auto& [key, n] :
       std::initializer_list<std::pair<const char*, uint64_t>>{{"cohort_due", c.due},
                                                               {"cohort_entered", c.entered},
                                                               {"cohort_renewed", c.renewed},
                                                               {"cohort_revoked", c.revoked},
                                                               {"cohort_lapsed", c.lapsed},
                                                               {"cohort_pending", c.pending}}) {
    t.rows.push_back({section, L("total", lang), L(key, lang), Num(n)});
  }
  AddHead(&t.rows, head, lang);
  return t;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string RenderCsv(const ReportTable& t, Lang lang) {
  // A byte-order mark, so that spreadsheet programs read the diacritics as UTF-8.
  std::string out = "\xEF\xBB\xBF";
  out += CsvField(L("section", lang)) + "," + CsvField(L("breakdown", lang)) + "," +
         CsvField(L("item", lang)) + "," + CsvField(L("value", lang)) + "\n";
  for (const auto& row : t.rows) {
    out += CsvField(row.section) + "," + CsvField(row.breakdown) + "," + CsvField(row.item) + "," +
           CsvField(row.value) + "\n";
  }
  return out;
}

std::string RenderMarkdown(const ReportTable& t, Lang lang) {
  std::ostringstream out;
  out << "# " << t.title << "\n";
  std::string section;
  for (const auto& row : t.rows) {
    if (row.section != section) {
      section = row.section;
      out << "\n## " << section << "\n\n| " << L("breakdown", lang) << " | " << L("item", lang)
          << " | " << L("value", lang) << " |\n|---|---|---:|\n";
    }
    out << "| " << row.breakdown << " | " << row.item << " | " << row.value << " |\n";
  }
  if (!t.markdown_after.empty()) out << "\n" << t.markdown_after;
  for (const Chart& c : t.charts) out << "\n### " << c.title << "\n\n" << SvgChart(c) << "\n";
  return out.str();
}

namespace {
// One sheet (title, headers, rows; numbers as numbers) and, after it, the
// charts as native xlsx charts of their own sheets.
Status WriteXlsxWithCharts(const std::string& title, const std::string& sheet,
                           const std::vector<std::string>& headers,
                           const std::vector<std::vector<std::string>>& rows,
                           const std::vector<Chart>& charts, Lang lang, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) return Status::IOError("cannot create " + path);
  lxw_worksheet* ws = workbook_add_worksheet(wb, sheet.c_str());
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  // Each column as wide as its widest cell (in characters, within reason).
  for (size_t c = 0; c < headers.size(); ++c) {
    size_t width = headers[c].size();
    for (const auto& r : rows) width = std::max(width, c < r.size() ? r[c].size() : 0);
    worksheet_set_column(ws, c, c, std::clamp<double>(width * 0.8, 10, 60), nullptr);
  }
  worksheet_write_string(ws, 0, 0, title.c_str(), bold);
  for (size_t c = 0; c < headers.size(); ++c)
    worksheet_write_string(ws, 2, c, headers[c].c_str(), bold);
  lxw_row_t row = 3;
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) {
      // Numbers as numbers, so officials can sum them.
      char* end = nullptr;
      double v = std::strtod(r[c].c_str(), &end);
      if (end && *end == '\0' && !r[c].empty()) {
        worksheet_write_number(ws, row, c, v, nullptr);
      } else {
        worksheet_write_string(ws, row, c, r[c].c_str(), nullptr);
      }
    }
    ++row;
  }
  AddXlsxCharts(wb, charts, lang);
  lxw_error e = workbook_close(wb);
  if (e != LXW_NO_ERROR) return Status::IOError("cannot write " + path + ": " + lxw_strerror(e));
  return Status::OK();
}
}  // namespace

Status WriteXlsxSheet(const std::string& title, const std::string& sheet,
                      const std::vector<std::string>& headers,
                      const std::vector<std::vector<std::string>>& rows, const std::string& path) {
  return WriteXlsxWithCharts(title, sheet, headers, rows, {}, Lang::kVi, path);
}

Status WriteXlsx(const ReportTable& t, Lang lang, const std::string& path) {
  std::vector<std::string> headers;
  for (const char* h : {"section", "breakdown", "item", "value"}) headers.push_back(L(h, lang));
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : t.rows) rows.push_back({r.section, r.breakdown, r.item, r.value});
  return WriteXlsxWithCharts(t.title, lang == Lang::kVi ? "Báo cáo" : "Report", headers, rows,
                             t.charts, lang, path);
}

}  // namespace ocop::query
