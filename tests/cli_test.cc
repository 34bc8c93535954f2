// The command line as scripts use it (INTERFACE.md): JSON on stdout, one
// result line per submitted command, and the exit codes 0, 1, 2 and 3.
// Runs the real build/bin/ocop in a scratch data directory.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"
#include "ocop/demo_data.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using ocop::testing::Run;

Run Ocop(const std::string& args, const std::string& input = "") {
  return ocop::testing::Ocop("cli", args, input);
}

std::vector<json> Lines(const std::string& out) {
  std::vector<json> v;
  std::istringstream ss(out);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty()) v.push_back(json::parse(line));
  }
  return v;
}

struct DataDir : ocop::testing::DataDir {
  DataDir() : ocop::testing::DataDir("cli") {}
};

const char* kSetup = R"(
{"type":"DefineUnit","effective":"2022-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"DefineUnit","effective":"2022-01-01","unit":"CM-UM","name":"Huyện U Minh","level":"district","parent":"CM"}
{"type":"ConstituteCouncil","effective":"2022-02-01","council":"HD-CM","level":"province","unit":"CM","decision":{"no":"12/QĐ-UBND","date":"2022-02-01","issuer":"CM"}}
{"type":"GrantRole","effective":"2022-02-01","principal":"hd.a","role":"council","unit":"CM","council":"HD-CM"}
{"type":"GrantRole","effective":"2022-02-01","principal":"ubnd.cm","role":"authority","unit":"CM"}
{"type":"GrantRole","effective":"2022-02-01","principal":"kt.vien","role":"auditor","unit":"CM"}
{"type":"RegisterSubject","effective":"2022-03-01","subject":"S1","name":"HTX Thành Công","legal_form":"HTX","unit":"CM-UM"}
{"type":"RegisterIdea","effective":"2022-03-02","product":"P1","subject":"S1","name":"Mật ong U Minh","group":1,"unit":"CM-UM","cycle_year":2022,"id":"idea-p1"}
{"type":"ReviewIdea","effective":"2022-03-10","product":"P1","outcome":"selected"}
{"type":"SubmitPlan","effective":"2022-04-01","product":"P1","document":{"title":"PA","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}
{"type":"ReviewPlan","effective":"2022-04-15","product":"P1","outcome":"approved"}
{"type":"SubmitDossier","effective":"2022-08-01","product":"P1","cycle_year":2022,"entry":"new"}
)";

// kSetup, then P1 scored 80 by the province's council and certified 4 stars
// by decision 58 of 2022-09-20 (valid to 2025-09-20): 15 events (the dossier
// is also recorded on its round's stream).
void SetUpCertified(const DataDir& d) {
  REQUIRE(Ocop(d.flag() + " submit", kSetup).code == 0);
  REQUIRE(
      Ocop(
          d.flag() + " submit --as hd.a",
          R"({"type":"RecordScore","effective":"2022-09-01","product":"P1","council":"HD-CM","parts":{"A":30,"B":20,"C":30}})")
          .code == 0);
  REQUIRE(
      Ocop(
          d.flag() + " submit --as ubnd.cm",
          R"({"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"58/QĐ-UBND","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"P1","stars":4,"certificate":"CN-1"}]})")
          .code == 0);
}

}  // namespace

TEST_CASE("submit prints one result per line and refuses without appending") {
  DataDir d;
  Run r = Ocop(d.flag() + " submit", kSetup);
  REQUIRE(r.code == 0);
  auto lines = Lines(r.out);
  REQUIRE(lines.size() == 12);
  for (size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i]["ok"] == true);
    // Event 1 is the schema (replay/schema_event.h). The dossier, last, is
    // also recorded on its round's stream (round/2022).
    CHECK(lines[i]["seqs"] ==
          (i + 1 < lines.size() ? json::array({i + 2}) : json::array({13, 14})));
  }
  CHECK(lines[7]["line"] == 9);  // the blank first line still counts

  // The same id again: the first result, nothing appended.
  r = Ocop(
      d.flag() + " submit",
      R"({"type":"RegisterIdea","effective":"2022-03-02","product":"P1","subject":"S1","name":"Mật ong U Minh","group":1,"unit":"CM-UM","cycle_year":2022,"id":"idea-p1"})");
  REQUIRE(r.code == 0);
  CHECK(Lines(r.out)[0]["seqs"] == json::array({9}));
  CHECK(Lines(r.out)[0]["duplicate"] == true);

  // A score by the council member, then refusals of every kind: exit 1.
  r = Ocop(
      d.flag() + " submit --as hd.a",
      R"({"type":"RecordScore","effective":"2022-09-01","product":"P1","council":"HD-CM","parts":{"A":30,"B":20,"C":30}})");
  REQUIRE(r.code == 0);
  r = Ocop(d.flag() + " submit --as kt.vien",
           R"({"type":"ReviewIdea","effective":"2022-03-10","product":"P1","outcome":"selected"})");
  CHECK(r.code == 1);
  CHECK(Lines(r.out)[0]["error"]["code"] == "forbidden");
  r = Ocop(d.flag() + " submit", "{\"type\":\"Nope\",\"effective\":\"2022-01-01\"}\nnot json\n");
  CHECK(r.code == 1);
  auto bad = Lines(r.out);
  REQUIRE(bad.size() == 2);
  CHECK(bad[0]["error"]["code"] == "invalid_argument");
  CHECK(bad[0]["error"]["message"].get<std::string>().find("DefineUnit") != std::string::npos);
  CHECK(bad[1]["line"] == 2);

  Run head = Ocop(d.flag() + " tree-head");
  REQUIRE(head.code == 0);
  CHECK(json::parse(head.out)["size"] == 15);
}

TEST_CASE("submit --atomic applies all or none") {
  DataDir d;
  REQUIRE(Ocop(d.flag() + " submit", kSetup).code == 0);
  std::string batch =
      R"({"type":"RecordScore","effective":"2022-09-01","product":"P1","council":"HD-CM","parts":{"A":30,"B":20,"C":30}}
{"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"58/QĐ-UBND","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"P1","stars":5,"certificate":"CN-1"}]}
)";
  Run r = Ocop(d.flag() + " submit --atomic", batch);
  CHECK(r.code == 1);
  auto lines = Lines(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["ok"] == false);                         // not applied, because line 2 was refused
  CHECK(lines[1]["error"]["code"] == "forbidden");        // 5 stars are the central level's
  CHECK(lines[1]["error"]["field"] == "items[0].stars");  // the field it is about (issue 16)
  CHECK(json::parse(Ocop(d.flag() + " tree-head").out)["size"] == 14);

  // Fixed: 4 stars, which the province certifies under QĐ 1048.
  batch.replace(batch.find("\"stars\":5"), 9, "\"stars\":4");
  r = Ocop(d.flag() + " submit --atomic", batch);
  REQUIRE(r.code == 0);
  lines = Lines(r.out);
  CHECK(lines[0]["seqs"] == json::array({15}));
  CHECK(lines[1]["seqs"] == json::array({16}));

  Run s = Ocop(d.flag() + " status P1 --as-of 2023-01-01");
  REQUIRE(s.code == 0);
  json st = json::parse(s.out);
  CHECK(st["stage"] == "certified");
  CHECK(st["stars"] == 4);
  CHECK(st["certificate"]["valid_until"] == "2025-09-20");
  // Before the decision took effect, it was not certified.
  CHECK(json::parse(Ocop(d.flag() + " status P1 --as-of 2022-09-19").out)["stage"] == "scored");
  // Known at event 14, the decision had not been recorded.
  CHECK(json::parse(Ocop(d.flag() + " status P1 --as-of 2023-01-01 --known-at 14").out)["stars"]
            .is_null());
}

TEST_CASE("proofs, verify and the exit codes for bad usage and bad data") {
  DataDir d;
  REQUIRE(Ocop(d.flag() + " submit", kSetup).code == 0);
  Run p = Ocop(d.flag() + " proof --seq 3 --size 12");
  REQUIRE(p.code == 0);
  json proof = json::parse(p.out);
  CHECK(proof["index"] == 2);
  CHECK(proof["path"].size() == 4);
  Run c = Ocop(d.flag() + " consistency --from 5 --to 12");
  REQUIRE(c.code == 0);
  CHECK(json::parse(c.out)["path"].size() > 0);
  Run v = Ocop(d.flag() + " verify");
  CHECK(v.code == 0);
  CHECK(json::parse(v.out)["checked"] == 14);

  CHECK(Ocop(d.flag() + " proof --seq 99").code == 2);           // no such event
  CHECK(Ocop(d.flag() + " report --period 2022-Q5").code == 2);  // bad period
  CHECK(Ocop(d.flag() + " nonsense").code == 2);
  CHECK(Ocop(d.flag() + " status NOPE").code == 2);
  CHECK(Ocop("--data /nonexistent/ocop verify").code == 2);

  fs::path foreign = d.path.string() + "-foreign";
  fs::create_directories(foreign);
  std::ofstream(foreign / "notes.txt") << "not a ledger";
  CHECK(Ocop("--data " + foreign.string() + " submit", kSetup).code == 3);
  fs::remove_all(foreign);
}

TEST_CASE("report, deadlines and rebuild answer in JSON") {
  DataDir d;
  SetUpCertified(d);
  json rep = json::parse(Ocop(d.flag() + " report --period 2022 --unit CM").out);
  CHECK(rep["recognised"]["total"] == 1);
  CHECK(rep["recognised"]["by_stars"]["4"] == 1);
  CHECK(rep["recognised"]["by_unit"]["CM-UM"] == 1);
  CHECK(rep["active_at_end"]["total"] == 1);
  CHECK(rep["subjects_at_end"]["by_legal_form"]["HTX"] == 1);
  CHECK(rep["ledger"]["size"] == 16);

  json dl = json::parse(Ocop(d.flag() + " deadlines --as-of 2025-08-01 --within-days 60").out);
  REQUIRE(dl["rows"].size() == 1);
  CHECK(dl["rows"][0]["days_left"] == 50);

  Run csv = Ocop(d.flag() + " report --period 2022 --format csv");
  REQUIRE(csv.code == 0);
  CHECK(csv.out.find("Sản phẩm được công nhận trong kỳ") != std::string::npos);
  Run en = Ocop(d.flag() + " report --period 2022 --format md --lang en");
  CHECK(en.out.find("Products recognised in the period") != std::string::npos);

  Run rb = Ocop(d.flag() + " rebuild");
  REQUIRE(rb.code == 0);
  CHECK(json::parse(rb.out)["rebuilt"] == 16);
  CHECK(json::parse(Ocop(d.flag() + " report --period 2022 --unit CM").out) == rep);
}

// Seq 0 stands for "no limit" inside the program; a point in time before the
// first record must never become it.
TEST_CASE("a known-at point before the first record is refused, not read as everything") {
  DataDir d;
  REQUIRE(Ocop(d.flag() + " submit", kSetup).code == 0);
  for (const char* q :
       {" status P1 --known-at 2000-01-01", " report --period 2022 --known-at 2000-01-01",
        " deadlines --as-of 2025-01-01 --within-days 30 --known-at 1999-12-31T23:00:00+07:00"}) {
    INFO(q);
    Run r = Ocop(d.flag() + q);
    CHECK(r.code == 2);
    CHECK(r.out.empty());  // nothing printed for machines to misread
  }
  CHECK(Ocop(d.flag() + " status P1 --known-at 2999-01-01").code == 0);  // after: everything
}

TEST_CASE("the cohort funnel in every format, signed and verifiable") {
  DataDir d;
  SetUpCertified(d);
  // Issued 2022-09-20, valid to 2025-09-20: pending before, lapsed after.
  json before = json::parse(Ocop(d.flag() + " report --cohort 2022 --as-of 2025-09-20").out);
  CHECK(before["due"] == 1);
  CHECK(before["pending"] == 1);
  CHECK(before["lapsed"] == 0);
  CHECK(before["ledger"]["size"] == 16);
  const std::string path = d.File("cohort.json");
  REQUIRE(Ocop(d.flag() + " report --cohort 2022 --as-of 2025-09-21 --out " + path).code == 0);
  json after = json::parse(std::ifstream(path));
  CHECK(after["lapsed"] == 1);
  CHECK(after["pending"] == 0);
  CHECK(Ocop(d.flag() + " verify-report " + path).code == 0);
  after["lapsed"] = 0;  // a number changed by hand is caught
  std::ofstream(path) << after.dump();
  CHECK(Ocop(d.flag() + " verify-report " + path).code == 1);

  Run md = Ocop(d.flag() + " report --cohort 2022 --as-of 2025-09-21 --format md");
  CHECK(md.out.find("| Tổng số | Hết hạn, không công nhận lại | 1 |") != std::string::npos);
  Run csv = Ocop(d.flag() + " report --cohort 2022 --as-of 2025-09-21 --format csv --lang en");
  CHECK(csv.out.find("Certificates issued that year,Total,Lapsed without renewal,1") !=
        std::string::npos);

  // The audit view by principal: the authority signed the one decision.
  json by_authority = json::parse(
      Ocop(d.flag() + " changes --from 2022-01-01 --to 2022-12-31 --principal ubnd.cm").out);
  REQUIRE(by_authority["decisions"].size() == 1);
  CHECK(by_authority["decisions"][0]["by"] == "ubnd.cm");
  CHECK(by_authority["changes"] == 1);
  json by_council = json::parse(
      Ocop(d.flag() + " changes --from 2022-01-01 --to 2022-12-31 --principal hd.a").out);
  CHECK(by_council["decisions"].empty());
  CHECK(by_council["changes"] == 1);  // the score it recorded
}

// "A real spreadsheet, opened by LibreOffice": Debian's LibreOffice Calc
// (installed by scripts/setup.sh) converts the workbook back to CSV, and its
// cells are the rows of --format csv, under a title row and a blank row.
TEST_CASE("the XLSX report opens in LibreOffice with the CSV report's cells") {
  DataDir d;
  SetUpCertified(d);
  for (const char* lang : {"vi", "en"}) {
    INFO("lang " << lang);
    const std::string xlsx = d.File(std::string("report-") + lang + ".xlsx");
    const std::string args = " report --period 2022 --unit CM --lang " + std::string(lang);
    REQUIRE(Ocop(d.flag() + args + " --format xlsx --out " + xlsx).code == 0);
    Run csv = Ocop(d.flag() + args + " --format csv");
    REQUIRE(csv.code == 0);

    const std::string out_dir = d.File(std::string("lo-") + lang);
    fs::create_directories(out_dir);
    // Its own profile directory, so concurrent tests do not share one.
    std::string cmd = "HOME=" + out_dir +
                      " timeout 180 soffice --headless --norestore --convert-to " +
                      "'csv:Text - txt - csv (StarCalc):44,34,76' --outdir " + out_dir + " " +
                      xlsx + " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream f(fs::path(out_dir) / fs::path(xlsx).filename().replace_extension(".csv"),
                    std::ios::binary);
    REQUIRE(f.good());
    std::stringstream calc;
    calc << f.rdbuf();

    auto cells = ocop::cli::SplitCsv(calc.str());
    auto rows = ocop::cli::SplitCsv(csv.out);
    REQUIRE(cells.size() == rows.size() + 2);
    CHECK(cells[0][0].find(lang == std::string("vi") ? "Báo cáo" : "OCOP programme report") == 0);
    for (size_t i = 0; i < rows.size(); ++i) {
      INFO("row " << i);
      CHECK(cells[i + 2] == rows[i]);
    }
  }
}

// Targets are part of what a report knew: one recorded later must not show in
// a report known-at before it, nor one set later in a report as of before it,
// and verify-report, refolding up to the report's tree size, agrees.
TEST_CASE("targets in a report are as known and as in effect, and verify-report agrees") {
  DataDir d;
  REQUIRE(Ocop(d.flag() + " submit", kSetup).code == 0);  // 13 events
  REQUIRE(
      Ocop(
          d.flag() + " submit",
          R"({"type":"SetTarget","effective":"2022-06-01","unit":"CM","year":2022,"indicator":"recognised","value":3})")
          .code == 0);  // event 15
  REQUIRE(
      Ocop(
          d.flag() + " submit",
          R"({"type":"SetTarget","effective":"2022-10-01","unit":"CM","year":2022,"indicator":"recognised","value":5})")
          .code == 0);  // event 16: the target raised in October
  auto target = [&](const std::string& args) {
    json r = json::parse(Ocop(d.flag() + " report --period 2022 --unit CM" + args).out);
    REQUIRE(r["targets"].size() <= 1);
    return r["targets"].empty() ? json(nullptr) : r["targets"][0]["target"];
  };
  CHECK(target("") == 5);
  CHECK(target(" --known-at 14") == nullptr);
  CHECK(target(" --known-at 15") == 3);
  CHECK(target(" --as-of 2022-09-30") == 3);
  CHECK(target(" --as-of 2022-05-31") == nullptr);

  const std::string path = d.File("known-at-14.json");
  REQUIRE(Ocop(d.flag() + " report --period 2022 --unit CM --known-at 15 --out " + path).code == 0);
  CHECK(Ocop(d.flag() + " verify-report " + path).code == 0);
  const std::string as_of = d.File("as-of.json");
  REQUIRE(
      Ocop(d.flag() + " report --period 2022 --unit CM --as-of 2022-09-30 --out " + as_of).code ==
      0);
  CHECK(Ocop(d.flag() + " verify-report " + as_of).code == 0);
}
