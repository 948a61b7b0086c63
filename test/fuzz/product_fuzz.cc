// Product files come from repositories and from POST /api/v1/products/.../validate: reading one,
// comparing it with itself, checking policies and rendering it as JSON must hold for any bytes.
#include <cstdint>
#include <string>

#include "catalog/product.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lakemesh::catalog;  // NOLINT(build/namespaces)
  std::string in(reinterpret_cast<const char*>(data), size);
  auto p = ParseProduct(in, size % 2 ? "sales" : "", "products/fuzz.yaml");
  if (p.ok()) {
    (void)CompareContracts(*p, *p);
    (void)CheckPolicies(*p, Policies{});
    (void)ProductJson(*p).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // as the API does
    for (const auto& o : p->outputs) {
      for (const auto& q : o.quality) {
        (void)q.Describe();
        (void)q.Holds(1.5);
      }
    }
  }
  return 0;
}
