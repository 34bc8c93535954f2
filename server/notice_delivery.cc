#include "server/notice_delivery.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "ledger/durable_file.h"
#include "projections/notices.h"
#include "server/http_client.h"

namespace ocop::server {

namespace {

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
  Status s = ParseUrl(d->options_.url, "the notices webhook", &d->url_);
  if (!s.ok()) return s;
  s = ledger::ReadWholeFile(d->options_.log_path, &d->log_);
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
      PeerRequest r;
      r.post = true;
      r.body = body;
      r.content_type = "application/json";
      r.headers = {{"User-Agent", "ocop-ledger notices"}, {"Idempotency-Key", n.id}};
      r.timeout_s = 10;
      PeerAnswer answer;
      Status sent = Send(url_, r, &answer);
      const int status = sent.ok() ? answer.status : 0;
      const std::string error = sent.ok() ? "" : sent.message();
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
