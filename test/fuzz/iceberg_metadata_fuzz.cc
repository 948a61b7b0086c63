// Iceberg table and view metadata, commit requirements and updates arrive in REST request bodies (and
// metadata files are read back from storage). The input is one JSON document; its members feed
// every entry point: "schema"/"spec"/"order" create a table, "updates" and "requirements" are
// applied to it, and the whole document is validated as metadata. Invariants: nothing throws or
// crashes, and updates that apply leave metadata that validates.
#include <cstdint>
#include <string>

#include "table/metadata.h"
#include "table/view.h"

using lakemesh::table::Json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Json in = Json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size,
                        nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return 0;
  lakemesh::table::ValidateMetadata(in).IgnoreError();
  if (!in.is_object()) return 0;
  // Views: the document as a CreateViewRequest, then its "updates" as view updates.
  auto view = lakemesh::table::NewViewMetadata(in, "s3://fuzz/_tables/v", "v", 1);
  if (view.ok()) {
    if (!lakemesh::table::ValidateViewMetadata(*view).ok()) __builtin_trap();
    lakemesh::table::CheckViewRequirements(*view, in.value("requirements", Json())).IgnoreError();
    Json v = *view;
    if (lakemesh::table::ApplyViewUpdates(v, in.value("updates", Json()), 2).ok() &&
        !lakemesh::table::ValidateViewMetadata(v).ok()) {
      __builtin_trap();
    }
  }
  lakemesh::table::NewTable t;
  t.schema = in.contains("schema") ? in["schema"]
                                   : Json::parse(R"({"type": "struct", "fields": [
      {"id": 1, "name": "a", "required": true, "type": "long"},
      {"id": 2, "name": "b", "required": false, "type": "string"}]})");
  t.partition_spec = in.value("spec", Json());
  t.write_order = in.value("order", Json());
  t.properties = in.value("properties", Json());
  t.location = "s3://fuzz/_tables/u";
  t.uuid = "u";
  t.now_ms = 1;
  auto m = lakemesh::table::NewTableMetadata(t);
  if (!m.ok()) return 0;
  if (!lakemesh::table::ValidateMetadata(*m).ok()) __builtin_trap();
  lakemesh::table::CheckRequirements(&*m, in.value("requirements", Json())).IgnoreError();
  lakemesh::table::CheckRequirements(nullptr, in.value("requirements", Json())).IgnoreError();
  Json updated = *m;
  if (lakemesh::table::ApplyUpdates(updated, in.value("updates", Json()), 2).ok()) {
    if (!lakemesh::table::ValidateMetadata(updated).ok()) __builtin_trap();
    lakemesh::table::CheckRequirements(&updated, in.value("requirements", Json())).IgnoreError();
  }
  return 0;
}
