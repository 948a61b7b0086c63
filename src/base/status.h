// Status and Result<T>: how every module reports an expected failure.
//
// An ErrorCode says what the caller should do about a failure (retry, fix the input, create the
// thing first), not where it happened. Each protocol maps ErrorCode to its own wire error in exactly
// one switch (S3 error XML, SQLSTATE, Iceberg ErrorModel, the JSON API's error object).
// Status and Result are values: cheap to move, safe to pass between threads, never thrown.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lakemesh {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // the request is malformed; retrying it unchanged will fail again
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // creating something that exists
  kConflict,            // lost a race or a merge conflict; re-read and retry
  kPreconditionFailed,  // a condition the caller stated (expected head, If-Match) does not hold
  kUnauthenticated,     // no or bad credentials
  kPermissionDenied,    // authenticated, but not allowed
  kResourceExhausted,   // too large, too many
  kUnavailable,         // shutting down or overloaded; retry later
  kIo,                  // the disk or a backend failed
  kInternal,            // a bug or corrupted state
};

// Stable text for an ErrorCode ("NotFound", "Conflict", ...), used in JSON error bodies and logs.
std::string_view ErrorCodeName(ErrorCode code);
// The inverse of ErrorCodeName; kInternal for an unknown name.
ErrorCode ErrorCodeFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == ErrorCode::kNotFound; }
  bool IsConflict() const { return code_ == ErrorCode::kConflict; }
  bool IsAlreadyExists() const { return code_ == ErrorCode::kAlreadyExists; }

  // Returns this status with `context` prepended to the message ("loading branch dev: ...").
  Status WithContext(std::string_view context) const;

  // "NotFound: branch 'dev' not found"
  std::string ToString() const;

  // For call sites that have handled or deliberately drop a status.
  void IgnoreError() const {}

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status AlreadyExists(std::string message);
Status Conflict(std::string message);
Status PreconditionFailed(std::string message);
Status Unauthenticated(std::string message);
Status PermissionDenied(std::string message);
Status ResourceExhausted(std::string message);
Status Unavailable(std::string message);
Status IoError(std::string message);
Status Internal(std::string message);

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(ErrorCode::kInternal, "Result built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  Status TakeStatus() && { return ok() ? Status::OK() : std::move(std::get<Status>(v_)); }

  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::move(std::get<T>(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr);

}  // namespace lakemesh

#define LM_CONCAT_INNER(a, b) a##b
#define LM_CONCAT(a, b) LM_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define LM_TRY(expr)                                          \
  do {                                                        \
    ::lakemesh::Status lm_try_status_ = (expr);               \
    if (!lm_try_status_.ok()) return lm_try_status_;          \
  } while (0)

// Like LM_TRY, with context prepended to the message on the way up.
#define LM_TRY_CTX(expr, context)                                         \
  do {                                                                    \
    ::lakemesh::Status lm_try_status_ = (expr);                           \
    if (!lm_try_status_.ok()) return lm_try_status_.WithContext(context); \
  } while (0)

#define LM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).TakeStatus(); \
  lhs = std::move(tmp).value()

// `LM_ASSIGN_OR_RETURN(auto x, Foo());` declares x from Foo()'s value or returns its Status.
#define LM_ASSIGN_OR_RETURN(lhs, expr) \
  LM_ASSIGN_OR_RETURN_IMPL(LM_CONCAT(lm_result_, __LINE__), lhs, expr)

// Programmer errors: always checked, abort with the location.
#define LM_CHECK(cond)                                                      \
  do {                                                                      \
    if (!(cond)) ::lakemesh::CheckFailed(__FILE__, __LINE__, #cond);        \
  } while (0)
