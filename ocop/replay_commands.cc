#include "ocop/replay_commands.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/encoding.h"
#include "ledger/stream_heads.h"
#include "ocop/open_ledger.h"
#include "projections/annex.h"
#include "projections/projections.h"
#include "projections/report.h"
#include "query/queries.h"
#include "replay/bundle.h"
#include "replay/receipt.h"
#include "replay/verify_report.h"
#include "workflow/date.h"
#include "workflow/json.h"

namespace ocop::cli {

using query::ChangesQuery;
using query::HistoryQuery;
using query::Json;
using query::QueryChanges;
using query::QueryHistory;
using query::Reader;
using query::TodayInVietnam;
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using workflow::Date;

Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::InvalidArgument("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return Status::OK();
}

Status ParseJsonFile(const std::string& path, nlohmann::json* out) {
  std::string text;
  Status s = ReadFile(path, &text);
  if (!s.ok()) return s;
  // A file from outside (a bundle, a report): depth-limited before anything
  // walks it; its size is whatever the ledger exported.
  s = workflow::ParseJson(text, out, workflow::JsonLimits{text.size(), 64});
  if (!s.ok()) return Status::InvalidArgument(path + ": " + s.message());
  return Status::OK();
}

// ---------------------------------------------------------------- bundles

int RunBundle(const GlobalOptions& g, const std::string& product, const std::string& out_path) {
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  if (!s.ok()) return Fail("bundle", s);
  std::string origin;
  s = LedgerOrigin(g, *l, &origin);
  std::unique_ptr<ledger::StreamHeads> heads;
  if (s.ok()) s = ledger::StreamHeads::Open(l.get(), &heads);
  if (!s.ok()) return Fail("bundle", s);
  json bundle;
  s = replay::MakeBundle(l.get(), heads.get(), origin, product, &bundle);
  if (!s.ok()) return Fail("bundle", s);
  std::ofstream f(out_path, std::ios::binary);
  f << bundle.dump(1) << "\n";
  if (!f.good()) return Fail("bundle", Status::IOError("cannot write " + out_path));
  std::cout << json{{"bundle", out_path},
                    {"product", product},
                    {"events", bundle["events"].size()},
                    {"tree_size", bundle["tree_head"]["size"]}}
                   .dump()
            << std::endl;
  return 0;
}

int RunVerifyBundle(const std::string& path) {
  nlohmann::json bundle;
  Status s = ParseJsonFile(path, &bundle);
  if (!s.ok()) return Fail("verify-bundle", s);
  json report;
  s = replay::VerifyBundle(bundle, &report);
  if (s.IsInvalidArgument()) return Fail("verify-bundle", s);
  std::cout << report.dump() << std::endl;
  if (!s.ok()) return Fail("verify-bundle", s);
  std::cerr << "ocop verify-bundle: " << report["proved"] << " events of " << report["product"]
            << " proved in the signed tree of size " << report["tree_size"] << "\n";
  return 0;
}

// ---------------------------------------------------------------- receipts

int RunReceipt(const GlobalOptions& g, const std::string& product, const std::string& as_of,
               const std::string& out_path) {
  workflow::Date date = query::TodayInVietnam();
  if (!as_of.empty() && !workflow::ParseDate(as_of, &date)) {
    return Fail("receipt", Status::InvalidArgument("--as-of must be a date YYYY-MM-DD"));
  }
  std::unique_ptr<ledger::Ledger> l;
  Status s = OpenLedger(g, false, &l);
  std::string origin;
  if (s.ok()) s = LedgerOrigin(g, *l, &origin);
  std::unique_ptr<ledger::StreamHeads> heads;
  if (s.ok()) s = ledger::StreamHeads::Open(l.get(), &heads);
  json receipt;
  if (s.ok()) s = replay::MakeReceipt(l.get(), heads.get(), origin, product, date, "", &receipt);
  if (!s.ok()) return Fail("receipt", s);
  if (out_path.empty()) {
    std::cout << receipt.dump(1) << std::endl;
    return 0;
  }
  std::ofstream f(out_path, std::ios::binary);
  f << receipt.dump(1) << "\n";
  if (!f.good()) return Fail("receipt", Status::IOError("cannot write " + out_path));
  std::cout
      << json{{"receipt", out_path}, {"product", product}, {"status", receipt["status"]}}.dump()
      << std::endl;
  return 0;
}

int RunVerifyReceipt(const std::string& path, const std::string& vkey,
                     const std::vector<std::string>& witness_vkeys) {
  nlohmann::json receipt;
  Status s = ParseJsonFile(path, &receipt);
  if (!s.ok()) return Fail("verify-receipt", s);
  std::vector<ledger::note::VerifierKey> witnesses;
  for (const auto& w : witness_vkeys) {
    witnesses.emplace_back();
    s = ledger::note::ParseVerifierKey(w, &witnesses.back());
    if (!s.ok())
      return Fail("verify-receipt", Status::InvalidArgument("--witness-vkey: " + s.message()));
  }
  json report;
  s = replay::VerifyReceipt(receipt, vkey, witnesses, &report);
  if (s.IsInvalidArgument()) return Fail("verify-receipt", s);
  std::cout << report.dump() << std::endl;
  if (!s.ok()) return Fail("verify-receipt", s);
  std::cerr << "ocop verify-receipt: " << report["product"] << " is "
            << report["status"]["certificate_state"] << " as of " << report["as_of"]
            << ", proved at tree size " << report["tree_size"]
            << (vkey.empty() ? " (give --vkey to pin the log's key)" : "") << "\n";
  return 0;
}

// ---------------------------------------------------------------- verify-report

// Recomputes a JSON report from the log itself, folded afresh into a scratch
// directory up to the tree size the report names, and checks the head it
// carries against the ledger's tree (replay/verify_report.h).
int RunVerifyReport(const GlobalOptions& g, const std::string& path) {
  nlohmann::json report;
  Status s = ParseJsonFile(path, &report);
  if (!s.ok()) return Fail("verify-report", s);
  replay::ReportToVerify claim;
  s = replay::ReportToVerify::Parse(std::move(report), &claim);
  if (!s.ok()) return Fail("verify-report", Status::InvalidArgument(path + ": " + s.message()));
  std::unique_ptr<ledger::Ledger> l;
  s = OpenLedger(g, false, &l);
  if (!s.ok()) return Fail("verify-report", s);
  json result{{"report", path}};
  std::string scratch =
      (fs::temp_directory_path() / ("ocop-verify-report-" + std::to_string(::getpid()))).string();
  s = claim.Check(l.get(), scratch, &result);
  if (!s.ok()) return Fail("verify-report", s);
  std::cout << result.dump() << std::endl;
  if (!result["ok"].get<bool>()) {
    std::cerr << "ocop verify-report: the report does NOT match the ledger it names\n";
    return 1;
  }
  std::cerr << "ocop verify-report: the report matches the ledger at size " << claim.size()
            << ", and today's ledger is consistent with it\n";
  return 0;
}

}  // namespace

void AddReplayCommands(CLI::App& app, const GlobalOptions& global, Runner* selected) {
  auto h = std::make_shared<HistoryQuery>();
  auto* history = app.add_subcommand("history", "Every event of a product, oldest first");
  history->add_option("product", h->product, "The product's id")->required();
  history->add_flag("--proofs", h->proofs, "Add each event's inclusion proof and the signed head");
  history->add_option("--as-of", h->as_of, "Only acts effective on or before this date");
  history->add_option("--known-at", h->known_at,
                      "As recorded by this sequence number or timestamp");
  history->callback([&global, selected, h] {
    *selected = [&global, h] { return RunJsonQuery(global, "history", *h, QueryHistory); };
  });

  auto b_product = std::make_shared<std::string>();
  auto b_out = std::make_shared<std::string>();
  auto* bundle = app.add_subcommand(
      "bundle", "Write a self-contained, checkable file of a product's history for a dispute");
  bundle->add_option("product", *b_product, "The product's id")->required();
  bundle->add_option("--out", *b_out, "The bundle file to write")->required();
  bundle->callback([&global, selected, b_product, b_out] {
    *selected = [&global, b_product, b_out] { return RunBundle(global, *b_product, *b_out); };
  });

  auto vb_file = std::make_shared<std::string>();
  auto* verify_bundle = app.add_subcommand(
      "verify-bundle", "Check a bundle's events, proofs and signature; needs no data directory");
  verify_bundle->add_option("file", *vb_file, "The bundle file")->required();
  verify_bundle->callback(
      [selected, vb_file] { *selected = [vb_file] { return RunVerifyBundle(*vb_file); }; });

  auto r_product = std::make_shared<std::string>();
  auto r_out = std::make_shared<std::string>();
  auto r_as_of = std::make_shared<std::string>();
  auto* receipt = app.add_subcommand(
      "receipt", "Write a small file proving a product's certificate state at a signed checkpoint");
  receipt->add_option("product", *r_product, "The product's id")->required();
  receipt->add_option("--out", *r_out, "The receipt file (default: stdout)");
  receipt->add_option("--as-of", *r_as_of, "The date the state is judged on (default: today)");
  receipt->callback([&global, selected, r_product, r_out, r_as_of] {
    *selected = [&global, r_product, r_out, r_as_of] {
      return RunReceipt(global, *r_product, *r_as_of, *r_out);
    };
  });
  auto rc_file = std::make_shared<std::string>();
  auto rc_vkey = std::make_shared<std::string>();
  auto rc_witnesses = std::make_shared<std::vector<std::string>>();
  auto* verify_receipt = app.add_subcommand(
      "verify-receipt", "Check a receipt offline: its checkpoint, proofs and the state it shows");
  verify_receipt->add_option("file", *rc_file, "The receipt file")->required();
  verify_receipt->add_option("--vkey", *rc_vkey, "The log's verifier key, as you know it");
  verify_receipt->add_option("--witness-vkey", *rc_witnesses,
                             "A witness whose cosignature is required. Repeatable");
  verify_receipt->callback([selected, rc_file, rc_vkey, rc_witnesses] {
    *selected = [rc_file, rc_vkey, rc_witnesses] {
      return RunVerifyReceipt(*rc_file, *rc_vkey, *rc_witnesses);
    };
  });

  auto c = std::make_shared<ChangesQuery>();
  auto* changes = app.add_subcommand(
      "changes",
      "What happened in a period, by decision and by product: the monthly meeting's list");
  changes->add_option("--from", c->from, "First effective date YYYY-MM-DD")->required();
  changes->add_option("--to", c->to, "Last effective date YYYY-MM-DD")->required();
  changes->add_option("--unit", c->unit, "Only this unit and the units within it");
  changes->add_option("--principal", c->principal,
                      "Only the acts of this principal (e.g. ubnd.cm)");
  changes->add_option("--known-at", c->known_at,
                      "As recorded by this sequence number or timestamp");
  changes->callback([&global, selected, c] {
    *selected = [&global, c] { return RunJsonQuery(global, "changes", *c, QueryChanges); };
  });

  auto vr_file = std::make_shared<std::string>();
  auto* verify_report = app.add_subcommand(
      "verify-report",
      "Recompute a JSON report from the ledger at the tree size it names and check the head");
  verify_report->add_option("file", *vr_file, "A report written by `ocop report --format json`")
      ->required();
  verify_report->callback([&global, selected, vr_file] {
    *selected = [&global, vr_file] { return RunVerifyReport(global, *vr_file); };
  });
}

}  // namespace ocop::cli
