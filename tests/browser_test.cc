// The dashboard as an official uses it: Debian's headless Chromium, driven
// through WebDriver (chromedriver), against `ocop demo` on loopback. Search a
// product without diacritics, open it, read its page, make the 2024 report
// and download it as CSV, checking what the page shows at each step.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "cli_support.h"

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;
using tcp = boost::asio::ip::tcp;

namespace {

const char* kElement = "element-6066-11e4-a52e-4f735466cecf";

// Sends one HTTP request to 127.0.0.1:port; returns the parsed JSON body.
json Call(int port, http::verb method, const std::string& target, const json& body = nullptr,
          const std::string& token = "", int* status = nullptr) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(60));
  stream.connect(
      tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.is_null()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  if (status) *status = res.result_int();
  return json::parse(res.body(), nullptr, false);
}

bool PortOpen(int port) {
  try {
    boost::asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                            static_cast<unsigned short>(port)));
    return true;
  } catch (...) {
    return false;
  }
}

// A child process, killed when the test ends.
struct Child {
  pid_t pid = -1;
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_file) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(out_file.c_str(), "w");
    dup2(fileno(f), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// A WebDriver session of headless Chromium.
class Browser {
 public:
  Browser(int port, const std::string& downloads) : port_(port) {
    json caps{{"capabilities",
               {{"alwaysMatch",
                 {{"browserName", "chrome"},
                  {"goog:chromeOptions",
                   {{"binary", "/usr/bin/chromium"},
                    {"args",
                     {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                      "--no-first-run", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--window-size=1280,1000"}},
                    {"prefs",
                     {{"download.default_directory", downloads},
                      {"download.prompt_for_download", false}}}}}}}}}};
    json r = Call(port_, http::verb::post, "/session", caps);
    INFO(r.dump());
    REQUIRE(r["value"].contains("sessionId"));
    session_ = "/session/" + r["value"]["sessionId"].get<std::string>();
  }
  ~Browser() { Call(port_, http::verb::delete_, session_); }

  void Go(const std::string& url) {
    Call(port_, http::verb::post, session_ + "/url", {{"url", url}});
  }
  std::string Find(const std::string& css) {
    json r = Call(port_, http::verb::post, session_ + "/element",
                  {{"using", "css selector"}, {"value", css}});
    INFO(css << ": " << r.dump());
    REQUIRE(r["value"].contains(kElement));
    return r["value"][kElement];
  }
  void Type(const std::string& css, const std::string& text) {
    std::string e = Find(css);
    Call(port_, http::verb::post, session_ + "/element/" + e + "/clear", json::object());
    Call(port_, http::verb::post, session_ + "/element/" + e + "/value", {{"text", text}});
  }
  // Gives a file input the path of a local file, as a user choosing it would.
  void Upload(const std::string& css, const std::string& path) {
    Call(port_, http::verb::post, session_ + "/element/" + Find(css) + "/value", {{"text", path}});
  }
  void Click(const std::string& css) {
    Call(port_, http::verb::post, session_ + "/element/" + Find(css) + "/click", json::object());
  }
  json Script(const std::string& js) {
    return Call(port_, http::verb::post, session_ + "/execute/sync",
                {{"script", js}, {"args", json::array()}})["value"];
  }
  // Waits until `js` (an expression) is truthy; returns its value.
  json WaitFor(const std::string& js, int seconds = 20) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    json v;
    while (std::chrono::steady_clock::now() < end) {
      v = Script("return (" + js + ");");
      if (!v.is_null() && v != false && v != "" && v != 0) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("the page never showed: "
         << js << " (last: " << v.dump() << ", message: "
         << Script("return document.querySelector('#message').textContent;").dump() << ")");
    return v;
  }

 private:
  int port_;
  std::string session_;
};

}  // namespace

TEST_CASE("an official searches, opens a product and downloads the report in Chromium") {
  REQUIRE(fs::exists("/usr/bin/chromium"));      // installed by scripts/setup.sh
  REQUIRE(fs::exists("/usr/bin/chromedriver"));  // (packages chromium, chromium-driver)
  fs::path dir = fs::temp_directory_path() / ("ocop-browser-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "downloads");

  // The demo: sample data loaded, a token printed, the dashboard served.
  int web = ocop::testing::FreePort();
  Child demo;
  demo.pid = Spawn({OCOP_BINARY, "--data", (dir / "data").string(), "demo", "--csv", CAMAU_CSV,
                    "--listen", "127.0.0.1:" + std::to_string(web)},
                   (dir / "demo.out").string());
  std::string token;
  for (int i = 0; i < 600 && token.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream f(dir / "demo.out");
    std::string line;
    if (std::getline(f, line) && !line.empty() && PortOpen(web)) token = json::parse(line)["token"];
  }
  REQUIRE(!token.empty());

  int driver_port = ocop::testing::FreePort();
  Child driver;
  driver.pid = Spawn({"/usr/bin/chromedriver", "--port=" + std::to_string(driver_port)},
                     (dir / "driver.out").string());
  for (int i = 0; i < 100 && !PortOpen(driver_port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(PortOpen(driver_port));

  {
    Browser b(driver_port, (dir / "downloads").string());
    std::string base = "http://127.0.0.1:" + std::to_string(web) + "/";
    b.Go(base + "#/?token=" + token);

    // 1. Search without diacritics: "mat ong" finds the honey of U Minh.
    b.Type("#q", "mat ong");
    b.Click("#search-form button");
    int rows = b.WaitFor("document.querySelectorAll('#results tbody tr').length");
    CHECK(rows == 2);
    std::string first = b.Script("return document.querySelector('#results tbody tr').textContent;");
    CHECK(first.find("Mật ong") != std::string::npos);
    CHECK(first.find("Huyện U Minh") != std::string::npos);

    // 2. The product's page: name, stage, the timeline of its dossier.
    b.Click("#results tbody tr td a");
    std::string name = b.WaitFor("document.querySelector('#p-name').textContent");
    CHECK(name.find("Mật ong") != std::string::npos);
    std::string stage = b.WaitFor("document.querySelector('#p-stage').textContent");
    CHECK(!stage.empty());
    std::string timeline = b.WaitFor("document.querySelector('#p-timeline').textContent");
    CHECK(timeline.find("Đăng ký ý tưởng sản phẩm") != std::string::npos);
    CHECK(timeline.find("canbo.CM-UM") != std::string::npos);  // who acted is shown
    int bars = b.Script("return document.querySelectorAll('#p-chart rect').length;");
    CHECK(bars >= 1);  // the honey was certified: its star history has a bar

    // 3. The 2024 report for the province, as the page shows it and as the API says.
    b.Go(base + "#/report");
    b.Type("#r-period", "2024");
    b.Type("#r-unit", "CM");
    b.Click("#report-form button[type=submit]");
    std::string summary = b.WaitFor("document.querySelector('#r-summary').textContent");
    json api = Call(web, http::verb::get, "/v1/reports?period=2024&unit=CM", nullptr, token);
    CHECK(summary.find("Công nhận trong kỳ" +
                       std::to_string(api["recognised"]["total"].get<int>())) != std::string::npos);
    int chart_bars = b.Script("return document.querySelectorAll('#r-chart rect').length;");
    CHECK(chart_bars >= 9);  // stars by district: nine districts in 2024

    // 4. Download the CSV: the page says what it got, and the file is there.
    b.Click("#r-csv");
    std::string msg = b.WaitFor(
        "document.querySelector('#message').textContent.includes('Đã tải') && "
        "document.querySelector('#message').textContent");
    CHECK(msg.find("ocop-report-2024-CM.csv") != std::string::npos);
    fs::path csv = dir / "downloads" / "ocop-report-2024-CM.csv";
    for (int i = 0; i < 100 && !fs::exists(csv); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(fs::exists(csv));
    std::ifstream f(csv);
    std::stringstream text;
    text << f.rdbuf();
    CHECK(text.str().find("Sản phẩm được công nhận trong kỳ") != std::string::npos);
  }
  fs::remove_all(dir);
}

// The public verification page (/verify/{product}, issue 14): a buyer scanning
// the QR code sees the certificate checked in the browser (WebCrypto's Ed25519
// and SHA-256), with no token; a tampered receipt file is shown as failing.
TEST_CASE("a buyer's browser checks a product's receipt and refuses a tampered one") {
  REQUIRE(fs::exists("/usr/bin/chromium"));
  fs::path dir = fs::temp_directory_path() / ("ocop-verify-page-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string data = (dir / "data").string();
  ocop::testing::Run r = ocop::testing::Ocop(
      "verify-page", "--data " + data + " submit",
      R"({"type":"DefineUnit","effective":"2025-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"RegisterSubject","effective":"2025-01-02","subject":"S1","name":"HTX Thành Công","legal_form":"HTX","unit":"CM"}
{"type":"ImportCertificate","effective":"2025-06-01","product":"P1","subject":"S1","name":"Mật ong U Minh","group":1,"unit":"CM","stars":4,"certificate":"CN-2025-9","decision":{"no":"58/QĐ-UBND","date":"2025-06-01","issuer":"CM"}}
)");
  INFO(r.out);
  REQUIRE(r.code == 0);
  int web = ocop::testing::FreePort();
  Child server;
  server.pid =
      Spawn({OCOP_BINARY, "--data", data, "serve", "--listen", "127.0.0.1:" + std::to_string(web)},
            (dir / "serve.out").string());
  for (int i = 0; i < 100 && !PortOpen(web); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(PortOpen(web));
  int driver_port = ocop::testing::FreePort();
  Child driver;
  driver.pid = Spawn({"/usr/bin/chromedriver", "--port=" + std::to_string(driver_port)},
                     (dir / "driver.out").string());
  for (int i = 0; i < 100 && !PortOpen(driver_port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(PortOpen(driver_port));

  // The receipt as the page fetches it, without a token.
  json receipt = Call(web, http::verb::get, "/v1/products/P1/receipt", nullptr);
  REQUIRE(receipt["format"] == "ocop-receipt-1");
  CHECK(!receipt["status"].contains("subject"));  // nothing of the producer
  {
    Browser b(driver_port, dir.string());
    b.Go("http://127.0.0.1:" + std::to_string(web) + "/verify/P1");
    b.WaitFor("document.querySelector('#verdict').dataset.ok");
    const std::string shown = b.Script("return document.body.innerText;");
    INFO(shown);
    CHECK(b.Script("return document.querySelector('#verdict').dataset.ok;") == "true");
    CHECK(shown.find("CN-2025-9") != std::string::npos);
    CHECK(shown.find("4 sao") != std::string::npos);
    CHECK(shown.find("Đã xác minh") != std::string::npos);
    CHECK(b.WaitFor("document.querySelector('#qr').naturalWidth > 0") == true);

    // Tampered: another certificate number shown, then one bit of an event.
    json bad = receipt;
    bad["status"]["certificate"]["no"] = "CN-2025-8";
    std::ofstream((dir / "bad1.json").string()) << bad.dump();
    b.Upload("#receipt-file", (dir / "bad1.json").string());
    CHECK(b.WaitFor("document.querySelector('#verdict').dataset.ok === 'false'") == true);
    std::string failed = b.Script("return document.body.innerText;");
    CHECK(failed.find("KHÔNG hợp lệ") != std::string::npos);
    CHECK(failed.find("CN-2025-8") != std::string::npos);
    bad = receipt;
    std::string leaf = bad["events"][0]["leaf"];
    leaf[leaf.size() / 2] = leaf[leaf.size() / 2] == 'A' ? 'B' : 'A';
    bad["events"][0]["leaf"] = leaf;
    std::ofstream((dir / "bad2.json").string()) << bad.dump();
    b.Go("http://127.0.0.1:" + std::to_string(web) + "/verify/P1");
    CHECK(b.WaitFor("document.querySelector('#verdict').dataset.ok") == "true");
    b.Upload("#receipt-file", (dir / "bad2.json").string());
    CHECK(b.WaitFor("document.querySelector('#verdict').dataset.ok === 'false'") == true);
    failed = b.Script("return document.body.innerText;");
    CHECK(failed.find("không nằm trong cây đã ký") != std::string::npos);
  }
  fs::remove_all(dir);
}
