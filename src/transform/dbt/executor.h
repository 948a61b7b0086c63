// Where a dbt project's SQL runs: the SQL engine in-process or a server over the PostgreSQL
// protocol. The runner materializes nodes through it; templates reach it through run_query,
// statement blocks and the adapter's introspection (get_relation, get_columns_in_relation).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace lakemesh::dbt {

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // values as text; nullopt: NULL
  std::string tag;  // "CREATE VIEW", "SELECT 3", ...
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs one statement; kInvalidArgument with the database's message when it fails.
  virtual Result<QueryResult> Execute(const std::string& sql) = 0;
};

}  // namespace lakemesh::dbt
