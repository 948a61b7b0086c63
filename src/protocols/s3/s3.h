// The S3 API listener. Until the S3 operations are implemented, every request gets S3's own
// NotImplemented error, so S3 clients report a clear error instead of a protocol failure.
#pragma once

#include "server/http.h"

namespace lakemesh::s3 {

server::Handler MakeS3Handler();

}  // namespace lakemesh::s3
