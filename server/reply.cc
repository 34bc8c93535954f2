#include "server/reply.h"

#include <cctype>

namespace ocop::server {

int HttpStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kForbidden:
      return 403;
    case Status::Code::kConflict:
      return 409;
    case Status::Code::kRefused:
      return 422;
    case Status::Code::kTampered:
      return 409;
    case Status::Code::kBusy:
      return 503;
    case Status::Code::kNoSpace:
      return 507;  // Insufficient Storage: reads go on, writes resume when space returns
    default:
      return 500;
  }
}

Response Reply(const Request& req, int status, std::string body, const std::string& type) {
  Response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response JsonReply(const Request& req, int status, const json& j) {
  return Reply(req, status, j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

Response Error(const Request& req, int status, const std::string& code, const std::string& message,
               const json& extra) {
  json e{{"error", {{"code", code}, {"message", message}}}};
  if (!extra.is_null()) {
    for (auto& [k, v] : extra.items()) e["error"][k] = v;
  }
  return JsonReply(req, status, e);
}

Response FromStatus(const Request& req, const Status& s, const json& extra) {
  // The field the refusal names, when it names one: a form shows the message
  // beside it (web/forms.js).
  json more = extra;
  if (!s.field().empty()) more["field"] = s.field();
  return Error(req, HttpStatus(s), std::string(s.CodeName()), s.message(), more);
}

namespace {

std::string UrlDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() &&
               isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

Target ParseTarget(std::string_view t) {
  Target out;
  size_t q = t.find('?');
  out.path = UrlDecode(t.substr(0, q));
  if (q == std::string_view::npos) return out;
  std::string_view rest = t.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    size_t eq = kv.find('=');
    out.query[UrlDecode(kv.substr(0, eq))] =
        eq == std::string_view::npos ? "" : UrlDecode(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

bool ParseUint(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *out = std::stoull(s);
  return true;
}

}  // namespace ocop::server
