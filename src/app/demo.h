// The demo mesh `lakemesh serve --demo` loads into a new data directory: three domains (sales,
// customers, marketing) with raw files, a few commits, a branch and a tag, the Iceberg tables
// sales.orders (two snapshots on main, one more on dev), customers.customers and
// marketing.campaigns, and a published data product in each domain (customers.customers ->
// sales.orders -> marketing.campaigns). Its dbt
// project (examples/dbt/shop) is built into the domain `shop` by the application once it runs
// (demo_dbt.h).
// `work_dir` is scratch space for writing their data files.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "versioning/repository.h"

namespace lakemesh::app {

Status LoadDemo(versioning::Repositories& repos, catalog::Catalog& catalog,
                const std::string& work_dir);

struct DemoCheck {
  std::string domain, name, ref;
};
// The product checks the application runs once the demo is loaded (they need the SQL engine).
std::vector<DemoCheck> DemoProductChecks();

}  // namespace lakemesh::app
