#include "ledger/status.h"

namespace ocop {

std::string_view Status::CodeName() const {
  switch (code_) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not_found";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kConflict:
      return "conflict";
    case Code::kRefused:
      return "refused";
    case Code::kForbidden:
      return "forbidden";
    case Code::kTampered:
      return "tampered";
    case Code::kBusy:
      return "busy";
    case Code::kCorruption:
      return "corruption";
    case Code::kIOError:
      return "io_error";
    case Code::kNoSpace:
      return "no_space";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(CodeName());
  s += ": ";
  s += message_;
  return s;
}

}  // namespace ocop
