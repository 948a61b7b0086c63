#include "protocols/s3/errors.h"

#include "protocols/s3/xml.h"

namespace lakemesh::s3 {

S3Error MakeError(int http_status, std::string code, std::string message) {
  return S3Error{http_status, std::move(code), std::move(message)};
}

S3Error FromStatus(const Status& st, Missing missing) {
  const std::string& m = st.message();
  switch (st.code()) {
    case ErrorCode::kOk:
    case ErrorCode::kInternal:
    case ErrorCode::kIo:
      return MakeError(500, "InternalError", m);
    case ErrorCode::kInvalidArgument:
      return MakeError(400, "InvalidArgument", m);
    case ErrorCode::kNotFound:
      switch (missing) {
        case Missing::kBucket: return MakeError(404, "NoSuchBucket", m);
        case Missing::kKey: return MakeError(404, "NoSuchKey", m);
        case Missing::kUpload: return MakeError(404, "NoSuchUpload", m);
        case Missing::kGeneric: return MakeError(404, "NotFound", m);
      }
      return MakeError(404, "NotFound", m);
    case ErrorCode::kAlreadyExists:
      return MakeError(409, "BucketAlreadyExists", m);
    case ErrorCode::kConflict:
      return MakeError(409, "OperationAborted", m + " (retry)");
    case ErrorCode::kPreconditionFailed:
      return MakeError(412, "PreconditionFailed", m);
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
      return MakeError(403, "AccessDenied", m);
    case ErrorCode::kResourceExhausted:
      return MakeError(400, "EntityTooLarge", m);
    case ErrorCode::kUnavailable:
      return MakeError(503, "ServiceUnavailable", m);
  }
  return MakeError(500, "InternalError", m);
}

server::Response ErrorResponse(const S3Error& e, std::string_view resource,
                               std::string_view request_id) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
  AppendXmlEscaped(&body, e.code);
  body += "</Code><Message>";
  AppendXmlEscaped(&body, e.message);
  body += "</Message><Resource>";
  AppendXmlEscaped(&body, resource);
  body += "</Resource><RequestId>";
  AppendXmlEscaped(&body, request_id);
  body += "</RequestId></Error>\n";
  server::Response r = server::Response::Text(e.http_status, std::move(body), "application/xml");
  r.headers.Set("x-amz-request-id", std::string(request_id));
  return r;
}

}  // namespace lakemesh::s3
