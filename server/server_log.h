// The server's log: JSON lines on stderr, one per request and one per event
// of note (start, stop, a refused tokens file, a failed delivery).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace ocop::server {

// The logger the request lines go to (Serve looks it up by this name; without
// it they go to the default logger).
inline constexpr const char* kRequestLog = "requests";

// Makes `name` the default logger and registers kRequestLog beside it, both
// writing "%v" lines to stderr through one sink. Request lines are gathered
// and written in blocks, as nginx's buffered access_log does: at 64 KiB, at
// the latest a second after they were logged, and always before any other
// line, so the order of the lines is kept. Every other line is written at
// once. One write(2) a request was ~2% of a POSTed command's CPU on the
// project's VMs (BENCHMARKS.md, issue 18, eighth session); what a crash can
// lose is at most the last second of request lines, never the ledger's
// record (what was appended is in the ledger, not in the log).
void UseStderrLog(const std::string& name);

// Writes what is gathered; for the end of the process.
void FlushLog();

}  // namespace ocop::server
