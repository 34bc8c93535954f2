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

int Status::ExitCode() const {
  switch (code_) {
    case Code::kOk:
      return 0;
    case Code::kConflict:
    case Code::kRefused:
    case Code::kForbidden:
    case Code::kTampered:
      return 1;
    case Code::kNotFound:  // asked for what is not there: bad usage
    case Code::kInvalidArgument:
      return 2;
    case Code::kBusy:
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kNoSpace:
      return 3;
  }
  return 3;
}

}  // namespace ocop
