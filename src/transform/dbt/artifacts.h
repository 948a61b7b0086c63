// dbt's artifacts, in the schemas dbt publishes (schemas.getdbt.com): target/manifest.json
// (manifest v12: nodes, sources, parent and child maps) and target/run_results.json (run
// results v6), so that tools reading dbt artifacts read ours.
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
nlohmann::json RunResults(const Compiler& compiler, const std::vector<NodeResult>& results,
                          double elapsed_seconds, const std::string& invocation_id,
                          const std::string& command);

}  // namespace lakemesh::dbt
