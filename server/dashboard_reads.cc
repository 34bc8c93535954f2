#include "server/dashboard_reads.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "ledger/event_view.h"
#include "ocop/report_format.h"
#include "replay/bundle.h"
#include "server/static_files.h"
#include "workflow/command_roles.h"
#include "workflow/decide.h"
#include "workflow/json.h"
#include "workflow/stream_fold.h"

namespace ocop::server {
namespace {

using json = nlohmann::ordered_json;

// Folds one stream of the log into its state.
template <typename S>
Status FoldStream(ledger::Ledger* ledger, const std::string& stream, S* out) {
  workflow::StreamFold fold;
  Status s = workflow::LoadStream(ledger, stream, &fold);
  if (s.ok()) fold.Fold(out);
  return s;
}

json DecisionJson(const workflow::DecisionRef& d) {
  return {{"no", d.no}, {"date", workflow::FormatDate(d.date)}, {"issuer", d.issuer}};
}

// The label table (web/labels.json, the dashboard's own file): one place for
// every Vietnamese word a form shows.
const json& Labels() {
  static const json labels = [] {
    const StaticFile* f = FindStatic("/labels.json");
    return f ? json::parse(std::string(f->content, f->size), nullptr, false) : json::object();
  }();
  return labels;
}

// Labels `fields` in place: a field is labelled by its path ("decision.no")
// if the table has it, else by its name.
void Label(json* fields, const std::string& prefix) {
  const json& table = Labels().value("fields", json::object());
  for (json& f : *fields) {
    if (!f.contains("name")) continue;
    std::string name = f["name"], path = prefix + name;
    f["label"] = table.contains(path) ? table[path] : json(table.value(name, name));
    if (f.contains("fields")) Label(&f["fields"], path + ".");
    if (f.contains("of") && f["of"].contains("fields")) Label(&f["of"]["fields"], path + ".");
  }
}

}  // namespace

Status DashboardReads::Read(const std::string& path,
                            const std::map<std::string, std::string>& query,
                            const std::string& principal, const cli::Reader& reader, Answer* out) {
  auto get = [&](const std::string& k, const std::string& fallback = "") {
    auto it = query.find(k);
    return it == query.end() ? fallback : it->second;
  };
  out->handled = true;
  out->route = path;
  if (path == "/v1/whoami") return WhoAmI(principal, reader.today, &out->json);
  if (path == "/v1/units") return Units(&out->json);
  if (path == "/v1/subjects") return Subjects(get("q"), get("unit"), &out->json);
  if (path == "/v1/councils") return Councils(&out->json);
  if (path == "/v1/forms") return Forms(principal, reader.today, &out->json);
  if (path == "/v1/deadlines") return Deadlines(reader, query, out);
  if (path == "/v1/products") {
    uint64_t limit = 50;
    std::string text = get("limit", "50");
    if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != text.npos) {
      return Status::InvalidArgument("limit must be a whole number from 1 to 500; got '" + text +
                                     "'");
    }
    limit = std::clamp<uint64_t>(std::stoull(text), 1, 500);
    return Search(reader, get("q"), limit, &out->json);
  }
  const std::string kProducts = "/v1/products/";
  if (path.rfind(kProducts, 0) == 0 && path.size() > kProducts.size()) {
    std::string rest = path.substr(kProducts.size()), suffix;
    for (std::string s : {"/history", "/bundle"}) {
      if (rest.size() > s.size() && rest.compare(rest.size() - s.size(), s.size(), s) == 0) {
        suffix = s;
        rest.resize(rest.size() - s.size());
      }
    }
    out->route = "/v1/products/{id}" + suffix;
    std::string id;
    Status s = ProductId(rest, &id);
    if (!s.ok()) return s;
    if (suffix == "/bundle") {
      if (id.empty()) return Status::NotFound("no product '" + rest + "'");
      s = replay::MakeBundle(ledger_, id, &out->json);
      out->filename = "ocop-bundle-" + id + ".json";
      out->content_type = "application/json";
      if (s.ok()) out->body = out->json.dump(1) + "\n";
      return s;
    }
    // An exact id, or none at all, is Api's to answer as ever.
    if (id.empty() || id == rest) {
      out->handled = false;
      return Status::OK();
    }
    if (suffix == "/history") {
      return cli::QueryHistory(reader,
                               cli::HistoryQuery{id, get("as_of"), get("known_at"),
                                                 get("proofs") == "1" || get("proofs") == "true"},
                               &out->json);
    }
    return cli::QueryStatus(reader, cli::StatusQuery{id, get("as_of"), get("known_at")},
                            &out->json);
  }
  out->handled = false;
  return Status::OK();
}

Status DashboardReads::ProductId(const std::string& id, std::string* out) {
  out->clear();
  workflow::ProductState p;
  Status s = projections_->Product(id, &p);
  if (s.ok() && p.exists) {
    *out = id;
    return s;
  }
  if (!s.ok() && !s.IsNotFound()) return s;
  auto lower = [](std::string t) {
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  const std::string want = lower(id);
  return projections_->ForEachProduct([&](const workflow::ProductState& q) {
    if (lower(q.id) != want) return true;
    *out = q.id;
    return false;
  });
}

Status DashboardReads::Search(const cli::Reader& r, const std::string& q, size_t limit, json* out) {
  Status s = cli::QuerySearch(r, q, std::numeric_limits<size_t>::max(), out);
  if (!s.ok()) return s;
  json& rows = (*out)["rows"];
  std::set<std::string> listed;
  for (const auto& row : rows) listed.insert(row["product"].get<std::string>());
  // Certificate and decision numbers, the case ignored ("gcn-cm-um-18", "115/qđ").
  auto lower = [](std::string t) {
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  const std::string needle = lower(q);
  std::vector<std::pair<std::string, std::string>> matched;  // product, what matched
  s = r.projections->ForEachProduct([&](const workflow::ProductState& p) {
    if (needle.empty()) return false;  // every product is listed already
    if (listed.count(p.id)) return true;
    for (const auto& c : p.certificates) {
      if (lower(c.no).find(needle) != std::string::npos) {
        matched.emplace_back(p.id, "GCN " + c.no);
        break;
      }
      if (lower(c.decision.no).find(needle) != std::string::npos) {
        matched.emplace_back(
            p.id, "QĐ " + c.decision.no + " ngày " + workflow::FormatDate(c.decision.date));
        break;
      }
    }
    return true;
  });
  if (!s.ok()) return s;
  for (const auto& [id, what] : matched) {
    json one;
    s = cli::QuerySearch(r, id, std::numeric_limits<size_t>::max(), &one);
    if (!s.ok()) return s;
    for (auto& row : one["rows"]) {
      if (row["product"] != id) continue;
      row["matched"] = what;
      rows.push_back(row);
    }
  }
  (*out)["total"] = rows.size();
  (*out)["limit"] = limit;
  if (rows.size() > limit) rows.erase(rows.begin() + static_cast<long>(limit), rows.end());
  return Status::OK();
}

Status DashboardReads::Deadlines(const cli::Reader& r,
                                 const std::map<std::string, std::string>& query, Answer* out) {
  auto get = [&](const std::string& k, const std::string& fallback = "") {
    auto it = query.find(k);
    return it == query.end() ? fallback : it->second;
  };
  const std::string format = get("format", "json");
  if (format != "json" && format != "xlsx") {
    return Status::InvalidArgument("format must be json or xlsx; got '" + format + "'");
  }
  Status s = cli::QueryDeadlines(
      r, cli::DeadlinesQuery{get("as_of"), get("unit"), get("known_at"), get("within_days", "90")},
      &out->json);
  if (!s.ok()) return s;
  std::map<std::string, workflow::UnitState> units;
  s = projections_->Units(&units);
  if (!s.ok()) return s;
  std::vector<std::vector<std::string>> cells;
  for (auto& row : out->json["rows"]) {
    workflow::ProductState p;
    workflow::SubjectState subject;
    if (projections_->Product(row["product"], &p).ok() &&
        projections_->Subject(p.subject, &subject).ok()) {
      row["subject"] = p.subject;
      row["subject_name"] = subject.name;
    }
    auto u = units.find(row["unit"]);
    row["unit_name"] = u == units.end() ? row["unit"].get<std::string>() : u->second.name;
    const int days = row["days_left"];
    cells.push_back({days < 0 ? "Đã hết hạn" : "Sắp hết hạn", row["product"], row["name"],
                     row.value("subject_name", ""), row["unit_name"],
                     std::to_string(row["stars"].get<int>()), row["certificate"],
                     row["valid_until"], std::to_string(days)});
  }
  out->json["total"] = cells.size();
  if (format == "json") return Status::OK();
  const std::string as_of = out->json["as_of"];
  std::string path = (std::filesystem::temp_directory_path() /
                      ("ocop-deadlines-" + std::to_string(::getpid()) + "-" +
                       std::to_string(reinterpret_cast<uintptr_t>(out)) + ".xlsx"))
                         .string();
  s = cli::WriteXlsxSheet("Hạn công nhận OCOP tính đến ngày " + as_of, "Hạn công nhận",
                          {"Tình trạng", "Mã sản phẩm", "Sản phẩm", "Chủ thể", "Đơn vị", "Hạng sao",
                           "Số GCN", "Hết hạn", "Còn lại (ngày)"},
                          cells, path);
  if (s.ok()) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << f.rdbuf();
    out->body = bytes.str();
    out->filename = "ocop-han-cong-nhan-" + as_of + ".xlsx";
    out->content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  }
  std::filesystem::remove(path);
  return s;
}

Status DashboardReads::WhoAmI(const std::string& principal, workflow::Date today, json* out) {
  workflow::PrincipalState state;
  Status s = FoldStream(ledger_, workflow::PrincipalStream(principal), &state);
  if (!s.ok()) return s;
  std::map<std::string, workflow::UnitState> units;
  s = projections_->Units(&units);
  if (!s.ok()) return s;
  json grants = json::array();
  for (const workflow::Grant& g : state.grants) {
    auto u = units.find(g.unit);
    grants.push_back({{"role", workflow::EnumJsonName(g.role)},
                      {"unit", g.unit},
                      {"unit_name", u == units.end() ? g.unit : u->second.name},
                      {"council", g.council.empty() ? json(nullptr) : json(g.council)},
                      {"from", workflow::FormatDate(g.from)},
                      {"until", g.until ? json(workflow::FormatDate(*g.until)) : json(nullptr)},
                      {"in_force", g.CoversDate(today)}});
  }
  *out = {{"principal", principal}, {"today", workflow::FormatDate(today)}, {"grants", grants}};
  return Status::OK();
}

Status DashboardReads::Units(json* out) {
  std::map<std::string, workflow::UnitState> units;
  Status s = projections_->Units(&units);
  if (!s.ok()) return s;
  json rows = json::array();
  for (const auto& [code, u] : units) {
    rows.push_back({{"unit", code},
                    {"name", u.name},
                    {"level", workflow::EnumJsonName(u.level)},
                    {"parent", u.parent.empty() ? json(nullptr) : json(u.parent)},
                    {"retired", u.retired},
                    {"successor", u.successor.empty() ? json(nullptr) : json(u.successor)}});
  }
  *out = {{"total", rows.size()}, {"rows", rows}};
  return Status::OK();
}

Status DashboardReads::Refresh() {
  // Called with mu_ held.
  uint64_t size = ledger_->Size();
  if (scanned_ >= size) return Status::OK();
  Status s = ledger_->Scan(scanned_ + 1, size - scanned_, [&](uint64_t, std::string_view bytes) {
    ledger::EventView view(bytes);
    if (!view.ok()) return true;
    std::string stream = view.As<workflow::schema::OcopEvent>().getStream().cStr();
    if (stream.rfind("subject/", 0) == 0) subjects_.insert(stream.substr(8));
    if (stream.rfind("council/", 0) == 0) councils_.insert(stream.substr(8));
    return true;
  });
  if (s.ok()) scanned_ = size;
  return s;
}

Status DashboardReads::Subjects(const std::string& q, const std::string& unit, json* out) {
  std::set<std::string> ids;
  {
    std::lock_guard<std::mutex> l(mu_);
    Status s = Refresh();
    if (!s.ok()) return s;
    ids = subjects_;
  }
  json rows = json::array();
  for (const std::string& id : ids) {
    workflow::SubjectState st;
    Status s = projections_->Subject(id, &st);
    if (s.IsNotFound() || (s.ok() && !st.exists)) continue;
    if (!s.ok()) return s;
    if (!unit.empty() && st.unit != unit) continue;
    if (!q.empty() && id.find(q) == std::string::npos && st.name.find(q) == std::string::npos)
      continue;
    rows.push_back({{"subject", id},
                    {"name", st.name},
                    {"unit", st.unit},
                    {"legal_form", workflow::EnumJsonName(st.legal_form)}});
  }
  *out = {{"total", rows.size()}, {"rows", rows}};
  return Status::OK();
}

Status DashboardReads::Councils(json* out) {
  std::set<std::string> ids;
  {
    std::lock_guard<std::mutex> l(mu_);
    Status s = Refresh();
    if (!s.ok()) return s;
    ids = councils_;
  }
  std::map<std::string, workflow::UnitState> units;
  Status s = projections_->Units(&units);
  if (!s.ok()) return s;
  json rows = json::array();
  for (const std::string& id : ids) {
    workflow::CouncilState c;
    s = FoldStream(ledger_, workflow::CouncilStream(id), &c);
    if (!s.ok()) return s;
    if (!c.exists) continue;
    auto u = units.find(c.unit);
    rows.push_back({{"council", id},
                    {"level", workflow::EnumJsonName(c.level)},
                    {"unit", c.unit},
                    {"unit_name", u == units.end() ? c.unit : u->second.name},
                    {"decision", DecisionJson(c.decision)}});
  }
  *out = {{"total", rows.size()}, {"rows", rows}};
  return Status::OK();
}

Status DashboardReads::Forms(const std::string& principal, workflow::Date today, json* out) {
  workflow::PrincipalState state;
  Status s = FoldStream(ledger_, workflow::PrincipalStream(principal), &state);
  if (!s.ok()) return s;
  json forms = workflow::CommandForms();
  const json& titles = Labels().value("types", json::object());
  for (json& f : forms["forms"]) {
    const std::string type = f["type"];
    json roles = json::array();
    bool offered = false;
    for (auto role : workflow::RolesFor(type)) {
      roles.push_back(workflow::EnumJsonName(role));
      for (const auto& g : state.grants) offered |= g.role == role && g.CoversDate(today);
    }
    f["title"] = titles.value(type, type);
    f["roles"] = roles;
    f["offered"] = offered;
    Label(&f["fields"], "");
  }
  Label(&forms["common"], "");
  forms["values"] = Labels().value("values", json::object());
  *out = std::move(forms);
  return Status::OK();
}

}  // namespace ocop::server
