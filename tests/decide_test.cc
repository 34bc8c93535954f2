// Every way a command is refused: malformed JSON, unknown references,
// authority, and the workflow's transitions. Each refusal names what was
// wrong, and appends nothing.
#include <catch2/catch.hpp>

#include <thread>

#include "tests/workflow_support.h"

using namespace ocop;
using ocop::testing::World;

namespace {

enum class Want { kInvalid, kForbidden, kRefused, kConflict };

struct Case {
  const char* name;
  const char* who;  // "" = the local superuser
  std::string json;
  Want want;
  const char* says;  // a fragment the message must contain
};

void Check(World& w, const Case& c) {
  INFO(c.name << ": " << c.json);
  uint64_t before = w.ledger()->Size();
  Status s = w.Submit(c.who, c.json);
  INFO(s.ToString());
  switch (c.want) {
    case Want::kInvalid:
      CHECK(s.IsInvalidArgument());
      break;
    case Want::kForbidden:
      CHECK(s.IsForbidden());
      break;
    case Want::kRefused:
      CHECK(s.IsRefused());
      break;
    case Want::kConflict:
      CHECK(s.IsConflict());
      break;
  }
  CHECK(s.message().find(c.says) != std::string::npos);
  CHECK(w.ledger()->Size() == before);
}

// A world with products at every stage:
//   IDEA (registered)  REJ (rejected 2022-03-10)  SEL (selected)
//   PLAN (plan submitted)  APP (plan approved)  DOS (dossier)
//   SCO (scored 75 by HD-UM)  CERT (4 stars, province, 2022)  OLD (expired)
void Build(World& w) {
  w.Standard();
  auto idea = [&](const char* id, const char* unit = "UM") {
    w.Ok(std::string("officer.") + (std::string(unit) == "UM" ? "um" : "dd"),
         std::string(R"({"type":"RegisterIdea","effective":"2022-03-01","product":")") + id +
             R"(","subject":"S1","name":"SP","group":1,"unit":")" + unit +
             R"(","cycle_year":2022})");
  };
  idea("IDEA");
  idea("REJ");
  w.Ok(
      "officer.um",
      R"({"type":"ReviewIdea","effective":"2022-03-10","product":"REJ","outcome":"rejected","reason":"x"})");
  idea("SEL");
  w.Ok("officer.um",
       R"({"type":"ReviewIdea","effective":"2022-03-10","product":"SEL","outcome":"selected"})");
  idea("PLAN");
  w.Ok("officer.um",
       R"({"type":"ReviewIdea","effective":"2022-03-10","product":"PLAN","outcome":"selected"})");
  w.Ok(
      "officer.um",
      R"({"type":"SubmitPlan","effective":"2022-04-01","product":"PLAN","document":{"title":"t","sha256":"abababababababababababababababababababababababababababababababab"}})");
  w.ToDossier("DOS", 2022);
  w.ToDossier("SCO", 2022);
  w.Ok("hd.um", w.Score("SCO", "HD-UM", "2022-08-15", 30, 20, 25));  // 75
  w.ToDossier("CERT", 2022);
  w.Ok("hd.cm", w.Score("CERT", "HD-CM", "2022-09-01", 30, 20, 25));
  w.Ok("ubnd.cm", w.Approve("CERT", "2022-09-20", "province", "CM", 4, "GCN-CERT"));
  w.ToDossier("OLD", 2019);
  w.Ok("hd.cm", w.Score("OLD", "HD-CM", "2019-09-01", 30, 20, 25));
  w.Ok("ubnd.cm", w.Approve("OLD", "2019-09-20", "province", "CM", 4, "GCN-OLD"));
}

}  // namespace

TEST_CASE("malformed commands name the field and what is allowed") {
  World w;
  w.Standard();
  const std::vector<Case> cases = {
      {"not json", "", "{", Want::kInvalid, "not valid JSON"},
      {"not an object", "", "[1]", Want::kInvalid, "must be a JSON object"},
      {"no type", "", R"({"effective":"2022-01-01"})", Want::kInvalid, "missing field 'type'"},
      {"unknown type", "", R"({"type":"Delete","effective":"2022-01-01"})", Want::kInvalid,
       "RegisterIdea"},
      {"missing field", "",
       R"({"type":"DefineUnit","effective":"2022-01-01","unit":"X","level":"province"})",
       Want::kInvalid, "missing field 'name'"},
      {"unknown field", "",
       R"({"type":"ReviewIdea","effective":"2022-01-01","product":"P","outcome":"selected","x":1})",
       Want::kInvalid, "unknown field 'x'"},
      {"wrong type", "",
       R"({"type":"RegisterIdea","effective":"2022-03-01","product":"P","subject":"S1","name":"n","unit":"UM","cycle_year":"2022"})",
       Want::kInvalid, "field 'cycle_year' must be an integer"},
      {"out of range integer", "",
       R"({"type":"ClassifyProduct","effective":"2022-03-01","product":"P","group":300})",
       Want::kInvalid, "field 'group' must be an integer from 0 to 255"},
      {"unknown enum", "",
       R"({"type":"ReviewIdea","effective":"2022-01-01","product":"P","outcome":"maybe"})",
       Want::kInvalid, "selected, rejected"},
      {"bad date", "",
       R"({"type":"ReviewIdea","effective":"2023-02-29","product":"P","outcome":"selected"})",
       Want::kInvalid, "field 'effective' must be a real date"},
      {"bad nested date", "",
       R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"1","date":"2023-13-01","issuer":"CM"},"items":[]})",
       Want::kInvalid, "decision.date"},
      {"bad list item", "",
       R"({"type":"ApproveResults","effective":"2023-01-01","decision":{"no":"1","date":"2023-01-01","issuer":"CM"},"level":"province","items":[{"product":"P","stars":"four","certificate":"c"}]})",
       Want::kInvalid, "items[0].stars"},
      {"score part out of range", "",
       R"({"type":"RecordScore","effective":"2024-01-01","product":"P","council":"HD-CM","parts":{"A":"x","B":1,"C":1}})",
       Want::kInvalid, "parts.A"},
      {"unknown entry", "",
       R"({"type":"SubmitDossier","effective":"2023-08-01","product":"P","cycle_year":2023,"entry":"again"})",
       Want::kInvalid, "field 'entry' must be one of new, renewal, upgrade; got \"again\""},
  };
  for (const auto& c : cases) Check(w, c);
}

TEST_CASE("unknown references, duplicates and authority are refused") {
  World w;
  Build(w);
  const std::vector<Case> cases =
      {
          // Directory.
          {"unit twice", "",
           R"({"type":"DefineUnit","effective":"2022-01-01","unit":"CM","name":"x","level":"province"})",
           Want::kRefused, "already defined"},
          {"district without parent", "",
           R"({"type":"DefineUnit","effective":"2022-01-01","unit":"Q","name":"x","level":"district"})",
           Want::kInvalid, "needs a parent"},
          {"unknown parent", "",
           R"({"type":"DefineUnit","effective":"2022-01-01","unit":"Q","name":"x","level":"district","parent":"NOPE"})",
           Want::kInvalid, "unknown unit 'NOPE'"},
          {"district under district", "",
           R"({"type":"DefineUnit","effective":"2022-01-01","unit":"Q","name":"x","level":"district","parent":"UM"})",
           Want::kInvalid, "cannot sit under"},
          {"officer defines a unit", "officer.um",
           R"({"type":"DefineUnit","effective":"2022-01-01","unit":"Q","name":"x","level":"commune","parent":"UM"})",
           Want::kForbidden, "needs the role admin"},
          {"retire into itself", "",
           R"({"type":"RetireUnit","effective":"2025-07-01","unit":"UM","successor":"UM"})",
           Want::kInvalid, "another unit"},
          {"retire into a child", "",
           R"({"type":"RetireUnit","effective":"2025-07-01","unit":"UM","successor":"XA"})",
           Want::kInvalid, "lies within"},
          {"unit without a code", "",
           R"({"type":"DefineUnit","effective":"2022-01-01","unit":"","name":"x","level":"province"})",
           Want::kInvalid, "field 'unit' must not be empty"},
          {"unit without a name", "",
           R"({"type":"DefineUnit","effective":"2022-01-01","unit":"Q","name":"","level":"province"})",
           Want::kInvalid, "field 'name' must not be empty"},
          {"grant to nobody", "",
           R"({"type":"GrantRole","effective":"2022-01-01","principal":"","role":"officer","unit":"CM"})",
           Want::kInvalid, "field 'principal' must not be empty"},
          {"council named for an officer", "",
           R"({"type":"GrantRole","effective":"2022-01-01","principal":"p","role":"officer","unit":"CM","council":"HD-CM"})",
           Want::kInvalid, "only for the role council"},
          {"council without an id", "",
           R"({"type":"ConstituteCouncil","effective":"2022-01-01","council":"","level":"province","unit":"CM","decision":{"no":"1","date":"2022-01-01","issuer":"CM"}})",
           Want::kInvalid, "field 'council' must not be empty"},
          {"council twice", "",
           R"({"type":"ConstituteCouncil","effective":"2022-01-01","council":"HD-CM","level":"province","unit":"CM","decision":{"no":"1","date":"2022-01-01","issuer":"CM"}})",
           Want::kRefused, "already constituted"},
          {"producer without an id", "officer.um",
           R"({"type":"RegisterSubject","effective":"2022-01-01","subject":"","name":"x","legal_form":"HTX","unit":"UM"})",
           Want::kInvalid, "field 'subject' must not be empty"},
          {"council role without council", "",
           R"({"type":"GrantRole","effective":"2022-01-01","principal":"p","role":"council","unit":"CM"})",
           Want::kInvalid, "council"},
          {"unknown council", "",
           R"({"type":"GrantRole","effective":"2022-01-01","principal":"p","role":"council","unit":"CM","council":"NOPE"})",
           Want::kInvalid, "unknown council"},
          {"admin of another province", "admin.cm",
           R"({"type":"GrantRole","effective":"2022-01-01","principal":"p","role":"officer","unit":"BL"})",
           Want::kForbidden, "admin"},
          {"council level mismatch", "",
           R"({"type":"ConstituteCouncil","effective":"2022-01-01","council":"HX","level":"province","unit":"UM","decision":{"no":"1","date":"2022-01-01","issuer":"UM"}})",
           Want::kInvalid, "level"},
          {"producer twice", "officer.um",
           R"({"type":"RegisterSubject","effective":"2022-01-01","subject":"S1","name":"x","legal_form":"HTX","unit":"UM"})",
           Want::kRefused, "already registered"},
          {"officer outside unit", "officer.dd",
           R"({"type":"RegisterSubject","effective":"2022-01-01","subject":"S9","name":"x","legal_form":"DN","unit":"UM"})",
           Want::kForbidden, "officer"},
          {"auditor only reads", "auditor.cm",
           R"({"type":"RegisterSubject","effective":"2022-01-01","subject":"S9","name":"x","legal_form":"DN","unit":"CM"})",
           Want::kForbidden, "auditor of CM"},
          // Ideas.
          {"unknown producer", "officer.um",
           R"({"type":"RegisterIdea","effective":"2022-03-01","product":"N1","subject":"NOPE","name":"x","group":1,"unit":"UM","cycle_year":2022})",
           Want::kInvalid, "unknown producer"},
          {"unknown group", "officer.um",
           R"({"type":"RegisterIdea","effective":"2022-03-01","product":"N1","subject":"S1","name":"x","group":7,"unit":"UM","cycle_year":2022})",
           Want::kInvalid, "Thực phẩm"},
          {"idea without an id", "officer.um",
           R"({"type":"RegisterIdea","effective":"2022-03-01","product":"","subject":"S1","name":"x","group":1,"unit":"UM","cycle_year":2022})",
           Want::kInvalid, "field 'product' must not be empty"},
          {"idea without a name", "officer.um",
           R"({"type":"RegisterIdea","effective":"2022-03-01","product":"N1","subject":"S1","name":"","group":1,"unit":"UM","cycle_year":2022})",
           Want::kInvalid, "field 'name' must not be empty"},
          {"idea of a year before the programme", "officer.um",
           R"({"type":"RegisterIdea","effective":"2022-03-01","product":"N1","subject":"S1","name":"x","group":1,"unit":"UM","cycle_year":2017})",
           Want::kInvalid, "2018 or later"},
          {"classified into group 7", "officer.um",
           R"({"type":"ClassifyProduct","effective":"2022-03-20","product":"IDEA","group":7})",
           Want::kInvalid, "6 Dịch vụ du lịch nông thôn và bán hàng (QĐ 1048); got 7"},
          {"classified before the rules", "officer.um",
           R"({"type":"ClassifyProduct","effective":"2019-08-20","product":"IDEA","group":1})",
           Want::kInvalid, "must be one of 1-6"},
          {"idea twice", "officer.um",
           R"({"type":"RegisterIdea","effective":"2022-03-01","product":"IDEA","subject":"S1","name":"x","group":1,"unit":"UM","cycle_year":2022})",
           Want::kRefused, "already registered"},
          {"resubmitted too soon", "officer.um",
           R"({"type":"RegisterIdea","effective":"2022-03-16","product":"REJ","subject":"S1","name":"x","group":1,"unit":"UM","cycle_year":2022})",
           Want::kRefused, "2022-03-17"},
          {"review twice", "officer.um",
           R"({"type":"ReviewIdea","effective":"2022-03-20","product":"SEL","outcome":"selected"})",
           Want::kRefused, "idea_selected"},
          {"review unknown product", "officer.um",
           R"({"type":"ReviewIdea","effective":"2022-03-20","product":"NOPE","outcome":"selected"})",
           Want::kInvalid, "unknown product"},
          // Plans and support.
          {"plan before selection", "officer.um",
           R"({"type":"SubmitPlan","effective":"2022-04-01","product":"IDEA","document":{"title":"t","sha256":"abababababababababababababababababababababababababababababababab"}})",
           Want::kRefused, "idea_registered"},
          {"bad digest", "officer.um",
           R"({"type":"SubmitPlan","effective":"2022-04-01","product":"SEL","document":{"title":"t","sha256":"xyz"}})",
           Want::kInvalid, "64 hexadecimal"},
          {"review plan not submitted", "officer.um",
           R"({"type":"ReviewPlan","effective":"2022-04-15","product":"SEL","outcome":"approved"})",
           Want::kRefused, "plan_submitted"},
          {"support without approved plan", "officer.um",
           R"({"type":"GrantSupport","effective":"2022-05-01","product":"PLAN","category":"bao bì","amount_vnd":1000000,"source":"province"})",
           Want::kRefused, "approved"},
          {"support of nothing", "officer.um",
           R"({"type":"GrantSupport","effective":"2022-05-01","product":"DOS","category":"bao bì","amount_vnd":0,"source":"province"})",
           Want::kInvalid, "positive"},
          // Dossiers.
          {"new dossier without plan", "officer.um",
           R"({"type":"SubmitDossier","effective":"2022-08-01","product":"SEL","cycle_year":2022,"entry":"new"})",
           Want::kRefused, "approved business plan"},
          {"second dossier same cycle", "officer.um",
           R"({"type":"SubmitDossier","effective":"2022-08-02","product":"DOS","cycle_year":2022,"entry":"new"})",
           Want::kRefused, "under evaluation"},
          {"renewal without certificate", "officer.um",
           R"({"type":"SubmitDossier","effective":"2023-08-01","product":"SCO","cycle_year":2023,"entry":"renewal"})",
           Want::kRefused, "no certificate in force"},
          {"upgrade without certificate", "officer.um",
           R"({"type":"SubmitDossier","effective":"2023-08-01","product":"SCO","cycle_year":2023,"entry":"upgrade"})",
           Want::kRefused, "no certificate in force on 2023-08-01 to upgrade"},
          {"new while certified", "officer.um",
           R"({"type":"SubmitDossier","effective":"2023-08-01","product":"CERT","cycle_year":2023,"entry":"new"})",
           Want::kRefused, "renewal or upgrade"},
          {"renewal after expiry", "officer.um",
           R"({"type":"SubmitDossier","effective":"2023-01-01","product":"OLD","cycle_year":2023,"entry":"renewal"})",
           Want::kRefused, "before expiry"},
          {"import as entry", "officer.um",
           R"({"type":"SubmitDossier","effective":"2023-08-01","product":"CERT","cycle_year":2023,"entry":"import"})",
           Want::kInvalid, "ImportCertificate"},
          {"import as entry beside an open dossier", "officer.um",
           R"({"type":"SubmitDossier","effective":"2022-08-02","product":"DOS","cycle_year":2022,"entry":"import"})",
           Want::kInvalid, "must be new, renewal or upgrade; imports use ImportCertificate"},
          // Scores.
          {"unknown council", "hd.um",
           R"({"type":"RecordScore","effective":"2022-08-15","product":"DOS","council":"NOPE","parts":{"A":1,"B":1,"C":1}})",
           Want::kInvalid, "unknown council"},
          {"member of another council", "hd.dd",
           R"({"type":"RecordScore","effective":"2022-08-15","product":"DOS","council":"HD-UM","parts":{"A":1,"B":1,"C":1}})",
           Want::kForbidden, "council 'HD-UM'"},
          {"council outside its unit", "hd.dd",
           R"({"type":"RecordScore","effective":"2022-08-15","product":"DOS","council":"HD-DD","parts":{"A":1,"B":1,"C":1}})",
           Want::kForbidden, "may not score"},
          {"council outside its unit (superuser)", "",
           R"({"type":"RecordScore","effective":"2022-08-15","product":"DOS","council":"HD-DD","parts":{"A":1,"B":1,"C":1}})",
           Want::kForbidden,
           "council 'HD-DD' of unit 'DD' cannot score product 'DOS' of unit 'UM'"},
          {"score without dossier", "hd.um",
           R"({"type":"RecordScore","effective":"2022-08-15","product":"SEL","council":"HD-UM","parts":{"A":1,"B":1,"C":1}})",
           Want::kRefused, "no dossier"},
          {"central scores unforwarded", "hd.tw",
           R"({"type":"RecordScore","effective":"2022-11-15","product":"DOS","council":"HD-TW","parts":{"A":1,"B":1,"C":1}})",
           Want::kRefused, "forwarded"},
          {"negative part", "hd.um",
           R"({"type":"RecordScore","effective":"2022-08-15","product":"DOS","council":"HD-UM","parts":{"A":-1,"B":1,"C":1}})",
           Want::kInvalid, "parts.A"},
          {"score before the rules", "hd.um",
           R"({"type":"RecordScore","effective":"2019-01-15","product":"DOS","council":"HD-UM","parts":{"A":1,"B":1,"C":1}})",
           Want::kRefused, "no OCOP scoring rules"},
          // Forwarding.
          {"forward unscored", "officer.um",
           R"({"type":"Forward","effective":"2022-08-20","product":"DOS","to_level":"province"})",
           Want::kRefused, "no scored dossier"},
          {"forward downward", "officer.um",
           R"({"type":"Forward","effective":"2022-08-20","product":"SCO","to_level":"commune"})",
           Want::kRefused, "higher level"},
          {"forward to the level that scored", "officer.um",
           R"({"type":"Forward","effective":"2022-08-20","product":"SCO","to_level":"district"})",
           Want::kRefused, "last scored at the district level"},
          {"forward without dossier", "officer.um",
           R"({"type":"Forward","effective":"2022-08-20","product":"SEL","to_level":"province"})",
           Want::kRefused, "no scored dossier to forward"},
          // Decisions.
          {"stars over the score", "ubnd.um",
           R"({"type":"ApproveResults","effective":"2023-03-01","decision":{"no":"1","date":"2023-03-01","issuer":"UM"},"level":"district","items":[{"product":"DOS","stars":3,"certificate":"c"}]})",
           Want::kRefused, "no council of the district level has scored"},
          {"stars over what was scored", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"2","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"SCO","stars":4,"certificate":"c"}]})",
           Want::kRefused, "scored"},
          {"unrecognised stars", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"3","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"SCO","stars":2,"certificate":"c"}]})",
           Want::kInvalid, "only recognised"},
          {"issuer of another level", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"4","date":"2022-09-20","issuer":"UM"},"level":"province","items":[{"product":"SCO","stars":3,"certificate":"c"}]})",
           Want::kInvalid, "not a unit of the province level"},
          {"authority of another province", "ubnd.bl",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"5","date":"2022-09-20","issuer":"BL"},"level":"province","items":[{"product":"SCO","stars":3,"certificate":"c"}]})",
           Want::kForbidden, "not within the issuer"},
          {"signs for another unit", "ubnd.um",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"6","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"SCO","stars":3,"certificate":"c"}]})",
           Want::kForbidden, "signs for"},
          {"product twice in a decision", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"7","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"SCO","stars":3,"certificate":"a"},{"product":"SCO","stars":3,"certificate":"b"}]})",
           Want::kInvalid, "named twice"},
          {"one bad item refuses the batch",
           "ubnd.cm", R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"8","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"CERT","stars":3,"certificate":"x"},{"product":"IDEA","stars":3,"certificate":"y"}]})",
           Want::kRefused, "items"},
          {"decision before the rules", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2019-01-01","decision":{"no":"9","date":"2019-01-01","issuer":"CM"},"level":"province","items":[{"product":"SCO","stars":3,"certificate":"c"}]})",
           Want::kRefused, "no OCOP rules"},
          {"empty decision", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"10","date":"2022-09-20","issuer":"CM"},"level":"province","items":[]})",
           Want::kInvalid, "at least one"},
          {"decision without a number", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"SCO","stars":3,"certificate":"c"}]})",
           Want::kInvalid, "field 'decision.no' must not be empty"},
          {"5 stars by a province", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"11","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"SCO","stars":5,"certificate":"c"}]})",
           Want::kForbidden, "5 stars are certified at the central level, not the province level"},
          {"approve without dossier", "ubnd.cm",
           R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"12","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"IDEA","stars":3,"certificate":"c"}]})",
           Want::kRefused, "no dossier is under evaluation on 2022-09-20 (stage idea_registered)"},
          {"certificate without a number", "ubnd.um",
           R"({"type":"ApproveResults","effective":"2023-03-01","decision":{"no":"13","date":"2023-03-01","issuer":"UM"},"level":"district","items":[{"product":"SCO","stars":3,"certificate":""}]})",
           Want::kInvalid, "certificate must not be empty"},
          // Revocation.
          {"revoke uncertified", "ubnd.cm",
           R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"R1","date":"2023-01-01","issuer":"CM"},"items":[{"product":"SCO","reason":"violation"}]})",
           Want::kRefused, "the product never held a certificate"},
          {"revoke below the issuing level", "ubnd.um",
           R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"R2","date":"2023-01-01","issuer":"UM"},"items":[{"product":"CERT","reason":"violation"}]})",
           Want::kForbidden, "that level or above"},
          {"revoke lapsed", "ubnd.cm",
           R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"R3","date":"2023-01-01","issuer":"CM"},"items":[{"product":"OLD","reason":"violation"}]})",
           Want::kRefused, "no certificate is in force"},
          {"revocation without a number", "ubnd.cm",
           R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"","date":"2023-01-01","issuer":"CM"},"items":[{"product":"CERT","reason":"violation"}]})",
           Want::kInvalid, "field 'decision.no' must not be empty"},
          {"revocation of nothing", "ubnd.cm",
           R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"R4","date":"2023-01-01","issuer":"CM"},"items":[]})",
           Want::kInvalid, "at least one"},
          {"revoke outside the issuer", "ubnd.bl",
           R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"R5","date":"2023-01-01","issuer":"BL"},"items":[{"product":"CERT","reason":"violation"}]})",
           Want::kForbidden, "not within the issuer 'BL'"},
          {"revoke signed for another unit", "ubnd.um",
           R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"R6","date":"2023-01-01","issuer":"CM"},"items":[{"product":"CERT","reason":"violation"}]})",
           Want::kForbidden, "'ubnd.um' signs for 'UM', not for the issuer 'CM'"},
          // After recognition.
          {"inspection by an officer", "officer.um",
           R"({"type":"RecordInspection","effective":"2023-01-01","product":"CERT","compliant":true})",
           Want::kForbidden, "inspector"},
          {"inspection of uncertified", "inspector.cm",
           R"({"type":"RecordInspection","effective":"2023-01-01","product":"SCO","compliant":true})",
           Want::kRefused, "holds no certificate in force on 2023-01-01"},
          {"promotion of uncertified", "officer.um",
           R"({"type":"RecordPromotion","effective":"2023-01-01","product":"SCO","channel":"hội chợ"})",
           Want::kRefused, "holds no certificate in force on 2023-01-01"},
          {"promotion without a channel", "officer.um",
           R"({"type":"RecordPromotion","effective":"2023-01-01","product":"CERT","channel":""})",
           Want::kInvalid, "field 'channel' must not be empty"},
          // Imports, annulments, disputes, targets.
          {"import over an existing product", "admin.cm",
           R"({"type":"ImportCertificate","effective":"2022-01-01","product":"CERT","subject":"S1","name":"x","group":1,"unit":"UM","stars":3,"certificate":"c","decision":{"no":"1","date":"2020-01-01","issuer":"CM"}})",
           Want::kRefused, "already in the ledger"},
          {"import of 2 stars", "admin.cm",
           R"({"type":"ImportCertificate","effective":"2022-01-01","product":"IMP","subject":"S1","name":"x","group":1,"unit":"UM","stars":2,"certificate":"c","decision":{"no":"1","date":"2020-01-01","issuer":"CM"}})",
           Want::kInvalid, "from 3 to 5"},
          {"import without a product id", "admin.cm",
           R"({"type":"ImportCertificate","effective":"2022-01-01","product":"","subject":"S1","name":"x","group":1,"unit":"UM","stars":3,"certificate":"c","decision":{"no":"1","date":"2020-01-01","issuer":"CM"}})",
           Want::kInvalid, "field 'product' must not be empty"},
          {"import of an unknown producer", "admin.cm",
           R"({"type":"ImportCertificate","effective":"2022-01-01","product":"IMP","subject":"NOPE","name":"x","group":1,"unit":"UM","stars":3,"certificate":"c","decision":{"no":"1","date":"2020-01-01","issuer":"CM"}})",
           Want::kInvalid, "unknown producer 'NOPE'"},
          {"import into group 7", "admin.cm",
           R"({"type":"ImportCertificate","effective":"2022-01-01","product":"IMP","subject":"S1","name":"x","group":7,"unit":"UM","stars":3,"certificate":"c","decision":{"no":"1","date":"2020-01-01","issuer":"CM"}})",
           Want::kInvalid, "field 'group' must be one of 1 Thực phẩm"},
          {"import without a certificate number", "admin.cm",
           R"({"type":"ImportCertificate","effective":"2022-01-01","product":"IMP","subject":"S1","name":"x","group":1,"unit":"UM","stars":3,"certificate":"","decision":{"no":"1","date":"2020-01-01","issuer":"CM"}})",
           Want::kInvalid, "field 'certificate' must not be empty"},
          {"annul nothing", "admin.cm",
           R"({"type":"AnnulEvent","effective":"2023-01-01","target_seq":999999,"reason":"wrong"})",
           Want::kInvalid, "no event 999999"},
          {"annul without reason", "admin.cm",
           R"({"type":"AnnulEvent","effective":"2023-01-01","target_seq":1,"reason":""})",
           Want::kInvalid, "why"},
          {"dispute of unknown product", "officer.um",
           R"({"type":"FileDispute","effective":"2023-01-01","dispute":"T1","product":"NOPE","claim":"x"})",
           Want::kInvalid, "unknown product"},
          {"resolve unknown dispute", "ubnd.cm",
           R"({"type":"ResolveDispute","effective":"2023-01-01","dispute":"NOPE","outcome":"x"})",
           Want::kInvalid, "unknown dispute"},
          {"dispute without an id", "officer.um",
           R"({"type":"FileDispute","effective":"2023-01-01","dispute":"","product":"SCO","claim":"x"})",
           Want::kInvalid, "field 'dispute' must not be empty"},
          {"target without an indicator", "admin.cm",
           R"({"type":"SetTarget","effective":"2023-01-01","unit":"CM","year":2025,"indicator":"","value":5})",
           Want::kInvalid, "field 'indicator' must name"},
          {"target by an officer", "officer.um",
           R"({"type":"SetTarget","effective":"2023-01-01","unit":"CM","year":2025,"indicator":"products_5_stars","value":5})",
           Want::kForbidden, "admin or authority"},
          {"expected version", "officer.um",
           R"({"type":"ReviewIdea","effective":"2022-03-20","product":"IDEA","outcome":"selected","expected_version":7})",
           Want::kConflict, "version 1"},
      };
  for (const auto& c : cases) Check(w, c);
}

TEST_CASE(
    "transitions that succeed: resubmission, renewal, upgrade, revocation, import, annulment, "
    "disputes") {
  World w;
  Build(w);
  // A rejected idea may come back 7 days later.
  w.Ok(
      "officer.um",
      R"({"type":"RegisterIdea","effective":"2022-03-17","product":"REJ","subject":"S1","name":"SP","group":1,"unit":"UM","cycle_year":2022})");
  CHECK(w.Product("REJ").stage == workflow::Stage::kIdeaRegistered);

  // Renewal with fewer stars: flagged, and it supersedes.
  w.Ok(
      "officer.um",
      R"({"type":"SubmitDossier","effective":"2025-08-01","product":"CERT","cycle_year":2025,"entry":"renewal"})");
  w.Ok("hd.cm", w.Score("CERT", "HD-CM", "2025-08-20", 25, 15, 15));  // 55: 3 stars
  w.Ok("ubnd.cm", w.Approve("CERT", "2025-09-10", "province", "CM", 3, "GCN-CERT-2"));
  auto cert = w.Product("CERT");
  REQUIRE(cert.certificates.size() == 2);
  CHECK(cert.certificates[1].fewer_stars);
  CHECK(cert.certificates[0].superseded_by == "GCN-CERT-2");
  CHECK(cert.certificates[0].renewal_entered);
  CHECK(cert.Current()->stars == 3);

  // Upgrade 3 -> 4 under QĐ 1489 (province certifies both).
  w.Ok(
      "officer.um",
      R"({"type":"SubmitDossier","effective":"2026-08-01","product":"CERT","cycle_year":2026,"entry":"upgrade"})");
  w.Ok("hd.cm", w.Score("CERT", "HD-CM", "2026-08-20", 32, 20, 25));  // 77
  Status s =
      w.Submit("ubnd.cm", w.Approve("CERT", "2026-09-10", "province", "CM", 3, "GCN-CERT-3"));
  CHECK(s.IsRefused());  // an upgrade must give more stars
  w.Ok("ubnd.cm", w.Approve("CERT", "2026-09-10", "province", "CM", 4, "GCN-CERT-3"));
  CHECK(w.Product("CERT").Current()->stars == 4);

  // Batch revocation: both products, one decision; then the product may re-enter.
  w.Ok("hd.um", w.Score("SCO", "HD-UM", "2023-03-01", 25, 15, 15));
  w.Ok("ubnd.um", w.Approve("SCO", "2023-03-10", "district", "UM", 3, "GCN-SCO"));
  w.Ok(
      "ubnd.cm",
      R"({"type":"RevokeRating","effective":"2027-01-05","decision":{"no":"88/QĐ","date":"2027-01-05","issuer":"CM"},"items":[{"product":"CERT","reason":"violation"}]})");
  auto revoked = w.Product("CERT");
  CHECK(revoked.stage == workflow::Stage::kRevoked);
  CHECK(revoked.Current() == nullptr);
  CHECK(revoked.certificates.back().revoked);

  // Import, then annul it: both stay in the stream, the fold forgets the import.
  workflow::Outcome o;
  REQUIRE(
      w.Submit(
           "admin.cm",
           R"({"type":"ImportCertificate","effective":"2022-01-01","product":"IMP","subject":"S1","name":"Khô cá","group":1,"unit":"UM","stars":4,"certificate":"OLD-1","decision":{"no":"12/QĐ","date":"2020-06-01","issuer":"CM"}})",
           &o)
          .ok());
  auto imp = w.Product("IMP");
  CHECK(imp.imported);
  CHECK(imp.certificates.at(0).entry == workflow::Entry::IMPORT);
  w.Ok("admin.cm", R"({"type":"AnnulEvent","effective":"2022-02-01","target_seq":)" +
                       std::to_string(o.seqs[0]) + R"(,"reason":"nhập nhầm"})");
  CHECK_FALSE(w.Product("IMP").exists);
  s = w.Submit("admin.cm", R"({"type":"AnnulEvent","effective":"2022-02-01","target_seq":)" +
                               std::to_string(o.seqs[0]) + R"(,"reason":"again"})");
  CHECK(s.IsRefused());

  // Disputes.
  w.Ok(
      "officer.um",
      R"({"type":"FileDispute","effective":"2023-02-01","dispute":"T1","product":"SCO","claim":"điểm chưa đúng"})");
  w.Ok(
      "ubnd.um",
      R"({"type":"ResolveDispute","effective":"2023-03-01","dispute":"T1","outcome":"giữ nguyên"})");
  s = w.Submit(
      "ubnd.um",
      R"({"type":"ResolveDispute","effective":"2023-03-02","dispute":"T1","outcome":"x"})");
  CHECK(s.IsRefused());
}

// Authority is judged on the act's own date, like the rules: a grant covers
// nothing dated before it, and a grant in a unit ends when that unit is
// retired (the 2025 reform abolished districts: their officers' acts after
// 1 July 2025 need a grant in the successor).
TEST_CASE("authority is judged on the act's date: grants start, retired units end them") {
  World w;
  w.Standard();  // every grant effective 2019-02-01
  const std::string idea =
      R"({"type":"RegisterIdea","effective":"DATE","product":"ID","subject":"S1","name":"x","group":1,"unit":"UM","cycle_year":2019})";
  auto at = [&](const std::string& date, const std::string& id) {
    std::string j = idea;
    j.replace(j.find("DATE"), 4, date);
    j.replace(j.find("\"ID\""), 4, "\"" + id + "\"");
    return j;
  };
  // Back-dated before the grant: refused, and the message says so.
  Status s = w.Submit("officer.um", at("2019-01-31", "B1"));
  CHECK(s.IsForbidden());
  CHECK(s.message().find("on 2019-01-31") != std::string::npos);
  CHECK(s.message().find("from 2019-02-01") != std::string::npos);
  w.Ok("officer.um", at("2019-02-01", "B2"));  // on the grant's first day: allowed

  // A grant made later does not reach back either.
  w.Ok(
      "",
      R"({"type":"GrantRole","effective":"2024-01-01","principal":"new.officer","role":"officer","unit":"UM"})");
  CHECK(w.Submit("new.officer", at("2023-12-31", "B3")).IsForbidden());
  w.Ok("new.officer", at("2024-01-01", "B4"));

  // U Minh is retired into Cà Mau on 2025-07-01: its officer's grant ends;
  // acts dated before stay valid (recorded late, still judged on their date).
  w.Ok("", R"({"type":"RetireUnit","effective":"2025-07-01","unit":"UM","successor":"CM"})");
  w.Ok(
      "officer.um",
      R"({"type":"RegisterSubject","effective":"2025-06-30","subject":"S2","name":"HTX B","legal_form":"HTX","unit":"XA"})");
  s = w.Submit(
      "officer.um",
      R"({"type":"RegisterSubject","effective":"2025-07-01","subject":"S3","name":"HTX C","legal_form":"HTX","unit":"XA"})");
  CHECK(s.IsForbidden());
  CHECK(s.message().find("unit retired into CM") != std::string::npos);
  // The province's officer reaches the commune through the successor.
  w.Ok(
      "officer.cm",
      R"({"type":"RegisterSubject","effective":"2025-07-01","subject":"S3","name":"HTX C","legal_form":"HTX","unit":"XA"})");
}

namespace {

// The event sequence numbers a table row of annulments needs.
struct Recorded {
  uint64_t promotion = 0;       // RecordPromotion of CERT, since annulled
  uint64_t annulment = 0;       // the annulment of it
  uint64_t revoked_import = 0;  // Certified (import) of IMPR, revoked since
  uint64_t followed_cert = 0;   // Certified GCN-TWO-1, followed by GCN-TWO-2
};

uint64_t Seq(World& w, const std::string& who, const std::string& json) {
  workflow::Outcome o;
  Status s = w.Submit(who, json, &o);
  INFO(json << " -> " << s.ToString());
  REQUIRE(s.ok());
  REQUIRE(o.seqs.size() == 1);
  return o.seqs[0];
}

// Build(w), then the history the refusals below need:
//   CERT  an upgrade dossier (2023-08-01) scored 80 by HD-CM on 2023-08-20
//   OLD   no second dossier: one dated 2019-08-25, before GCN-OLD took
//         effect (2019-09-20), is refused
//   TWO   GCN-TWO-1 (2022-09-20), renewed by GCN-TWO-2 (2024-09-10)
//   FIVE  imported with 5 stars (2022-01-01)
//   IMPR  imported with 4 stars (2022-01-01), revoked from 2024-06-01
//   GRP0  an idea registered without a product group
//   LOW   scored 45 by HD-UM in 2022 (QĐ 1048);  MID scored 60 in 2023 (QĐ 148)
//   P60   scored 60 (3 stars) by HD-CM in 2023
//   FWD   scored 75 by HD-UM and forwarded to the province
//   disputes T1 (filed) and T2 (resolved); DD retired into CM on 2025-07-01
Recorded BuildMore(World& w) {
  Build(w);
  Recorded r;
  r.promotion = Seq(
      w, "officer.um",
      R"({"type":"RecordPromotion","effective":"2023-01-10","product":"CERT","channel":"hội chợ"})");
  r.annulment = Seq(w, "admin.cm",
                    R"({"type":"AnnulEvent","effective":"2023-01-20","target_seq":)" +
                        std::to_string(r.promotion) + R"(,"reason":"ghi nhầm"})");
  w.Ok(
      "officer.um",
      R"({"type":"SubmitDossier","effective":"2023-08-01","product":"CERT","cycle_year":2023,"entry":"upgrade"})");
  w.Ok("hd.cm", w.Score("CERT", "HD-CM", "2023-08-20", 32, 20, 28));  // 80: 4 stars

  {
    // Recorded after GCN-OLD, dated before it took effect: the record would
    // show the earlier act as the latest, so it is refused.
    Status back = w.Submit(
        "officer.um",
        R"({"type":"SubmitDossier","effective":"2019-08-25","product":"OLD","cycle_year":2020,"entry":"new"})");
    INFO(back.ToString());
    REQUIRE(back.IsRefused());
    REQUIRE(back.message().find("reached stage certified on 2019-09-20") != std::string::npos);
  }

  w.ToDossier("TWO", 2022);
  w.Ok("hd.cm", w.Score("TWO", "HD-CM", "2022-09-01", 30, 20, 25));
  r.followed_cert =
      Seq(w, "ubnd.cm", w.Approve("TWO", "2022-09-20", "province", "CM", 4, "GCN-TWO-1"));
  w.Ok(
      "officer.um",
      R"({"type":"SubmitDossier","effective":"2024-08-01","product":"TWO","cycle_year":2024,"entry":"renewal"})");
  w.Ok("hd.cm", w.Score("TWO", "HD-CM", "2024-08-20", 30, 20, 25));
  w.Ok("ubnd.cm", w.Approve("TWO", "2024-09-10", "province", "CM", 4, "GCN-TWO-2"));

  w.Ok(
      "admin.cm",
      R"({"type":"ImportCertificate","effective":"2022-01-01","product":"FIVE","subject":"S1","name":"Mật ong","group":1,"unit":"UM","stars":5,"certificate":"OLD-5","decision":{"no":"5/QĐ-BNN","date":"2022-01-01","issuer":"VN"}})");
  r.revoked_import = Seq(
      w, "admin.cm",
      R"({"type":"ImportCertificate","effective":"2022-01-01","product":"IMPR","subject":"S1","name":"Khô cá","group":1,"unit":"UM","stars":4,"certificate":"OLD-4","decision":{"no":"4/QĐ","date":"2022-01-01","issuer":"CM"}})");
  w.Ok(
      "ubnd.cm",
      R"({"type":"RevokeRating","effective":"2024-06-01","decision":{"no":"R9","date":"2024-06-01","issuer":"CM"},"items":[{"product":"IMPR","reason":"violation"}]})");

  w.Ok(
      "officer.um",
      R"({"type":"RegisterIdea","effective":"2022-03-01","product":"GRP0","subject":"S1","name":"SP","group":0,"unit":"UM","cycle_year":2022})");

  w.ToDossier("LOW", 2022);
  w.Ok("hd.um", w.Score("LOW", "HD-UM", "2022-08-15", 20, 15, 10));  // 45
  w.ToDossier("MID", 2023);
  w.Ok("hd.um", w.Score("MID", "HD-UM", "2023-08-15", 25, 15, 20));  // 60
  w.ToDossier("P60", 2023);
  w.Ok("hd.cm", w.Score("P60", "HD-CM", "2023-08-15", 25, 15, 20));  // 60: 3 stars
  w.ToDossier("FWD", 2022);
  w.Ok("hd.um", w.Score("FWD", "HD-UM", "2022-08-15", 30, 20, 25));
  w.Ok("officer.um",
       R"({"type":"Forward","effective":"2022-08-20","product":"FWD","to_level":"province"})");

  w.Ok(
      "officer.um",
      R"({"type":"FileDispute","effective":"2023-02-01","dispute":"T1","product":"SCO","claim":"điểm chưa đúng"})");
  w.Ok(
      "officer.um",
      R"({"type":"FileDispute","effective":"2023-02-01","dispute":"T2","product":"SCO","claim":"x"})");
  w.Ok(
      "ubnd.um",
      R"({"type":"ResolveDispute","effective":"2023-03-01","dispute":"T2","outcome":"giữ nguyên"})");
  w.Ok("", R"({"type":"RetireUnit","effective":"2025-07-01","unit":"DD","successor":"CM"})");
  return r;
}

std::string Annul(uint64_t seq) {
  return R"({"type":"AnnulEvent","effective":"2025-01-01","target_seq":)" + std::to_string(seq) +
         R"(,"reason":"sai"})";
}

}  // namespace

TEST_CASE("refusals that rest on a longer history") {
  World w;
  Recorded r = BuildMore(w);
  const std::vector<Case> cases = {
      // Units.
      {"act in a retired unit", "",
       R"({"type":"RegisterSubject","effective":"2025-08-01","subject":"S7","name":"x","legal_form":"HTX","unit":"DD"})",
       Want::kRefused, "unit 'DD' was retired on 2025-07-01; act under its successor 'CM'"},
      // Dossiers.
      {"dossier without a group", "officer.um",
       R"({"type":"SubmitDossier","effective":"2022-08-01","product":"GRP0","cycle_year":2022,"entry":"new"})",
       Want::kRefused, "has no product group"},
      {"renew a certificate revoked later", "officer.um",
       R"({"type":"SubmitDossier","effective":"2023-08-01","product":"IMPR","cycle_year":2023,"entry":"renewal"})",
       Want::kRefused, "revocation is final"},
      {"upgrade 5 stars", "officer.um",
       R"({"type":"SubmitDossier","effective":"2023-08-01","product":"FIVE","cycle_year":2023,"entry":"upgrade"})",
       Want::kRefused, "already holds 5 stars"},
      // Scores and forwarding.
      {"district scores a forwarded dossier", "hd.um",
       w.Score("FWD", "HD-UM", "2022-08-25", 30, 20, 25), Want::kRefused,
       "forwarded to the province level"},
      // Under QĐ 1048 a total below 50 is below 3 stars: the dossier ended
      // with the score, and nothing is left to forward.
      {"forward below 50 (QĐ 1048)", "officer.um",
       R"({"type":"Forward","effective":"2022-08-20","product":"LOW","to_level":"province"})",
       Want::kRefused, "has no scored dossier to forward"},
      {"forward below 70 (QĐ 148)", "officer.um",
       R"({"type":"Forward","effective":"2023-08-20","product":"MID","to_level":"province"})",
       Want::kRefused, "QĐ 148/QĐ-TTg, 24/02/2023 only totals of 70 or more"},
      // Decisions.
      {"certificate number reused", "ubnd.cm",
       w.Approve("CERT", "2023-09-01", "province", "CM", 4, "GCN-CERT"), Want::kRefused,
       "certificate 'GCN-CERT' was already issued to this product"},
      {"decision before the dossier", "ubnd.cm",
       // Judged on its own date, the decision finds no dossier yet.
       w.Approve("CERT", "2023-07-15", "province", "CM", 4, "GCN-CERT-U"), Want::kRefused,
       "no dossier is under evaluation on 2023-07-15 (stage certified)"},
      {"decision before the score", "ubnd.cm",
       w.Approve("CERT", "2023-08-10", "province", "CM", 4, "GCN-CERT-U"), Want::kRefused,
       "no council of the province level has scored this dossier by 2023-08-10"},
      {"upgrade to the stars held", "ubnd.cm",
       w.Approve("CERT", "2023-09-01", "province", "CM", 4, "GCN-CERT-U"), Want::kRefused,
       "an upgrade must give more stars than the 4 held"},
      {"stars over the council's band", "ubnd.cm",
       w.Approve("P60", "2023-09-01", "province", "CM", 4, "GCN-P60"), Want::kRefused,
       "the decision gives 4 stars but council 'HD-CM' scored 3"},
      {"decision before the last certificate", "ubnd.cm",
       w.Approve("OLD", "2019-09-10", "province", "CM", 4, "GCN-OLD-2"), Want::kRefused,
       "before certificate 'GCN-OLD' took effect on 2019-09-20"},
      {"new entry beside a certificate", "ubnd.cm",
       w.Approve("OLD", "2019-09-25", "province", "CM", 4, "GCN-OLD-2"), Want::kRefused,
       "no dossier is under evaluation on 2019-09-25"},
      // Revocation.
      {"revoke a superseded certificate", "ubnd.cm",
       R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"R10","date":"2023-01-01","issuer":"CM"},"items":[{"product":"TWO","reason":"violation"}]})",
       Want::kRefused, "has ended since (superseded by 'GCN-TWO-2')"},
      {"revoke again before the revocation", "ubnd.cm",
       R"({"type":"RevokeRating","effective":"2023-01-01","decision":{"no":"R11","date":"2023-01-01","issuer":"CM"},"items":[{"product":"IMPR","reason":"violation"}]})",
       Want::kRefused, "certificate 'OLD-4' was already revoked by R9 of 2024-06-01"},
      // Annulments.
      {"annul twice", "admin.cm", Annul(r.promotion), Want::kRefused, "is already annulled"},
      {"annul an annulment", "admin.cm", Annul(r.annulment), Want::kRefused,
       "is itself an annulment"},
      {"annul a revoked certificate", "admin.cm", Annul(r.revoked_import), Want::kRefused,
       "which was revoked since; annul the revocation first"},
      {"annul a certificate followed by another", "admin.cm", Annul(r.followed_cert),
       Want::kRefused, "while certificate 'GCN-TWO-2', recorded after it, stands"},
      // Disputes.
      {"dispute filed twice", "officer.um",
       R"({"type":"FileDispute","effective":"2023-04-01","dispute":"T1","product":"SCO","claim":"x"})",
       Want::kRefused, "dispute 'T1' is already filed"},
      {"dispute resolved twice", "ubnd.um",
       R"({"type":"ResolveDispute","effective":"2023-04-01","dispute":"T2","outcome":"x"})",
       Want::kRefused, "dispute 'T2' is already resolved"},
  };
  for (const auto& c : cases) Check(w, c);
}

// The JSON parser checks dates before the decider sees them; a command built
// in Cap'n Proto directly (as a replica or a library caller would) is checked
// again by the decider.
TEST_CASE("the decider checks the effective date itself") {
  World w;
  w.Standard();
  capnp::MallocMessageBuilder msg;
  auto cmd = msg.initRoot<workflow::schema::Command>();
  cmd.setEffective("2023-02-29");
  auto t = cmd.initBody().initSetTarget();
  t.setUnit("CM");
  t.setIndicator("products_5_stars");
  uint64_t before = w.ledger()->Size();
  workflow::Outcome o;
  Status s = w.service()->Submit(workflow::Principal{"local", true}, cmd.asReader(), &o);
  INFO(s.ToString());
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("field 'effective' must be a date") != std::string::npos);
  CHECK(w.ledger()->Size() == before);
}

TEST_CASE("SubmitEach decides each command alone and appends them all in one group") {
  World w;
  w.Standard();
  auto idea = [](const std::string& id, int group, const std::string& key = "") {
    return R"({"type":"RegisterIdea","effective":"2022-03-01","product":")" + id +
           R"(","subject":"S1","name":"Sản phẩm )" + id + R"(","group":)" + std::to_string(group) +
           R"(,"unit":"UM","cycle_year":2022)" + (key.empty() ? "" : R"(,"id":")" + key + "\"") +
           "}";
  };
  const std::vector<std::string> commands = {
      idea("E1", 1, "key-e1"),  // appended
      idea("E2", 7),            // refused on its own: there is no group 7
      idea("E1", 2),            // decided on the same state as the first: loses the race, is
                                // decided again after it, and is refused (E1 exists by then)
      idea("E1", 1, "key-e1"),  // the first again, with its id: the first's numbers
      idea("E3", 3),            // appended
  };
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> msgs;
  std::vector<workflow::Service::Submission> batch;
  for (const auto& c : commands) {
    msgs.push_back(std::make_unique<capnp::MallocMessageBuilder>());
    REQUIRE(workflow::ParseCommand(c, msgs.back().get()).ok());
    batch.push_back({workflow::Principal{"officer.um", false},
                     msgs.back()->getRoot<workflow::schema::Command>()});
  }
  const uint64_t size_before = w.ledger()->Size();
  const uint64_t groups_before = w.ledger()->Stats().groups;
  std::vector<Status> statuses;
  std::vector<workflow::Outcome> out;
  w.service()->SubmitEach(batch, &statuses, &out);

  REQUIRE(statuses.size() == commands.size());
  CHECK(statuses[0].ok());
  CHECK(out[0].seqs == std::vector<uint64_t>{size_before + 1});
  CHECK(statuses[1].IsInvalidArgument());
  INFO(statuses[2].ToString());
  CHECK(statuses[2].IsRefused());
  CHECK(statuses[3].ok());
  CHECK(out[3].duplicate);
  CHECK(out[3].seqs == out[0].seqs);
  CHECK(statuses[4].ok());
  CHECK(out[4].seqs == std::vector<uint64_t>{size_before + 2});
  CHECK(w.ledger()->Size() == size_before + 2);
  // The batch was one durable write (the retried command appended nothing).
  CHECK(w.ledger()->Stats().groups == groups_before + 1);
  CHECK(w.Product("E1").group == 1);
  CHECK(w.Product("E3").exists);
  CHECK_FALSE(w.Product("E2").exists);

  // A command that reads what an earlier one writes is decided after that
  // one is appended, in a second group: the idea of a producer registered
  // earlier in the same call is accepted (decided with the first, it would
  // have been refused: no such producer yet), and an independent command
  // still goes in the first group.
  const std::vector<std::string> second = {
      R"({"type":"RegisterSubject","effective":"2022-03-01","subject":"S9","name":"HTX Mới",)"
      R"("legal_form":"HTX","unit":"UM"})",
      R"({"type":"RegisterIdea","effective":"2022-03-01","product":"E9","subject":"S9",)"
      R"("name":"Sản phẩm E9","group":1,"unit":"UM","cycle_year":2022})",
      idea("E4", 4),
  };
  batch.clear();
  for (const auto& c : second) {
    msgs.push_back(std::make_unique<capnp::MallocMessageBuilder>());
    REQUIRE(workflow::ParseCommand(c, msgs.back().get()).ok());
    batch.push_back({workflow::Principal{"officer.um", false},
                     msgs.back()->getRoot<workflow::schema::Command>()});
  }
  const uint64_t size_second = w.ledger()->Size();
  const uint64_t groups_second = w.ledger()->Stats().groups;
  w.service()->SubmitEach(batch, &statuses, &out);
  for (const Status& st : statuses) CHECK(st.ok());
  CHECK(out[0].seqs == std::vector<uint64_t>{size_second + 1});
  CHECK(out[2].seqs == std::vector<uint64_t>{size_second + 2});
  CHECK(out[1].seqs == std::vector<uint64_t>{size_second + 3});
  CHECK(w.ledger()->Stats().groups == groups_second + 2);
  CHECK(w.Product("E9").subject == "S9");
}

TEST_CASE("a repeated id gets the first result, whether deciding it again would pass or not") {
  World w;
  w.Standard();
  REQUIRE(w.Submit("",
                   R"({"type":"ImportCertificate","effective":"2022-01-01","product":"IMPK",)"
                   R"("subject":"S1","name":"x","group":1,"unit":"UM","stars":3,)"
                   R"("certificate":"c","decision":{"no":"1","date":"2021-06-01","issuer":"CM"}})")
              .ok());
  const std::string inspect =
      R"({"type":"RecordInspection","effective":"2022-06-01","product":"IMPK","compliant":true,"id":"insp-1"})";
  workflow::Outcome first, again;
  Status s = w.Submit("inspector.cm", inspect, &first);
  INFO(s.ToString());
  REQUIRE(s.ok());
  REQUIRE_FALSE(first.duplicate);
  const uint64_t size = w.ledger()->Size();
  // Decided again it would be accepted (one more inspection): the id's
  // first numbers answer, and nothing is appended.
  s = w.Submit("inspector.cm", inspect, &again);
  CHECK(s.ok());
  CHECK(again.duplicate);
  CHECK(again.seqs == first.seqs);
  CHECK(w.ledger()->Size() == size);
  // The same id with another command: a conflict naming the id, nothing
  // appended, whether the other command would be accepted or refused.
  for (
      const std::string& other :
      {std::string(
           R"({"type":"RecordInspection","effective":"2022-06-01","product":"IMPK","compliant":false,"id":"insp-1"})"),
       std::string(
           R"({"type":"RecordInspection","effective":"2022-06-01","product":"NOPE","compliant":true,"id":"insp-1"})")}) {
    s = w.Submit("inspector.cm", other);
    INFO(s.ToString());
    CHECK(s.IsConflict());
    CHECK(s.message().find("command id 'insp-1' was already used for a different command") !=
          std::string::npos);
    CHECK(w.ledger()->Size() == size);
  }
}

TEST_CASE("dossiers entered in one round at once rest on no version of the round") {
  World w;
  w.Standard();
  // Sixteen products with approved plans, each one SubmitDossier away from
  // the 2022 round.
  const int kProducts = 16;
  // Named R0 .. R15; the name is built piecewise, as GCC 12 warns falsely
  // (-Wrestrict, its bug 105329) on a literal + std::string here.
  auto name = [](int i) {
    std::string id = "R";
    id += std::to_string(i);
    return id;
  };
  std::vector<std::string> dossiers;
  for (int i = 0; i < kProducts; ++i) {
    auto steps = testing::DossierCommands(name(i), 2022);
    for (size_t k = 0; k + 1 < steps.size(); ++k) w.Ok(steps[k].first, steps[k].second);
    dossiers.push_back(steps.back().second);
  }
  const std::string round = workflow::RoundStream(2022);
  uint64_t round_before = 0;
  REQUIRE(w.ledger()->StreamVersion(round, &round_before).ok());

  // Half in one SubmitEach: the round's entries do not defer one another,
  // so one group commit carries them all.
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> msgs;
  std::vector<workflow::Service::Submission> batch;
  for (int i = 0; i < kProducts / 2; ++i) {
    msgs.push_back(std::make_unique<capnp::MallocMessageBuilder>());
    REQUIRE(workflow::ParseCommand(dossiers[i], msgs.back().get()).ok());
    batch.push_back({workflow::Principal{"officer.um", false},
                     msgs.back()->getRoot<workflow::schema::Command>()});
  }
  const uint64_t groups_before = w.ledger()->Stats().groups;
  std::vector<Status> statuses;
  std::vector<workflow::Outcome> out;
  w.service()->SubmitEach(batch, &statuses, &out);
  for (const Status& st : statuses) CHECK(st.ok());
  CHECK(w.ledger()->Stats().groups == groups_before + 1);

  // The other half from threads of their own at once: every one is entered
  // (before, each rested on the round's version, one won each sync, and the
  // others ran out of retries on a command nothing was wrong with).
  std::vector<Status> threaded(kProducts / 2);
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kProducts / 2; ++i) {
      threads.emplace_back(
          [&, i] { threaded[i] = w.Submit("officer.um", dossiers[kProducts / 2 + i]); });
    }
    for (auto& t : threads) t.join();
  }
  for (const Status& st : threaded) CHECK(st.ok());

  uint64_t round_after = 0;
  REQUIRE(w.ledger()->StreamVersion(round, &round_after).ok());
  CHECK(round_after == round_before + kProducts);
  for (int i = 0; i < kProducts; ++i) {
    CHECK(w.Product(name(i)).stage == workflow::Stage::kDossierSubmitted);
  }
}
