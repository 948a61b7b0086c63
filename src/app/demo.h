// The demo mesh `lakemesh serve --demo` loads into a new data directory: three domains (sales,
// customers, marketing) with raw files, a few commits, a branch and a tag, and the Iceberg
// tables sales.orders (two snapshots on main, one more on dev) and customers.customers. Its dbt
// project (examples/dbt/shop) is built into the domain `shop` by the application once it runs
// (demo_dbt.h).
// `work_dir` is scratch space for writing their data files.
#pragma once

#include "catalog/catalog.h"
#include "versioning/repository.h"

namespace lakemesh::app {

Status LoadDemo(versioning::Repositories& repos, catalog::Catalog& catalog,
                const std::string& work_dir);

}  // namespace lakemesh::app
