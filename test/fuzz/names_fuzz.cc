// Names, paths, ref expressions and timestamps arrive in URLs and request bodies.
#include <cstdint>
#include <string>

#include "base/time.h"
#include "versioning/names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  using namespace lakemesh::versioning;  // NOLINT(build/namespaces)
  ValidateRepoName(in).IgnoreError();
  ValidateRefName(in).IgnoreError();
  ValidatePath(in).IgnoreError();
  auto expr = ParseRefExpr(in);
  if (expr.ok() && !ValidateRefName(expr->base).ok()) __builtin_trap();
  lakemesh::ParseRfc3339(in);
  return 0;
}
