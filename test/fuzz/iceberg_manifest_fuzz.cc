// Manifests and manifest lists are Avro files read from storage, written by lakemesh or by any
// engine with the table's credentials. The input is one file; it is read as a manifest list and
// as a manifest of a spec with a field of each partition result type, and the entries that
// decode are written again and read back. Invariants: nothing crashes, hangs or allocates
// without bound, and what decodes round-trips.
#include <cstdint>
#include <string>

#include "table/manifest.h"

namespace t = lakemesh::table;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view file(reinterpret_cast<const char*>(data), size);
  t::ReadManifestList(file).status().IgnoreError();

  static const auto schema = nlohmann::json::parse(R"j({"type": "struct", "schema-id": 0,
    "fields": [{"id": 1, "name": "id", "required": true, "type": "long"},
               {"id": 2, "name": "d", "required": false, "type": "date"},
               {"id": 3, "name": "s", "required": false, "type": "string"},
               {"id": 4, "name": "x", "required": false, "type": "decimal(9,2)"},
               {"id": 5, "name": "f", "required": false, "type": "double"}]})j");
  static const auto spec = *t::BindPartitionSpec(nlohmann::json::parse(R"j({"spec-id": 0,
    "fields": [{"source-id": 2, "field-id": 1000, "name": "order_month", "transform": "month"},
               {"source-id": 3, "field-id": 1001, "name": "s", "transform": "identity"},
               {"source-id": 4, "field-id": 1002, "name": "x", "transform": "identity"},
               {"source-id": 5, "field-id": 1003, "name": "f", "transform": "identity"},
               {"source-id": 1, "field-id": 1004, "name": "b", "transform": "bucket[8]"}]})j"),
                                                 schema);
  t::ManifestFile mf;
  mf.sequence_number = 3;
  auto entries = t::ReadManifest(file, mf, spec);
  if (!entries.ok() || entries->empty()) return 0;
  // What decoded writes again (when it is valid for a manifest) and reads back the same.
  for (auto& e : *entries) {
    e.status = t::EntryStatus::kAdded;
    e.sequence_number = e.file_sequence_number = std::nullopt;
    e.file.content = t::FileContent::kData;
  }
  t::ManifestFile out;
  auto bytes = t::WriteManifest(schema, spec, t::ManifestContent::kData, *entries, &out);
  if (!bytes.ok()) return 0;  // e.g. a decimal that does not fit the spec's precision
  auto again = t::ReadManifest(*bytes, mf, spec);
  if (!again.ok() || again->size() != entries->size()) __builtin_trap();
  for (size_t i = 0; i < again->size(); ++i) {
    const auto& a = (*entries)[i].file;
    const auto& b = (*again)[i].file;
    if (a.file_path != b.file_path || a.record_count != b.record_count ||
        a.lower_bounds != b.lower_bounds || a.partition.size() != b.partition.size()) {
      __builtin_trap();
    }
  }
  return 0;
}
