// The demo mesh `lakemesh serve --demo` loads into a new data directory: three domains (sales,
// customers, marketing) with raw files, a few commits, a branch and a tag, and an (empty)
// Iceberg table sales.orders in the catalog.
#pragma once

#include "catalog/catalog.h"
#include "versioning/repository.h"

namespace lakemesh::app {

Status LoadDemo(versioning::Repositories& repos, catalog::Catalog& catalog);

}  // namespace lakemesh::app
