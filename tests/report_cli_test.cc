// Issue 15 from the outside: `ocop report --list` in every format (the xlsx
// opened by LibreOffice), `--calendar reporting`, and `ocop verify-report` on
// the new sections and the annexes. Runs the real build/bin/ocop.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "camau_cli.h"
#include "cli_support.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ocop::testing::Run;
using ocop::testing::Shell;

namespace {

Run Ocop(const std::string& args, const std::string& input = "") {
  return ocop::testing::Ocop("report-cli", args, input);
}

// Cà Mau (CM), U Minh (UM), Khánh An (KA), producers S1 and S2
// (camau_cli.h). Certificates:
//   P0 S1 KA 3★ 2019-05-10 (ends 2022-05-10: the expiring list of 2022)
//   P1 S1 KA 4★ 2021-03-01, P2 S2 UM 3★ 2021-03-01 (group 4 of QĐ 919)
//   P3 S2 UM 3★ 2022-02-10, revoked 2022-06-20 (violation)
//   P4 S2 UM 3★ 2021-12-20 (in the reporting year 2022, 15/12/2021–14/12/2022)
const char* kCommands = R"(
{"type":"ImportCertificate","effective":"2019-05-10","product":"P0","subject":"S1","name":"Cá khô","group":1,"unit":"KA","stars":3,"certificate":"GCN-00","decision":{"no":"88/QĐ-UBND","date":"2019-05-10","issuer":"CM"}}
{"type":"ImportCertificate","effective":"2021-03-01","product":"P1","subject":"S1","name":"Mật ong rừng U Minh","group":1,"unit":"KA","stars":4,"certificate":"GCN-01","decision":{"no":"312/QĐ-UBND","date":"2021-03-01","issuer":"CM"}}
{"type":"ImportCertificate","effective":"2021-03-01","product":"P2","subject":"S2","name":"Túi xách bồn bồn","group":4,"group_list":"QD919","unit":"UM","stars":3,"certificate":"GCN-02","decision":{"no":"312/QĐ-UBND","date":"2021-03-01","issuer":"CM"}}
{"type":"ImportCertificate","effective":"2022-02-10","product":"P3","subject":"S2","name":"Mắm tôm chà","group":1,"unit":"UM","stars":3,"certificate":"GCN-03","decision":{"no":"45/QĐ-UBND","date":"2022-02-10","issuer":"CM"}}
{"type":"ImportCertificate","effective":"2021-12-20","product":"P4","subject":"S2","name":"Khô cá lóc","group":1,"unit":"UM","stars":3,"certificate":"GCN-04","decision":{"no":"1501/QĐ-UBND","date":"2021-12-20","issuer":"CM"}}
{"type":"RevokeRating","effective":"2022-06-20","decision":{"no":"1020/QĐ-UBND","date":"2022-06-20","issuer":"CM"},"items":[{"product":"P3","reason":"violation"}]}
)";

struct Data : ocop::testing::CaMauData {
  Data() : CaMauData("report-cli", kCommands) {}
};

using ocop::testing::AnnexProducts;

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("report --list gives each annex in every format") {
  Data d;
  auto list = [&](const std::string& which, const std::string& extra = "") {
    Run r = Ocop(d.D() + "report --list " + which + " --period 2022 --unit CM " + extra);
    REQUIRE(r.code == 0);
    return json::parse(r.out);
  };
  CHECK(AnnexProducts(list("recognised")) == std::vector<std::string>{"P3"});
  CHECK(AnnexProducts(list("revoked")) == std::vector<std::string>{"P3"});
  CHECK(AnnexProducts(list("active")) == std::vector<std::string>{"P1", "P2", "P4"});
  CHECK(AnnexProducts(list("expiring")) == std::vector<std::string>{"P0"});
  json revoked = list("revoked");
  CHECK(revoked["rows"][0]["decision"]["no"] == "1020/QĐ-UBND");
  CHECK(revoked["rows"][0]["reason"] == "violation");
  json active = list("active");
  CHECK(active["rows"][0]["producer"] == "HTX Thành Công");
  CHECK(active["rows"][0]["address"] == "Xã Khánh An, Huyện U Minh, Cà Mau");
  CHECK(active["rows"][1]["group_name"] == "Thủ công mỹ nghệ");
  CHECK(active["rows"][0]["decision"]["date"] == "2021-03-01");
  // The reporting year 2022 (15/12/2021–14/12/2022) also recognised P4.
  CHECK(AnnexProducts(list("recognised", "--calendar reporting")) ==
        std::vector<std::string>{"P3", "P4"});

  Run csv = Ocop(d.D() + "report --list active --period 2022 --unit CM --format csv");
  REQUIRE(csv.code == 0);
  CHECK(csv.out.find("STT,Mã sản phẩm,Tên sản phẩm,Chủ thể") != std::string::npos);
  CHECK(csv.out.find("312/QĐ-UBND ngày 01/03/2021 (Cà Mau)") != std::string::npos);
  Run md = Ocop(d.D() + "report --list revoked --period 2022 --unit CM --format md --lang en");
  REQUIRE(md.code == 0);
  CHECK(md.out.find("| Revocation decision | Reason |") != std::string::npos);
  CHECK(md.out.find("| 1 | P3 | Mắm tôm chà |") != std::string::npos);
  Run bad = Ocop(d.D() + "report --list lapsed --period 2022");
  CHECK(bad.code == 2);
}

TEST_CASE("the annex as xlsx opens in LibreOffice with its headers, widths and decisions") {
  Data d;
  fs::path xlsx = d.File("phu-luc.xlsx");
  Run r = Ocop(d.D() + "report --list active --period 2022 --unit CM --format xlsx --out " +
               xlsx.string());
  REQUIRE(r.code == 0);
  // LibreOffice reads it (its own profile, so that runs never share one) and
  // writes it back as UTF-8 CSV (filter options: comma, quote, UTF-8).
  fs::path out = d.File("lo");
  fs::path profile = d.File("lo-profile");
  Run lo = Shell("libreoffice -env:UserInstallation=file://" + profile.string() +
                 " --headless --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76' --outdir " +
                 out.string() + " " + xlsx.string() + " 2>&1");
  INFO(lo.out);
  REQUIRE(lo.code == 0);
  std::string text = ReadFile(out / (xlsx.stem().string() + ".csv"));
  INFO(text);
  CHECK(text.find("Danh sách sản phẩm OCOP còn hiệu lực đến ngày 31/12/2022") != std::string::npos);
  CHECK(text.find("STT,Mã sản phẩm,Tên sản phẩm,Chủ thể,Loại hình,Địa chỉ,Nhóm sản phẩm,Hạng "
                  "sao,Số giấy chứng nhận,Hiệu lực từ,Hiệu lực đến,Quyết định") !=
        std::string::npos);
  CHECK(text.find("1,P1,Mật ong rừng U Minh,HTX Thành Công,HTX,\"Xã Khánh An, Huyện U Minh, Cà "
                  "Mau\",Thực phẩm,4,GCN-01,01/03/2021,01/03/2024,312/QĐ-UBND ngày 01/03/2021 "
                  "(Cà Mau)") != std::string::npos);
  CHECK(text.find("3,P4,Khô cá lóc") != std::string::npos);
  // The sheet's own XML: set column widths, the title merged across them.
  Run sheet = Shell("unzip -p " + xlsx.string() + " xl/worksheets/sheet1.xml");
  REQUIRE(sheet.code == 0);
  CHECK(sheet.out.find("<col min=\"3\" max=\"3\" width=\"32.7") != std::string::npos);
  CHECK(sheet.out.find("<mergeCell ref=\"A1:L1\"/>") != std::string::npos);
  Run book = Shell("unzip -p " + xlsx.string() + " xl/workbook.xml");
  CHECK(book.out.find("name=\"Phụ lục\"") != std::string::npos);
}

TEST_CASE("verify-report checks the new sections and the annexes, and names what differs") {
  Data d;
  fs::path report = d.File("report.json"), annex = d.File("annex.json");
  {
    Run r = Ocop(d.D() + "report --period 2022 --unit CM --out " + report.string());
    REQUIRE(r.code == 0);
    Run a = Ocop(d.D() + "report --list active --period 2022 --unit CM --out " + annex.string());
    REQUIRE(a.code == 0);
  }
  json j = json::parse(ReadFile(report));
  CHECK(j["producers_at_end"]["by_legal_form"]["DN"]["kinds"]["TNHH"] == 1);  // S2
  CHECK(j["woman_owned_products"]["total"] == 1);                             // P1
  CHECK(Ocop(d.D() + "verify-report " + report.string()).code == 0);
  CHECK(Ocop(d.D() + "verify-report " + annex.string()).code == 0);
  // A changed figure of a new section is caught and named.
  j["woman_owned_products"]["total"] = 2;
  std::ofstream(report) << j.dump();
  Run bad = Ocop(d.D() + "verify-report " + report.string());
  CHECK(bad.code == 1);
  CHECK(json::parse(bad.out)["first_difference"] == "woman_owned_products");
  json a = json::parse(ReadFile(annex));
  a["rows"][0]["stars"] = 5;
  std::ofstream(annex) << a.dump();
  Run bad_annex = Ocop(d.D() + "verify-report " + annex.string());
  CHECK(bad_annex.code == 1);
  CHECK(json::parse(bad_annex.out)["first_difference"] == "rows");
}

TEST_CASE("the reporting calendar closes every period on the 14th") {
  Data d;
  auto period = [&](const std::string& p, const std::string& cal) {
    Run r = Ocop(d.D() + "report --period " + p + " --unit CM --calendar " + cal);
    REQUIRE(r.code == 0);
    return json::parse(r.out);
  };
  json year = period("2022", "reporting");
  CHECK(year["period"] == json{{"from", "2021-12-15"}, {"to", "2022-12-14"}});
  CHECK(year["recognised"]["total"] == 2);  // P4 of 20/12/2021 and P3
  CHECK(period("2022", "civil")["recognised"]["total"] == 1);
  CHECK(period("2022-H1", "reporting")["period"] ==
        json{{"from", "2021-12-15"}, {"to", "2022-06-14"}});
  CHECK(period("2022-H2", "reporting")["period"] ==
        json{{"from", "2022-06-15"}, {"to", "2022-12-14"}});
  CHECK(period("2022-Q1", "reporting")["period"] ==
        json{{"from", "2021-12-15"}, {"to", "2022-03-14"}});
  CHECK(period("2022-07", "reporting")["period"] ==
        json{{"from", "2022-06-15"}, {"to", "2022-07-14"}});
  // P3 revoked on 20/06/2022: in the reporting H2, not H1.
  CHECK(period("2022-H2", "reporting")["revoked"]["total"] == 1);
  CHECK(period("2022-H1", "reporting")["revoked"]["total"] == 0);
  CHECK(Ocop(d.D() + "report --period 2022 --calendar lunar").code == 2);
}

TEST_CASE("the md report draws its charts as SVG, the xlsx as native charts LibreOffice reads") {
  Data d;
  Run md = Ocop(d.D() + "report --period 2022 --unit CM --format md");
  REQUIRE(md.code == 0);
  size_t svgs = 0;
  for (size_t at = md.out.find("<svg"); at != std::string::npos; at = md.out.find("<svg", at + 1))
    ++svgs;
  CHECK(svgs == 3);
  CHECK(md.out.find("### Phân bố theo hạng sao") != std::string::npos);
  CHECK(md.out.find("### Sản phẩm OCOP qua các năm") != std::string::npos);
  CHECK(md.out.find("<polyline class=\"line\"") != std::string::npos);
  // Active at the end of 2022: P1 4★, P2 and P4 3★: a bar of 2 for 3★.
  CHECK(md.out.find("<title>Còn hiệu lực: 2</title>") != std::string::npos);
  // The round table, shaped as plan 159 prints it.
  CHECK(md.out.find("| Loại hồ sơ | Số sản phẩm tham gia đánh giá | Được công nhận | 5★ | 4★ | "
                    "3★ |") != std::string::npos);

  fs::path xlsx = d.File("report.xlsx");
  REQUIRE(
      Ocop(d.D() + "report --period 2022 --unit CM --format xlsx --out " + xlsx.string()).code ==
      0);
  Run list = Shell("unzip -l " + xlsx.string());
  CHECK(list.out.find("xl/charts/chart1.xml") != std::string::npos);
  CHECK(list.out.find("xl/charts/chart3.xml") != std::string::npos);
  Run chart = Shell("unzip -p " + xlsx.string() + " xl/charts/chart2.xml");
  CHECK(chart.out.find("<c:lineChart>") != std::string::npos);
  fs::path out = d.File("lo-report"), profile = d.File("lo-profile-report");
  Run lo = Shell("libreoffice -env:UserInstallation=file://" + profile.string() +
                 " --headless --convert-to pdf --outdir " + out.string() + " " + xlsx.string() +
                 " 2>&1");
  INFO(lo.out);
  CHECK(lo.code == 0);
  CHECK(fs::file_size(out / (xlsx.stem().string() + ".pdf")) > 1000);
}
