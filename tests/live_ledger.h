// A ledger in a scratch directory with the workflow's Service and live
// projections, on a clock the test sets: the fixture of the tests that build
// a history command by command and then read it back (projections, replay).
#pragma once

#include <capnp/message.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "projections/projections.h"
#include "workflow/json.h"
#include "workflow/service.h"

namespace ocop::testing {

struct LiveLedger {
  std::filesystem::path dir;
  int64_t now = 0;  // the ledger's clock: the recording time of the next append
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<workflow::Service> service;
  std::unique_ptr<projections::Projections> projections;

  explicit LiveLedger(std::filesystem::path scratch) : dir(std::move(scratch)) {
    std::filesystem::remove_all(dir);
    ledger::Options o;
    o.sync = false;  // durability is the ledger tests' business
    o.clock = [this] { return now; };
    Status s = ledger::Ledger::Open(dir.string(), o, &ledger);
    INFO(s.ToString());
    REQUIRE(s.ok());
    service = std::make_unique<workflow::Service>(ledger.get());
    s = projections::Projections::Open(ledger.get(), &projections);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  ~LiveLedger() {
    projections.reset();
    service.reset();
    ledger.reset();
    std::filesystem::remove_all(dir);
  }
  LiveLedger(const LiveLedger&) = delete;
  LiveLedger& operator=(const LiveLedger&) = delete;

  // Decides and appends `command` as `who`, recorded at `micros` (never
  // before the last), requiring success; then catches the projections up.
  std::vector<uint64_t> SubmitAt(int64_t micros, const workflow::Principal& who,
                                 const std::string& command) {
    REQUIRE(micros >= now);  // recording time never runs backwards
    now = micros;
    capnp::MallocMessageBuilder msg;
    Status s = workflow::ParseCommand(command, &msg);
    INFO(command << "\n" << s.ToString());
    REQUIRE(s.ok());
    workflow::Outcome out;
    s = service->Submit(who, msg.getRoot<workflow::schema::Command>().asReader(), &out);
    INFO(s.ToString());
    REQUIRE(s.ok());
    REQUIRE(projections->CatchUp().ok());
    return out.seqs;
  }
};

}  // namespace ocop::testing
