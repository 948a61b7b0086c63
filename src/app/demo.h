// The demo mesh `lakemesh serve --demo` loads into a new data directory: three domains (sales,
// customers, marketing) with raw files, a few commits, a branch and a tag.
#pragma once

#include "versioning/repository.h"

namespace lakemesh::app {

Status LoadDemo(versioning::Repositories& repos);

}  // namespace lakemesh::app
