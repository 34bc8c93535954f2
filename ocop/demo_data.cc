#include "ocop/demo_data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>

namespace ocop::cli {
namespace {

using json = nlohmann::ordered_json;

// Stable ASCII codes for the nine district-level units of QĐ 2822.
const std::map<std::string, std::pair<std::string, std::string>>& Districts() {
  static const std::map<std::string, std::pair<std::string, std::string>> k = {
      {"Thành phố Cà Mau", {"CM-TP", "Thành phố Cà Mau"}},
      {"Cái Nước", {"CM-CN", "Huyện Cái Nước"}},
      {"Đầm Dơi", {"CM-DD", "Huyện Đầm Dơi"}},
      {"Ngọc Hiển", {"CM-NH", "Huyện Ngọc Hiển"}},
      {"Năm Căn", {"CM-NC", "Huyện Năm Căn"}},
      {"Phú Tân", {"CM-PT", "Huyện Phú Tân"}},
      {"Thới Bình", {"CM-TB", "Huyện Thới Bình"}},
      {"Trần Văn Thời", {"CM-TVT", "Huyện Trần Văn Thời"}},
      {"U Minh", {"CM-UM", "Huyện U Minh"}},
  };
  return k;
}

// FNV-1a: the same "random" choices on every machine and every run.
uint64_t Hash(const std::string& s, uint64_t salt = 0) {
  uint64_t h = 1469598103934665603ull ^ salt;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct Cmd {
  std::string principal;  // empty: the local superuser
  json body;
};

json Decision(const std::string& no, const std::string& date, const std::string& issuer) {
  return json{{"no", no}, {"date", date}, {"issuer", issuer}};
}

// Parts A/B/C for a total under the given maxima, deterministic.
json Parts(double total, double max_a, double max_b, double max_c) {
  double a = std::min(max_a, total * max_a / 100.0 + 1);
  double b = std::min(max_b, total * max_b / 100.0);
  double c = std::min(max_c, std::max(0.0, total - a - b));
  return json{{"A", a}, {"B", b}, {"C", c}};
}

struct Product {
  std::string id, district, name;
  int year = 2022;
  bool grouped = true;
};

// Producers and product ideas of the appendix, keeping its quirks: a
// producer is a cell of the table, so the same name twice is two producers
// unless the second was filled down from a merged cell; a name that is only
// a legal form is an unnamed producer; a row without a group code registers
// the idea unclassified; legal forms are kept as written, even
// where they disagree with the name, and an empty one is OTHER. Every command
// carries an id, so loading twice appends nothing the second time.
std::vector<Product> RegisterAppendix(const std::vector<IdeaRow>& rows, bool as_officers,
                                      std::vector<Cmd>* cmds) {
  auto add = [&](const std::string& principal, json body) {
    cmds->push_back(Cmd{as_officers ? principal : "", std::move(body)});
  };
  int subjects = 0;
  std::vector<Product> products;
  // Identity follows the appendix's cells, never names: a row whose producer
  // cell was filled down from a merged cell (subject_from_merged_cell = 1)
  // belongs to the producer above it; every other row starts a producer.
  std::string current;
  for (const IdeaRow& r : rows) {
    auto d = Districts().find(r.district);
    if (d == Districts().end()) continue;
    std::string district = d->second.first;
    if (!r.subject_from_merged_cell || current.empty()) {
      current = "CM-CT-" + std::to_string(++subjects);
      // A name that is only a legal form ("THT", "HTX") is an unnamed producer.
      static const std::set<std::string> kBare = {"", "HTX", "THT", "DN", "HKD", "CSSX"};
      std::string subject_name =
          kBare.count(r.subject)
              ? (r.subject.empty() ? "" : r.subject + " ") + "(chưa ghi tên) – " + r.product
              : r.subject;
      std::string form = r.legal_form.empty() ? "OTHER" : r.legal_form;
      add("canbo." + district, {{"type", "RegisterSubject"},
                                {"effective", "2022-02-20"},
                                {"subject", current},
                                {"name", subject_name},
                                {"legal_form", form},
                                {"unit", district},
                                {"woman_owned", Hash(current) % 5 == 0},
                                {"id", "camau/subject/" + current}});
    }
    int year = 2022;
    try {
      year = std::stoi(r.planned_year);
    } catch (const std::exception&) {
      // An unreadable year keeps the plan's first year, 2022.
    }
    Product p{"CM-" + district.substr(3) + "-" + r.row, district, r.product, year,
              !r.group.empty()};
    json idea{{"type", "RegisterIdea"}, {"effective", std::to_string(p.year) + "-03-05"},
              {"product", p.id},        {"subject", current},
              {"name", r.product},      {"unit", district},
              {"cycle_year", p.year},   {"id", "camau/idea/" + p.id}};
    // The appendix's codes are QĐ 919's six groups (Cà Mau accepts four).
    if (p.grouped) {
      idea["group"] = std::atoi(r.group.c_str());
      idea["group_list"] = "QD919";
    }
    products.push_back(p);
    add("canbo." + district, std::move(idea));
  }
  return products;
}

void DefineUnits(const std::function<void(const std::string&, json)>& add) {
  const std::string kStart = "2022-01-05";
  add("", {{"type", "DefineUnit"},
           {"effective", kStart},
           {"unit", "VN"},
           {"name", "Việt Nam"},
           {"level", "national"},
           {"id", "camau/unit/VN"}});
  add("", {{"type", "DefineUnit"},
           {"effective", kStart},
           {"unit", "CM"},
           {"name", "Tỉnh Cà Mau"},
           {"level", "province"},
           {"parent", "VN"},
           {"id", "camau/unit/CM"}});
  for (const auto& [name, unit] : Districts()) {
    add("", {{"type", "DefineUnit"},
             {"effective", kStart},
             {"unit", unit.first},
             {"name", unit.second},
             {"level", "district"},
             {"parent", "CM"},
             {"id", "camau/unit/" + unit.first}});
  }
}

}  // namespace

std::vector<std::vector<std::string>> SplitCsv(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a byte-order mark
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(std::move(field));
      field.clear();
      if (!(record.size() == 1 && record[0].empty())) table.push_back(std::move(record));
      record.clear();
    } else {
      field.push_back(c);
    }
  }
  if (!field.empty() || !record.empty()) {
    record.push_back(std::move(field));
    table.push_back(std::move(record));
  }
  return table;
}

Status ParseAppendix(const std::string& text, std::vector<IdeaRow>* rows) {
  rows->clear();
  std::vector<std::vector<std::string>> table = SplitCsv(text);
  if (table.empty()) return Status::InvalidArgument("the appendix is empty");
  const std::vector<std::string> want = {
      "district", "row",        "product",    "subject",     "subject_from_merged_cell",
      "address",  "legal_form", "group_code", "planned_year"};
  if (table[0] != want) {
    return Status::InvalidArgument(
        "the appendix's header must be: district,row,product,subject,"
        "subject_from_merged_cell,address,legal_form,group_code,planned_year");
  }
  for (size_t i = 1; i < table.size(); ++i) {
    const auto& r = table[i];
    if (r.size() != want.size()) {
      return Status::InvalidArgument("appendix line " + std::to_string(i + 1) + " has " +
                                     std::to_string(r.size()) + " fields, not 9");
    }
    rows->push_back(IdeaRow{r[0], r[1], r[2], r[3], r[5], r[6], r[7], r[8], r[4] == "1"});
  }
  return Status::OK();
}

std::vector<DemoCommand> AppendixCommands(const std::vector<IdeaRow>& rows) {
  std::vector<Cmd> out;
  DefineUnits([&](const std::string& principal, json body) {
    out.push_back(Cmd{principal, std::move(body)});
  });
  RegisterAppendix(rows, /*as_officers=*/false, &out);
  std::vector<DemoCommand> lines;
  for (const Cmd& c : out) lines.push_back(DemoCommand{c.principal, c.body.dump()});
  return lines;
}

Status LoadAppendix(const std::string& path, std::vector<IdeaRow>* rows) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::InvalidArgument("cannot read " + path);
  std::stringstream text;
  text << f.rdbuf();
  return ParseAppendix(text.str(), rows);
}

std::string FindAppendix() {
  const char* name = "camau-2822-appendix3.csv";
  for (const char* dir :
       {"../shared/data", "shared/data", "../../shared/data", "../../../shared/data"}) {
    std::filesystem::path p = std::filesystem::path(dir) / name;
    if (std::filesystem::exists(p)) return p.string();
  }
  std::filesystem::path source =
      std::filesystem::path(OCOP_SOURCE_DIR) / ".." / "shared" / "data" / name;
  return std::filesystem::exists(source) ? source.string() : "";
}

std::vector<DemoCommand> DemoCommands(const std::vector<IdeaRow>& rows) {
  std::vector<Cmd> out;
  auto add = [&](const std::string& principal, json body) {
    out.push_back(Cmd{principal, std::move(body)});
  };
  const std::string kStart = "2022-01-05";

  // The administrative units, principals and councils.
  DefineUnits(add);
  // Each account with its role and, as an office records it, the official
  // behind it (RegisterOfficial). The names are placeholders in the
  // Vietnamese manner of "Nguyễn Văn A": sample people, not real officials.
  int people = 0;
  auto grant = [&](const std::string& who, const std::string& role, const std::string& unit,
                   const std::string& title, const std::string& office,
                   const std::string& council = "") {
    json g{{"type", "GrantRole"},
           {"effective", kStart},
           {"principal", who},
           {"role", role},
           {"unit", unit}};
    if (!council.empty()) g["council"] = council;
    add("", g);
    static const char* kFamily[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng"};
    const int n = people++;
    // (n % 8, n % 26) differ for the first 104 accounts: no two share a name.
    std::string name =
        std::string(kFamily[n % 8]) + (n % 2 ? " Thị " : " Văn ") + static_cast<char>('A' + n % 26);
    add("", {{"type", "RegisterOfficial"},
             {"effective", kStart},
             {"principal", who},
             {"full_name", name},
             {"title", title},
             {"office", office},
             {"unit", unit}});
  };
  grant("bo.nnptnt", "authority", "VN", "Thứ trưởng", "Bộ Nông nghiệp và Phát triển nông thôn");
  grant("ubnd.camau", "authority", "CM", "Phó Chủ tịch", "UBND tỉnh Cà Mau");
  grant("vpdp.camau", "officer", "CM", "Chuyên viên",
        "Văn phòng Điều phối nông thôn mới tỉnh Cà Mau");
  grant("thanhtra.camau", "inspector", "CM", "Thanh tra viên", "Thanh tra tỉnh Cà Mau");
  grant("kiemtoan.camau", "auditor", "CM", "Kiểm toán viên", "Kiểm toán nhà nước khu vực IX");
  grant("quantri.camau", "admin", "CM", "Chuyên viên quản trị hệ thống",
        "Sở Nông nghiệp và Phát triển nông thôn tỉnh Cà Mau");
  auto council = [&](const std::string& id, const std::string& level, const std::string& unit,
                     const std::string& no) {
    add("", {{"type", "ConstituteCouncil"},
             {"effective", "2022-02-10"},
             {"council", id},
             {"level", level},
             {"unit", unit},
             {"decision", Decision(no, "2022-02-10", unit)}});
  };
  council("HD-TW", "central", "VN", "310/QĐ-BNN");
  council("HD-CM", "province", "CM", "215/QĐ-UBND");
  grant("hd.tw", "council", "VN", "Chủ tịch Hội đồng", "Hội đồng đánh giá OCOP trung ương",
        "HD-TW");
  grant("hd.camau", "council", "CM", "Chủ tịch Hội đồng", "Hội đồng đánh giá OCOP tỉnh Cà Mau",
        "HD-CM");
  for (const auto& [name, unit] : Districts()) {
    std::string d = unit.first;
    council("HD-" + d, "district", d, "35/QĐ-UBND-" + d.substr(3));
    grant("canbo." + d, "officer", d, "Chuyên viên", "Phòng Nông nghiệp và PTNT " + unit.second);
    grant("ubnd." + d, "authority", d, "Phó Chủ tịch", "UBND " + unit.second);
    grant("hd." + d, "council", d, "Chủ tịch Hội đồng", "Hội đồng đánh giá OCOP " + unit.second,
          "HD-" + d);
  }

  std::vector<Product> products = RegisterAppendix(rows, /*as_officers=*/true, &out);
  // Registrations above are in CSV order; the cycle below runs year by year.
  std::stable_sort(products.begin(), products.end(),
                   [](const Product& a, const Product& b) { return a.year < b.year; });

  std::map<std::string, int> stars_of;           // product -> stars certified
  std::map<std::string, std::string> cert_year;  // product -> year of its certificate
  int decision_no = 100;
  for (int year = 2022; year <= 2025; ++year) {
    const std::string y = std::to_string(year);
    if (year == 2025) {
      // 1 July 2025: the district level is abolished; its units roll up to the province.
      for (const auto& [name, unit] : Districts()) {
        add("", {{"type", "RetireUnit"},
                 {"effective", "2025-07-01"},
                 {"unit", unit.first},
                 {"successor", "CM"}});
      }
    }
    // Decisions of the year, batched by issuer and level: one decision, many products.
    std::map<std::tuple<std::string, std::string, std::string>, json>
        decisions;  // (date, level, issuer)
    auto certify = [&](const Product& p, const std::string& date, const std::string& level,
                       const std::string& issuer, int stars) {
      json& d = decisions[{date, level, issuer}];
      if (d.is_null()) d = json::array();
      d.push_back(
          json{{"product", p.id}, {"stars", stars}, {"certificate", "GCN-" + p.id + "-" + y}});
      stars_of[p.id] = stars;
      cert_year[p.id] = y;
    };
    for (const Product& p : products) {
      if (p.year != year) continue;
      const std::string officer = "canbo." + p.district;
      uint64_t h = Hash(p.id);
      bool selected = h % 10 != 0;
      add(officer, {{"type", "ReviewIdea"},
                    {"effective", y + "-03-20"},
                    {"product", p.id},
                    {"outcome", selected ? "selected" : "rejected"},
                    {"reason", selected ? "" : "Chưa đủ điều kiện sản xuất"}});
      if (!selected) continue;
      add(officer, {{"type", "SubmitPlan"},
                    {"effective", y + "-04-10"},
                    {"product", p.id},
                    {"document",
                     {{"title", "Phương án kinh doanh " + p.name},
                      {"sha256", std::string(64, "0123456789abcdef"[h % 16])}}}});
      bool approved = h % 17 != 0;
      add(officer, {{"type", "ReviewPlan"},
                    {"effective", y + "-04-25"},
                    {"product", p.id},
                    {"outcome", approved ? "approved" : "rejected"}});
      if (!approved) continue;
      if (h % 3 == 0) {
        add(officer, {{"type", "GrantSupport"},
                      {"effective", y + "-05-15"},
                      {"product", p.id},
                      {"category", "bao bì, nhãn mác"},
                      {"amount_vnd", 20000000 + (h % 8) * 10000000},
                      {"source", "province"}});
      }
      if (!p.grouped) {
        int group = GroupByName(p.name);
        if (group == 0) continue;  // left unclassified: it cannot enter evaluation
        add(officer, {{"type", "ClassifyProduct"},
                      {"effective", y + "-05-20"},
                      {"product", p.id},
                      {"group", group},
                      {"group_list", "QD919"}});
      }
      // After 1 July 2025 the province's coordination office acts for the abolished districts.
      add(year == 2025 ? "vpdp.camau" : officer, {{"type", "SubmitDossier"},
                                                  {"effective", y + "-08-01"},
                                                  {"product", p.id},
                                                  {"cycle_year", year},
                                                  {"entry", "new"}});
      double total = 48 + static_cast<double>(h % 47);  // 48..94
      const bool rules_1048 = year == 2022;
      const double ma = rules_1048 ? 35 : 40, mb = 25, mc = rules_1048 ? 40 : 35;
      if (year < 2025) {
        // The district council scores first.
        add("hd." + p.district, {{"type", "RecordScore"},
                                 {"effective", y + "-08-15"},
                                 {"product", p.id},
                                 {"council", "HD-" + p.district},
                                 {"parts", Parts(total, ma, mb, mc)}});
      }
      int band = total >= 90 ? 5 : total >= 70 ? 4 : total >= 50 ? 3 : 2;
      if (band < 3) continue;
      if (year == 2023 || year == 2024) {
        if (band == 3) {  // QĐ 148: the district certifies 3 stars
          certify(p, y + "-08-30", "district", p.district, 3);
          continue;
        }
      }
      if (year < 2025) {
        add(officer, {{"type", "Forward"},
                      {"effective", y + "-08-20"},
                      {"product", p.id},
                      {"to_level", "province"}});
      }
      add("hd.camau", {{"type", "RecordScore"},
                       {"effective", y + "-09-15"},
                       {"product", p.id},
                       {"council", "HD-CM"},
                       {"parts", Parts(total, ma, mb, mc)}});
      if (band == 5 && year >= 2023) {
        add("vpdp.camau", {{"type", "Forward"},
                           {"effective", y + "-10-01"},
                           {"product", p.id},
                           {"to_level", "central"}});
        add("hd.tw", {{"type", "RecordScore"},
                      {"effective", y + "-11-10"},
                      {"product", p.id},
                      {"council", "HD-TW"},
                      {"parts", Parts(total, ma, mb, mc)}});
        certify(p, y + "-11-30", "central", "VN", 5);
      } else {
        certify(p, y + "-09-30", "province", "CM", std::min(band, 4));
      }
    }
    // Renewals in 2025 of the 2022 certificates, before they lapse in September.
    if (year == 2025) {
      for (const Product& p : products) {
        auto it = cert_year.find(p.id);
        if (it == cert_year.end() || it->second != "2022" || Hash(p.id, 7) % 4 == 0) continue;
        add("vpdp.camau", {{"type", "SubmitDossier"},
                           {"effective", "2025-08-01"},
                           {"product", p.id},
                           {"cycle_year", 2025},
                           {"entry", "renewal"}});
        double total = 55 + static_cast<double>(Hash(p.id, 9) % 30);
        add("hd.camau", {{"type", "RecordScore"},
                         {"effective", "2025-08-20"},
                         {"product", p.id},
                         {"council", "HD-CM"},
                         {"parts", Parts(total, 40, 25, 35)}});
        int stars = total >= 70 ? 4 : 3;
        json& d = decisions[{"2025-09-10", "province", "CM"}];
        if (d.is_null()) d = json::array();
        d.push_back(
            json{{"product", p.id}, {"stars", stars}, {"certificate", "GCN-" + p.id + "-2025R"}});
        cert_year[p.id] = "2025";
      }
    }
    for (auto& [key, items] : decisions) {
      const auto& [date, level, issuer] = key;
      std::string signer = level == "central"    ? "bo.nnptnt"
                           : level == "province" ? "ubnd.camau"
                                                 : "ubnd." + issuer;
      std::string no =
          std::to_string(++decision_no) + "/QĐ-" + (level == "central" ? "BNN" : "UBND");
      add(signer, {{"type", "ApproveResults"},
                   {"effective", date},
                   {"decision", Decision(no, date, issuer)},
                   {"level", level},
                   {"items", items}});
    }
    // In June 2024 the province revokes a few 2022 certificates in one decision.
    if (year == 2024) {
      json items = json::array();
      const char* reasons[] = {"production_stopped", "violation", "owner_request"};
      int k = 0;
      for (const Product& p : products) {
        auto it = cert_year.find(p.id);
        if (it != cert_year.end() && it->second == "2022" && Hash(p.id, 3) % 9 == 0) {
          items.push_back(json{{"product", p.id}, {"reason", reasons[k++ % 3]}});
          cert_year[p.id] = "revoked";
        }
      }
      if (!items.empty()) {
        add("ubnd.camau", {{"type", "RevokeRating"},
                           {"effective", "2024-06-14"},
                           {"decision", Decision("88/QĐ-UBND", "2024-06-14", "CM")},
                           {"items", items}});
      }
    }
  }
  // Inspections and trade fairs for some recognised products.
  for (const auto& [id, y] : cert_year) {
    if (y == "revoked" || y == "2022") continue;  // 2022's unrenewed certificates have lapsed
    if (Hash(id, 11) % 5 == 0) {
      // After the year's last decisions (central, November): an inspection
      // needs a certificate in force on its own date.
      add("thanhtra.camau", {{"type", "RecordInspection"},
                             {"effective", "2025-12-15"},
                             {"product", id},
                             {"compliant", Hash(id, 12) % 4 != 0},
                             {"findings", "Kiểm tra nhãn mác, điều kiện ATTP"}});
    }
  }
  // The province's 2025 targets (Cà Mau plan 2822).
  for (auto [indicator, value] :
       std::vector<std::pair<const char*, double>>{{"products_5_stars", 5},
                                                   {"products_3_stars_or_more", 197},
                                                   {"htx_share_of_producers", 30},
                                                   {"dn_share_of_producers", 12}}) {
    add("ubnd.camau", {{"type", "SetTarget"},
                       {"effective", "2022-10-01"},
                       {"unit", "CM"},
                       {"year", 2025},
                       {"indicator", indicator},
                       {"value", value}});
  }
  std::vector<DemoCommand> lines;
  for (const Cmd& c : out) lines.push_back(DemoCommand{c.principal, c.body.dump()});
  return lines;
}

// The keywords, first match wins. Bồn bồn is both a vegetable and a fibre:
// bags, backpacks and wallets woven from it are handicrafts (4), its pickles
// food (1).
int GroupByName(const std::string& name) {
  static const std::pair<const char*, int> kKeywords[] = {
      {"túi xách", 4}, {"ba lô", 4}, {"ví ", 4},  {"giỏ", 4},    {"mỹ nghệ", 4},
      {"đũa", 4},      {"tôm", 1},   {"cá", 1},   {"ruốc", 1},   {"mắm", 1},
      {"khô", 1},      {"dưa", 1},   {"bánh", 1}, {"mật ong", 1}};
  std::string folded = name + " ";
  for (char& ch : folded) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  for (const auto& [keyword, group] : kKeywords) {
    if (folded.find(keyword) != std::string::npos) return group;
  }
  return 0;
}

}  // namespace ocop::cli
