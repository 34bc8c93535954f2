#include "server/dashboard_reads.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "query/report_format.h"
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
                            const std::string& principal, const query::Reader& reader,
                            Answer* out) {
  auto get = [&](const std::string& k) {
    auto it = query.find(k);
    return it == query.end() ? std::string() : it->second;
  };
  out->handled = true;
  out->route = path;
  if (path == "/v1/whoami") return WhoAmI(*reader.view, principal, reader.today, &out->json);
  if (path == "/v1/units") return Units(*reader.view, &out->json);
  if (path == "/v1/subjects") return Subjects(*reader.view, get("q"), get("unit"), &out->json);
  if (path == "/v1/councils") return Councils(*reader.view, &out->json);
  if (path == "/v1/forms") return Forms(principal, reader.today, &out->json);
  const std::string kProducts = "/v1/products/", kBundle = "/bundle";
  if (path.starts_with(kProducts) && path.ends_with(kBundle) &&
      path.size() > kProducts.size() + kBundle.size()) {
    out->route = "/v1/products/{id}/bundle";
    std::string id;
    Status s = query::ProductId(
        reader, path.substr(kProducts.size(), path.size() - kProducts.size() - kBundle.size()),
        &id);
    if (s.ok() && heads_ == nullptr)
      s = Status::NotFound("bundles are not served here; use `ocop bundle PRODUCT --out FILE`");
    if (s.ok()) s = replay::MakeBundle(ledger_, heads_, origin_, id, &out->json);
    if (!s.ok()) return s;
    out->filename = "ocop-bundle-" + id + ".json";
    out->content_type = "application/json";
    out->body = out->json.dump(1) + "\n";
    return s;
  }
  out->handled = false;
  return Status::OK();
}

Status DashboardReads::Workbook(const json& deadlines, Answer* out) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : deadlines["rows"]) {
    const int days = row["days_left"];
    cells.push_back({days < 0 ? "Đã hết hạn" : "Sắp hết hạn", row["product"], row["name"],
                     row.value("subject_name", ""), row.value("unit_name", ""),
                     std::to_string(row["stars"].get<int>()), row["certificate"],
                     row["valid_until"], std::to_string(days)});
  }
  const std::string as_of = deadlines["as_of"];
  // libxlsxwriter writes files: a scratch file, read back.
  std::string path = (std::filesystem::temp_directory_path() /
                      ("ocop-deadlines-" + std::to_string(::getpid()) + "-" +
                       std::to_string(reinterpret_cast<uintptr_t>(out)) + ".xlsx"))
                         .string();
  Status s = query::WriteXlsxSheet("Hạn công nhận OCOP tính đến ngày " + as_of, "Hạn công nhận",
                                   {"Tình trạng", "Mã sản phẩm", "Sản phẩm", "Chủ thể", "Đơn vị",
                                    "Hạng sao", "Số GCN", "Hết hạn", "Còn lại (ngày)"},
                                   cells, path);
  if (s.ok()) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << f.rdbuf();
    out->handled = true;
    out->body = bytes.str();
    out->filename = "ocop-han-cong-nhan-" + as_of + ".xlsx";
    out->content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  }
  std::filesystem::remove(path);
  return s;
}

Status DashboardReads::WhoAmI(const projections::ReadView& view, const std::string& principal,
                              workflow::Date today, json* out) {
  workflow::PrincipalState state;
  Status s = FoldStream(ledger_, workflow::PrincipalStream(principal), &state);
  if (!s.ok()) return s;
  std::map<std::string, workflow::UnitState> units;
  s = view.Units(&units);
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
  // The name and position recorded for the account (RegisterOfficial), or null.
  const workflow::Official* named = state.OfficialOn(today);
  (*out)["official"] = named ? json{{"name", named->name},
                                    {"title", named->title},
                                    {"office", named->office},
                                    {"unit", named->unit}}
                             : json(nullptr);
  return Status::OK();
}

Status DashboardReads::Units(const projections::ReadView& view, json* out) {
  std::map<std::string, workflow::UnitState> units;
  Status s = view.Units(&units);
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

Status DashboardReads::StreamIds(const std::string& kind, std::vector<std::string>* out) {
  out->clear();
  const std::string prefix = kind + "/";
  return ledger_->ForEachStream(prefix, [&](std::string_view stream) {
    out->emplace_back(stream.substr(prefix.size()));
    return true;
  });
}

Status DashboardReads::Subjects(const projections::ReadView& view, const std::string& q,
                                const std::string& unit, json* out) {
  std::vector<std::string> ids;
  Status s = StreamIds("subject", &ids);
  if (!s.ok()) return s;
  json rows = json::array();
  for (const std::string& id : ids) {
    workflow::SubjectState st;
    s = view.Producer(id, &st);
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

Status DashboardReads::Councils(const projections::ReadView& view, json* out) {
  std::vector<std::string> ids;
  Status s = StreamIds("council", &ids);
  if (!s.ok()) return s;
  std::map<std::string, workflow::UnitState> units;
  s = view.Units(&units);
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
