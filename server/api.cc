#include "server/api.h"

#include <capnp/message.h>
#include <kj/exception.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "ledger/encoding.h"
#include "ocop/queries.h"
#include "server/static_files.h"
#include "workflow/json.h"

namespace ocop::server {
namespace {

using json = nlohmann::ordered_json;

int HttpStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kForbidden:
      return 403;
    case Status::Code::kConflict:
      return 409;
    case Status::Code::kRefused:
      return 422;
    case Status::Code::kTampered:
      return 409;
    case Status::Code::kBusy:
      return 503;
    case Status::Code::kNoSpace:
      return 507;  // Insufficient Storage: reads go on, writes resume when space returns
    default:
      return 500;
  }
}

Response Reply(const Request& req, int status, std::string body,
               const std::string& type = "application/json") {
  Response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// Request paths and queries are bytes, not necessarily UTF-8: what is echoed
// back is repaired (U+FFFD) rather than allowed to make serialization throw.
Response JsonReply(const Request& req, int status, const json& j) {
  return Reply(req, status, j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

Response Error(const Request& req, int status, const std::string& code, const std::string& message,
               const json& extra = nullptr) {
  json e{{"error", {{"code", code}, {"message", message}}}};
  if (!extra.is_null()) {
    for (auto& [k, v] : extra.items()) e["error"][k] = v;
  }
  return JsonReply(req, status, e);
}

Response FromStatus(const Request& req, const Status& s, const json& extra = nullptr) {
  return Error(req, HttpStatus(s), std::string(s.CodeName()), s.message(), extra);
}

std::string UrlDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() &&
               isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
  std::string Get(const std::string& k, const std::string& fallback = "") const {
    auto it = query.find(k);
    return it == query.end() ? fallback : it->second;
  }
};

Target ParseTarget(std::string_view t) {
  Target out;
  size_t q = t.find('?');
  out.path = UrlDecode(t.substr(0, q));
  if (q == std::string_view::npos) return out;
  std::string_view rest = t.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    size_t eq = kv.find('=');
    out.query[UrlDecode(kv.substr(0, eq))] =
        eq == std::string_view::npos ? "" : UrlDecode(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

// Runs `f`; what it throws (nothing below Api should), C++'s or Cap'n
// Proto's, comes back described.
template <typename F>
std::optional<std::string> Thrown(F&& f) {
  try {
    f();
    return std::nullopt;
  } catch (const std::exception& e) {
    return e.what();
  } catch (const kj::Exception& e) {
    return std::string(e.getDescription().cStr());
  }
}

bool ParseUint(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *out = std::stoull(s);
  return true;
}

}  // namespace

Status Api::CatchUp() {
  std::lock_guard<std::mutex> l(catch_up_mu_);
  return projections_->CatchUp();
}

// Every append of this process comes through Handle (the projections are
// caught up before serving starts), so folding up to the highest answered
// sequence number is enough for reads to see every write a client was told
// of. Events still committing, or not yet answered, need not be waited for;
// the follower thread folds them anyway. Under steady writes most reads then
// find the projections far enough and take no lock: a read no longer waits
// for the fold of a group it could not have known about (bench/http_load.sh,
// GETs while 8 connections write).
Status Api::CatchUpForRead() {
  uint64_t need = answered_.load(std::memory_order_acquire);
  if (projections_->checkpoint() >= need) return Status::OK();
  std::lock_guard<std::mutex> l(catch_up_mu_);
  return projections_->CatchUp({}, need);
}

void Api::Answered(const std::vector<uint64_t>& seqs) {
  if (seqs.empty()) return;
  uint64_t last = *std::max_element(seqs.begin(), seqs.end());
  uint64_t seen = answered_.load();
  while (seen < last && !answered_.compare_exchange_weak(seen, last)) {
  }
}

std::optional<std::string> Api::Authorize(const Request& req, Response* refused,
                                          std::string* route) {
  auto auth = req[http::field::authorization];
  std::string token;
  if (auth.size() > 7 && auth.substr(0, 7) == "Bearer ")
    token = std::string(auth.substr(7).data(), auth.size() - 7);
  auto who = token.empty() ? std::nullopt : tokens_.PrincipalFor(token);
  if (!who) {
    *route = "/v1 (unauthorized)";  // one label, whatever path was tried
    *refused =
        Error(req, 401, "unauthorized",
              token.empty() ? "send Authorization: Bearer TOKEN (made by `ocop token add`)"
                            : "that token is not known; ask for one made by `ocop token add`");
    refused->set(http::field::www_authenticate, "Bearer");
  }
  return who;
}

// The common case, one command (a JSON object), goes to ParseCommand as sent:
// parsing it as JSON as well and printing it again for ParseCommand cost
// about a tenth of a POST's CPU (bench/http_load.sh). Anything else, or a body
// ParseCommand refuses, takes Handle's general path, which says what is wrong.
bool Api::ParseOneCommand(const Request& req, capnp::MallocMessageBuilder* msg) {
  size_t first = req.body().find_first_not_of(" \t\r\n");
  return first != std::string::npos && req.body()[first] == '{' &&
         workflow::ParseCommand(req.body(), msg).ok();
}

Response Api::CommandReply(const Request& req, const Status& s, const workflow::Outcome& o,
                           std::chrono::steady_clock::time_point start) {
  if (!s.ok()) return FromStatus(req, s);
  Answered(o.seqs);
  json reply{{"ok", true}, {"seqs", o.seqs}};
  if (o.duplicate) reply["duplicate"] = true;
  metrics_->Append(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return JsonReply(req, 200, reply);
}

Response Api::Internal(const Request& req, const std::string& what) {
  return Error(req, 500, "internal", what);
}

Response Api::HandleSafely(const Request& req, std::string* principal, std::string* route) {
  Response res;
  std::optional<std::string> thrown = Thrown([&] { res = Handle(req, principal, route); });
  return thrown ? Internal(req, *thrown) : res;
}

Api::Lane Api::LaneOf(const Request& req) {
  Target t = ParseTarget(std::string_view(req.target().data(), req.target().size()));
  const bool get = req.method() == http::verb::get;
  if (get && (t.path == "/healthz" || t.path == "/metrics" || !t.path.starts_with("/v1/"))) {
    return Lane::kInline;
  }
  if (req.method() == http::verb::post && t.path == "/v1/commands") return Lane::kCommands;
  return t.query.count("wait") ? Lane::kWaiting : Lane::kWorker;
}

void Api::HandleCommands(const std::vector<const Request*>& reqs, std::vector<Response>* out,
                         std::vector<std::string>* principals, std::vector<std::string>* routes) {
  const size_t n = reqs.size();
  out->assign(n, Response());
  principals->assign(n, "");
  routes->assign(n, "/v1/commands");
  auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> msgs;
  std::vector<workflow::Service::Submission> batch;
  std::vector<size_t> index;  // batch position -> request
  for (size_t i = 0; i < n; ++i) {
    const Request& req = *reqs[i];
    Response refused;
    auto who = Authorize(req, &refused, &(*routes)[i]);
    auto msg = std::make_unique<capnp::MallocMessageBuilder>();
    if (!who || !ParseOneCommand(req, msg.get())) {
      // Refused, or anything but one valid command: answered alone, as ever.
      (*out)[i] = HandleSafely(req, &(*principals)[i], &(*routes)[i]);
      continue;
    }
    (*principals)[i] = *who;
    batch.push_back({workflow::Principal{*who, false}, msg->getRoot<workflow::schema::Command>()});
    msgs.push_back(std::move(msg));
    index.push_back(i);
  }
  std::vector<Status> statuses;
  std::vector<workflow::Outcome> outcomes;
  // SubmitEach reports by Status; should anything throw all the same, which
  // commands were appended is unknown, and each is told so (a 500, after
  // which a client resends with its id and learns the outcome).
  std::optional<std::string> thrown =
      Thrown([&] { service_.SubmitEach(batch, &statuses, &outcomes); });
  for (size_t k = 0; k < batch.size(); ++k) {
    const Request& req = *reqs[index[k]];
    (*out)[index[k]] =
        thrown ? Internal(req, *thrown) : CommandReply(req, statuses[k], outcomes[k], start);
  }
}

Response Api::Handle(const Request& req, std::string* principal, std::string* route) {
  Target t = ParseTarget(std::string_view(req.target().data(), req.target().size()));
  const std::string& p = t.path;
  *route = "(unknown)";
  // A NUL (%00) would cut an id short wherever it is treated as C text, and
  // so name another product than the one asked for: refused everywhere.
  bool nul = p.find('\0') != std::string::npos;
  for (const auto& [k, v] : t.query) nul |= (k + v).find('\0') != std::string::npos;
  if (nul) {
    return Error(req, 400, "invalid_argument",
                 "the path or query holds a NUL character (%00), which no id or value may hold");
  }

  // Unauthenticated: liveness, metrics and the dashboard's own files.
  if (req.method() == http::verb::get && p == "/healthz") {
    *route = "/healthz";
    return JsonReply(req, 200, json{{"ok", true}, {"events", ledger_->Size()}});
  }
  if (req.method() == http::verb::get && p == "/metrics") {
    *route = "/metrics";
    return Reply(req, 200,
                 metrics_->Render(ledger_->Stats(), ledger_->Size(), projections_->checkpoint()),
                 "text/plain; version=0.0.4");
  }
  if (req.method() == http::verb::get && p.rfind("/v1/", 0) != 0) {
    *route = "/static";
    if (const StaticFile* f = FindStatic(p == "/" ? "/index.html" : p)) {
      Response res = Reply(req, 200, std::string(f->content, f->size), f->content_type);
      res.set(http::field::cache_control, "no-cache");
      return res;
    }
    return Error(req, 404, "not_found", "no page " + p);
  }

  // Everything under /v1 speaks for a principal.
  Response refused;
  auto who = Authorize(req, &refused, route);
  if (!who) return refused;
  *principal = *who;

  if (p == "/v1/commands") {
    *route = "/v1/commands";
    if (req.method() != http::verb::post)
      return Error(req, 405, "method_not_allowed", "POST commands");
    workflow::Principal actor{*who, false};
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
    std::vector<nlohmann::json> items = body.is_array() ? body.get<std::vector<nlohmann::json>>()
                                                        : std::vector<nlohmann::json>{body};
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
    metrics_->Append(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return JsonReply(req, 200, reply);
  }

  if (req.method() != http::verb::get)
    return Error(req, 405, "method_not_allowed", "only GET here");

  if (p == "/v1/events") {
    *route = "/v1/events";
    uint64_t from = 1, limit = 100, wait = 0;
    if ((t.query.count("from") && !ParseUint(t.Get("from"), &from)) ||
        (t.query.count("limit") && !ParseUint(t.Get("limit"), &limit)) ||
        (t.query.count("wait") && !ParseUint(t.Get("wait"), &wait))) {
      return Error(req, 400, "invalid_argument", "from, limit and wait are whole numbers");
    }
    if (from == 0) from = 1;
    limit = std::min<uint64_t>(std::max<uint64_t>(limit, 1), 1000);
    wait = std::min<uint64_t>(wait, 30);
    // Long poll: woken by the commit itself, never by polling the disk.
    for (uint64_t waited = 0; ledger_->Size() < from && waited < wait * 10 && !stopping_;
         ++waited) {
      ledger_->WaitForAppend(from - 1, std::chrono::milliseconds(100));
    }
    json events = json::array();
    Status s = ledger_->Scan(from, limit, [&](uint64_t seq, std::string_view bytes) {
      events.push_back(json{{"seq", seq}, {"bytes", Base64(bytes)}});
      return true;
    });
    if (!s.ok()) return FromStatus(req, s);
    return JsonReply(req, 200, json{{"from", from}, {"size", ledger_->Size()}, {"events", events}});
  }
  if (p == "/v1/criteria") {
    *route = "/v1/criteria";
    cli::Json out;
    Status s = cli::QueryCriteria(cli::CriteriaQuery{t.Get("on"), t.Get("set")}, &out);
    if (!s.ok()) return FromStatus(req, s);
    return JsonReply(req, 200, out);
  }
  if (p == "/v1/public-key") {
    *route = "/v1/public-key";
    return JsonReply(req, 200,
                     json{{"key_id", ledger_->signer().key_id_hex()},
                          {"public_key", Base64(ledger_->signer().public_key())},
                          {"pem", ledger_->signer().PublicKeyPem()}});
  }
  if (p == "/v1/tree-head") {
    *route = "/v1/tree-head";
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
  if (p == "/v1/proofs/inclusion") {
    *route = "/v1/proofs/inclusion";
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
  if (p == "/v1/proofs/consistency") {
    *route = "/v1/proofs/consistency";
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

  // The rest reads the projections: fold what was appended first.
  Status s = CatchUpForRead();
  if (!s.ok()) return FromStatus(req, s);
  cli::Reader reader{ledger_, projections_, cli::TodayInVietnam()};
  cli::Json out;
  DashboardReads::Answer answer;
  s = dashboard_.Read(p, t.query, *who, reader, &answer);
  if (answer.handled) {
    *route = answer.route;
    if (!s.ok()) return FromStatus(req, s);
    if (answer.filename.empty()) return JsonReply(req, 200, answer.json);
    Response res = Reply(req, 200, std::move(answer.body), answer.content_type);
    res.set(http::field::content_disposition, "attachment; filename=\"" + answer.filename + "\"");
    return res;
  }
  const std::string kProducts = "/v1/products/";
  if (p == "/v1/products") {
    *route = "/v1/products";
    uint64_t limit = 50;
    ParseUint(t.Get("limit", "50"), &limit);
    s = cli::QuerySearch(reader, t.Get("q"), std::min<uint64_t>(limit, 500), &out);
  } else if (p.rfind(kProducts, 0) == 0 && p.size() > kProducts.size()) {
    std::string rest = p.substr(kProducts.size());
    const std::string kHistory = "/history";
    if (rest.size() > kHistory.size() &&
        rest.compare(rest.size() - kHistory.size(), kHistory.size(), kHistory) == 0) {
      *route = "/v1/products/{id}/history";
      cli::HistoryQuery q{rest.substr(0, rest.size() - kHistory.size()), t.Get("as_of"),
                          t.Get("known_at"), t.Get("proofs") == "1" || t.Get("proofs") == "true"};
      s = cli::QueryHistory(reader, q, &out);
    } else {
      *route = "/v1/products/{id}";
      s = cli::QueryStatus(reader, cli::StatusQuery{rest, t.Get("as_of"), t.Get("known_at")}, &out);
    }
  } else if (p == "/v1/deadlines") {
    *route = "/v1/deadlines";
    s = cli::QueryDeadlines(reader,
                            cli::DeadlinesQuery{t.Get("as_of"), t.Get("unit"), t.Get("known_at"),
                                                t.Get("within_days", "90")},
                            &out);
  } else if (p == "/v1/changes") {
    *route = "/v1/changes";
    s = cli::QueryChanges(reader,
                          cli::ChangesQuery{t.Get("from"), t.Get("to"), t.Get("unit"),
                                            t.Get("known_at"), t.Get("principal")},
                          &out);
  } else if (p == "/v1/reports") {
    *route = "/v1/reports";
    cli::ReportQueryText q;
    q.period = t.Get("period");
    q.from = t.Get("from");
    q.to = t.Get("to");
    q.unit = t.Get("unit");
    q.format = t.Get("format", "json");
    q.lang = t.Get("lang", "vi");
    q.as_of = t.Get("as_of");
    q.known_at = t.Get("known_at");
    q.cohort = t.Get("cohort");
    cli::RenderedReport r;
    s = cli::QueryReport(reader, q, &r);
    if (!s.ok()) return FromStatus(req, s);
    Response res = Reply(req, 200, std::move(r.body), r.content_type);
    if (q.format != "json") {
      res.set(http::field::content_disposition, "attachment; filename=\"" + r.filename + "\"");
    }
    return res;
  } else {
    return Error(req, 404, "not_found", "no route " + p);
  }
  if (!s.ok()) return FromStatus(req, s);
  return JsonReply(req, 200, out);
}

}  // namespace ocop::server
