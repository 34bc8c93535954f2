#include "ocop/serve_command.h"

#include <spdlog/spdlog.h>

#include <capnp/message.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "ocop/backup.h"
#include "ocop/demo_data.h"
#include "ocop/heap.h"
#include "ocop/open_ledger.h"
#include "projections/projections.h"
#include "query/queries.h"
#include "server/api.h"
#include "server/control_socket.h"
#include "server/follower.h"
#include "server/http_server.h"
#include "server/notice_delivery.h"
#include "server/proof_routes.h"
#include "server/server_log.h"
#include "server/tokens.h"
#include "workflow/date.h"
#include "workflow/json.h"
#include "workflow/service.h"

namespace ocop::cli {

using query::TodayInVietnam;
namespace {

namespace fs = std::filesystem;

// Where and how often notices are delivered (server/notice_delivery.h).
struct NoticeArgs {
  std::string webhook;  // empty: none
  double every_seconds = 3600;
  int lookback_days = 30;
  std::string as_of;  // a fixed date instead of today (tests, back-fills)
};

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> cors;  // origins allowed to call from a browser
  NoticeArgs notices;
  std::string tokens;                  // default: <data>/tokens
  std::vector<std::string> witnesses;  // URL=VKEY: push checkpoints to them
  // This server as a witness of other logs.
  std::string witness_key, witness_state;
  std::vector<std::string> witness_logs;
  // Heap touched at start (ocop/heap.h): about the ledger's memtables (192
  // MiB in all) and a projections' memtable, what a busy server fills first.
  size_t prefault_mb = 256;
};

std::string TokensPath(const GlobalOptions& g, const std::string& given) {
  return given.empty() ? (fs::path(g.data_dir) / "tokens").string() : given;
}

}  // namespace

int ServeLedger(const GlobalOptions& g, const ServeArgs& a) {
  const std::string& listen = a.listen;
  const std::string& tokens_file = a.tokens;
  const std::vector<std::string>& cors = a.cors;
  const NoticeArgs& notices = a.notices;
  // Logs are JSON lines on stderr; stdout stays for machines.
  server::UseStderrLog("ocop");

  // Each connection costs a descriptor: take all the system allows this
  // process (the soft limit is often 1024, far below the hard one).
  rlimit files;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  server::ServerOptions options;
  Status s = server::ParseListen(listen, &options);
  if (!s.ok()) return Fail("serve", s);
  options.cors_origins = cors;
  // Before the databases open, so that their memtables, and the caches that
  // fill as products are first seen, take memory already mapped.
  PrefaultHeap(a.prefault_mb << 20);
  std::unique_ptr<ledger::Ledger> l;
  s = OpenWriter(g, &l);
  if (!s.ok()) return Fail("serve", s);
  std::unique_ptr<projections::Projections> p;
  s = projections::Projections::Open(l.get(), &p);
  if (!s.ok()) return Fail("serve", s);
  server::Tokens tokens;
  std::string path = TokensPath(g, tokens_file);
  s = server::Tokens::Load(
      path, [] { return workflow::FormatDate(TodayInVietnam()); }, &tokens);
  if (!s.ok()) return Fail("serve", s);
  if (tokens.size() == 0) {
    std::cerr << "ocop serve: no tokens in " << path
              << "; make one with `ocop token add PRINCIPAL --tokens " << path << "`\n";
  }
  std::string origin;
  s = LedgerOrigin(g, *l, &origin);
  std::unique_ptr<server::ProofRoutes> proofs;
  if (s.ok()) s = server::ProofRoutes::Open(l.get(), origin, &proofs);
  if (s.ok() && !a.witness_key.empty()) {
    s = proofs->EnableWitness(
        a.witness_key,
        a.witness_state.empty() ? (fs::path(g.data_dir) / "witness").string() : a.witness_state,
        a.witness_logs);
  }
  std::vector<server::WitnessTarget> targets;
  for (const auto& w : a.witnesses) {
    if (!s.ok()) break;
    targets.emplace_back();
    s = server::ParseWitnessTarget(w, &targets.back());
  }
  if (!s.ok()) return Fail("serve", s);
  std::unique_ptr<server::WitnessPusher> pusher;
  if (!targets.empty()) {
    pusher = std::make_unique<server::WitnessPusher>(l.get(), proofs->heads(), origin,
                                                     std::move(targets));
    proofs->set_pusher(pusher.get());
    pusher->Start();
  }
  server::Metrics metrics;
  server::Api api(l.get(), p.get(), std::move(tokens), &metrics);
  api.ServeProofs(proofs.get(), origin);
  s = api.CatchUp();
  if (!s.ok()) return Fail("serve", s);

  // Keep the projections folded as appends commit, so reads rarely wait.
  // While commands keep coming and nobody reads, folds are at least
  // kFoldSpacing apart: one fold per group commit (some 300 a second under
  // bench/http_load.sh --post-only) wrote the same read-model rows again and
  // again, and larger folds write each once. A read that finds the
  // projections behind what was answered folds it itself first
  // (Api::CatchUpForRead), so freshness never depends on this thread; but
  // once reads have had to (Api::reads_behind grew), folds follow each
  // append at once again for kReadsLinger, as the reads' latency needs.
  constexpr auto kFoldSpacing = std::chrono::milliseconds(20);
  constexpr auto kReadsLinger = std::chrono::seconds(1);
  std::atomic<bool> done{false};
  std::thread follower([&] {
    uint64_t seen = l->Size();
    uint64_t reads_behind = api.reads_behind();
    auto last_fold = std::chrono::steady_clock::now() - kFoldSpacing;
    auto unspaced_until = last_fold;
    while (!done) {
      uint64_t now = l->WaitForAppend(seen, std::chrono::milliseconds(200));
      if (now > seen) {
        const uint64_t behind = api.reads_behind();
        if (behind != reads_behind) {
          reads_behind = behind;
          unspaced_until = std::chrono::steady_clock::now() + kReadsLinger;
        }
        if (std::chrono::steady_clock::now() >= unspaced_until) {
          std::this_thread::sleep_until(last_fold + kFoldSpacing);
        }
        last_fold = std::chrono::steady_clock::now();
        // A failure is met again, and answered, by the next read's own
        // catch-up (Api::CatchUpForRead); here it is only logged.
        Status folded = api.CatchUp();
        if (!folded.ok()) spdlog::error("follower: {}", folded.ToString());
        seen = now;
      }
    }
  });
  // `ocop backup` asks this process, which holds the database, to take it.
  std::unique_ptr<server::ControlSocket> control;
  s = server::ControlSocket::Start(
      g.data_dir,
      [&l](const std::string& line) {
        nlohmann::json reply;
        try {
          nlohmann::json request = nlohmann::json::parse(line);
          if (request.value("op", "") != "backup") throw std::invalid_argument("op");
          RunBackupRequest(l.get(), request, &reply);
        } catch (const std::exception&) {
          reply = {{"ok", false},
                   {"error", {{"code", "invalid_argument"}, {"message", "not a backup request"}}},
                   {"exit", 2}};
        }
        spdlog::info(nlohmann::json{{"event", "backup"}, {"result", reply}}.dump());
        return reply.dump();
      },
      &control);
  if (!s.ok()) {
    spdlog::warn(
        nlohmann::json{{"event", "control_socket_unavailable"}, {"why", s.message()}}.dump());
  }
  std::unique_ptr<server::NoticeDelivery> delivery;
  if (!notices.webhook.empty()) {
    server::NoticeDeliveryOptions o;
    o.url = notices.webhook;
    o.log_path = (fs::path(g.data_dir) / "notices-delivered").string();
    o.every = std::chrono::milliseconds(static_cast<int64_t>(notices.every_seconds * 1000));
    o.lookback_days = notices.lookback_days;
    workflow::Date fixed;
    if (!notices.as_of.empty() && !workflow::ParseDate(notices.as_of, &fixed)) {
      done = true;
      follower.join();
      return Fail("serve", Status::InvalidArgument("--notices-as-of '" + notices.as_of +
                                                   "' is not a date; use YYYY-MM-DD"));
    }
    if (notices.as_of.empty()) {
      o.today = [] { return TodayInVietnam(); };
    } else {
      o.today = [fixed] { return fixed; };
    }
    o.now_micros = [] { return WallClockMicros(); };
    s = server::NoticeDelivery::Start(p.get(), std::move(o), &delivery);
    if (!s.ok()) {
      done = true;
      follower.join();
      return Fail("serve", s);
    }
  }
  s = server::Serve(api, options);
  delivery.reset();
  control.reset();
  done = true;
  follower.join();
  server::FlushLog();
  if (!s.ok()) return Fail("serve", s);
  return 0;
}

// Submits prepared commands, each as its principal; counts what was applied.
Status SubmitCommands(ledger::Ledger* l, const std::vector<DemoCommand>& commands, size_t* applied,
                      size_t* duplicates, size_t* refused) {
  workflow::Service service(l);
  *applied = *duplicates = *refused = 0;
  for (const DemoCommand& c : commands) {
    capnp::MallocMessageBuilder msg;
    Status s = workflow::ParseCommand(c.json, &msg);
    workflow::Outcome o;
    if (s.ok()) {
      s = service.Submit(
          workflow::Principal{c.principal.empty() ? "local" : c.principal, c.principal.empty()},
          msg.getRoot<workflow::schema::Command>(), &o);
    }
    if (ExitCode(s) == 3) return s;  // storage: stop
    if (!s.ok()) {
      ++*refused;
      std::cerr << "refused " << c.json << ": " << s.message() << "\n";
    } else if (o.duplicate) {
      ++*duplicates;
    } else {
      ++*applied;
    }
  }
  return Status::OK();
}

Status ReadAppendix(const std::string& csv, std::string* path, std::vector<IdeaRow>* rows) {
  *path = csv.empty() ? FindAppendix() : csv;
  if (path->empty())
    return Status::InvalidArgument("cannot find camau-2822-appendix3.csv; give --csv FILE");
  return LoadAppendix(*path, rows);
}

// Loads the sample history into an empty data directory.
Status LoadDemo(const GlobalOptions& g, const std::string& csv) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, /*create=*/true, &l);
  if (!s.ok()) return s;
  if (l->Size() > 0) {
    std::cerr << "ocop demo: " << g.data_dir << " already holds " << l->Size()
              << " events; serving them as they are\n";
    return Status::OK();
  }
  std::string path;
  std::vector<IdeaRow> rows;
  s = ReadAppendix(csv, &path, &rows);
  if (s.ok()) s = RecordSchemaToday(l.get());
  if (!s.ok()) return s;
  size_t applied, duplicates, refused;
  s = SubmitCommands(l.get(), DemoCommands(rows), &applied, &duplicates, &refused);
  if (!s.ok()) return s;
  std::cerr << "ocop demo: loaded " << rows.size() << " ideas of " << path
            << " and their cycle: " << applied << " commands applied, " << refused << " refused, "
            << l->Size() << " events\n";
  return Status::OK();
}

int RunImportCamau(const GlobalOptions& g, const std::string& csv, bool print) {
  std::string path;
  std::vector<IdeaRow> rows;
  Status s = ReadAppendix(csv, &path, &rows);
  if (!s.ok()) return Fail("import-camau", s);
  std::vector<DemoCommand> commands = AppendixCommands(rows);
  if (print) {
    for (const auto& c : commands) std::cout << c.json << "\n";
    return 0;
  }
  std::unique_ptr<ledger::Ledger> l;
  s = OpenWriter(g, &l);
  size_t applied = 0, duplicates = 0, refused = 0;
  if (s.ok()) s = SubmitCommands(l.get(), commands, &applied, &duplicates, &refused);
  if (!s.ok()) return Fail("import-camau", s);
  std::map<std::string, size_t> by_type;  // what the appendix became
  for (const auto& c : commands)
    ++by_type[nlohmann::json::parse(c.json)["type"].get<std::string>()];
  size_t ideas = by_type["RegisterIdea"], subjects = by_type["RegisterSubject"],
         units = by_type["DefineUnit"];
  std::cout << nlohmann::json{{"rows", rows.size()},  {"units", units},
                              {"subjects", subjects}, {"ideas", ideas},
                              {"applied", applied},   {"already_loaded", duplicates},
                              {"refused", refused}}
                   .dump()
            << std::endl;
  return refused ? 1 : 0;
}

int RunFollow(const GlobalOptions& g, const server::FollowOptions& o) {
  server::UseStderrLog("ocop-follow");
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, /*create=*/true, &l);
  if (!s.ok()) return Fail("follow", s);
  static std::atomic<bool> stop{false};
  std::signal(SIGINT, [](int) { stop = true; });
  std::signal(SIGTERM, [](int) { stop = true; });
  s = server::Follow(l.get(), o, stop);
  if (!s.ok()) {
    std::cerr << "ocop follow: STOPPED: " << s.message() << "\n";
    return ExitCode(s);
  }
  std::cout << nlohmann::json{{"replica", g.data_dir}, {"size", l->Size()}}.dump() << std::endl;
  return 0;
}

void AddServeCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto ic_csv = std::make_shared<std::string>();
  auto ic_print = std::make_shared<bool>(false);
  auto* import = app.add_subcommand(
      "import-camau",
      "Load the Cà Mau appendix (QĐ 2822): units, producers and the 237 product ideas");
  import->add_option("--csv", *ic_csv,
                     "The appendix (default: ../shared/data/camau-2822-appendix3.csv)");
  import->add_flag("--print", *ic_print,
                   "Print the commands (for `ocop submit`) instead of applying them");
  import->callback([&global, selected, ic_csv, ic_print] {
    *selected = [&global, ic_csv, ic_print] { return RunImportCamau(global, *ic_csv, *ic_print);
};
}  // namespace ocop::cli
);

auto fo = std::make_shared<server::FollowOptions>();
auto* follow = app.add_subcommand(
    "follow", "Keep a read-only replica of another ledger, checking every signed head it gives");
follow->add_option("url", fo->url, "The primary, e.g. http://10.0.0.5:8080")->required();
follow->add_option("--token", fo->token, "A bearer token for the primary (or $OCOP_TOKEN)")
    ->envname("OCOP_TOKEN");
follow->add_flag("--once", fo->once, "Catch up, verify, and stop");
follow->add_option("--witness-key", fo->witness_key,
                   "Also cosign the primary's checkpoints as a witness, with this key "
                   "(`ocop witness key`); the note is kept in DATA/COSIGNED_CHECKPOINT");
follow->add_option("--witness-state", fo->witness_state,
                   "The witness's state directory (default: DATA/witness)");
follow->callback([&global, selected, fo] {
  *selected = [&global, fo] { return RunFollow(global, *fo); };
});

auto d = std::make_shared<ServeArgs>();
auto csv = std::make_shared<std::string>();
auto* demo = app.add_subcommand(
    "demo", "Load the sample data (Cà Mau, 2022-2025) into an empty data directory, then serve");
demo->add_option("--listen", d->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
demo->add_option("--cors", d->cors,
                 "An origin whose pages may call the API (repeatable; * for any)");
demo->add_option("--csv", *csv,
                 "The Cà Mau appendix (default: ../shared/data/camau-2822-appendix3.csv)");
demo->callback([&global, selected, d, csv] {
  *selected = [&global, d, csv] {
    Status s = LoadDemo(global, *csv);
    if (!s.ok()) return Fail("demo", s);
    std::string token, path = TokensPath(global, "");
    s = server::AddToken(path, "vpdp.camau", &token);
    if (!s.ok()) return Fail("demo", s);
    std::string link = "http://" + d->listen + "/#/?token=" + token;
    std::cout << nlohmann::json{{"url", "http://" + d->listen + "/"},
                                {"token", token},
                                {"link", link}}
                     .dump()
              << std::endl;
    std::cerr << "ocop demo: mở " << link << " (mã truy cập: " << token << ")\n";
    ServeArgs sa;
    sa.listen = d->listen;
    sa.tokens = path;
    sa.cors = d->cors;
    return ServeLedger(global, sa);
  };
});

auto a = std::make_shared<ServeArgs>();
auto* serve = app.add_subcommand("serve", "Serve the HTTP API and the dashboard");
serve->add_option("--listen", a->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
serve->add_option("--tokens", a->tokens, "Tokens file (default: DATA/tokens)");
serve->add_option("--notices-webhook", a->notices.webhook,
                  "POST each notice (90, 30, 7 days before a certificate ends; its lapse) to "
                  "this http:// URL as it falls due, retried with back-off, each once "
                  "(recorded in DATA/notices-delivered)");
serve->add_option("--notices-every", a->notices.every_seconds,
                  "Seconds between looks for notices due (default 3600)");
serve->add_option("--notices-lookback-days", a->notices.lookback_days,
                  "Deliver notices that fell due up to this many days ago (default 30)");
serve->add_option("--notices-as-of", a->notices.as_of,
                  "Deliver as if today were this date (tests and back-fills)");
serve->add_option("--cors", a->cors,
                  "An origin whose pages may call the API from a browser, e.g. "
                  "https://ocop.camau.gov.vn (repeatable; * for any; none by default)");
serve->add_option("--witness", a->witnesses,
                  "URL=VKEY: a witness to push each new checkpoint to (c2sp.org/tlog-witness); "
                  "GET /checkpoint then shows its cosignature. Repeatable");
serve->add_option("--witness-key", a->witness_key,
                  "Also be a witness of other logs (POST /add-checkpoint), with this key "
                  "(`ocop witness key`)");
serve->add_option("--witness-state", a->witness_state,
                  "The witness's state directory (default: DATA/witness)");
serve->add_option("--prefault-mb", a->prefault_mb,
                  "MiB of memory to touch at start, so that requests after it take no page "
                  "faults as the memtables first fill (default 256; 0 for none)");
serve->add_option("--witness-log", a->witness_logs,
                  "The verifier key of a log this server witnesses. Repeatable");
serve->callback([&global, selected, a] {
  *selected = [&global, a] { return ServeLedger(global, *a); };
});

auto* token = app.add_subcommand("token", "Manage the bearer tokens of the HTTP server");
token->require_subcommand(1);
auto principal = std::make_shared<std::string>();
auto file = std::make_shared<std::string>();
auto expires = std::make_shared<std::string>();
auto* add = token->add_subcommand(
    "add", "Make a token for PRINCIPAL: printed once; only its SHA-256 is kept in the file");
add->add_option("principal", *principal, "Who the token speaks for")->required();
add->add_option("--tokens", *file, "Tokens file (default: DATA/tokens)");
add->add_option("--expires", *expires,
                "The last day (YYYY-MM-DD, Vietnam's date) the token works; default: no expiry");
add->callback([&global, selected, principal, file, expires] {
  *selected = [&global, principal, file, expires] {
    std::string t;
    Status s = server::AddToken(TokensPath(global, *file), *principal, &t, *expires);
    if (!s.ok()) return Fail("token add", s);
    std::cout << t << std::endl;
    return 0;
  };
});
}

}  // namespace ocop::cli
