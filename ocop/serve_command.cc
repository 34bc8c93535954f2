#include "ocop/serve_command.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ocop/open_ledger.h"
#include "projections/projections.h"
#include "server/api.h"
#include "server/http_server.h"
#include "server/tokens.h"

namespace ocop::cli {
namespace {

namespace fs = std::filesystem;

int Fail(const std::string& command, const Status& s) {
  std::cerr << "ocop " << command << ": " << s.message() << "\n";
  return s.ExitCode();
}

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  std::string tokens;  // default: <data>/tokens
};

std::string TokensPath(const GlobalOptions& g, const std::string& given) {
  return given.empty() ? (fs::path(g.data_dir) / "tokens").string() : given;
}

}  // namespace

int ServeLedger(const GlobalOptions& g, const std::string& listen, const std::string& tokens_file) {
  // Logs are JSON lines on stderr; stdout stays for machines.
  auto logger = spdlog::stderr_logger_mt("ocop");
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);

  server::ServerOptions options;
  Status s = server::ParseListen(listen, &options);
  if (!s.ok()) return Fail("serve", s);
  std::unique_ptr<ledger::Ledger> l;
  s = OpenLedger(g, /*create=*/true, &l);
  if (!s.ok()) return Fail("serve", s);
  std::unique_ptr<projections::Projections> p;
  s = projections::Projections::Open(l.get(), &p);
  if (!s.ok()) return Fail("serve", s);
  server::Tokens tokens;
  std::string path = TokensPath(g, tokens_file);
  s = server::Tokens::Load(path, &tokens);
  if (!s.ok()) return Fail("serve", s);
  if (tokens.size() == 0) {
    std::cerr << "ocop serve: no tokens in " << path
              << "; make one with `ocop token add PRINCIPAL --tokens " << path << "`\n";
  }
  server::Metrics metrics;
  server::Api api(l.get(), p.get(), std::move(tokens), &metrics);
  s = api.CatchUp();
  if (!s.ok()) return Fail("serve", s);

  // Keep the projections folded as appends commit, so reads rarely wait.
  std::atomic<bool> done{false};
  std::thread follower([&] {
    uint64_t seen = l->Size();
    while (!done) {
      uint64_t now = l->WaitForAppend(seen, std::chrono::milliseconds(200));
      if (now > seen) {
        api.CatchUp();
        seen = now;
      }
    }
  });
  s = server::Serve(api, options);
  done = true;
  follower.join();
  if (!s.ok()) return Fail("serve", s);
  return 0;
}

void AddServeCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto a = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand("serve", "Serve the HTTP API and the dashboard");
  serve->add_option("--listen", a->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  serve->add_option("--tokens", a->tokens, "Tokens file (default: DATA/tokens)");
  serve->callback([&global, selected, a] {
    *selected = [&global, a] { return ServeLedger(global, a->listen, a->tokens); };
  });

  auto* token = app.add_subcommand("token", "Manage the bearer tokens of the HTTP server");
  token->require_subcommand(1);
  auto principal = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto* add = token->add_subcommand(
      "add", "Make a token for PRINCIPAL: printed once; only its SHA-256 is kept in the file");
  add->add_option("principal", *principal, "Who the token speaks for")->required();
  add->add_option("--tokens", *file, "Tokens file (default: DATA/tokens)");
  add->callback([&global, selected, principal, file] {
    *selected = [&global, principal, file] {
      std::string t;
      Status s = server::AddToken(TokensPath(global, *file), *principal, &t);
      if (!s.ok()) return Fail("token add", s);
      std::cout << t << std::endl;
      return 0;
    };
  });
}

}  // namespace ocop::cli
