// The Iceberg REST catalog at /iceberg on the HTTP port (../shared/specs/iceberg/
// rest-catalog-open-api.yaml), over catalog::Catalog. The `prefix` path segment is the ref every
// namespace of the call is read at (`GET /iceberg/v1/config?warehouse=<ref>` returns it; the
// default is `main`); the first namespace level is the domain. Authentication: the OAuth2
// client-credentials flow at /iceberg/v1/oauth/tokens (client id = access key id, secret = its
// secret), then bearer tokens; HTTP Basic with an access key also works. Errors are the spec's
// IcebergErrorResponse ({"error": {"message", "type", "code"}}). Reference: docs/iceberg.md.
#pragma once

#include <string>

#include "catalog/catalog.h"
#include "governance/credentials.h"
#include "server/http.h"

namespace lakemesh::iceberg_rest {

struct Services {
  catalog::Catalog& catalog;
  governance::Credentials& credentials;
  std::string s3_address;  // host:port of the S3 listener, for engines reading table files
  std::string s3_region;
};

// Handles every request whose path starts with /iceberg/.
server::Handler MakeHandler(Services& services);

}  // namespace lakemesh::iceberg_rest
