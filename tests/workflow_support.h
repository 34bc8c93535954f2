// A world for workflow tests: a ledger in a scratch directory, the Service,
// and helpers to submit JSON commands as a principal and read states back.
#pragma once

#include <capnp/message.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ledger/ledger.h"
#include "workflow/decide.h"
#include "workflow/json.h"
#include "workflow/service.h"
#include "workflow/stream_fold.h"

namespace ocop::testing {

// A province CM with district UM (commune XA under it) and DD, province BL, a
// national unit, councils at each level, principals of every role, one
// producer: the commands that set it up, as (principal, JSON), in order.
// Shared by the ledger-backed World and the in-memory MemoryView tests.
inline std::vector<std::pair<std::string, std::string>> StandardCommands() {
  std::vector<std::pair<std::string, std::string>> out;
  auto Ok = [&](const std::string& who, const std::string& json) { out.emplace_back(who, json); };
  Ok("",
     R"({"type":"DefineUnit","effective":"2019-01-01","unit":"VN","name":"Việt Nam","level":"national"})");
  Ok("",
     R"({"type":"DefineUnit","effective":"2019-01-01","unit":"CM","name":"Cà Mau","level":"province","parent":"VN"})");
  Ok("",
     R"({"type":"DefineUnit","effective":"2019-01-01","unit":"UM","name":"U Minh","level":"district","parent":"CM"})");
  Ok("",
     R"({"type":"DefineUnit","effective":"2019-01-01","unit":"DD","name":"Đầm Dơi","level":"district","parent":"CM"})");
  Ok("",
     R"({"type":"DefineUnit","effective":"2019-01-01","unit":"XA","name":"Khánh An","level":"commune","parent":"UM"})");
  Ok("",
     R"({"type":"DefineUnit","effective":"2019-01-01","unit":"BL","name":"Bạc Liêu","level":"province","parent":"VN"})");
  for (auto [id, level, unit] :
       {std::tuple{"HD-TW", "central", "VN"}, std::tuple{"HD-CM", "province", "CM"},
        std::tuple{"HD-UM", "district", "UM"}, std::tuple{"HD-DD", "district", "DD"}}) {
    Ok("", std::string(R"({"type":"ConstituteCouncil","effective":"2019-02-01","council":")") + id +
               R"(","level":")" + level + R"(","unit":")" + unit +
               R"(","decision":{"no":"1/QĐ","date":"2019-02-01","issuer":")" + unit + R"("}})");
  }
  auto grant = [&](const std::string& who, const std::string& role, const std::string& unit,
                   const std::string& council = "") {
    Ok("", R"({"type":"GrantRole","effective":"2019-02-01","principal":")" + who + R"(","role":")" +
               role + R"(","unit":")" + unit + "\"" +
               (council.empty() ? "" : R"(,"council":")" + council + "\"") + "}");
  };
  grant("admin.cm", "admin", "CM");
  grant("officer.um", "officer", "UM");
  grant("officer.dd", "officer", "DD");
  grant("officer.cm", "officer", "CM");
  grant("ubnd.um", "authority", "UM");
  grant("ubnd.dd", "authority", "DD");
  grant("ubnd.cm", "authority", "CM");
  grant("ubnd.bl", "authority", "BL");
  grant("bo", "authority", "VN");
  grant("hd.tw", "council", "VN", "HD-TW");
  grant("hd.cm", "council", "CM", "HD-CM");
  grant("hd.um", "council", "UM", "HD-UM");
  grant("hd.dd", "council", "DD", "HD-DD");
  grant("inspector.cm", "inspector", "CM");
  grant("auditor.cm", "auditor", "CM");
  Ok("officer.um",
     R"({"type":"RegisterSubject","effective":"2019-03-01","subject":"S1","name":"HTX Thành Công","legal_form":"HTX","unit":"UM","woman_owned":true})");
  return out;
}

// The commands that take product `id` of `unit` (UM or DD) from idea to a
// submitted dossier in `year`, as (principal, JSON).
inline std::vector<std::pair<std::string, std::string>> DossierCommands(
    const std::string& id, int year, const std::string& unit = "UM") {
  std::vector<std::pair<std::string, std::string>> out;
  auto Ok = [&](const std::string& who, const std::string& json) { out.emplace_back(who, json); };
  std::string y = std::to_string(year),
              officer = "officer." + std::string(unit == "UM" ? "um" : "dd");
  Ok(officer, R"({"type":"RegisterIdea","effective":")" + y + R"(-03-01","product":")" + id +
                  R"(","subject":"S1","name":"Sản phẩm )" + id + R"(","group":1,"unit":")" + unit +
                  R"(","cycle_year":)" + y + "}");
  Ok(officer, R"({"type":"ReviewIdea","effective":")" + y + R"(-03-10","product":")" + id +
                  R"(","outcome":"selected"})");
  Ok(officer,
     R"({"type":"SubmitPlan","effective":")" + y + R"(-04-01","product":")" + id +
         R"(","document":{"title":"PA","sha256":"abababababababababababababababababababababababababababababababab"}})");
  Ok(officer, R"({"type":"ReviewPlan","effective":")" + y + R"(-04-15","product":")" + id +
                  R"(","outcome":"approved"})");
  Ok(officer, R"({"type":"SubmitDossier","effective":")" + y + R"(-08-01","product":")" + id +
                  R"(","cycle_year":)" + y + R"(,"entry":"new"})");
  return out;
}

// A RecordScore and a one-product ApproveResults, as JSON.
inline std::string ScoreJson(const std::string& id, const std::string& council,
                             const std::string& date, double a, double b, double c,
                             bool mandatory = true) {
  return R"({"type":"RecordScore","effective":")" + date + R"(","product":")" + id +
         R"(","council":")" + council + R"(","parts":{"A":)" + std::to_string(a) + R"(,"B":)" +
         std::to_string(b) + R"(,"C":)" + std::to_string(c) + R"(},"mandatory_met":)" +
         (mandatory ? "true" : "false") + "}";
}
inline std::string ApproveJson(const std::string& id, const std::string& date,
                               const std::string& level, const std::string& issuer, int stars,
                               const std::string& cert) {
  return R"({"type":"ApproveResults","effective":")" + date + R"(","decision":{"no":"D-)" + cert +
         R"(","date":")" + date + R"(","issuer":")" + issuer + R"("},"level":")" + level +
         R"(","items":[{"product":")" + id + R"(","stars":)" + std::to_string(stars) +
         R"(,"certificate":")" + cert + R"("}]})";
}

class World {
 public:
  World() {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("ocop-wf-" + std::to_string(getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(dir_);
    ledger::Options o;
    auto clock = std::make_shared<std::atomic<int64_t>>(1700000000000000);
    o.clock = [clock] { return clock->fetch_add(1000); };
    o.sync = false;  // durability is the ledger tests' business
    REQUIRE(ledger::Ledger::Open(dir_.string(), o, &ledger_).ok());
    service_ = std::make_unique<workflow::Service>(ledger_.get());
  }
  ~World() {
    service_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Submits one JSON command as `who` ("" for the local superuser).
  Status Submit(const std::string& who, const std::string& json, workflow::Outcome* out = nullptr) {
    capnp::MallocMessageBuilder msg;
    Status s = workflow::ParseCommand(json, &msg);
    if (!s.ok()) return s;
    workflow::Outcome o;
    s = service_->Submit(workflow::Principal{who.empty() ? "local" : who, who.empty()},
                         msg.getRoot<workflow::schema::Command>(), &o);
    if (out) *out = o;
    return s;
  }
  // Submits and requires success.
  void Ok(const std::string& who, const std::string& json) {
    Status s = Submit(who, json);
    INFO(json << " -> " << s.ToString());
    REQUIRE(s.ok());
  }

  workflow::ProductState Product(const std::string& id) {
    workflow::StreamFold fold;
    REQUIRE(workflow::LoadStream(ledger_.get(), workflow::ProductStream(id), &fold).ok());
    workflow::ProductState p;
    fold.Fold(&p);
    return p;
  }

  ledger::Ledger* ledger() { return ledger_.get(); }
  workflow::Service* service() { return service_.get(); }
  const std::filesystem::path& dir() const { return dir_; }

  // The standard world: see StandardCommands().
  void Standard() {
    for (const auto& [who, json] : StandardCommands()) Ok(who, json);
  }

  // Takes product `id` of unit UM from idea to a submitted dossier in `year`.
  void ToDossier(const std::string& id, int year, const std::string& unit = "UM") {
    for (const auto& [who, json] : DossierCommands(id, year, unit)) Ok(who, json);
  }

  std::string Score(const std::string& id, const std::string& council, const std::string& date,
                    double a, double b, double c, bool mandatory = true) {
    return ScoreJson(id, council, date, a, b, c, mandatory);
  }
  std::string Approve(const std::string& id, const std::string& date, const std::string& level,
                      const std::string& issuer, int stars, const std::string& cert) {
    return ApproveJson(id, date, level, issuer, stars, cert);
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<workflow::Service> service_;
};

}  // namespace ocop::testing
