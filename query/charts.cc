#include "query/charts.h"

#include <xlsxwriter.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace ocop::query {
namespace {

const char* kColours[] = {"#2e7d32", "#f9a825", "#1565c0", "#c62828"};

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string Num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

std::string SvgChart(const Chart& c) {
  const double width = 640, height = 300, left = 48, right = 16, top = 36, bottom = 48;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  double max = 0;
  for (const auto& [name, values] : c.series) {
    for (double v : values) max = std::max(max, v);
  }
  // A round top for the axis: 1, 2 or 5 times a power of ten.
  double step = 1;
  if (max > 0) {
    double raw = max / 4, p = std::pow(10, std::floor(std::log10(raw)));
    step = raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
  }
  double top_value = std::max(step, std::ceil(max / step) * step);
  auto y = [&](double v) { return top + plot_h - plot_h * v / top_value; };
  const size_t n = std::max<size_t>(c.categories.size(), 1);
  const double slot = plot_w / static_cast<double>(n);
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ocop-chart\" width=\"" << width
    << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " " << height
    << "\" role=\"img\" aria-label=\"" << Escape(c.title) << "\" font-family=\"sans-serif\" "
    << "font-size=\"11\">\n<title>" << Escape(c.title) << "</title>\n";
  for (double v = 0; v <= top_value + step / 2; v += step) {
    o << "<line x1=\"" << left << "\" x2=\"" << width - right << "\" y1=\"" << y(v) << "\" y2=\""
      << y(v) << "\" stroke=\"#ddd\"/><text x=\"" << left - 6 << "\" y=\"" << y(v) + 4
      << "\" text-anchor=\"end\">" << Num(v) << "</text>\n";
  }
  for (size_t i = 0; i < c.categories.size(); ++i) {
    o << "<text x=\"" << left + slot * (static_cast<double>(i) + 0.5) << "\" y=\""
      << height - bottom + 16 << "\" text-anchor=\"middle\">" << Escape(c.categories[i])
      << "</text>\n";
  }
  const size_t k = std::max<size_t>(c.series.size(), 1);
  for (size_t s = 0; s < c.series.size(); ++s) {
    const auto& [name, values] = c.series[s];
    const char* colour = kColours[s % std::size(kColours)];
    std::ostringstream points;
    for (size_t i = 0; i < values.size() && i < c.categories.size(); ++i) {
      const double v = values[i];
      if (c.kind == Chart::Kind::kColumn) {
        const double bar = slot * 0.8 / static_cast<double>(k);
        const double x =
            left + slot * static_cast<double>(i) + slot * 0.1 + bar * static_cast<double>(s);
        o << "<rect class=\"bar\" x=\"" << x << "\" y=\"" << y(v) << "\" width=\"" << bar * 0.9
          << "\" height=\"" << top + plot_h - y(v) << "\" fill=\"" << colour << "\"><title>"
          << Escape(name) << ": " << Num(v) << "</title></rect><text x=\"" << x + bar * 0.45
          << "\" y=\"" << y(v) - 3 << "\" text-anchor=\"middle\">" << Num(v) << "</text>\n";
      } else {
        const double x = left + slot * (static_cast<double>(i) + 0.5);
        points << (i ? " " : "") << x << "," << y(v);
        // Each series writes its values on its own side of the point (the
        // first to the left, the next to the right), so that two series of
        // the same value in a year are both read, not drawn over each other.
        const bool left_side = s % 2 == 0;
        o << "<circle cx=\"" << x << "\" cy=\"" << y(v) << "\" r=\"3\" fill=\"" << colour
          << "\"/><text x=\"" << (left_side ? x - 5 : x + 5) << "\" y=\"" << y(v) - 6
          << "\" text-anchor=\"" << (left_side ? "end" : "start") << "\">" << Num(v) << "</text>\n";
      }
    }
    if (c.kind == Chart::Kind::kLine) {
      o << "<polyline class=\"line\" fill=\"none\" stroke=\"" << colour
        << "\" stroke-width=\"2\" points=\"" << points.str() << "\"/>\n";
    }
    // The legend, above the plot.
    const double lx = left + 150 * static_cast<double>(s);
    o << "<rect x=\"" << lx << "\" y=\"10\" width=\"12\" height=\"12\" fill=\"" << colour
      << "\"/><text x=\"" << lx + 16 << "\" y=\"20\">" << Escape(name) << "</text>\n";
  }
  o << "</svg>";
  return o.str();
}

void AddXlsxCharts(lxw_workbook* wb, const std::vector<Chart>& charts, Lang lang) {
  if (charts.empty()) return;
  const char* sheet = lang == Lang::kVi ? "Biểu đồ" : "Charts";
  lxw_worksheet* ws = workbook_add_worksheet(wb, sheet);
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  worksheet_set_column(ws, 0, 0, 14, nullptr);
  worksheet_set_column(ws, 1, 3, 14, nullptr);
  lxw_row_t row = 0;
  for (const Chart& c : charts) {
    // The data first (title, a header of the series' names, a row a
    // category), then the chart beside it, drawn from those cells.
    worksheet_write_string(ws, row, 0, c.title.c_str(), bold);
    const lxw_row_t header = row + 1;
    for (size_t s = 0; s < c.series.size(); ++s) {
      worksheet_write_string(ws, header, static_cast<lxw_col_t>(s + 1), c.series[s].first.c_str(),
                             bold);
    }
    for (size_t i = 0; i < c.categories.size(); ++i) {
      const lxw_row_t r = header + 1 + static_cast<lxw_row_t>(i);
      worksheet_write_string(ws, r, 0, c.categories[i].c_str(), nullptr);
      for (size_t s = 0; s < c.series.size(); ++s) {
        if (i < c.series[s].second.size())
          worksheet_write_number(ws, r, static_cast<lxw_col_t>(s + 1), c.series[s].second[i],
                                 nullptr);
      }
    }
    const lxw_row_t last =
        header + static_cast<lxw_row_t>(std::max<size_t>(c.categories.size(), 1));
    lxw_chart* chart =
        workbook_add_chart(wb, c.kind == Chart::Kind::kLine ? LXW_CHART_LINE : LXW_CHART_COLUMN);
    chart_title_set_name(chart, c.title.c_str());
    for (size_t s = 0; s < c.series.size(); ++s) {
      lxw_chart_series* series = chart_add_series(chart, nullptr, nullptr);
      const lxw_col_t col = static_cast<lxw_col_t>(s + 1);
      chart_series_set_categories(series, sheet, header + 1, 0, last, 0);
      chart_series_set_values(series, sheet, header + 1, col, last, col);
      chart_series_set_name_range(series, sheet, header, col);
    }
    chart_legend_set_position(chart, LXW_CHART_LEGEND_BOTTOM);
    worksheet_insert_chart(ws, row, 5, chart);
    row = std::max<lxw_row_t>(last + 2, row + 16);  // a chart is about 15 rows high
  }
}

}  // namespace ocop::query
