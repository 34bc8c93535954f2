#include "query/annex_format.h"

#include <xlsxwriter.h>

#include <map>
#include <sstream>

#include "projections/reporting_calendar.h"
#include "query/arguments.h"

namespace ocop::query {

using projections::Annex;
using projections::AnnexList;
using projections::AnnexRow;

namespace {

struct Column {
  const char* vi;
  const char* en;
  double width;  // in characters, as spreadsheets measure
};

// The annex's columns, as Kiên Giang's Phụ lục 01/02 print them.
const std::vector<Column>& Columns(AnnexList list) {
  static const std::vector<Column> base = {
      {"STT", "No.", 5},
      {"Mã sản phẩm", "Product id", 14},
      {"Tên sản phẩm", "Product", 32},
      {"Chủ thể", "Producer", 32},
      {"Loại hình", "Legal form", 10},
      {"Địa chỉ", "Address", 36},
      {"Nhóm sản phẩm", "Product group", 22},
      {"Hạng sao", "Stars", 8},
      {"Số giấy chứng nhận", "Certificate", 16},
      {"Hiệu lực từ", "Valid from", 12},
      {"Hiệu lực đến", "Valid until", 12},
      {"Quyết định", "Decision", 34},
  };
  static const std::vector<Column> revoked = [] {
    auto c = base;
    c.back() = {"Quyết định thu hồi", "Revocation decision", 34};
    c.push_back({"Lý do thu hồi", "Reason", 28});
    return c;
  }();
  return list == AnnexList::kRevoked ? revoked : base;
}

std::string Title(const Annex& a, Lang lang) {
  static const std::map<AnnexList, std::pair<const char*, const char*>> k = {
      {AnnexList::kRecognised,
       {"Danh sách sản phẩm OCOP được công nhận", "OCOP products recognised"}},
      {AnnexList::kRevoked,
       {"Danh sách sản phẩm OCOP bị thu hồi giấy chứng nhận", "OCOP ratings revoked"}},
      {AnnexList::kActive, {"Danh sách sản phẩm OCOP còn hiệu lực", "OCOP products in force"}},
      {AnnexList::kExpiring,
       {"Danh sách sản phẩm OCOP hết hạn giấy chứng nhận trong kỳ",
        "OCOP certificates ending in the period"}},
  };
  const auto& t = k.at(a.list);
  std::string when = a.list == AnnexList::kActive
                         ? (lang == Lang::kVi ? "đến ngày " : "at ") + VnDate(a.period.to)
                         : (lang == Lang::kVi ? "từ ngày " : "from ") + VnDate(a.period.from) +
                               (lang == Lang::kVi ? " đến ngày " : " to ") + VnDate(a.period.to);
  return std::string(lang == Lang::kVi ? t.first : t.second) + " " + when +
         (a.unit.empty() ? "" : " — " + ReportLabel("unit", lang) + ": " + a.unit);
}

std::string Reason(const std::string& code, Lang lang) { return ReportLabel(code, lang); }

// One row's cells as text, in the columns' order.
std::vector<std::string> Cells(const Annex& a, size_t i, Lang lang) {
  const AnnexRow& r = a.rows[i];
  std::string group = r.group_name.empty() ? ReportLabel("none", lang) : r.group_name;
  std::string decision = r.decision_no + (lang == Lang::kVi ? " ngày " : " of ") +
                         VnDateText(r.decision_date) + " (" + r.decision_issuer_name + ")";
  std::vector<std::string> c = {std::to_string(i + 1),
                                r.product,
                                r.name,
                                r.producer,
                                r.legal_form,
                                r.address,
                                group,
                                std::to_string(r.stars),
                                r.certificate,
                                VnDateText(r.valid_from),
                                VnDateText(r.valid_until),
                                decision};
  if (a.list == AnnexList::kRevoked) c.push_back(Reason(r.reason, lang));
  return c;
}

}  // namespace

std::string VnDate(workflow::Date d) { return VnDateText(workflow::FormatDate(d)); }

// "2022-11-15" as officials write it, "15/11/2022".
std::string VnDateText(const std::string& iso) {
  if (iso.size() != 10) return iso;
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

std::string AnnexCsv(const Annex& a, Lang lang) {
  std::string out = "\xEF\xBB\xBF";
  bool first = true;
  for (const Column& c : Columns(a.list)) {
    if (!first) out += ',';
    out += CsvField(lang == Lang::kVi ? c.vi : c.en);
    first = false;
  }
  out += "\n";
  for (size_t i = 0; i < a.rows.size(); ++i) {
    first = true;
    for (const std::string& cell : Cells(a, i, lang)) {
      if (!first) out += ',';
      out += CsvField(cell);
      first = false;
    }
    out += "\n";
  }
  return out;
}

std::string AnnexMarkdown(const Annex& a, Lang lang) {
  std::ostringstream out;
  out << "# " << Title(a, lang) << "\n\n|";
  for (const Column& c : Columns(a.list)) out << " " << (lang == Lang::kVi ? c.vi : c.en) << " |";
  out << "\n|";
  for (size_t i = 0; i < Columns(a.list).size(); ++i) out << (i == 0 || i == 7 ? "---:|" : "---|");
  out << "\n";
  for (size_t i = 0; i < a.rows.size(); ++i) {
    out << "|";
    for (const std::string& cell : Cells(a, i, lang)) out << " " << cell << " |";
    out << "\n";
  }
  if (a.ledger) {
    out << "\n"
        << ReportLabel("ledger", lang) << ": " << ReportLabel("tree_size", lang) << " "
        << a.ledger->size << ", " << ReportLabel("root", lang) << " `" << a.ledger->root << "`\n";
  }
  return out.str();
}

Status WriteAnnexXlsx(const Annex& a, Lang lang, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) return Status::IOError("cannot create " + path);
  lxw_worksheet* ws = workbook_add_worksheet(wb, lang == Lang::kVi ? "Phụ lục" : "Annex");
  lxw_format* title = workbook_add_format(wb);
  format_set_bold(title);
  format_set_font_size(title, 13);
  format_set_align(title, LXW_ALIGN_CENTER);
  lxw_format* header = workbook_add_format(wb);
  format_set_bold(header);
  format_set_text_wrap(header);
  format_set_align(header, LXW_ALIGN_CENTER);
  format_set_align(header, LXW_ALIGN_VERTICAL_CENTER);
  format_set_border(header, LXW_BORDER_THIN);
  format_set_bg_color(header, 0xDDEBF7);
  lxw_format* cell = workbook_add_format(wb);
  format_set_text_wrap(cell);
  format_set_align(cell, LXW_ALIGN_VERTICAL_TOP);
  format_set_border(cell, LXW_BORDER_THIN);
  lxw_format* number = workbook_add_format(wb);
  format_set_align(number, LXW_ALIGN_CENTER);
  format_set_align(number, LXW_ALIGN_VERTICAL_TOP);
  format_set_border(number, LXW_BORDER_THIN);
  lxw_format* note = workbook_add_format(wb);
  format_set_italic(note);

  const auto& columns = Columns(a.list);
  const lxw_col_t last = static_cast<lxw_col_t>(columns.size() - 1);
  for (lxw_col_t c = 0; c <= last; ++c) worksheet_set_column(ws, c, c, columns[c].width, nullptr);
  worksheet_merge_range(ws, 0, 0, 0, last, Title(a, lang).c_str(), title);
  std::string basis = std::string(lang == Lang::kVi ? "Số sản phẩm: " : "Products: ") +
                      std::to_string(a.rows.size());
  worksheet_merge_range(ws, 1, 0, 1, last, basis.c_str(), note);
  worksheet_set_row(ws, 3, 32, nullptr);
  for (lxw_col_t c = 0; c <= last; ++c) {
    worksheet_write_string(ws, 3, c, lang == Lang::kVi ? columns[c].vi : columns[c].en, header);
  }
  lxw_row_t row = 4;
  for (size_t i = 0; i < a.rows.size(); ++i, ++row) {
    std::vector<std::string> cells = Cells(a, i, lang);
    for (lxw_col_t c = 0; c <= last; ++c) {
      // The number and the stars as numbers, so that officials can count them.
      if (c == 0 || c == 7) {
        worksheet_write_number(ws, row, c, std::stod(cells[c]), number);
      } else {
        worksheet_write_string(ws, row, c, cells[c].c_str(), cell);
      }
    }
  }
  worksheet_freeze_panes(ws, 4, 0);
  if (!a.rows.empty()) worksheet_autofilter(ws, 3, 0, row - 1, last);
  if (a.ledger) {
    std::string head = ReportLabel("ledger", lang) + ": " + ReportLabel("tree_size", lang) + " " +
                       std::to_string(a.ledger->size) + ", " + ReportLabel("root", lang) + " " +
                       a.ledger->root;
    worksheet_write_string(ws, row + 1, 0, head.c_str(), note);
  }
  worksheet_set_landscape(ws);
  worksheet_set_paper(ws, 9);  // A4
  worksheet_fit_to_pages(ws, 1, 0);
  worksheet_repeat_rows(ws, 3, 3);
  lxw_error e = workbook_close(wb);
  if (e != LXW_NO_ERROR) return Status::IOError("cannot write " + path + ": " + lxw_strerror(e));
  return Status::OK();
}

Status ApplyCalendar(ReportQueryText* q) {
  if (q->calendar.empty() || q->calendar == "civil") return Status::OK();
  if (q->calendar != "reporting") {
    return Status::InvalidArgument("calendar '" + q->calendar + "' is not one of civil, reporting");
  }
  if (q->period.empty()) {
    return Status::InvalidArgument(
        "--calendar reporting reads a period (2022, 2022-H1, 2022-Q3, 2022-07); from and to are "
        "dates in every calendar");
  }
  projections::Period p;
  Status s = projections::ParsePeriodIn(q->period, q->calendar, &p);
  if (!s.ok()) return s;
  q->from = workflow::FormatDate(p.from);
  q->to = workflow::FormatDate(p.to);
  q->period.clear();
  return Status::OK();
}

Status QueryAnnex(const Reader& r, const ReportQueryText& q, RenderedReport* out) {
  projections::AnnexList list;
  Status s = projections::ParseAnnexList(q.list, &list);
  if (!s.ok()) return s;
  if (!q.cohort.empty()) return Status::InvalidArgument("give --list or --cohort, not both");
  Lang lang;
  s = ReportForm(q, &lang);
  projections::ReportQuery rq;
  std::string name;
  if (s.ok()) s = ReportScope(r, q, &rq, &name);
  Annex annex;
  if (s.ok()) s = projections::BuildAnnex(*r.view, list, rq, &annex);
  projections::Report::Head head;
  if (s.ok()) s = SignedHead(r, rq.known_at, &head);
  if (!s.ok()) return s;
  annex.ledger = head;
  const std::string base =
      "ocop-phu-luc-" + q.list + "-" + name + (q.unit.empty() ? "" : "-" + q.unit);
  if (q.format == "json") {
    *out = RenderedReport{"application/json", projections::AnnexJson(annex).dump() + "\n",
                          base + ".json"};
  } else if (q.format == "csv") {
    *out = RenderedReport{"text/csv; charset=utf-8", AnnexCsv(annex, lang), base + ".csv"};
  } else if (q.format == "md") {
    *out = RenderedReport{"text/markdown; charset=utf-8", AnnexMarkdown(annex, lang), base + ".md"};
  } else {
    return XlsxReport([&](const std::string& path) { return WriteAnnexXlsx(annex, lang, path); },
                      base, out);
  }
  return Status::OK();
}

}  // namespace ocop::query
