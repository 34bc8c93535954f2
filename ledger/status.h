// Status: the result of an operation that may fail, in the manner of LevelDB.
//
// Errors never cross a layer as exceptions. A Status is either OK or carries a
// code and a message written for the person who will read it: it says what was
// wrong and, where it can, what is allowed.
//
// A Status is [[nodiscard]]: a result is looked at, passed on, or dropped on
// purpose (and then the code says why). What a code means to a caller's
// users lives with that caller: the program's exit codes in ocop/, HTTP's in
// server/.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ocop {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,         // the thing asked for does not exist
    kInvalidArgument,  // the request is malformed: bad usage or unreadable input
    kConflict,         // expected version or idempotency key does not match
    kRefused,          // understood, and not allowed by the caller's rules
    kForbidden,        // not within the authority of whoever asked
    kTampered,         // stored data does not match its hash tree
    kBusy,             // the data directory is used by another process
    kCorruption,       // stored data is unreadable, foreign or of a newer format
    kIOError,          // the operating system or storage engine failed
    kNoSpace,          // the disk is full (or below the reserve kept free): nothing written
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status Conflict(std::string msg) { return Status(Code::kConflict, std::move(msg)); }
  static Status Refused(std::string msg) { return Status(Code::kRefused, std::move(msg)); }
  static Status Forbidden(std::string msg) { return Status(Code::kForbidden, std::move(msg)); }
  static Status Tampered(std::string msg) { return Status(Code::kTampered, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status NoSpace(std::string msg) { return Status(Code::kNoSpace, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsRefused() const { return code_ == Code::kRefused; }
  bool IsForbidden() const { return code_ == Code::kForbidden; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsTampered() const { return code_ == Code::kTampered; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNoSpace() const { return code_ == Code::kNoSpace; }

  // The part of the request this status is about, as a path into it
  // ("decision.issuer", "items[4].product"), so that a form can show the
  // message beside that field; empty when it names none. Set by whoever
  // refuses, where the field is known, never read back out of the message.
  const std::string& field() const { return field_; }
  // This status, naming `field`.
  Status WithField(std::string field) const {
    Status s = *this;
    s.field_ = std::move(field);
    return s;
  }

  // A short machine-readable name of the code, e.g. "conflict".
  std::string_view CodeName() const;
  // "conflict: stream 'p/1' expected version 3, actual 5".
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
  std::string field_;
};

}  // namespace ocop
