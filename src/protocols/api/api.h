// The JSON REST API under /api/v1: repositories, branches, tags, commits, objects, diff, merge,
// credentials, garbage collection. Every request is authenticated (Basic with an access key, or a
// bearer token) before it reaches a handler; errors are {"error": {"code", "message"}} with the
// HTTP status from the one mapping in errors.cc. Reference: docs/api.md.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "catalog/catalog.h"
#include "catalog/product.h"
#include "catalog/search.h"
#include "governance/credentials.h"
#include "orchestrate/products.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/router.h"
#include "versioning/buckets.h"
#include "versioning/multipart.h"
#include "versioning/repository.h"

namespace lakemesh::api {

struct Services {
  versioning::Repositories& repos;
  versioning::Buckets& buckets;
  versioning::MultipartUploads& uploads;
  governance::Credentials& credentials;
  server::Metrics& metrics;
  catalog::Catalog& catalog;
  std::string work_dir;  // scratch space for uploads being converted (data_dir/tmp)
  // The server's listening addresses by protocol ("http", "s3", "pg"), set once they are bound.
  std::map<std::string, std::string> listeners = {};
  // Product checks, publish and history (needs the SQL engine); set once it can be opened.
  orchestrate::Products* products = nullptr;
  catalog::SearchIndex* search = nullptr;  // discovery (/api/v1/search)
  catalog::Policies policies = {};          // what data products must follow
};

using ApiHandler =
    std::function<server::Response(Services&, server::Request&, const governance::Principal&)>;

// Builds the handler for the HTTP port: /api/v1/..., /healthz, /metrics.
server::Handler MakeHttpHandler(Services& services);

// Authenticates a request from its Authorization header (Basic or Bearer).
Result<governance::Principal> Authenticate(governance::Credentials& creds,
                                           const server::Request& req);

}  // namespace lakemesh::api
