// Iceberg manifests and manifest lists (table-spec.md "Manifests", "Manifest Lists"), format v2,
// written and read as Avro container files (table/avro.h).
//
// A manifest lists data or delete files of one partition spec with their partition tuple and
// column metrics; a manifest list names a snapshot's manifests with their counts and partition
// summaries. Writers here produce the schemas and header metadata Iceberg's reference
// implementation does (field ids on every field, "r2"/"r102" records, int-keyed maps as arrays of
// key/value records), so any Iceberg engine reads them. Readers accept manifests written by other
// engines, including v1 layouts, and apply sequence-number inheritance.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "table/value.h"

namespace lakemesh::table {

// A partition spec bound to a schema: every field's source and result type.
struct PartitionField {
  int32_t field_id = 0;
  int32_t source_id = 0;
  std::string name;
  Transform transform;
  PrimitiveType source_type;
  PrimitiveType type;  // the transform's result type
};

struct PartitionSpec {
  int32_t spec_id = 0;
  std::vector<PartitionField> fields;
  nlohmann::json json;  // the spec as table metadata has it
};

// Binds `spec` (a PartitionSpec JSON object) to `schema` (a Schema JSON object). A field whose
// source is missing from the schema (dropped since) or whose transform is unknown keeps type
// int and an unknown transform, as the spec asks readers to ignore such fields.
Result<PartitionSpec> BindPartitionSpec(const nlohmann::json& spec, const nlohmann::json& schema);

// The primitive type of schema field `id` (nested structs included); kNotFound if absent or not
// primitive.
Result<PrimitiveType> FieldType(const nlohmann::json& schema, int32_t id);

// One optional value per partition field, in spec order.
using PartitionTuple = std::vector<std::optional<Literal>>;

enum class FileContent { kData = 0, kPositionDeletes = 1, kEqualityDeletes = 2 };

// Maps from field id, kept as sorted vectors: manifests hold thousands of these.
using CountMap = std::vector<std::pair<int32_t, int64_t>>;
using BoundMap = std::vector<std::pair<int32_t, std::string>>;

struct DataFile {
  FileContent content = FileContent::kData;
  std::string file_path;
  std::string file_format = "PARQUET";
  PartitionTuple partition;
  int64_t record_count = 0;
  int64_t file_size_in_bytes = 0;
  CountMap column_sizes, value_counts, null_value_counts, nan_value_counts;
  BoundMap lower_bounds, upper_bounds;  // single-value binary serialization
  std::vector<int64_t> split_offsets;
  std::vector<int32_t> equality_ids;
  std::optional<int32_t> sort_order_id;
  std::optional<std::string> referenced_data_file;
};

// The value of `id` in a field-id map, or nullptr.
const int64_t* Lookup(const CountMap& m, int32_t id);
const std::string* Lookup(const BoundMap& m, int32_t id);

enum class EntryStatus { kExisting = 0, kAdded = 1, kDeleted = 2 };

struct ManifestEntry {
  EntryStatus status = EntryStatus::kAdded;
  std::optional<int64_t> snapshot_id;           // null: inherited from the manifest
  std::optional<int64_t> sequence_number;       // data sequence number; null: inherited
  std::optional<int64_t> file_sequence_number;  // null: inherited
  DataFile file;
};

enum class ManifestContent { kData = 0, kDeletes = 1 };

struct FieldSummary {
  bool contains_null = false;
  std::optional<bool> contains_nan;
  std::optional<std::string> lower_bound;  // binary single-value serialization
  std::optional<std::string> upper_bound;
};

// One manifest as a manifest list names it.
struct ManifestFile {
  std::string manifest_path;
  int64_t manifest_length = 0;
  int32_t partition_spec_id = 0;
  ManifestContent content = ManifestContent::kData;
  int64_t sequence_number = 0;
  int64_t min_sequence_number = 0;
  int64_t added_snapshot_id = 0;
  std::optional<int32_t> added_files_count, existing_files_count, deleted_files_count;
  std::optional<int64_t> added_rows_count, existing_rows_count, deleted_rows_count;
  std::vector<FieldSummary> partitions;
};

// Writes a manifest of `entries` (all of one content kind) for `spec`. `schema` is the table
// schema JSON at the time of writing. `out` receives the list entry's counts and partition
// summaries; the caller sets its path, length, sequence numbers and snapshot id.
Result<std::string> WriteManifest(const nlohmann::json& schema, const PartitionSpec& spec,
                                  ManifestContent content,
                                  const std::vector<ManifestEntry>& entries, ManifestFile* out);

// Writes the manifest list of snapshot `snapshot_id`.
Result<std::string> WriteManifestList(int64_t snapshot_id, std::optional<int64_t> parent_id,
                                      int64_t sequence_number,
                                      const std::vector<ManifestFile>& manifests);

Result<std::vector<ManifestFile>> ReadManifestList(std::string_view file);

// Reads the entries of manifest `m`, which was written for `spec`, with snapshot ids and sequence
// numbers inherited from `m` where null. Entries whose partition `keep` rejects are skipped before
// the rest of them is decoded. DELETED entries are returned too; scans skip them.
using PartitionFilter = std::function<bool(const PartitionTuple&)>;
Result<std::vector<ManifestEntry>> ReadManifest(std::string_view file, const ManifestFile& m,
                                                const PartitionSpec& spec,
                                                const PartitionFilter& keep = nullptr);

}  // namespace lakemesh::table
