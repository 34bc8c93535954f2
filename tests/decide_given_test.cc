// Given–when–then tests of Decide on an in-memory view (no RocksDB): given
// the events of accepted commands, when one more command is decided, then
// these events, or this named refusal, and nothing recorded.
#include <catch2/catch.hpp>

#include "projections/status_json.h"
#include "tests/workflow_support.h"
#include "workflow/memory_view.h"
#include "workflow/rules.h"
#include "workflow/states_view.h"

using namespace ocop;
using namespace ocop::workflow;
using ocop::testing::ApproveJson;
using ocop::testing::DossierCommands;
using ocop::testing::ScoreJson;
using ocop::testing::StandardCommands;
using Types = std::vector<std::string>;

namespace {

class Given {
 public:
  Given() {
    for (const auto& [who, json] : StandardCommands()) Ok(who, json);
  }

  // Given: the command is accepted and its events recorded.
  void Ok(const std::string& who, const std::string& json) {
    Status s = view.Submit(who, json);
    INFO(json << " -> " << s.ToString());
    REQUIRE(s.ok());
  }
  void Ok(const std::vector<std::pair<std::string, std::string>>& commands) {
    for (const auto& [who, json] : commands) Ok(who, json);
  }

  // When ... then these events (recorded, so that the next step sees them).
  Types Then(const std::string& who, const std::string& json) {
    Decided d;
    Status s = view.DecideOnly(who, json, &d);
    INFO(json << " -> " << s.ToString());
    REQUIRE(s.ok());
    last = Types();
    Types types = EventTypes(d);
    capnp::MallocMessageBuilder msg;
    REQUIRE(ParseCommand(json, &msg).ok());
    view.Record(d, msg.getRoot<schema::Command>().getEffective().cStr());
    return types;
  }

  // When ... then refused, naming `says`, with nothing recorded.
  void Refused(const std::string& who, const std::string& json, const std::string& says,
               Status* out = nullptr) {
    size_t before = view.events().size();
    Status s = view.Submit(who, json);
    INFO(json << " -> " << s.ToString());
    CHECK(!s.ok());
    CHECK(s.message().find(says) != std::string::npos);
    CHECK(view.events().size() == before);
    if (out) *out = s;
  }

  const ProductState& Product(const std::string& id) {
    const ProductState* p = nullptr;
    uint64_t version = 0;
    REQUIRE(view.Product(id, &p, &version).ok());
    return *p;
  }

  // The payload of the last recorded event.
  schema::Payload::Reader Last() { return view.events().back().Payload(); }

  // A product certified before the ledger: `stars` by the province CM on `date`.
  void Import(const std::string& id, int stars, const std::string& date) {
    Ok("", R"({"type":"ImportCertificate","effective":")" + date + R"(","product":")" + id +
               R"(","subject":"S1","name":"SP )" + id + R"(","group":1,"unit":"UM","stars":)" +
               std::to_string(stars) + R"(,"certificate":"GCN-)" + id +
               R"(","decision":{"no":"QĐ-)" + id + R"(","date":")" + date + R"(","issuer":"CM"}})");
  }

  MemoryView view;
  Types last;
};

std::string Revoke(const std::string& date,
                   const std::vector<std::pair<std::string, std::string>>& items) {
  std::string list;
  for (const auto& [product, reason] : items) {
    list += std::string(list.empty() ? "" : ",") + R"({"product":")" + product + R"(","reason":")" +
            reason + R"("})";
  }
  return R"({"type":"RevokeRating","effective":")" + date +
         R"(","decision":{"no":"58/QĐ-UBND-HC","date":")" + date + R"(","issuer":"CM"},"items":[)" +
         list + "]}";
}

std::string SubmitDossierJson(const std::string& id, const std::string& date, int year,
                              const std::string& entry) {
  return R"({"type":"SubmitDossier","effective":")" + date + R"(","product":")" + id +
         R"(","cycle_year":)" + std::to_string(year) + R"(,"entry":")" + entry + R"("})";
}

std::string Inspect(const std::string& id, const std::string& date) {
  return R"({"type":"RecordInspection","effective":")" + date + R"(","product":")" + id +
         R"(","compliant":true})";
}

}  // namespace

TEST_CASE("item 9: legal forms add TNHH, CTCP and DNTN; DN stays valid") {
  Given g;
  int n = 0;
  for (const char* form : {"TNHH", "CTCP", "DNTN", "DN"}) {
    std::string id = "S-" + std::to_string(++n);
    CHECK(g.Then("officer.um", R"({"type":"RegisterSubject","effective":"2023-01-01","subject":")" +
                                   id + R"(","name":"Công ty","legal_form":")" + form +
                                   R"(","unit":"UM"})") == Types{"SubjectRegistered"});
    const SubjectState* s = nullptr;
    REQUIRE(g.view.Subject(id, &s).ok());
    CHECK(ToJson(capnp::toDynamic(g.Last())).find(std::string("\"legal_form\":\"") + form) !=
          std::string::npos);
  }
  g.Refused(
      "officer.um",
      R"({"type":"RegisterSubject","effective":"2023-01-01","subject":"S-X","name":"x","legal_form":"LLC","unit":"UM"})",
      "TNHH");
}

TEST_CASE("item 1: a lapsed or failed rating is revoked, for its own reason, all or none") {
  Given g;
  // Certified 2019-12-20 (3★), valid to 2022-12-20, never re-entered.
  g.Import("L1", 3, "2019-12-20");
  // Certified 2019-12-20 (4★), re-entered 2022-08-01 and scored 40 (2★).
  g.Import("F1", 4, "2019-12-20");
  g.Ok("officer.um", SubmitDossierJson("F1", "2022-08-01", 2022, "renewal"));
  g.Ok("hd.cm", ScoreJson("F1", "HD-CM", "2022-09-01", 20, 10, 10));
  // In force on the decision date.
  g.Import("A1", 3, "2021-06-01");
  // Never certified.
  g.Ok(DossierCommands("N1", 2022));

  g.Refused("ubnd.cm", Revoke("2023-01-11", {{"L1", "not_reevaluated"}, {"N1", "not_reevaluated"}}),
            "items[1] (product 'N1'): the product never held a certificate");
  g.Refused("ubnd.cm", Revoke("2023-01-11", {{"L1", "failed_reevaluation"}}),
            "the reason is not_reevaluated");
  g.Refused("ubnd.cm", Revoke("2023-01-11", {{"F1", "not_reevaluated"}}),
            "the reason is failed_reevaluation");
  g.Refused("ubnd.cm", Revoke("2023-01-11", {{"A1", "not_reevaluated"}}),
            "is in force until 2024-06-01");
  g.Refused("ubnd.cm", Revoke("2023-01-11", {{"L1", "production_stopped"}}),
            "a lapsed certificate is revoked for not_reevaluated or failed_reevaluation");

  CHECK(g.Then("ubnd.cm",
               Revoke("2023-01-11", {{"L1", "not_reevaluated"}, {"F1", "failed_reevaluation"}})) ==
        Types{"RatingRevoked", "RatingRevoked"});
  auto r = g.Last().getRatingRevoked();
  CHECK(std::string(r.getCertificate().cStr()) == "GCN-F1");
  CHECK(r.getStars() == 4);

  const ProductState& l1 = g.Product("L1");
  CHECK(l1.CertificateStateOn(FromCivil(2022, 12, 20)) == "in_force");
  CHECK(l1.CertificateStateOn(FromCivil(2022, 12, 21)) == "lapsed");
  CHECK(l1.CertificateStateOn(FromCivil(2023, 1, 11)) == "revoked");
  CHECK(l1.StageOn(FromCivil(2023, 1, 11)) == Stage::kRevoked);
  g.Refused("ubnd.cm", Revoke("2023-02-01", {{"L1", "not_reevaluated"}}),
            "was already revoked by 58/QĐ-UBND-HC");
  // A revoked product may enter again, as new.
  CHECK(g.Then("officer.um", SubmitDossierJson("L1", "2023-08-01", 2023, "new")) ==
        Types{"DossierSubmitted", "RoundEntered"});
}

TEST_CASE(
    "item 2: a failed re-evaluation leaves the certificate in force; a low score ends the "
    "dossier") {
  Given g;
  g.Import("F1", 4, "2019-12-20");
  CHECK(g.Then("officer.um", SubmitDossierJson("F1", "2022-08-01", 2022, "renewal")) ==
        Types{"DossierSubmitted", "RoundEntered"});
  // While the re-evaluation is pending, the certificate in force still
  // admits inspections and promotions.
  CHECK(g.Then("inspector.cm", Inspect("F1", "2022-08-15")) == Types{"InspectionRecorded"});
  CHECK(g.Then("hd.cm", ScoreJson("F1", "HD-CM", "2022-09-01", 20, 10, 10)) ==
        Types{"ScoreRecorded", "DossierEnded"});
  CHECK(g.Last().getDossierEnded().getOutcome() == schema::DossierOutcome::NOT_RECOGNISED);
  const ProductState& p = g.Product("F1");
  REQUIRE(p.dossier);
  CHECK(p.dossier->outcome == schema::DossierOutcome::NOT_RECOGNISED);
  CHECK(p.StageOn(FromCivil(2022, 10, 1)) == Stage::kCertified);
  CHECK(p.CertificateStateOn(FromCivil(2022, 12, 20)) == "in_force");
  CHECK(p.StageOn(FromCivil(2022, 12, 21)) == Stage::kExpired);
  CHECK(g.Then("inspector.cm", Inspect("F1", "2022-10-01")) == Types{"InspectionRecorded"});
  g.Refused("inspector.cm", Inspect("F1", "2023-01-05"),
            "holds no certificate in force on 2023-01-05");
  // The dossier ended: no council scores it again.
  g.Refused("hd.cm", ScoreJson("F1", "HD-CM", "2022-09-05", 30, 20, 25),
            "has no dossier under evaluation on 2022-09-05 (stage certified)");

  auto status = projections::StatusJson(g.Product("F1"), FromCivil(2022, 10, 1));
  CHECK(status["certificate_state"] == "in_force");
  CHECK(status["dossier"]["entry"] == "renewal");
  CHECK(status["dossier"]["cycle_year"] == 2022);
  CHECK(status["dossier"]["step"] == "ended");
  CHECK(status["dossier"]["score"] == 40.0);
  CHECK(status["dossier"]["stars"] == 2);
  CHECK(status["dossier"]["outcome"] == "not_recognised");
}

TEST_CASE(
    "item 2: the results decision that closes a round ends the dossiers it does not recognise") {
  Given g;
  for (const char* id : {"P1", "P2", "P3", "P4", "P5", "Q1"}) g.Ok(DossierCommands(id, 2022));
  g.Ok("hd.cm", ScoreJson("P1", "HD-CM", "2022-09-01", 30, 20, 25));  // 75: 4★
  g.Ok("hd.cm", ScoreJson("P2", "HD-CM", "2022-09-01", 25, 15, 20));  // 60: 3★
  g.Ok("hd.cm", ScoreJson("P3", "HD-CM", "2022-09-01", 25, 15, 15));  // 55: 3★
  g.Ok("hd.cm", ScoreJson("P5", "HD-CM", "2022-09-01", 10, 10, 10));  // 30: 2★, ended at once
  g.Ok("hd.um",
       ScoreJson("Q1", "HD-UM", "2022-08-20", 25, 15, 20));  // district only: not this round's
  CHECK(g.Product("P5").dossier->outcome == schema::DossierOutcome::NOT_RECOGNISED);
  CHECK(g.Product("P5").stage == Stage::kPlanApproved);

  std::string decision =
      R"({"type":"ApproveResults","effective":"2022-10-01","decision":{"no":"156/QĐ-UBND","date":"2022-10-01","issuer":"CM"},"level":"province","items":[{"product":"P1","stars":4,"certificate":"GCN-P1"},{"product":"P2","stars":3,"certificate":"GCN-P2"}])";
  // Without closes_round only the items are decided.
  Decided d;
  REQUIRE(g.view.DecideOnly("ubnd.cm", decision + "}", &d).ok());
  CHECK(EventTypes(d) == Types{"Certified", "Certified"});
  CHECK(g.Then("ubnd.cm", decision + R"(,"closes_round":true})") ==
        Types{"Certified", "Certified", "DossierEnded"});
  auto ended = g.Last().getDossierEnded();
  CHECK(std::string(ended.getProduct().cStr()) == "P3");
  CHECK(std::string(ended.getDecision().getNo().cStr()) == "156/QĐ-UBND");
  CHECK(g.Product("P1").dossier->outcome == schema::DossierOutcome::RECOGNISED);
  CHECK(g.Product("P3").dossier->outcome == schema::DossierOutcome::NOT_RECOGNISED);
  CHECK(g.Product("P3").stage == Stage::kPlanApproved);
  CHECK(g.Product("P4").OpenDossier() != nullptr);  // never scored: stays open
  CHECK(g.Product("Q1").OpenDossier() != nullptr);  // scored at the district only
  auto status = projections::StatusJson(g.Product("P4"), FromCivil(2022, 10, 1));
  CHECK(status["dossier"]["step"] == "submitted");
  CHECK(status["dossier"]["outcome"] == nullptr);
  CHECK(status["certificate_state"] == "none");
}

TEST_CASE("item 6: RegisterProduct lets a product on the market enter evaluation directly") {
  Given g;
  std::string reg =
      R"({"type":"RegisterProduct","effective":"2021-05-01","product":"KG-1","subject":"S1","name":"Nước mắm","group":1,"unit":"UM"})";
  CHECK(g.Then("officer.um", reg) == Types{"ProductRegistered"});
  const ProductState& p = g.Product("KG-1");
  CHECK(p.exists);
  CHECK(p.direct_entry);
  CHECK(p.stage == Stage::kRegistered);
  CHECK(StageName(p.stage) == "registered");
  g.Refused("officer.um", reg, "is already registered");
  g.Refused(
      "officer.um",
      R"({"type":"RegisterProduct","effective":"2021-05-01","product":"KG-2","subject":"S1","name":"x","group":9,"unit":"UM"})",
      "field 'group' must be one of");
  g.Refused(
      "officer.dd",
      R"({"type":"RegisterProduct","effective":"2021-05-01","product":"KG-2","subject":"S1","name":"x","group":1,"unit":"UM"})",
      "may not register products");
  // No idea, no plan: straight to a new dossier, scored and certified.
  CHECK(g.Then("officer.um", SubmitDossierJson("KG-1", "2021-08-01", 2021, "new")) ==
        Types{"DossierSubmitted", "RoundEntered"});
  g.Ok("hd.cm", ScoreJson("KG-1", "HD-CM", "2021-09-01", 25, 15, 20));
  CHECK(g.Then("ubnd.cm", ApproveJson("KG-1", "2021-09-20", "province", "CM", 3, "GCN-KG-1")) ==
        Types{"Certified"});
  CHECK(g.Product("KG-1").StageOn(FromCivil(2021, 10, 1)) == Stage::kCertified);
  // A product without a plan nor direct entry still cannot enter as new.
  g.Ok(
      "officer.um",
      R"({"type":"RegisterIdea","effective":"2021-03-01","product":"ID-1","subject":"S1","name":"x","group":1,"unit":"UM","cycle_year":2021})");
  g.Refused("officer.um", SubmitDossierJson("ID-1", "2021-08-01", 2021, "new"), "RegisterProduct");
  // Not recognised: back to registered, free to enter another year.
  g.Ok(
      "officer.um",
      R"({"type":"RegisterProduct","effective":"2021-05-01","product":"KG-3","subject":"S1","name":"Khô cá","group":1,"unit":"UM"})");
  g.Ok("officer.um", SubmitDossierJson("KG-3", "2021-08-01", 2021, "new"));
  g.Ok("hd.cm", ScoreJson("KG-3", "HD-CM", "2021-09-01", 10, 10, 10));
  CHECK(g.Product("KG-3").stage == Stage::kRegistered);
  CHECK(g.Then("officer.um", SubmitDossierJson("KG-3", "2022-08-01", 2022, "new")) ==
        Types{"DossierSubmitted", "RoundEntered"});
}

TEST_CASE(
    "item 3: every act is judged on its own date; a back-dated act may not undo a later one") {
  Given g;
  g.Ok(DossierCommands("P1", 2022));  // plan approved 2022-04-15, dossier 2022-08-01
  g.Ok("hd.cm", ScoreJson("P1", "HD-CM", "2022-09-01", 30, 20, 25));
  g.Ok("ubnd.cm", ApproveJson("P1", "2022-09-20", "province", "CM", 4, "GCN-P1"));
  g.Ok("officer.um", SubmitDossierJson("P1", "2025-08-01", 2025, "renewal"));
  // Dated before the re-evaluation dossier opened: the certificate was in
  // force and nothing else was going on. Accepted.
  CHECK(g.Then("inspector.cm", Inspect("P1", "2025-06-01")) == Types{"InspectionRecorded"});
  // Dated before the product was certified: refused.
  g.Refused("inspector.cm", Inspect("P1", "2022-09-10"),
            "holds no certificate in force on 2022-09-10");

  // A dossier dated before its plan was approved is refused, though the
  // plan is approved today.
  for (const auto& [who, json] : DossierCommands("P2", 2023)) {
    if (json.find("SubmitDossier") == std::string::npos) g.Ok(who, json);
  }
  g.Refused("officer.um", SubmitDossierJson("P2", "2023-04-10", 2023, "new"),
            "is at stage plan_submitted");
  CHECK(g.Product("P2").StageOn(FromCivil(2023, 4, 10)) == Stage::kPlanApproved);  // today's record

  // A revocation dated before an inspection already recorded would leave
  // that inspection without a certificate in force: refused, naming it.
  g.Ok("inspector.cm", Inspect("P1", "2023-03-01"));
  uint64_t inspection = g.view.events().back().seq;
  g.Refused(
      "ubnd.cm",
      R"({"type":"RevokeRating","effective":"2023-02-01","decision":{"no":"R-1","date":"2023-02-01","issuer":"CM"},"items":[{"product":"P1","reason":"violation"}]})",
      "would make event " + std::to_string(inspection) + " (InspectionRecorded of 2023-03-01)");
  // Annulling that inspection is the way: then the revocation stands.
  g.Ok("admin.cm", R"({"type":"AnnulEvent","effective":"2025-09-01","target_seq":)" +
                       std::to_string(inspection) + R"(,"reason":"ghi nhầm"})");
  uint64_t later_inspection = 0;
  for (const auto& e : g.view.events()) {
    if (e.type == "InspectionRecorded" && e.effective == "2025-06-01") later_inspection = e.seq;
  }
  g.Refused(
      "ubnd.cm",
      R"({"type":"RevokeRating","effective":"2023-02-01","decision":{"no":"R-1","date":"2023-02-01","issuer":"CM"},"items":[{"product":"P1","reason":"violation"}]})",
      "would make event " + std::to_string(later_inspection));
}

TEST_CASE("item 10: RevokeRole ends a grant from its effective date") {
  Given g;
  std::string revoke =
      R"({"type":"RevokeRole","effective":"2023-06-01","principal":"officer.um","role":"officer","unit":"UM"})";
  g.Refused("officer.um", revoke, "may not revoke roles");
  CHECK(g.Then("admin.cm", revoke) == Types{"RoleRevoked"});
  auto idea = [](const std::string& id, const std::string& date) {
    return R"({"type":"RegisterIdea","effective":")" + date + R"(","product":")" + id +
           R"(","subject":"S1","name":"x","group":1,"unit":"UM","cycle_year":2023})";
  };
  Status s;
  g.Refused("officer.um", idea("I-1", "2023-06-01"),
            "officer of UM from 2019-02-01 until 2023-06-01 (revoked)", &s);
  CHECK(s.IsForbidden());
  // An act dated before the revocation was covered, and stays covered.
  CHECK(g.Then("officer.um", idea("I-2", "2023-05-31")) == Types{"IdeaRegistered"});
  g.Refused("admin.cm", revoke, "holds no grant of the role officer in unit 'UM'");
  // A new grant covers acts from its own date.
  g.Ok(
      "admin.cm",
      R"({"type":"GrantRole","effective":"2023-07-01","principal":"officer.um","role":"officer","unit":"UM"})");
  g.Refused("officer.um", idea("I-3", "2023-06-15"), "may not register product ideas");
  CHECK(g.Then("officer.um", idea("I-3", "2023-07-01")) == Types{"IdeaRegistered"});
}

TEST_CASE(
    "item 8: a dossier straddling a decree keeps its score; competence follows the decision date") {
  Given g;
  // The rule is data: the entry in force on the decision date says it.
  REQUIRE(RulesInForce(FromCivil(2023, 3, 1)));
  CHECK(RulesInForce(FromCivil(2023, 3, 1))->getTransition() == schema::Transition::SCORES_STAND);
  CHECK(RulesInForce(FromCivil(2025, 7, 6))->getTransition() == schema::Transition::SCORES_STAND);
  // Scored under QĐ 1048 in January 2023, decided under QĐ 148 in March.
  g.Ok(DossierCommands("T3", 2022));
  g.Ok("hd.um", ScoreJson("T3", "HD-UM", "2023-01-15", 25, 15, 20));  // 60 of 1048's 35/25/40: 3★
  CHECK(g.Product("T3").dossier->scores.back().rules == "QD1048");
  // Under 148 the district UBND certifies 3 stars, not the province.
  g.Refused("ubnd.cm", ApproveJson("T3", "2023-03-01", "province", "CM", 3, "GCN-T3"),
            "3 stars are certified at the district level");
  CHECK(g.Then("ubnd.um", ApproveJson("T3", "2023-03-01", "district", "UM", 3, "GCN-T3")) ==
        Types{"Certified"});
  CHECK(std::string(g.Last().getCertified().getRules().cStr()) == "QD148");
  // A 4-star score under 1048 stands though 148 adds mandatory criteria.
  g.Ok(DossierCommands("T4", 2022));
  g.Ok("hd.cm", ScoreJson("T4", "HD-CM", "2023-01-20", 30, 20, 25));  // 75: 4★ under 1048
  CHECK(g.Then("ubnd.cm", ApproveJson("T4", "2023-03-01", "province", "CM", 4, "GCN-T4")) ==
        Types{"Certified"});
}

TEST_CASE("item 8: a retired certifier's competence passes to its successor, no day without one") {
  Given g;
  // Dossiers of June 2025, scored by the district councils before the reform.
  for (auto [id, unit] : {std::pair{"R1", "UM"}, std::pair{"R2", "DD"}}) {
    for (auto [who, json] : DossierCommands(id, 2025, unit)) {
      if (auto at = json.find("2025-08-01"); at != std::string::npos)
        json.replace(at, 10, "2025-06-01");
      g.Ok(who, json);
    }
  }
  g.Ok("hd.um", ScoreJson("R1", "HD-UM", "2025-06-20", 25, 15, 20));  // 60 under 148: 3★, district
  g.Ok("hd.dd", ScoreJson("R2", "HD-DD", "2025-06-20", 25, 15, 20));
  // The district level is abolished on 2025-07-01; QĐ 1489 only takes
  // effect on 2025-07-06, and until then 148 names the district as certifier.
  g.Ok("admin.cm",
       R"({"type":"RetireUnit","effective":"2025-07-01","unit":"UM","successor":"CM"})");
  g.Refused("", ApproveJson("R1", "2025-07-03", "district", "UM", 3, "GCN-R1"),
            "unit 'UM' was retired on 2025-07-01; its competence passed to 'CM'");
  CHECK(g.Then("ubnd.cm", ApproveJson("R1", "2025-07-03", "province", "CM", 3, "GCN-R1")) ==
        Types{"Certified"});
  CHECK(g.Last().getCertified().getLevel() == schema::CouncilLevel::PROVINCE);
  // DD still stands on that day: the province does not take its place.
  g.Refused("ubnd.cm", ApproveJson("R2", "2025-07-03", "province", "CM", 3, "GCN-R2"),
            "3 stars are certified at the district level");
  CHECK(g.Then("ubnd.dd", ApproveJson("R2", "2025-07-03", "district", "DD", 3, "GCN-R2")) ==
        Types{"Certified"});
}

TEST_CASE("StatesView, the generator's and the fuzzer's view, decides as the recorded events do") {
  Given g;
  g.Import("A1", 3, "2021-06-01");
  g.Ok(DossierCommands("N1", 2022));
  // The same events, folded into states held whole.
  StatesView states;
  for (const auto& e : g.view.events()) {
    Date effective;
    REQUIRE(ParseDate(e.effective, &effective));
    states.Apply(e.stream, EventRef{e.seq, effective, e.Payload()});
  }
  for (const char* id : {"A1", "N1"}) {
    const ProductState* held = nullptr;
    uint64_t version = 0;
    REQUIRE(states.Product(id, &held, &version).ok());
    CHECK(projections::StatusJson(*held, FromCivil(2023, 1, 1)) ==
          projections::StatusJson(g.Product(id), FromCivil(2023, 1, 1)));
  }
  // Given the same states, the same command decides the same events.
  const std::string revoke = Revoke("2023-01-11", {{"A1", "production_stopped"}});
  capnp::MallocMessageBuilder msg;
  REQUIRE(ParseCommand(revoke, &msg).ok());
  Decided from_states, from_events;
  REQUIRE(Decide(states, Principal{"ubnd.cm", false}, msg.getRoot<schema::Command>(), &from_states)
              .ok());
  REQUIRE(g.view.DecideOnly("ubnd.cm", revoke, &from_events).ok());
  CHECK(EventTypes(from_states) == EventTypes(from_events));
  CHECK(EventTypes(from_states) == Types{"RatingRevoked"});
  // A state not held is one that does not exist, and reading it holds nothing new.
  const ProductState* none = nullptr;
  uint64_t version = 7;
  REQUIRE(states.Product("NOBODY", &none, &version).ok());
  CHECK_FALSE(none->exists);
  CHECK(version == 0);
  CHECK(states.products.count("NOBODY") == 0);
}

TEST_CASE("issue 17: EraseSubjectData by decision, refused clearly for what it cannot erase") {
  Given g;
  auto erase = [](const std::string& subject, const std::string& issuer = "CM") {
    return R"({"type":"EraseSubjectData","effective":"2023-02-01","subject":")" + subject +
           R"(","decision":{"no":"9/QĐ-UBND","date":"2023-02-01","issuer":")" + issuer + R"("}})";
  };
  auto reg = [](const std::string& id, const std::string& form, const std::string& fields) {
    return R"({"type":"RegisterSubject","effective":"2023-01-01","subject":")" + id +
           R"(","name":"Hộ X","legal_form":")" + form + R"(","unit":"UM")" + fields + "}";
  };
  // As the edge (workflow::Service) records a household business: sealed.
  g.Ok("officer.um", reg("H-SEALED", "HKD", R"(,"personal_fields":"sealed")"));
  // As recorded before sealing existed: its name is in the log in plaintext.
  g.Ok("officer.um", reg("H-OLD", "HKD", ""));
  g.Refused("ubnd.cm", erase("NOPE"), "unknown producer");
  g.Refused("ubnd.cm", erase("S1"), "legal person (HTX)");
  g.Refused("ubnd.cm", erase("H-OLD"), "recorded unsealed");
  g.Refused("officer.um", erase("H-SEALED"), "erase producers' personal data");
  g.Refused("ubnd.cm", erase("H-SEALED", "NOWHERE"), "decision.issuer");
  CHECK(g.Then("ubnd.cm", erase("H-SEALED")) == Types{"SubjectDataErased"});
  const SubjectState* s = nullptr;
  REQUIRE(g.view.Subject("H-SEALED", &s).ok());
  CHECK(s->erased);
  CHECK(s->name.empty());
  g.Refused("ubnd.cm", erase("H-SEALED"), "already erased");
  // Nor is it undone: the key is gone.
  const uint64_t erasure = g.view.events().back().seq;
  g.Refused("admin.cm",
            R"({"type":"AnnulEvent","effective":"2023-02-02","target_seq":)" +
                std::to_string(erasure) + R"(,"reason":"by mistake"})",
            "could not bring the data back");
}

// Issue 16: a refusal carries the path of the field it is about, set where
// it is made, so that a form shows it beside that field; a refusal of the
// act as a whole names none.
TEST_CASE("a refusal names the field it is about, as a path") {
  Given g;
  Status s;
  // Read from JSON: an unknown field, a value of the wrong kind, a bad choice.
  g.Refused(
      "officer.um",
      R"({"type":"RegisterSubject","effective":"2024-01-02","subject":"S9","name":"X","legal_form":"HTX","unit":"UM","colour":1})",
      "unknown field 'colour'", &s);
  CHECK(s.field() == "colour");
  g.Refused(
      "officer.um",
      R"({"type":"RegisterSubject","effective":"2024-01-02","subject":"S9","name":"X","legal_form":"XYZ","unit":"UM"})",
      "field 'legal_form'", &s);
  CHECK(s.field() == "legal_form");
  // Decided: an unknown producer, a retired issuer's level, a back-dated act.
  g.Refused(
      "officer.um",
      R"({"type":"RegisterIdea","effective":"2024-03-01","product":"P9","subject":"KHONG","name":"X","group":1,"unit":"UM","cycle_year":2024})",
      "unknown producer 'KHONG'", &s);
  CHECK(s.field() == "subject");
  g.Ok(DossierCommands("P1", 2024));
  g.Ok("hd.um", ScoreJson("P1", "HD-UM", "2024-09-01", 30, 20, 25));
  g.Refused("ubnd.um", ApproveJson("P1", "2024-09-20", "district", "CM", 3, "GCN-1"),
            "field 'decision.issuer'", &s);
  CHECK(s.field() == "decision.issuer");
  // One item of a decision over several products: its row and column.
  const std::string two =
      R"({"type":"ApproveResults","effective":"2024-09-20","decision":{"no":"45/QĐ","date":"2024-09-20","issuer":"UM"},"level":"district","items":[{"product":"P1","stars":3,"certificate":"GCN-1"},{"product":"P77","stars":3,"certificate":"GCN-2"}]})";
  g.Refused("ubnd.um", two, "unknown product 'P77'", &s);
  CHECK(s.field() == "items[1].product");
  const std::string nine =
      R"({"type":"ApproveResults","effective":"2024-09-20","decision":{"no":"45/QĐ","date":"2024-09-20","issuer":"UM"},"level":"district","items":[{"product":"P1","stars":9,"certificate":"GCN-1"}]})";
  g.Refused("ubnd.um", nine, "stars must be from", &s);
  CHECK(s.field() == "items[0].stars");
  // A review dated before the idea it reviews: the date is what is wrong.
  g.Refused(
      "officer.um",
      R"({"type":"SubmitDossier","effective":"2024-01-05","product":"P1","cycle_year":2024,"entry":"new"})",
      "P1", &s);
  INFO(s.ToString());
  CHECK(s.field() == "effective");
  // Outside the principal's authority: the act as a whole, no field.
  g.Refused(
      "officer.dd",
      R"({"type":"RegisterSubject","effective":"2024-01-02","subject":"S9","name":"X","legal_form":"HTX","unit":"UM"})",
      "", &s);
  CHECK(s.IsForbidden());
  CHECK(s.field().empty());
}

// Issue 16 item 4: the official behind an account, by an admin of the unit;
// the record in force on a date names who acted then.
TEST_CASE("RegisterOfficial records who an account is; the record of a date names its acts") {
  Given g;
  Status s;
  const std::string first =
      R"({"type":"RegisterOfficial","effective":"2024-01-02","principal":"officer.um","full_name":"Nguyễn Văn A","title":"Chuyên viên","office":"Phòng NN&PTNT huyện U Minh","unit":"UM"})";
  g.Refused("officer.um", first, "register officials", &s);  // only an admin
  CHECK(s.IsForbidden());
  g.Refused(
      "admin.cm",
      R"({"type":"RegisterOfficial","effective":"2024-01-02","principal":"officer.um","full_name":"","title":"Chuyên viên","unit":"UM"})",
      "field 'full_name' must not be empty", &s);
  CHECK(s.field() == "full_name");
  g.Refused(
      "admin.cm",
      R"({"type":"RegisterOfficial","effective":"2024-01-02","principal":"officer.um","full_name":"Nguyễn Văn A","title":"Chuyên viên","unit":"ZZ"})",
      "unknown unit 'ZZ'", &s);
  CHECK(s.field() == "unit");
  CHECK(g.Then("admin.cm", first) == Types{"OfficialRegistered"});
  // Promoted on 2025-01-01: a second record from then on.
  CHECK(
      g.Then(
          "admin.cm",
          R"({"type":"RegisterOfficial","effective":"2025-01-01","principal":"officer.um","full_name":"Nguyễn Văn A","title":"Phó Trưởng phòng","unit":"UM"})") ==
      Types{"OfficialRegistered"});
  const PrincipalState* p = nullptr;
  REQUIRE(g.view.Principal("officer.um", &p).ok());
  REQUIRE(p->officials.size() == 2);
  Date d;
  REQUIRE(ParseDate("2024-06-01", &d));
  REQUIRE(p->OfficialOn(d) != nullptr);
  CHECK(p->OfficialOn(d)->title == "Chuyên viên");
  CHECK(p->OfficialOn(d)->office == "Phòng NN&PTNT huyện U Minh");
  REQUIRE(ParseDate("2025-03-01", &d));
  CHECK(p->OfficialOn(d)->title == "Phó Trưởng phòng");
  // Before any record: the first still names the person.
  REQUIRE(ParseDate("2020-01-01", &d));
  CHECK(p->OfficialOn(d)->name == "Nguyễn Văn A");
  // The grants are untouched: the account acts as before.
  CHECK(p->grants.size() == 1);
  const PrincipalState* none = nullptr;
  REQUIRE(g.view.Principal("officer.dd", &none).ok());
  CHECK(none->OfficialOn(d) == nullptr);
}
