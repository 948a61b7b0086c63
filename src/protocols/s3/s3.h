// The S3 API (the --s3 port): plain buckets and repositories as buckets, addressed path-style
// (http://host:9000/bucket/key) and, when a domain is configured, virtual-host style
// (http://bucket.domain:9000/key). A repository's keys are "<ref>/<path>": reads work at any
// ref, writes only on branches (staged until committed). Every request is authenticated with
// SigV4 (header or presigned URL); errors are S3's XML. Reference: docs/s3.md.
#pragma once

#include <string>

#include "catalog/catalog.h"
#include "governance/credentials.h"
#include "server/http.h"
#include "versioning/buckets.h"
#include "versioning/multipart.h"
#include "versioning/repository.h"

namespace lakemesh::s3 {

struct Services {
  versioning::Repositories& repos;
  versioning::Buckets& buckets;
  versioning::MultipartUploads& uploads;
  governance::Credentials& credentials;
  catalog::Catalog& catalog;  // table files under s3://<repo>/_tables/...
  std::string region = "us-east-1";  // what GetBucketLocation reports
  std::string domain;                // virtual-host style for "<bucket>.<domain>"; "" = off
};

server::Handler MakeS3Handler(Services& services);

// For ListenOptions::defer_body: the requests whose small body an event loop may read and hand
// to the handler with Request::can_defer (PutObject; the handler sends the rest to a worker).
inline bool MayDeferBody(std::string_view method, std::string_view /*target*/) {
  return method == "PUT";
}

}  // namespace lakemesh::s3
