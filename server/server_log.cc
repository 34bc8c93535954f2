#include "server/server_log.h"

#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>

namespace ocop::server {
namespace {

constexpr size_t kBlock = 64 << 10;

// stderr, written whole with write(2); request lines gathered first.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    pending_.append(line.data(), line.size());
    if (msg.logger_name != kRequestLog || pending_.size() >= kBlock) flush_();
  }

  void flush_() override {
    size_t done = 0;
    while (done < pending_.size()) {
      ssize_t n = ::write(STDERR_FILENO, pending_.data() + done, pending_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr closed or full: the lines are dropped, as fwrite's would be
      done += static_cast<size_t>(n);
    }
    pending_.clear();
  }

 private:
  std::string pending_;
};

}  // namespace

void UseStderrLog(const std::string& name) {
  auto sink = std::make_shared<StderrSink>();
  sink->set_pattern("%v");
  auto main = std::make_shared<spdlog::logger>(name, sink);
  auto requests = std::make_shared<spdlog::logger>(kRequestLog, sink);
  spdlog::drop(name);
  spdlog::drop(kRequestLog);
  spdlog::register_logger(requests);
  spdlog::set_default_logger(main);
  // The registry flushes every registered logger (and so the shared sink)
  // each second, from a thread of its own.
  spdlog::flush_every(std::chrono::seconds(1));
}

void FlushLog() {
  if (auto requests = spdlog::get(kRequestLog)) requests->flush();
}

}  // namespace ocop::server
