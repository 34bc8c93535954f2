// The dashboard as an official uses it: Debian's headless Chromium, driven
// through WebDriver (chromedriver), against `ocop demo` on loopback.
//  1. Search a product without diacritics, open it, read its page, make the
//     2024 report and download it as CSV.
//  2. The office's day (issue 16): an officer signs in, registers a producer
//     and an idea through the forms; a council enters a scoring sheet
//     criterion by criterion; an authority enters a results decision of 20
//     products pasted as a table; the product page, report and deadlines
//     show them; a form outside a principal's authority is not offered; a
//     refused command shows its message beside the field it names (by the
//     path the server's error gives); the admin records who an account is,
//     and the product page and decision log name people; pages at 1400 and
//     400 px wide are checked for overflow and text contrast.
//  3. The periodic-reports page: the reports due by due date, opening in
//     the reporting calendar; its charts read (values, names, nothing cut
//     off or overlapping) at both widths.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <algorithm>
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

std::string Base64Decode(const std::string& in) {
  static const std::string kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    size_t v = kChars.find(c);
    if (v == std::string::npos) continue;
    acc = (acc << 6) | static_cast<int>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
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

  void Size(int width, int height) {
    Call(port_, http::verb::post, session_ + "/window/rect",
         {{"width", width}, {"height", height}});
  }
  // Saves a PNG of the viewport.
  void Screenshot(const std::string& path) {
    json r = Call(port_, http::verb::get, session_ + "/screenshot");
    std::string png = Base64Decode(r["value"].get<std::string>());
    std::ofstream(path, std::ios::binary) << png;
  }
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
  // A click WebDriver could not make (the element covered, or gone) fails
  // the test here, not later as a page that never changed.
  void Click(const std::string& css) {
    json r = Call(port_, http::verb::post, session_ + "/element/" + Find(css) + "/click",
                  json::object());
    INFO("click " << css << ": " << r.dump().substr(0, 400));
    CHECK(!(r["value"].is_object() && r["value"].contains("error")));
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
         << Script("return Array.from(document.querySelectorAll('.msg, .field-error'))"
                   ".map((m) => m.textContent).join(' | ');")
                .dump()
         << ")");
    return v;
  }

 private:
  int port_;
  std::string session_;
};

// `ocop demo` on a free port, its token, and chromedriver.
struct Demo {
  fs::path dir;
  int web = 0, driver_port = 0;
  std::string token;
  Child demo, driver;
  Demo() {
    REQUIRE(fs::exists("/usr/bin/chromium"));      // installed by scripts/setup.sh
    REQUIRE(fs::exists("/usr/bin/chromedriver"));  // (packages chromium, chromium-driver)
    dir = fs::temp_directory_path() / ("ocop-browser-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "downloads");
    web = ocop::testing::FreePort();
    demo.pid = Spawn({OCOP_BINARY, "--data", (dir / "data").string(), "demo", "--csv", CAMAU_CSV,
                      "--listen", "127.0.0.1:" + std::to_string(web)},
                     (dir / "demo.out").string());
    for (int i = 0; i < 600 && token.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::ifstream f(dir / "demo.out");
      std::string line;
      if (std::getline(f, line) && !line.empty() && PortOpen(web))
        token = json::parse(line)["token"];
    }
    REQUIRE(!token.empty());
    driver_port = ocop::testing::FreePort();
    driver.pid = Spawn({"/usr/bin/chromedriver", "--port=" + std::to_string(driver_port)},
                       (dir / "driver.out").string());
    for (int i = 0; i < 100 && !PortOpen(driver_port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(PortOpen(driver_port));
  }
  ~Demo() {
    if (driver.pid > 0) {
      kill(driver.pid, SIGTERM);
      waitpid(driver.pid, nullptr, 0);
      driver.pid = -1;
    }
    if (demo.pid > 0) {
      kill(demo.pid, SIGTERM);
      waitpid(demo.pid, nullptr, 0);
      demo.pid = -1;
    }
    fs::remove_all(dir);
  }
  std::string Base() const { return "http://127.0.0.1:" + std::to_string(web) + "/"; }
  // A token for `principal`, added to the running server's file (it reads
  // the file again when it changes).
  std::string TokenFor(const std::string& principal) {
    fs::path out = dir / ("token-" + principal);
    pid_t pid = Spawn(
        {OCOP_BINARY, "token", "add", principal, "--tokens", (dir / "data" / "tokens").string()},
        out.string());
    waitpid(pid, nullptr, 0);
    std::ifstream f(out);
    std::string t;
    std::getline(f, t);
    REQUIRE(t.size() == 64);
    // Wait until the server knows it.
    for (int i = 0; i < 50; ++i) {
      int status = 0;
      Call(web, http::verb::get, "/v1/whoami", nullptr, t, &status);
      if (status == 200) return t;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("the server never accepted the token of " << principal);
    return t;
  }
  // Applies commands all or none as `token`'s principal.
  void Submit(const std::string& token, const json& commands) {
    int status = 0;
    json r = Call(web, http::verb::post, "/v1/commands", commands, token, &status);
    INFO(r.dump());
    REQUIRE(status == 200);
  }
};

// Whether the page, as laid out now, is wider than the viewport, and every
// text whose contrast against its background (the first opaque one among
// its ancestors) is below WCAG 2.1 AA: 4.5:1, or 3:1 for large text.
const char* kLayoutCheck = R"JS(
const lum = (c) => { const v = c.match(/[\d.]+/g).slice(0, 3).map((x) => { x = x / 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
const alpha = (c) => { const m = c.match(/[\d.]+/g); return m.length > 3 ? Number(m[3]) : 1; };
const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; if (alpha(c) > 0.5) return c; } return "rgb(255, 255, 255)"; };
const bad = [];
let texts = 0;
const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walk.nextNode(); n; n = walk.nextNode()) {
  const el = n.parentElement;
  if (!n.textContent.trim() || !el || !el.getClientRects().length) continue;
  const st = getComputedStyle(el);
  if (st.visibility === "hidden" || Number(st.opacity) === 0) continue;
  texts++;
  // SVG text is painted with its fill, not its colour.
  const a = lum(el instanceof SVGElement ? st.fill : st.color), b = lum(bg(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
  const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  if (ratio < need) bad.push(`${n.textContent.trim().slice(0, 30)} ${ratio.toFixed(2)}:1 (${st.color} on ${bg(el)})`);
}
return { width: document.documentElement.scrollWidth, viewport: window.innerWidth, texts, bad: bad.slice(0, 10), failures: bad.length };
)JS";

// Each chart (svg.ocop-chart) as drawn: its title, its texts, its bars and
// points, the texts drawn outside it or over one another, and the smallest
// text's height on screen.
const char* kChartCheck = R"JS(
const cut = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
return Array.from(document.querySelectorAll("svg.ocop-chart")).map((svg) => {
  const box = svg.getBoundingClientRect();
  const texts = Array.from(svg.querySelectorAll("text")).map((t) => ({ s: t.textContent, r: t.getBoundingClientRect() }));
  const outside = texts.filter((t) => t.r.left < box.left - 1 || t.r.right > box.right + 1 || t.r.top < box.top - 1 || t.r.bottom > box.bottom + 1).map((t) => t.s);
  const over = [];
  texts.forEach((a, i) => texts.slice(i + 1).forEach((b) => { if (cut(a.r, b.r)) over.push(a.s + " / " + b.s); }));
  return { title: svg.getAttribute("aria-label"), caption: svg.closest("figure").querySelector("figcaption").textContent,
           texts: texts.map((t) => t.s), marks: svg.querySelectorAll("rect.bar, circle").length, outside, over,
           smallest: Math.min(...texts.map((t) => t.r.height)) };
});
)JS";

void CheckLayout(Browser& b, const fs::path& shot, const std::string& what) {
  json r = b.Script(kLayoutCheck);
  b.Screenshot(shot.string());
  INFO(what << ": " << r.dump());
  CHECK(r["width"].get<int>() <= r["viewport"].get<int>());
  CHECK(r["texts"].get<int>() > 10);
  CHECK(r["failures"].get<int>() == 0);
  CHECK(fs::file_size(shot) > 1000);
}

void SignIn(Browser& b, const std::string& base, const std::string& token) {
  b.Go(base + "#/");
  b.WaitFor("document.querySelector('#sign-in') && !document.querySelector('#sign-in').hidden");
  b.Type("#token", token);
  b.Click("#sign-in button[type=submit]");
  b.WaitFor("!document.querySelector('#session').hidden");
}

void SignOut(Browser& b) {
  b.Click("#sign-out");
  b.WaitFor("!document.querySelector('#sign-in').hidden");
  CHECK(
      b.Script("return sessionStorage.getItem('ocop-token') || localStorage.getItem('ocop-token');")
          .is_null());
}

// Opens the form of `type` and waits for it.
void OpenForm(Browser& b, const std::string& base, const std::string& type) {
  b.Go(base + "#/record/" + type);
  b.WaitFor("document.querySelector('#command-form').dataset.type === '" + type +
            "' && document.querySelector('#do-submit')");
}

// Sets a form control's value as a person would (input and change events).
void Set(Browser& b, const std::string& path, const std::string& value) {
  b.Script("const e = document.querySelector('[data-path=\"" + path +
           "\"]'); e.value = " + json(value).dump() +
           "; e.dispatchEvent(new Event('input', {bubbles: true}));"
           " e.dispatchEvent(new Event('change', {bubbles: true}));");
}

// Sets the form's controls in order, as Set does.
void Fill(Browser& b, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [path, value] : values) Set(b, path, value);
}

std::string SubmitForm(Browser& b);

// Sends the form, which the server refuses: the message shown beside the
// field at `path` (data-field), by the path the error names.
std::string RefusedBeside(Browser& b, const std::string& path) {
  SubmitForm(b);
  return b.WaitFor("(e => e && e.textContent)(document.querySelector('[data-field=\"" + path +
                   "\"] .field-error'))");
}

std::string SubmitForm(Browser& b) {
  b.Script("document.querySelector('#record > .msg').textContent = '';");
  b.Click("#do-submit");
  return b.WaitFor(
      "(m => m.classList.contains('ok') || m.classList.contains('error') ? m.textContent : '')"
      "(document.querySelector('#record > .msg'))");
}

}  // namespace

TEST_CASE("an official searches, opens a product and downloads the report in Chromium") {
  Demo d;
  Browser b(d.driver_port, (d.dir / "downloads").string());
  const std::string base = d.Base();
  b.Go(base + "#/?token=" + d.token);

  // Who is signed in is shown, in words; the token is kept for the session only.
  std::string who = b.WaitFor(
      "!document.querySelector('#session').hidden && "
      "document.querySelector('#who').textContent");
  CHECK(who.find("vpdp.camau") != std::string::npos);
  CHECK(who.find("Cán bộ OCOP") != std::string::npos);
  CHECK(who.find("Tỉnh Cà Mau") != std::string::npos);
  CHECK(b.Script("return sessionStorage.getItem('ocop-token');") == d.token);
  CHECK(b.Script("return localStorage.getItem('ocop-token');").is_null());

  // 1. Search without diacritics: "mat ong" finds the honey of U Minh.
  b.Type("#q", "mat ong");
  b.Click("#search-form button");
  int rows = b.WaitFor(
      "document.querySelector('#search').classList.contains('loaded') && "
      "document.querySelectorAll('#results tbody tr').length");
  CHECK(rows == 2);
  std::string first = b.Script("return document.querySelector('#results tbody tr').textContent;");
  CHECK(first.find("Mật ong") != std::string::npos);
  CHECK(first.find("Huyện U Minh") != std::string::npos);

  // An unknown product: the page says so and shows nothing of another one.
  b.Go(base + "#/product/KHONG-CO");
  std::string err = b.WaitFor(
      "document.querySelector('#product > .msg.error') && "
      "document.querySelector('#product > .msg').textContent");
  CHECK(err.find("Không tìm thấy") != std::string::npos);
  CHECK(b.Script("return document.querySelector('#p-name').textContent;") == "");

  // 2. The product's page: name, stage, the timeline of its dossier in words.
  // (The rows of the first search are taken away first, so that the click
  // lands on the rows of this one, not on rows about to be replaced.)
  b.Script("document.querySelector('#results tbody').innerHTML = '';");
  b.Go(base + "#/?q=mat%20ong");
  b.WaitFor("document.querySelectorAll('#results tbody tr').length");
  b.Click("#results tbody tr td a");
  std::string name = b.WaitFor("document.querySelector('#p-name').textContent");
  CHECK(name.find("Mật ong") != std::string::npos);
  std::string timeline = b.WaitFor("document.querySelector('#p-timeline').textContent");
  CHECK(timeline.find("Đăng ký ý tưởng sản phẩm") != std::string::npos);
  // Who acted, by name and position (the demo records its officials with
  // RegisterOfficial), then the account and the role it acted in.
  json honey = Call(d.web, http::verb::get,
                    "/v1/products/" +
                        b.Script("return document.querySelector('#product')"
                                 ".dataset.product;")
                            .get<std::string>() +
                        "/history",
                    nullptr, d.token);
  json officer = honey["events"][0]["actor"];
  REQUIRE(officer["principal"] == "canbo.CM-UM");
  REQUIRE(officer.contains("name"));
  CHECK(timeline.find(officer["name"].get<std::string>() +
                      " (Chuyên viên, Phòng Nông nghiệp và PTNT Huyện U Minh)") !=
        std::string::npos);
  CHECK(timeline.find("tài khoản canbo.CM-UM, Cán bộ OCOP, Huyện U Minh") != std::string::npos);
  CHECK(timeline.find("Hội đồng cấp") != std::string::npos);  // the council by name
  std::string facts = b.Script("return document.querySelector('#p-facts').textContent;");
  CHECK(facts.find("HTX") != std::string::npos);  // the producer by name and form
  CHECK(facts.find("Thực phẩm") != std::string::npos);
  int bars = b.Script("return document.querySelectorAll('#p-chart .bar').length;");
  CHECK(bars >= 1);  // the honey was certified: its star history has a bar

  // As of a date before its certificate: no stars then.
  b.Script("document.querySelector('#p-asof').value = '2024-06-01';");
  b.Click("#product-form button[type=submit]");
  std::string stars = b.WaitFor(
      "document.querySelector('#product').classList.contains('loaded') && "
      "!document.querySelector('#product').classList.contains('loading') && "
      "document.querySelector('#p-facts').textContent.includes('01/06/2024') && "
      "document.querySelector('#p-stars').textContent");
  CHECK(stars == "—");

  // 3. The 2024 report for the province, as the page shows it and as the API says.
  b.Go(base + "#/report");
  b.Type("#r-period", "2024");
  b.Script("document.querySelector('#r-unit').value = 'CM';");
  b.Click("#report-form button[type=submit]");
  std::string summary = b.WaitFor(
      "document.querySelector('#report').classList.contains('loaded') && "
      "document.querySelector('#r-summary').textContent");
  json api = Call(d.web, http::verb::get, "/v1/reports?period=2024&unit=CM", nullptr, d.token);
  CHECK(summary.find("Công nhận trong kỳ" +
                     std::to_string(api["recognised"]["total"].get<int>())) != std::string::npos);
  int chart_rows = b.Script("return document.querySelectorAll('#r-chart .bar-row').length;");
  CHECK(chart_rows >= 9);  // stars by district: nine districts in 2024
  std::string chart = b.Script("return document.querySelector('#r-chart').textContent;");
  CHECK(chart.find("Thành phố Cà Mau") != std::string::npos);  // full names, not cut
  // Conditions changed after a load: the figures are marked stale until loaded again.
  b.Type("#r-period", "2023");
  b.WaitFor("document.querySelector('#report').classList.contains('stale')");
  CHECK(b.Script("return document.querySelector('#report > .msg').className;") == "msg stale");

  // A bad period: an error in the report's own line, and no figures left under it.
  b.Type("#r-period", "2024-Q9");
  b.Click("#report-form button[type=submit]");
  b.WaitFor("document.querySelector('#report > .msg.error')");
  CHECK(b.Script("return document.querySelector('#r-summary').textContent;") == "");
  CHECK(b.Script("return document.querySelector('#search > .msg').className;") == "msg ok");

  // 4. Download the CSV: the page says what it got, and the file is there.
  b.Type("#r-period", "2024");
  b.Click("#report-form button[type=submit]");
  b.WaitFor("document.querySelector('#report > .msg.ok')");
  b.Click("#r-csv");
  std::string msg = b.WaitFor(
      "document.querySelector('#report > .msg').textContent.includes('Đã tải') && "
      "document.querySelector('#report > .msg').textContent");
  CHECK(msg.find("ocop-report-2024-CM.csv") != std::string::npos);
  fs::path csv = d.dir / "downloads" / "ocop-report-2024-CM.csv";
  for (int i = 0; i < 100 && !fs::exists(csv); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(fs::exists(csv));
  std::ifstream f(csv);
  std::stringstream text;
  text << f.rdbuf();
  CHECK(text.str().find("Sản phẩm được công nhận trong kỳ") != std::string::npos);

  // Signing out forgets the token.
  SignOut(b);

  // A token the server does not know: said beside the sign-in form, nothing shown.
  b.Type("#token", std::string(64, '0'));
  b.Click("#sign-in button[type=submit]");
  std::string refused = b.WaitFor(
      "(m => m.classList.contains('error') && m.textContent)"
      "(document.querySelector('.msg[data-for=\"sign-in\"]'))");
  CHECK(refused.find("Mã truy cập") != std::string::npos);
  CHECK(b.Script("return document.querySelector('#session').hidden;") == true);

  // "Remember" keeps the token past the session; signing out forgets it all the same.
  b.Type("#token", d.token);
  b.Click("#remember");
  b.Click("#sign-in button[type=submit]");
  b.WaitFor("!document.querySelector('#session').hidden");
  CHECK(b.Script("return localStorage.getItem('ocop-token');") == d.token);
  CHECK(b.Script("return sessionStorage.getItem('ocop-token');").is_null());
  SignOut(b);
}

TEST_CASE("the office records an idea, a scoring sheet and a results decision in Chromium") {
  Demo d;
  Browser b(d.driver_port, (d.dir / "downloads").string());
  const std::string base = d.Base();
  const std::string officer = d.TokenFor("canbo.CM-UM"), council = d.TokenFor("hd.CM-UM"),
                    authority = d.TokenFor("ubnd.CM-UM");

  // 1. The officer signs in and sees who they are.
  SignIn(b, base, officer);
  std::string who = b.Script("return document.querySelector('#who').textContent;");
  CHECK(who.find("canbo.CM-UM") != std::string::npos);
  CHECK(who.find("Huyện U Minh") != std::string::npos);

  // Only what an officer may do is offered.
  OpenForm(b, base, "RegisterSubject");
  json offered = b.Script(
      "return Array.from(document.querySelectorAll('#form-type option')).map((o) => o.value);");
  CHECK(std::find(offered.begin(), offered.end(), "RegisterIdea") != offered.end());
  CHECK(std::find(offered.begin(), offered.end(), "ApproveResults") == offered.end());
  CHECK(std::find(offered.begin(), offered.end(), "RecordScore") == offered.end());
  // Nor is it there by its address: the officer gets a form of their own.
  b.Go(base + "#/record/ApproveResults");
  b.WaitFor("document.querySelector('#record').classList.contains('loaded')");
  CHECK(b.Script("return document.querySelector('#command-form').dataset.type;") !=
        "ApproveResults");

  // A producer, through the form.
  Set(b, "effective", "2025-02-01");
  Set(b, "subject", "TEST-S1");
  Set(b, "name", "HTX Thử nghiệm Khánh An");
  Set(b, "legal_form", "HTX");
  Set(b, "unit", "CM-UM");
  b.Click("#do-preview");
  std::string preview = b.WaitFor("document.querySelector('#preview').textContent");
  CHECK(preview.find("Hợp tác xã") != std::string::npos);  // what will be recorded, in words
  CHECK(preview.find("Huyện U Minh") != std::string::npos);
  std::string done = SubmitForm(b);
  INFO(done);
  CHECK(done.find("Đã ghi vào sổ cái") != std::string::npos);

  // A refusal is shown beside the field it names: an unknown producer.
  OpenForm(b, base, "RegisterIdea");
  Fill(b, {{"effective", "2025-03-01"},
           {"product", "TEST-P1"},
           {"subject", "KHONG-CO"},
           {"name", "Mắm cá lóc Khánh An"},
           {"group", "1"},
           {"unit", "CM-UM"},
           {"cycle_year", "2025"}});
  std::string beside = RefusedBeside(b, "subject");
  CHECK(beside.find("KHONG-CO") != std::string::npos);
  // The form places it by the path the server's error gives, not by its words.
  int refused_status = 0;
  json refusal =
      Call(d.web, http::verb::post, "/v1/commands",
           json::parse(b.Script("return JSON.stringify(OCOP.forms.command());").get<std::string>()),
           officer, &refused_status);
  CHECK(refused_status == 400);
  CHECK(refusal["error"]["field"] == "subject");
  // The idea, with the producer picked.
  Set(b, "subject", "TEST-S1 — HTX Thử nghiệm Khánh An");
  done = SubmitForm(b);
  CHECK(done.find("Đã ghi vào sổ cái") != std::string::npos);
  CHECK(b.Script("return document.querySelectorAll('.field-error').length;") == 0);

  // The steps between, and 19 more products scored, through the API.
  auto steps = [](const std::string& p) {
    return json::array({{{"type", "ReviewIdea"},
                         {"effective", "2025-03-20"},
                         {"product", p},
                         {"outcome", "selected"}},
                        {{"type", "SubmitPlan"},
                         {"effective", "2025-04-10"},
                         {"product", p},
                         {"document", {{"title", "Phương án"}, {"sha256", std::string(64, 'a')}}}},
                        {{"type", "ReviewPlan"},
                         {"effective", "2025-05-01"},
                         {"product", p},
                         {"outcome", "approved"}},
                        {{"type", "SubmitDossier"},
                         {"effective", "2025-05-15"},
                         {"product", p},
                         {"cycle_year", 2025},
                         {"entry", "new"}}});
  };
  d.Submit(officer, steps("TEST-P1"));
  for (int i = 2; i <= 20; ++i) {
    std::string p = "TEST-P" + std::to_string(i);
    json c = json::array({{{"type", "RegisterIdea"},
                           {"effective", "2025-03-01"},
                           {"product", p},
                           {"subject", "TEST-S1"},
                           {"name", "Sản phẩm thử " + std::to_string(i)},
                           {"group", 1},
                           {"unit", "CM-UM"},
                           {"cycle_year", 2025}}});
    for (auto& s : steps(p)) c.push_back(s);
    d.Submit(officer, c);
    d.Submit(council, {{"type", "RecordScore"},
                       {"effective", "2025-06-01"},
                       {"product", p},
                       {"council", "HD-CM-UM"},
                       {"parts", {{"A", 20}, {"B", 15}, {"C", 20}}}});
  }
  SignOut(b);

  // The office's admin records who the council's account is (issue 16 item
  // 4): a name and a position, shown beside the account's acts. A refusal
  // names its field: without a position, beside "Chức vụ".
  const std::string admin = d.TokenFor("quantri.camau");
  SignIn(b, base, admin);
  OpenForm(b, base, "RegisterOfficial");
  Fill(b, {{"effective", "2025-05-20"},
           {"principal", "hd.CM-UM"},
           {"full_name", "Nguyễn Văn Thử"},
           {"unit", "CM-UM"}});
  CHECK(RefusedBeside(b, "title").find("title") != std::string::npos);
  Fill(b, {{"title", "Ủy viên Hội đồng"}, {"office", "Hội đồng đánh giá OCOP Huyện U Minh"}});
  done = SubmitForm(b);
  CHECK(done.find("Đã ghi vào sổ cái") != std::string::npos);
  SignOut(b);

  // 2. The council enters its scoring sheet criterion by criterion.
  SignIn(b, base, council);
  who = b.Script("return document.querySelector('#who').textContent;");
  CHECK(who.find("Nguyễn Văn Thử (Ủy viên Hội đồng") != std::string::npos);
  OpenForm(b, base, "RecordScore");
  offered = b.Script(
      "return Array.from(document.querySelectorAll('#form-type option')).map((o) => o.value);");
  CHECK(offered == json::array({"RecordScore"}));
  Set(b, "effective", "2025-06-01");
  b.WaitFor("document.querySelectorAll('select.criteria-set option').length > 1");
  Set(b, "product", "TEST-P1");
  Set(b, "council", "HD-CM-UM");
  b.Script(
      "const s = document.querySelector('select.criteria-set'); s.value = s.options[1].value;"
      " s.dispatchEvent(new Event('change'));");
  int criteria = b.WaitFor("document.querySelectorAll('input[data-criterion]').length");
  CHECK(criteria >= 20);
  // Every hard criterion at its maximum, the others at nothing.
  b.Script(
      "for (const e of document.querySelectorAll('input[data-criterion]')) {"
      " e.value = e.closest('tr').firstChild.textContent.endsWith('*') ? e.dataset.max : 0;"
      " e.dispatchEvent(new Event('input', {bubbles: true})); }");
  std::string totals = b.Script("return document.querySelector('.totals').textContent;");
  CHECK(totals.find("Tổng: 59") != std::string::npos);  // the running totals
  done = SubmitForm(b);
  CHECK(done.find("Đã ghi vào sổ cái") != std::string::npos);
  json st = Call(d.web, http::verb::get, "/v1/products/TEST-P1", nullptr, d.token);
  CHECK(st["dossier"]["score"] == 59.0);
  SignOut(b);

  // 3. The authority enters one results decision over the 20 products, pasted as a table.
  SignIn(b, base, authority);
  OpenForm(b, base, "ApproveResults");
  Set(b, "effective", "2025-06-20");
  Set(b, "decision.no", "45/QĐ-UBND");
  Set(b, "decision.date", "2025-06-20");
  Set(b, "decision.issuer", "CM-UM");
  Set(b, "level", "district");
  std::string table = "Sản phẩm\tHạng sao\tSố giấy chứng nhận\n";
  for (int i = 1; i <= 20; ++i)
    table += "TEST-P" + std::to_string(i) + "\t3\tGCN-UM-2025-" + std::to_string(i) + "\n";
  // Pasted as from Excel's clipboard: a paste event carrying the text.
  b.Script("const dt = new DataTransfer(); dt.setData('text/plain', " + json(table).dump() +
           "); document.querySelector('textarea.paste').dispatchEvent("
           "new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));");
  int items = b.WaitFor("document.querySelectorAll('table.items tbody tr').length === 20 && 20");
  CHECK(items == 20);
  // An issuer of another level: refused beside that field, as the server's
  // error names it (`field`), and nothing recorded.
  Set(b, "decision.issuer", "CM");
  CHECK(RefusedBeside(b, "decision.issuer").find("district") != std::string::npos);
  CHECK(b.Script("return document.querySelectorAll('.field-error').length;") == 1);
  // The refusal beside its field is legible too (the form with its 20 rows).
  CheckLayout(b, d.dir / "refused.png", "a refused decision");
  Set(b, "decision.issuer", "CM-UM");
  // One wrong row first: refused, beside that row's product, and nothing recorded.
  Set(b, "items[4].product", "TEST-P99");
  SubmitForm(b);
  std::string row_error = b.WaitFor(
      "(e => e && e.textContent)(document.querySelector('[data-field^=\"items[4]\"] "
      ".field-error'))");
  CHECK(row_error.find("TEST-P99") != std::string::npos);
  Set(b, "items[4].product", "TEST-P5");
  done = SubmitForm(b);
  CHECK(done.find("Đã ghi vào sổ cái") != std::string::npos);
  for (int i : {1, 5, 20}) {
    st = Call(d.web, http::verb::get, "/v1/products/test-p" + std::to_string(i), nullptr, d.token);
    CHECK(st["stars"] == 3);  // ids case-insensitive
  }

  // An account that may only read (the auditor) is offered no form at all.
  SignOut(b);
  SignIn(b, base, d.TokenFor("kiemtoan.camau"));
  b.Go(base + "#/record");
  std::string none = b.WaitFor(
      "document.querySelector('#record > .msg.empty') && "
      "document.querySelector('#record > .msg').textContent");
  CHECK(none.find("chỉ xem") != std::string::npos);
  CHECK(b.Script("return document.querySelectorAll('#form-type option, #command-form input')"
                 ".length;") == 0);

  // 4. The product page, the report and the deadlines show them.
  b.Go(base + "#/product/TEST-P1");
  std::string timeline = b.WaitFor("document.querySelector('#p-timeline').textContent");
  CHECK(timeline.find("59 điểm") != std::string::npos);
  // The idea's producer by name, not only its code.
  CHECK(timeline.find("của HTX Thử nghiệm Khánh An (TEST-S1)") != std::string::npos);
  CHECK(timeline.find("QĐ 45/QĐ-UBND ngày 20/06/2025 của Huyện U Minh") != std::string::npos);
  CHECK(timeline.find("Nguyễn Văn Thử (Ủy viên Hội đồng, Hội đồng đánh giá OCOP Huyện U Minh)") !=
        std::string::npos);
  CHECK(timeline.find("tài khoản hd.CM-UM, Thành viên hội đồng, Huyện U Minh") !=
        std::string::npos);
  // The dispute bundle, downloaded, verifies on its own.
  b.Click("#p-bundle");
  b.WaitFor("document.querySelector('#product > .msg').textContent.includes('Đã tải')");
  fs::path bundle = d.dir / "downloads" / "ocop-bundle-TEST-P1.json";
  for (int i = 0; i < 100 && !fs::exists(bundle); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(fs::exists(bundle));
  pid_t verify = Spawn({OCOP_BINARY, "verify-bundle", bundle.string()},
                       (d.dir / "verify-bundle.out").string());
  int verified = -1;
  waitpid(verify, &verified, 0);
  CHECK(WIFEXITED(verified));
  CHECK(WEXITSTATUS(verified) == 0);
  b.Go(base + "#/report?period=2025&unit=CM-UM");
  std::string summary = b.WaitFor(
      "document.querySelector('#report').classList.contains('loaded') && "
      "document.querySelector('#r-summary').textContent");
  json report =
      Call(d.web, http::verb::get, "/v1/reports?period=2025&unit=CM-UM", nullptr, d.token);
  CHECK(report["recognised"]["total"].get<int>() >= 20);
  CHECK(summary.find("Công nhận trong kỳ" +
                     std::to_string(report["recognised"]["total"].get<int>())) !=
        std::string::npos);
  b.Go(base + "#/deadlines");
  b.Script(
      "document.querySelector('#d-asof').value = '2028-01-01';"
      "document.querySelector('#d-within').value = '365';");
  b.Click("#deadline-form button[type=submit]");
  std::string upcoming = b.WaitFor(
      "document.querySelector('#deadlines').classList.contains('loaded') && "
      "document.querySelector('#d-upcoming tbody').textContent");
  CHECK(upcoming.find("Sản phẩm thử 20") != std::string::npos);
  CHECK(upcoming.find("HTX Thử nghiệm Khánh An") != std::string::npos);  // the producer
  CHECK(upcoming.find("Huyện U Minh") != std::string::npos);             // the unit by name
  // The same as a workbook.
  b.Click("#d-xlsx");
  b.WaitFor("document.querySelector('#deadlines > .msg').textContent.includes('Đã tải')");
  fs::path xlsx = d.dir / "downloads" / "ocop-han-cong-nhan-2028-01-01.xlsx";
  for (int i = 0; i < 100 && !fs::exists(xlsx); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(fs::exists(xlsx));
  std::ifstream workbook(xlsx, std::ios::binary);
  char magic[2] = {0, 0};
  workbook.read(magic, 2);
  CHECK(std::string(magic, 2) == "PK");  // a zip: an xlsx workbook

  // The decision log names who signed the decision, by name and position.
  json history = Call(d.web, http::verb::get, "/v1/products/TEST-P1/history", nullptr, d.token);
  std::string signer;
  for (const json& e : history["events"])
    if (e["type"] == "Certified") signer = e["actor"].value("name", "");
  REQUIRE(!signer.empty());
  b.Go(base + "#/audit?from=2025-06-01&to=2025-06-30");
  std::string log = b.WaitFor(
      "document.querySelector('#audit').classList.contains('loaded') && "
      "document.querySelector('#audit-table tbody').textContent");
  CHECK(log.find("45/QĐ-UBND") != std::string::npos);
  CHECK(log.find(signer + " (Phó Chủ tịch)") != std::string::npos);
  CHECK(log.find("tài khoản ubnd.CM-UM") != std::string::npos);

  // 5. Layout and contrast at 1400 px and on a 400 px phone, on every view.
  // The screenshots are kept in $OCOP_SHOTS_DIR when it is set.
  const char* keep = std::getenv("OCOP_SHOTS_DIR");
  const fs::path shots = keep ? fs::path(keep) : d.dir;
  fs::create_directories(shots);
  for (int width : {1400, 400}) {
    b.Size(width, 900);
    for (const auto& [name, view] : std::vector<std::pair<std::string, std::string>>{
             {"product", "#/product/TEST-P1"},
             {"deadlines", "#/deadlines"},
             {"report", "#/report?period=2025&unit=CM-UM"},
             {"record", "#/record/ApproveResults"},
             {"search", "#/?q=mat%20ong"},
             {"audit", "#/audit?from=2025-01-01&to=2025-12-31"}}) {
      b.Go(base + view);
      b.WaitFor(
          "!document.querySelector('main > section.shown.loading') && "
          "document.querySelector('main > section.shown .msg').textContent");
      CheckLayout(b, shots / (name + "-" + std::to_string(width) + ".png"),
                  view + " at " + std::to_string(width));
    }
  }
}

// The periodic-reports page (web/reports.html, issue 15 items 6 and 8): the
// reports due, soonest first, each opening that report in the dashboard in
// the reporting calendar; and the year's three charts (star distribution,
// yearly trend, deadlines by month) with every value and every name written
// in them, none cut off or drawn over another, at 1400 and 400 px, with no
// overflow and AA contrast.
TEST_CASE("the periodic-reports page offers the reports due and draws readable charts") {
  Demo d;
  Browser b(d.driver_port, (d.dir / "downloads").string());
  const std::string base = d.Base();
  const std::string day = "2025-06-01", year = "2025";
  SignIn(b, base, d.token);  // signed in for this browser session only
  b.Go(base + "reports.html");
  b.WaitFor("document.querySelector('#unit option[value=\"CM\"]')");
  b.Script("document.querySelector('#day').value = '" + day +
           "'; document.querySelector('#unit').value = 'CM';");
  b.Click("#pick button");
  std::string said = b.WaitFor(
      "(m => (m.classList.contains('ok') && m.textContent.includes('01/06/2025')) || "
      "m.classList.contains('error') ? m.textContent : '')(document.querySelector('#status'))");
  INFO(said);
  REQUIRE(b.Script("return document.querySelector('#status').className;") == "msg ok");

  // The reports due, by due date, as the server lists them.
  json due = Call(d.web, http::verb::get, "/v1/reports-due?from=" + day + "&within_days=60",
                  nullptr, d.token);
  json expected = json::array();
  for (const json& r : due["reports"])
    if (r["kind"] != "month" || r["days_left"].get<int>() <= 31) expected.push_back(r);
  REQUIRE(!expected.empty());
  json shown = b.Script(
      "return Array.from(document.querySelectorAll('#due li')).map((li) => "
      "({due: li.dataset.due, text: li.textContent, href: "
      "li.querySelector('a').getAttribute('href')}));");
  REQUIRE(shown.size() == expected.size());
  for (size_t i = 0; i < shown.size(); ++i) {
    INFO(shown[i].dump());
    CHECK(shown[i]["due"] == expected[i]["due"]);
    if (i) CHECK(shown[i - 1]["due"].get<std::string>() <= shown[i]["due"].get<std::string>());
    CHECK(shown[i]["text"].get<std::string>().find(expected[i]["period"].get<std::string>()) !=
          std::string::npos);
    CHECK(shown[i]["href"].get<std::string>().find("calendar=reporting") != std::string::npos);
  }

  // The charts: each value of the signed JSON report written in its chart,
  // the categories in full.
  json report =
      Call(d.web, http::verb::get, "/v1/reports?period=" + year + "&unit=CM", nullptr, d.token);
  auto has = [](const json& texts, const std::string& t) {
    return std::find(texts.begin(), texts.end(), t) != texts.end();
  };
  const fs::path shots =
      std::getenv("OCOP_SHOTS_DIR") ? fs::path(std::getenv("OCOP_SHOTS_DIR")) : d.dir;
  fs::create_directories(shots);
  for (int width : {1400, 400}) {
    b.Size(width, 900);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    json charts = b.Script(kChartCheck);
    INFO("at " << width << " px: " << charts.dump());
    REQUIRE(charts.size() == 3);
    for (const json& c : charts) {
      CHECK(!c["title"].get<std::string>().empty());
      CHECK(c["caption"] == c["title"]);
      CHECK(c["outside"].empty());               // nothing cut off at the edges
      CHECK(c["over"].empty());                  // nothing drawn over another text
      CHECK(c["smallest"].get<double>() >= 10);  // readable: not shrunk to fit a phone
    }
    const json &stars = charts[0]["texts"], &trend = charts[1]["texts"],
               &months = charts[2]["texts"];
    for (const char* s : {"3", "4", "5"}) {
      CHECK(has(stars, std::string(s) + "★"));
      CHECK(has(stars, std::to_string(report["recognised"]["by_stars"].value(s, 0))));
      CHECK(has(stars, std::to_string(report["active_at_end"]["by_stars"].value(s, 0))));
    }
    CHECK(charts[0]["marks"].get<int>() >= 3);
    REQUIRE(report["trend"].size() == 5);
    for (const auto& [y, p] : report["trend"].items()) {
      CHECK(has(trend, y));
      CHECK(has(trend, std::to_string(p["recognised"].get<int>())));
      CHECK(has(trend, std::to_string(p["active"].get<int>())));
    }
    CHECK(charts[1]["marks"].get<int>() == 10);  // two series of five years
    REQUIRE(!report["deadlines_by_month"].empty());
    for (const auto& [m, n] : report["deadlines_by_month"].items()) {
      CHECK(has(months, m.substr(5, 2) + "/" + m.substr(0, 4)));
      CHECK(has(months, std::to_string(n.get<int>())));
    }
    CheckLayout(b, shots / ("reports-" + std::to_string(width) + ".png"),
                "reports.html at " + std::to_string(width));
  }

  // A report due opens in the dashboard, in the reporting calendar.
  b.Size(1400, 900);
  b.Click("#due li a");
  std::string title = b.WaitFor(
      "document.querySelector('#report').classList.contains('loaded') && "
      "document.querySelector('#r-title').textContent");
  json opened = Call(d.web, http::verb::get,
                     "/v1/reports?period=" + expected[0]["period"].get<std::string>() +
                         "&calendar=reporting&unit=CM",
                     nullptr, d.token);
  const std::string from = opened["period"]["from"];
  CHECK(title.find(from.substr(8, 2) + "/" + from.substr(5, 2) + "/" + from.substr(0, 4)) !=
        std::string::npos);
  CHECK(b.Script("return document.querySelector('#r-calendar').value;") == "reporting");
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
