#include "ocop/submit_command.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "ledger/ledger.h"
#include "ocop/open_ledger.h"
#include "workflow/json.h"
#include "workflow/service.h"

namespace ocop::cli {
namespace {

using json = nlohmann::ordered_json;

struct SubmitOptions {
  std::string as;
  bool atomic = false;
  std::string file = "-";
};

json ErrorLine(size_t line, const Status& s) {
  json j{{"line", line},
         {"ok", false},
         {"error", {{"code", std::string(s.CodeName())}, {"message", s.message()}}}};
  if (!s.field().empty()) j["error"]["field"] = s.field();
  return j;
}

json OkLine(size_t line, const workflow::Outcome& o) {
  json j{{"line", line}, {"ok", true}, {"seqs", o.seqs}};
  if (o.duplicate) j["duplicate"] = true;
  return j;
}

int RunSubmit(const GlobalOptions& g, const SubmitOptions& o) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.file != "-") {
    file.open(o.file);
    if (!file) {
      std::cerr << "ocop submit: cannot read " << o.file << "\n";
      return 2;
    }
    in = &file;
  }
  if (std::filesystem::exists(std::filesystem::path(g.data_dir) / "REPLICA_OF")) {
    std::cerr << "ocop submit: " << g.data_dir
              << " is a read-only replica (see its REPLICA_OF); submit to the primary\n";
    return 1;
  }
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenWriter(g, &l);
  if (!s.ok()) {
    std::cerr << "ocop submit: " << s.message() << "\n";
    return ExitCode(s);
  }
  workflow::Principal who;
  who.id = o.as.empty() ? "local" : o.as;
  who.superuser = o.as.empty();
  workflow::Service service(l.get());

  // Read every line first in atomic mode; stream them otherwise.
  struct Parsed {
    size_t line;
    std::unique_ptr<capnp::MallocMessageBuilder> msg;
    Status status;
  };
  std::vector<Parsed> parsed;
  bool refused = false, storage = false;
  std::string text;
  size_t line = 0;
  auto report = [&](const json& j) { std::cout << j.dump() << "\n"; };
  while (std::getline(*in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    Parsed p{line, std::make_unique<capnp::MallocMessageBuilder>(), Status::OK()};
    p.status = workflow::ParseCommand(text, p.msg.get());
    if (!o.atomic) {
      if (!p.status.ok()) {
        report(ErrorLine(line, p.status));
        refused = true;
        continue;
      }
      workflow::Outcome outcome;
      s = service.Submit(who, p.msg->getRoot<workflow::schema::Command>(), &outcome);
      if (s.ok()) {
        report(OkLine(line, outcome));
      } else {
        report(ErrorLine(line, s));
        refused = true;
        storage = storage || ExitCode(s) == 3;
      }
      continue;
    }
    parsed.push_back(std::move(p));
  }
  if (o.atomic && !parsed.empty()) {
    std::vector<workflow::schema::Command::Reader> commands;
    size_t bad = parsed.size();
    for (size_t i = 0; i < parsed.size(); ++i) {
      if (!parsed[i].status.ok() && bad == parsed.size()) bad = i;
      if (parsed[i].status.ok()) {
        commands.push_back(parsed[i].msg->getRoot<workflow::schema::Command>());
      }
    }
    std::vector<workflow::Outcome> outcomes;
    size_t failed = 0;
    if (bad == parsed.size()) {
      s = service.SubmitAll(who, commands, &outcomes, &failed);
      if (!s.ok()) bad = failed;
    } else {
      s = parsed[bad].status;
    }
    for (size_t i = 0; i < parsed.size(); ++i) {
      if (s.ok()) {
        report(OkLine(parsed[i].line, outcomes[i]));
      } else if (i == bad) {
        report(ErrorLine(parsed[i].line, s));
      } else {
        report(ErrorLine(parsed[i].line,
                         Status::Refused("not applied: --atomic applies all or none, and line " +
                                         std::to_string(parsed[bad].line) + " was refused")));
      }
    }
    refused = !s.ok();
    storage = ExitCode(s) == 3;
  }
  std::cout.flush();
  if (storage) return 3;
  return refused ? 1 : 0;
}

}  // namespace

void AddSubmitCommand(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto opts = std::make_shared<SubmitOptions>();
  auto* cmd = app.add_subcommand(
      "submit",
      "Apply commands, one JSON object a line, from FILE or - (stdin); prints one result line "
      "per command");
  cmd->add_option("--as", opts->as,
                  "The acting principal (default: the local superuser, recorded as 'local')");
  cmd->add_flag("--atomic", opts->atomic, "Apply all commands or none");
  cmd->add_option("file", opts->file, "File of commands, or - for standard input (default)");
  cmd->callback([&global, selected, opts] {
    *selected = [&global, opts] { return RunSubmit(global, *opts); };
  });
}

}  // namespace ocop::cli
