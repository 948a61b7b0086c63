#include "base/status.h"

#include <cstdio>

namespace lakemesh {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kAlreadyExists: return "AlreadyExists";
    case ErrorCode::kConflict: return "Conflict";
    case ErrorCode::kPreconditionFailed: return "PreconditionFailed";
    case ErrorCode::kUnauthenticated: return "Unauthenticated";
    case ErrorCode::kPermissionDenied: return "PermissionDenied";
    case ErrorCode::kResourceExhausted: return "ResourceExhausted";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kIo: return "IoError";
    case ErrorCode::kInternal: return "Internal";
  }
  return "Unknown";
}

ErrorCode ErrorCodeFromName(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    if (ErrorCodeName(static_cast<ErrorCode>(c)) == name) return static_cast<ErrorCode>(c);
  }
  return ErrorCode::kInternal;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(ErrorCodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

Status InvalidArgument(std::string m) { return Status(ErrorCode::kInvalidArgument, std::move(m)); }
Status NotFound(std::string m) { return Status(ErrorCode::kNotFound, std::move(m)); }
Status AlreadyExists(std::string m) { return Status(ErrorCode::kAlreadyExists, std::move(m)); }
Status Conflict(std::string m) { return Status(ErrorCode::kConflict, std::move(m)); }
Status PreconditionFailed(std::string m) {
  return Status(ErrorCode::kPreconditionFailed, std::move(m));
}
Status Unauthenticated(std::string m) { return Status(ErrorCode::kUnauthenticated, std::move(m)); }
Status PermissionDenied(std::string m) {
  return Status(ErrorCode::kPermissionDenied, std::move(m));
}
Status ResourceExhausted(std::string m) {
  return Status(ErrorCode::kResourceExhausted, std::move(m));
}
Status Unavailable(std::string m) { return Status(ErrorCode::kUnavailable, std::move(m)); }
Status IoError(std::string m) { return Status(ErrorCode::kIo, std::move(m)); }
Status Internal(std::string m) { return Status(ErrorCode::kInternal, std::move(m)); }

void CheckFailed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "lakemesh: check failed at %s:%d: %s\n", file, line, expr);
  std::abort();
}

}  // namespace lakemesh
