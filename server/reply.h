// Private to server/: the pieces every answer is made of (JSON replies,
// errors from a Status) and a request's target, decoded once.
#pragma once

#include <kj/exception.h>

#include <boost/beast/http.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ocop::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using json = nlohmann::ordered_json;

// The HTTP status that answers a Status's code.
int HttpStatus(const Status& s);
Response Reply(const Request& req, int status, std::string body,
               const std::string& type = "application/json");
// Request paths and queries are bytes, not necessarily UTF-8: what is echoed
// back is repaired (U+FFFD) rather than allowed to make serialization throw.
Response JsonReply(const Request& req, int status, const json& j);
// {"error":{"code","message",...extra}}
Response Error(const Request& req, int status, const std::string& code, const std::string& message,
               const json& extra = nullptr);
Response FromStatus(const Request& req, const Status& s, const json& extra = nullptr);

// A request's target: its path and query, percent-decoded.
struct Target {
  std::string path;
  std::map<std::string, std::string> query;
  std::string Get(const std::string& k, const std::string& fallback = "") const {
    auto it = query.find(k);
    return it == query.end() ? fallback : it->second;
  }
};
Target ParseTarget(std::string_view t);

// A whole number of at most 18 digits.
bool ParseUint(const std::string& s, uint64_t* out);

// Runs `f`; what it throws (nothing below Api should), C++'s or Cap'n
// Proto's, comes back described.
template <typename F>
std::optional<std::string> Thrown(F&& f) {
  try {
    f();
    return std::nullopt;
  } catch (const std::exception& e) {
    return e.what();
  } catch (const kj::Exception& e) {
    return std::string(e.getDescription().cStr());
  }
}

}  // namespace ocop::server
