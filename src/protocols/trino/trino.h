// The Trino client protocol on the HTTP port (trino.io/docs/current/develop/client-protocol):
// Trino's clients (the CLI, JDBC, Python and JavaScript clients, dbt-trino, Airflow's hook)
// point at lakemesh instead of a Trino coordinator.
//
// POST /v1/statement takes a statement and answers QUEUED with a nextUri; each GET of nextUri
// returns the next page of rows (waiting up to a second for them) and the next nextUri, until a
// response without one ends the query. A query runs on a thread of its own, writing rows as
// Trino's JSON into a page buffer; it waits while a full page is not yet fetched, so a large
// result streams page by page. DELETE on nextUri (or /v1/query/<id>) cancels it.
//
// The catalog `lakemesh` (and any alias configured) is lakemesh's SQL namespace: its schemas
// are the domains. Session state travels in headers as Trino's does: X-Trino-Catalog /
// X-Trino-Schema (the default domain), X-Trino-Session (session properties: lakemesh.ref, the
// ref tables are read at, and query_max_run_time), X-Trino-Prepared-Statement,
// X-Trino-Transaction-Id; statements that change it answer with X-Trino-Set-* headers. USE,
// SET/RESET SESSION, PREPARE/EXECUTE/DEALLOCATE, START TRANSACTION/COMMIT/ROLLBACK, SHOW
// CATALOGS/SCHEMAS/TABLES/COLUMNS/CREATE TABLE/SESSION, DESCRIBE and the system.runtime tables
// are handled here; everything else runs on the SQL engine. Authentication: HTTP Basic with an
// access key id and its secret. Reference: docs/trino.md.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/http.h"

namespace lakemesh::governance {
class Credentials;
}
namespace lakemesh::catalog {
class Catalog;
}
namespace lakemesh::sql {
class Engine;
}

namespace lakemesh::trino {

struct Services {
  governance::Credentials& credentials;
  catalog::Catalog& catalog;
  // The SQL engine, opened on first use.
  std::function<Result<sql::Engine*>()> engine;
  // Names of lakemesh's catalog; the first is the one SHOW CATALOGS and SHOW CREATE TABLE use.
  std::vector<std::string> catalogs = {"lakemesh"};
  std::string version;  // reported by /v1/info and system.runtime.nodes
};

class Server {
 public:
  explicit Server(Services services);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Whether `path` belongs to this protocol: /v1/statement..., /v1/query..., /v1/info..., /v1/node.
  static bool Handles(std::string_view path);
  // Whether a request may wait for rows (GET of a nextUri), so that the HTTP server serves it on
  // a worker thread. Takes the request target.
  static bool MayWait(std::string_view target);

  server::Response Handle(server::Request& req);

  // Cancels every running query and waits for their threads.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakemesh::trino
