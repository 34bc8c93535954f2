#include "server/notice_delivery.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/durable_file.h"
#include "projections/notices.h"

namespace ocop::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// One POST; the HTTP status, or 0 when no answer came.
int Post(const std::string& host, const std::string& port, const std::string& target,
         const std::string& id, const std::string& body, std::string* error) {
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(10));
  auto endpoints = resolver.resolve(host, port, ec);
  if (!ec) stream.connect(endpoints, ec);
  if (ec) {
    *error = ec.message();
    return 0;
  }
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "ocop-ledger notices");
  req.set("Idempotency-Key", id);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  if (res.result_int() == 0) {
    *error = ec ? ec.message() : "no answer";
    return 0;
  }
  return static_cast<int>(res.result_int());
}

std::string Iso(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  char buf[32];
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Status NoticeDelivery::Start(projections::Projections* projections, NoticeDeliveryOptions o,
                             std::unique_ptr<NoticeDelivery>* out) {
  std::unique_ptr<NoticeDelivery> d(new NoticeDelivery(projections, std::move(o)));
  const std::string& url = d->options_.url;
  if (url.rfind("http://", 0) != 0) {
    return Status::InvalidArgument("notices webhook '" + url +
                                   "' must be an http:// URL (https: put a local proxy before it)");
  }
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  d->target_ = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string authority = rest.substr(0, slash);
  size_t colon = authority.rfind(':');
  d->host_ = colon == std::string::npos ? authority : authority.substr(0, colon);
  d->port_ = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (d->host_.empty()) return Status::InvalidArgument("notices webhook '" + url + "' has no host");
  Status s = ledger::ReadWholeFile(d->options_.log_path, &d->log_);
  if (!s.ok() && !s.IsNotFound()) return s;
  std::istringstream lines(d->log_);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("id") || !j["id"].is_string()) {
      return Status::Corruption(d->options_.log_path + ": a line that is not a delivery record");
    }
    d->delivered_.insert(j["id"].get<std::string>());
  }
  d->thread_ = std::thread([p = d.get()] { p->Loop(); });
  *out = std::move(d);
  return Status::OK();
}

NoticeDelivery::~NoticeDelivery() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t NoticeDelivery::delivered() const {
  std::lock_guard<std::mutex> l(mu_);
  return delivered_.size();
}

bool NoticeDelivery::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  return !cv_.wait_for(l, d, [&] { return stopping_; });
}

void NoticeDelivery::Loop() {
  do {
    Status s = RunOnce();
    if (!s.ok())
      spdlog::warn(R"({{"event":"notices_failed","error":{}}})",
                   nlohmann::json(s.message()).dump());
  } while (Sleep(options_.every));
}

Status NoticeDelivery::Record(const std::string& line) {
  std::string next = log_ + line + "\n";
  Status s = ledger::WriteFileDurably(options_.log_path, next, 0644);
  if (s.ok()) log_ = std::move(next);
  return s;
}

Status NoticeDelivery::RunOnce() {
  const workflow::Date today = options_.today();
  std::vector<projections::Notice> notices;
  std::unique_ptr<projections::ReadView> view = projections_->View();
  Status s = projections::BuildNotices(*view, today + -options_.lookback_days, today, "", &notices);
  if (!s.ok()) return s;
  for (const auto& n : notices) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return Status::OK();
      if (delivered_.count(n.id)) continue;
    }
    const std::string body = nlohmann::json{{"notice", projections::NoticeJson(n)}}.dump();
    std::chrono::milliseconds wait = options_.first_retry;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      std::string error;
      int status = Post(host_, port_, target_, n.id, body, &error);
      if (status >= 200 && status < 300) {
        nlohmann::json rec{{"id", n.id},
                           {"due", workflow::FormatDate(n.due)},
                           {"delivered_at", Iso(options_.now_micros())},
                           {"attempts", attempt},
                           {"status", status}};
        s = Record(rec.dump());
        if (!s.ok()) return s;  // not recorded: not counted as delivered
        std::lock_guard<std::mutex> l(mu_);
        delivered_.insert(n.id);
        spdlog::info(R"({{"event":"notice_delivered","id":{},"attempts":{}}})",
                     nlohmann::json(n.id).dump(), attempt);
        break;
      }
      spdlog::warn(R"({{"event":"notice_retry","id":{},"attempt":{},"status":{},"error":{}}})",
                   nlohmann::json(n.id).dump(), attempt, status, nlohmann::json(error).dump());
      if (attempt == options_.max_attempts || !Sleep(wait)) break;
      wait = std::min(wait * 2, options_.max_retry);
    }
  }
  return Status::OK();
}

}  // namespace ocop::server
