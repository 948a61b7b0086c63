// dbt's artifacts, in the schemas dbt publishes (schemas.getdbt.com): target/manifest.json
// (manifest v12: nodes, sources, parent and child maps), target/run_results.json (run
// results v6) and target/catalog.json (catalog v1, from `docs generate`), so that tools
// reading dbt artifacts read ours.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transform/dbt/compiler.h"
#include "transform/dbt/runner.h"

namespace lakemesh::dbt {

// The dbt version the artifacts' schemas belong to (what `metadata.dbt_version` says).
inline constexpr const char* kArtifactsDbtVersion = "1.8.0";

nlohmann::json Manifest(const Compiler& compiler, const std::string& invocation_id);
// What `docs generate` found of a relation in the database.
struct CatalogTable {
  std::string unique_id, schema, name;
  bool view = false;
  std::vector<std::pair<std::string, std::string>> columns;  // name, type
};
nlohmann::json Catalog(const std::vector<CatalogTable>& nodes, const std::vector<CatalogTable>& sources,
                       const std::string& invocation_id);
nlohmann::json RunResults(const Compiler& compiler, const std::vector<NodeResult>& results,
                          double elapsed_seconds, const std::string& invocation_id,
                          const std::string& command);

}  // namespace lakemesh::dbt
