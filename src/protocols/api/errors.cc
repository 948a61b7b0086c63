#include "base/status.h"
#include "protocols/api/json_util.h"

namespace lakemesh::api {

// The one mapping from ErrorCode to HTTP status for the JSON API.
static int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPreconditionFailed: return 412;
    case ErrorCode::kResourceExhausted: return 413;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kIo: return 500;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

server::Response ErrorResponse(const Status& status) {
  json body{{"error",
             {{"code", std::string(ErrorCodeName(status.code()))}, {"message", status.message()}}}};
  server::Response r = JsonResponse(HttpStatus(status.code()), body);
  if (status.code() == ErrorCode::kUnauthenticated) {
    r.headers.Set("WWW-Authenticate", "Basic realm=\"lakemesh\"");
  }
  return r;
}

}  // namespace lakemesh::api
