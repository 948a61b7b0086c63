// The demo mesh's dbt project: examples/dbt/shop, built into the binary, built into the domain
// `shop` of a new demo data directory (in the background, once the server is up), so that the
// demo shows a medallion pipeline of seeds, staging views and marts.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lakemesh::sql {
class Engine;
}

namespace lakemesh::app {

// The project's files: (path relative to the project, contents). Generated at build time.
const std::vector<std::pair<std::string, std::string>>& DemoDbtProject();

// Writes the project under `dir` and builds it on `engine` into the domain `shop`; returns a
// one-line summary ("25 nodes: 25 passed").
Result<std::string> BuildDemoDbt(sql::Engine& engine, const std::string& dir);

}  // namespace lakemesh::app
