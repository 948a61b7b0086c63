// S3 errors: the code, HTTP status and message S3 clients expect, and the one mapping from a
// lakemesh Status to them. Responses are S3's error XML with a request id.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "server/http.h"

namespace lakemesh::s3 {

struct S3Error {
  int http_status = 500;
  std::string code;  // "NoSuchKey", "SignatureDoesNotMatch", ...
  std::string message;
};

S3Error MakeError(int http_status, std::string code, std::string message);

// What a not-found means where the status came from.
enum class Missing { kBucket, kKey, kUpload, kGeneric };

// The one mapping from ErrorCode to S3's errors.
S3Error FromStatus(const Status& st, Missing missing = Missing::kGeneric);

// The error document, with `resource` (the request path) and `request_id`.
server::Response ErrorResponse(const S3Error& e, std::string_view resource,
                               std::string_view request_id);

}  // namespace lakemesh::s3
