#include "server/routes.h"

#include <capnp/message.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "ledger/encoding.h"
#include "query/annex_format.h"
#include "query/notices_query.h"
#include "query/queries.h"
#include "server/proof_routes.h"
#include "server/static_files.h"
#include "workflow/json.h"

namespace ocop::server {

// The route table: every path the server answers, in the order they are
// tried. Handle and LaneOf both read it.
const Api::Route* Api::FindRoute(std::string_view path) {
  using V = http::verb;
  static const Route kRoutes[] = {
      // Unauthenticated: liveness, metrics and the dashboard's own files.
      {"/healthz", "", V::get, true, false, Lane::kInline, "/healthz", "only GET here", false,
       &Api::Healthz},
      {"/metrics", "", V::get, true, false, Lane::kInline, "/metrics", "only GET here", false,
       &Api::MetricsText},
      // Unauthenticated too, on the workers: what transparency tooling and a
      // buyer read (server/proof_routes.h). Before the static route, which
      // takes every other path outside /v1/, and the receipt before
      // /v1/products/{id}, which would take "P1/receipt" for an id.
      {"/checkpoint", "", V::get, true, false, Lane::kWorker, "/checkpoint", "only GET here", true,
       &Api::Checkpoint},
      {"/tile/", "", V::get, true, false, Lane::kWorker, "/tile", "only GET here", true,
       &Api::Tile},
      {"/verify/", "", V::get, true, false, Lane::kWorker, "/verify/{id}", "only GET here", true,
       &Api::VerifyPage},
      {"/add-checkpoint", "", V::post, true, false, Lane::kWorker, "/add-checkpoint",
       "POST a checkpoint (c2sp.org/tlog-witness)", true, &Api::AddCheckpoint},
      {"/v1/products/", "/receipt", V::get, true, false, Lane::kWorker, "/v1/products/{id}/receipt",
       "only GET here", true, &Api::Receipt},
      {"", "", V::get, true, false, Lane::kInline, "/static", "only GET here", false, &Api::Static},
      // Everything under /v1 speaks for a principal.
      {"/v1/commands", "", V::post, false, false, Lane::kCommands, "/v1/commands", "POST commands",
       true, &Api::Commands},
      {"/v1/events", "", V::get, false, false, Lane::kWorker, "/v1/events", "only GET here", false,
       &Api::Events},
      {"/v1/criteria", "", V::get, false, false, Lane::kWorker, "/v1/criteria", "only GET here",
       false, &Api::Criteria},
      {"/v1/public-key", "", V::get, false, false, Lane::kWorker, "/v1/public-key", "only GET here",
       false, &Api::PublicKey},
      {"/v1/tree-head", "", V::get, false, false, Lane::kWorker, "/v1/tree-head", "only GET here",
       false, &Api::TreeHead},
      {"/v1/proofs/inclusion", "", V::get, false, false, Lane::kWorker, "/v1/proofs/inclusion",
       "only GET here", false, &Api::InclusionProof},
      {"/v1/proofs/consistency", "", V::get, false, false, Lane::kWorker, "/v1/proofs/consistency",
       "only GET here", false, &Api::ConsistencyProof},
      // The dashboard's own: who is signed in, names for pickers, forms.
      {"/v1/whoami", "", V::get, false, true, Lane::kWorker, "/v1/whoami", "only GET here", false,
       &Api::Dashboard},
      {"/v1/units", "", V::get, false, true, Lane::kWorker, "/v1/units", "only GET here", false,
       &Api::Dashboard},
      {"/v1/subjects", "", V::get, false, true, Lane::kWorker, "/v1/subjects", "only GET here",
       false, &Api::Dashboard},
      {"/v1/councils", "", V::get, false, true, Lane::kWorker, "/v1/councils", "only GET here",
       false, &Api::Dashboard},
      {"/v1/forms", "", V::get, false, true, Lane::kWorker, "/v1/forms", "only GET here", false,
       &Api::Dashboard},
      {"/v1/products/", "/bundle", V::get, false, true, Lane::kWorker, "/v1/products/{id}/bundle",
       "only GET here", false, &Api::Dashboard},
      // The rest reads the projections: what was appended is folded first.
      {"/v1/products", "", V::get, false, true, Lane::kWorker, "/v1/products", "only GET here",
       false, &Api::Search},
      {"/v1/products/", "/history", V::get, false, true, Lane::kWorker, "/v1/products/{id}/history",
       "only GET here", false, &Api::History},
      {"/v1/products/", "", V::get, false, true, Lane::kWorker, "/v1/products/{id}",
       "only GET here", false, &Api::ProductStatus},
      {"/v1/deadlines", "", V::get, false, true, Lane::kWorker, "/v1/deadlines", "only GET here",
       false, &Api::Deadlines},
      {"/v1/changes", "", V::get, false, true, Lane::kWorker, "/v1/changes", "only GET here", false,
       &Api::Changes},
      {"/v1/reports", "", V::get, false, true, Lane::kWorker, "/v1/reports", "only GET here", false,
       &Api::Reports},
      {"/v1/notices", "", V::get, false, true, Lane::kWorker, "/v1/notices", "only GET here", false,
       &Api::Notices},
      {"/v1/reports-due", "", V::get, false, true, Lane::kWorker, "/v1/reports-due",
       "only GET here", false, &Api::ReportsDue},
  };
  for (const Route& r : kRoutes) {
    if (r.prefix.empty()) {
      if (!path.starts_with("/v1/")) return &r;
    } else if (!r.prefix.ends_with('/')) {
      if (path == r.prefix) return &r;
    } else if (path.starts_with(r.prefix) && path.ends_with(r.suffix) &&
               path.size() > r.prefix.size() + r.suffix.size()) {
      return &r;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------- unauthenticated

namespace {

// A proof route of a server made without them (ServeProofs not called).
Response NoProofs(const Request& req, const Target& t) {
  return Error(req, 404, "not_found", "no route " + t.path + ": this server serves no proofs");
}

}  // namespace

Response Api::Healthz(const Request& req, const Target&, const std::string&) {
  return JsonReply(req, 200, json{{"ok", true}, {"events", ledger_->Size()}});
}

Response Api::MetricsText(const Request& req, const Target&, const std::string&) {
  return Reply(req, 200,
               metrics_->Render(ledger_->Stats(), ledger_->Size(), projections_->checkpoint()),
               "text/plain; version=0.0.4");
}

Response Api::Static(const Request& req, const Target& t, const std::string&) {
  const std::string& p = t.path;
  if (const StaticFile* f = FindStatic(p == "/" ? "/index.html" : p)) {
    Response res = Reply(req, 200, std::string(f->content, f->size), f->content_type);
    res.set(http::field::cache_control, "no-cache");
    return res;
  }
  return Error(req, 404, "not_found", "no page " + p);
}

// ---------------------------------------------------------------- public proofs

void Api::ServeProofs(ProofRoutes* proofs, std::string origin) {
  proofs_ = proofs;
  dashboard_.ServeBundles(proofs->heads(), std::move(origin));
}

Response Api::Checkpoint(const Request& req, const Target& t, const std::string&) {
  return proofs_ ? proofs_->Checkpoint(req, t) : NoProofs(req, t);
}

Response Api::Tile(const Request& req, const Target& t, const std::string&) {
  return proofs_ ? proofs_->Tile(req, t) : NoProofs(req, t);
}

Response Api::Receipt(const Request& req, const Target& t, const std::string&) {
  return proofs_ ? proofs_->Receipt(req, t) : NoProofs(req, t);
}

Response Api::VerifyPage(const Request& req, const Target& t, const std::string&) {
  return proofs_ ? proofs_->VerifyPage(req, t) : NoProofs(req, t);
}

Response Api::AddCheckpoint(const Request& req, const Target& t, const std::string&) {
  return proofs_ ? proofs_->AddCheckpoint(req, t) : NoProofs(req, t);
}

// ---------------------------------------------------------------- commands

Response Api::Commands(const Request& req, const Target&, const std::string& who) {
  workflow::Principal actor{who, false};
  auto start = std::chrono::steady_clock::now();
  auto submit_one = [&](workflow::schema::Command::Reader command) {
    workflow::Outcome o;
    Status s = service_.Submit(actor, command, &o);
    return CommandReply(req, s, o, start);
  };
  capnp::MallocMessageBuilder msg;
  if (ParseOneCommand(req, &msg)) return submit_one(msg.getRoot<workflow::schema::Command>());
  // Limited before anything walks it: a body nested a million deep is
  // refused here, not printed or checked recursively.
  nlohmann::json body;
  Status parsed = workflow::ParseJson(req.body(), &body);
  if (!parsed.ok() || !(body.is_object() || body.is_array())) {
    return Error(req, 400, "invalid_argument",
                 (parsed.ok() ? std::string() : parsed.message() + "; ") +
                     "the body must be one command (a JSON object) or an array of them");
  }
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> msgs;
  std::vector<workflow::schema::Command::Reader> commands;
  std::vector<nlohmann::json> items =
      body.is_array() ? body.get<std::vector<nlohmann::json>>() : std::vector<nlohmann::json>{body};
  if (items.empty()) return Error(req, 400, "invalid_argument", "the array holds no commands");
  for (size_t i = 0; i < items.size(); ++i) {
    msgs.push_back(std::make_unique<capnp::MallocMessageBuilder>());
    Status s = workflow::ParseCommandJson(items[i], msgs.back().get());
    if (!s.ok()) return FromStatus(req, s, body.is_array() ? json{{"index", i}} : json(nullptr));
    commands.push_back(msgs.back()->getRoot<workflow::schema::Command>());
  }
  if (!body.is_array()) return submit_one(commands[0]);
  std::vector<workflow::Outcome> outcomes;
  size_t failed = 0;
  Status s = service_.SubmitAll(actor, commands, &outcomes, &failed);
  if (!s.ok()) return FromStatus(req, s, json{{"index", failed}});
  json results = json::array();
  for (const auto& o : outcomes) {
    Answered(o.seqs);
    results.push_back(json{{"seqs", o.seqs}});
  }
  json reply{{"ok", true}, {"results", results}};
  metrics_->Append(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return JsonReply(req, 200, reply);
}

// ---------------------------------------------------------------- the log and its proofs

// At most kMaxEvents a page, said in the answer ("limit": what was applied)
// with "next", the `from` of the following page (null once the log's end is
// reached), so that a reader pages without guessing.
Response Api::Events(const Request& req, const Target& t, const std::string&) {
  constexpr uint64_t kMaxEvents = 1000;
  uint64_t from = 1, limit = 100, wait = 0;
  if ((t.query.count("from") && !ParseUint(t.Get("from"), &from)) ||
      (t.query.count("limit") && !ParseUint(t.Get("limit"), &limit)) ||
      (t.query.count("wait") && !ParseUint(t.Get("wait"), &wait))) {
    return Error(req, 400, "invalid_argument", "from, limit and wait are whole numbers");
  }
  if (from == 0) from = 1;
  limit = std::min<uint64_t>(std::max<uint64_t>(limit, 1), kMaxEvents);
  wait = std::min<uint64_t>(wait, 30);
  // Long poll: woken by the commit itself, never by polling the disk.
  for (uint64_t waited = 0; ledger_->Size() < from && waited < wait * 10 && !stopping_; ++waited) {
    ledger_->WaitForAppend(from - 1, std::chrono::milliseconds(100));
  }
  json events = json::array();
  Status s = ledger_->Scan(from, limit, [&](uint64_t seq, std::string_view bytes) {
    events.push_back(json{{"seq", seq}, {"bytes", Base64(bytes)}});
    return true;
  });
  if (!s.ok()) return FromStatus(req, s);
  const uint64_t size = ledger_->Size(), next = from + events.size();
  return JsonReply(req, 200,
                   json{{"from", from},
                        {"limit", limit},
                        {"max_limit", kMaxEvents},
                        {"size", size},
                        {"next", next <= size ? json(next) : json(nullptr)},
                        {"events", events}});
}

Response Api::Criteria(const Request& req, const Target& t, const std::string&) {
  query::Json out;
  Status s = query::QueryCriteria(query::CriteriaQuery{t.Get("on"), t.Get("set")}, &out);
  if (!s.ok()) return FromStatus(req, s);
  return JsonReply(req, 200, out);
}

Response Api::PublicKey(const Request& req, const Target&, const std::string&) {
  return JsonReply(req, 200,
                   json{{"key_id", ledger_->signer().key_id_hex()},
                        {"public_key", Base64(ledger_->signer().public_key())},
                        {"pem", ledger_->signer().PublicKeyPem()}});
}

Response Api::TreeHead(const Request& req, const Target& t, const std::string&) {
  uint64_t size = ledger_->Size();
  if (t.query.count("size") && !ParseUint(t.Get("size"), &size)) {
    return Error(req, 400, "invalid_argument", "size is a whole number");
  }
  ledger::SignedTreeHead h;
  Status s = ledger_->TreeHead(size, &h);
  if (!s.ok()) return FromStatus(req, s);
  return JsonReply(req, 200,
                   json{{"size", h.size},
                        {"root", ledger::merkle::ToHex(h.root)},
                        {"signature", Base64(h.signature)},
                        {"key_id", h.key_id_hex}});
}

Response Api::InclusionProof(const Request& req, const Target& t, const std::string&) {
  uint64_t seq = 0, size = ledger_->Size();
  if (!ParseUint(t.Get("seq"), &seq) ||
      (t.query.count("size") && !ParseUint(t.Get("size"), &size))) {
    return Error(req, 400, "invalid_argument", "seq (and size) are whole numbers");
  }
  ledger::InclusionProof pr;
  Status s = ledger_->Inclusion(seq, size, &pr);
  if (!s.ok()) return FromStatus(req, s);
  json path = json::array();
  for (const auto& h : pr.path) path.push_back(ledger::merkle::ToHex(h));
  return JsonReply(req, 200,
                   json{{"seq", pr.seq},
                        {"index", pr.seq - 1},
                        {"size", pr.size},
                        {"leaf", Base64(pr.leaf)},
                        {"leaf_hash", ledger::merkle::ToHex(pr.leaf_hash)},
                        {"path", path},
                        {"root", ledger::merkle::ToHex(pr.root)}});
}

Response Api::ConsistencyProof(const Request& req, const Target& t, const std::string&) {
  uint64_t from = 0, to = 0;
  if (!ParseUint(t.Get("from"), &from) || !ParseUint(t.Get("to"), &to)) {
    return Error(req, 400, "invalid_argument", "from and to are whole numbers");
  }
  std::vector<ledger::merkle::Hash> path;
  Status s = ledger_->Consistency(from, to, &path);
  if (!s.ok()) return FromStatus(req, s);
  json hashes = json::array();
  for (const auto& h : path) hashes.push_back(ledger::merkle::ToHex(h));
  return JsonReply(req, 200, json{{"from", from}, {"to", to}, {"path", hashes}});
}

// ---------------------------------------------------------------- the read models

query::Reader Api::ReaderOn(const projections::ReadView& view) const {
  return query::Reader{ledger_, &view, query::TodayInVietnam()};
}

Response Api::Answer(const Request& req, const Status& s, const json& out) {
  if (!s.ok()) return FromStatus(req, s);
  return JsonReply(req, 200, out);
}

Response Api::Search(const Request& req, const Target& t, const std::string&) {
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  uint64_t limit = 50;
  if (!ParseUint(t.Get("limit", "50"), &limit) || limit == 0 || limit > 500) {
    return Error(req, 400, "invalid_argument",
                 "limit must be a whole number from 1 to 500; got '" + t.Get("limit") + "'");
  }
  query::Json out;
  Status s = query::QuerySearch(ReaderOn(*view), t.Get("q"), std::min<uint64_t>(limit, 500), &out);
  return Answer(req, s, out);
}

Response Api::History(const Request& req, const Target& t, const std::string&) {
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  const std::string kProducts = "/v1/products/", kHistory = "/history";
  std::string id =
      t.path.substr(kProducts.size(), t.path.size() - kProducts.size() - kHistory.size());
  query::HistoryQuery q{id, t.Get("as_of"), t.Get("known_at"),
                        t.Get("proofs") == "1" || t.Get("proofs") == "true"};
  query::Json out;
  Status s = query::QueryHistory(ReaderOn(*view), q, &out);
  return Answer(req, s, out);
}

Response Api::ProductStatus(const Request& req, const Target& t, const std::string&) {
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  std::string id = t.path.substr(std::string_view("/v1/products/").size());
  query::Json out;
  Status s = query::QueryStatus(ReaderOn(*view),
                                query::StatusQuery{id, t.Get("as_of"), t.Get("known_at")}, &out);
  return Answer(req, s, out);
}

Response Api::Deadlines(const Request& req, const Target& t, const std::string&) {
  const std::string format = t.Get("format", "json");
  if (format != "json" && format != "xlsx") {
    return Error(req, 400, "invalid_argument", "format must be json or xlsx; got '" + format + "'");
  }
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  query::Json out;
  Status s =
      query::QueryDeadlines(ReaderOn(*view),
                            query::DeadlinesQuery{t.Get("as_of"), t.Get("unit"), t.Get("known_at"),
                                                  t.Get("within_days", "90")},
                            &out);
  if (!s.ok() || format == "json") return Answer(req, s, out);
  DashboardReads::Answer workbook;
  s = DashboardReads::Workbook(out, &workbook);
  return DashboardReply(req, s, workbook);
}

Response Api::Dashboard(const Request& req, const Target& t, const std::string& who) {
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  DashboardReads::Answer a;
  Status s = dashboard_.Read(t.path, t.query, who, ReaderOn(*view), &a);
  return DashboardReply(req, s, a);
}

Response Api::DashboardReply(const Request& req, const Status& s, DashboardReads::Answer& a) {
  if (!s.ok()) return FromStatus(req, s);
  if (a.filename.empty()) return JsonReply(req, 200, a.json);
  Response res = Reply(req, 200, std::move(a.body), a.content_type);
  res.set(http::field::content_disposition, "attachment; filename=\"" + a.filename + "\"");
  return res;
}

Response Api::Changes(const Request& req, const Target& t, const std::string&) {
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  query::Json out;
  Status s = query::QueryChanges(ReaderOn(*view),
                                 query::ChangesQuery{t.Get("from"), t.Get("to"), t.Get("unit"),
                                                     t.Get("known_at"), t.Get("principal")},
                                 &out);
  return Answer(req, s, out);
}

Response Api::Reports(const Request& req, const Target& t, const std::string&) {
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  query::ReportQueryText q;
  q.period = t.Get("period");
  q.from = t.Get("from");
  q.to = t.Get("to");
  q.unit = t.Get("unit");
  q.format = t.Get("format", "json");
  q.lang = t.Get("lang", "vi");
  q.as_of = t.Get("as_of");
  q.known_at = t.Get("known_at");
  q.cohort = t.Get("cohort");
  q.list = t.Get("list");
  q.calendar = t.Get("calendar");
  query::RenderedReport r;
  Status s = query::ApplyCalendar(&q);
  if (s.ok()) {
    const query::Reader reader = ReaderOn(*view);
    s = q.list.empty() ? query::QueryReport(reader, q, &r) : query::QueryAnnex(reader, q, &r);
  }
  if (!s.ok()) return FromStatus(req, s);
  Response res = Reply(req, 200, std::move(r.body), r.content_type);
  if (q.format != "json") {
    res.set(http::field::content_disposition, "attachment; filename=\"" + r.filename + "\"");
  }
  return res;
}

// ---------------------------------------------------------------- issue 15

Response Api::Notices(const Request& req, const Target& t, const std::string&) {
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  query::Json out;
  Status s = query::QueryNotices(
      ReaderOn(*view), query::NoticesQuery{t.Get("as_of"), t.Get("since"), t.Get("unit")}, &out);
  return Answer(req, s, out);
}

Response Api::ReportsDue(const Request& req, const Target& t, const std::string&) {
  // One view for the whole request: every read sees one checkpoint.
  std::unique_ptr<projections::ReadView> view = projections_->View();
  query::Json out;
  Status s = query::QueryReportsDue(
      ReaderOn(*view), query::ReportsDueQuery{t.Get("from"), t.Get("within_days", "45")}, &out);
  return Answer(req, s, out);
}

}  // namespace ocop::server
