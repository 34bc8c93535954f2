// Delivers notices (projections/notices.h) as they fall due to a webhook the
// operator configures (`ocop serve --notices-webhook URL`): each notice one
// JSON POST, retried with exponential back-off while the receiver fails, and
// delivered once: a 2xx answer is recorded in DIR/notices-delivered (one JSON
// line per notice: id, due, delivered_at, attempts, status), rewritten
// durably before the next notice is sent, and a recorded notice is never
// sent again, also after a restart. A crash between the receiver's answer and
// the record sends that one notice again; it carries its id in the
// Idempotency-Key header, so that the receiver can tell.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "ledger/status.h"
#include "projections/projections.h"
#include "server/http_client.h"
#include "workflow/date.h"

namespace ocop::server {

struct NoticeDeliveryOptions {
  std::string url;       // http://HOST[:PORT]/PATH
  std::string log_path;  // DIR/notices-delivered
  // How often the notices due are looked for, and how far back: a server
  // that was down for less than `lookback_days` still delivers what fell due.
  std::chrono::milliseconds every{std::chrono::hours(1)};
  int lookback_days = 30;
  // Back-off while the receiver fails: first_retry, doubling, at most
  // max_retry between attempts; after max_attempts the notice waits for the
  // next pass.
  std::chrono::milliseconds first_retry{500}, max_retry{std::chrono::seconds(30)};
  int max_attempts = 6;
  std::function<workflow::Date()> today;  // the edge's clock (Vietnam's date)
  std::function<int64_t()> now_micros;    // for delivered_at
};

class NoticeDelivery {
 public:
  // Reads what was delivered before and starts the delivering thread.
  static Status Start(projections::Projections* projections, NoticeDeliveryOptions options,
                      std::unique_ptr<NoticeDelivery>* out);
  ~NoticeDelivery();  // stops the thread, waiting for the POST under way

  // One pass, on the calling thread: every notice due and not yet delivered.
  Status RunOnce();
  size_t delivered() const;

 private:
  NoticeDelivery(projections::Projections* p, NoticeDeliveryOptions o)
      : projections_(p), options_(std::move(o)) {}
  void Loop();
  // Waits up to `d`; false once stopping.
  bool Sleep(std::chrono::milliseconds d);
  Status Record(const std::string& line);

  projections::Projections* projections_;
  NoticeDeliveryOptions options_;
  Url url_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::set<std::string> delivered_;
  std::string log_;  // the file's contents
  std::thread thread_;
};

}  // namespace ocop::server
