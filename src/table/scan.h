// Scan planning (table-spec.md "Scan Planning"): the data files of a snapshot that may hold rows
// matching a filter, each with the delete files that apply to it.
//
// Manifests are skipped by their partition field summaries, entries by their partition tuple
// (the filter's inclusive projection onto the manifest's spec) and then by column metrics.
// Delete files apply by the spec's scope rules: position deletes to data files of the same
// partition with a data sequence number less than or equal to theirs (and to the one file named
// by referenced_data_file or by equal file_path bounds), equality deletes to data files of the
// same partition (or of any partition, when the delete's spec is unpartitioned) with a smaller
// data sequence number.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "table/expression.h"
#include "table/manifest.h"

namespace lakemesh::table {

// Reads a table file (manifest list, manifest) by its location. Called from several threads at
// once when a scan reads many manifests.
using FileReader =
    std::function<Result<std::shared_ptr<const std::string>>(const std::string& location)>;

struct ScanOptions {
  std::optional<int64_t> snapshot_id;  // default: the current snapshot (or `ref`'s)
  std::string ref;                     // an Iceberg ref of the table (branch or tag) instead
  Expr filter = Expr::True();          // unbound; bound here against the scanned schema
  bool case_sensitive = true;
  // Bind the filter to the snapshot's schema instead of the current one (time travel).
  bool use_snapshot_schema = false;
};

struct ScanTask {
  DataFile file;
  int32_t spec_id = 0;
  int64_t data_sequence_number = 0;
  std::vector<size_t> deletes;  // indexes into ScanPlan::delete_files
};

struct ScanStats {
  int64_t manifests = 0, manifests_skipped = 0;
  int64_t data_files = 0, data_files_skipped = 0;  // live entries seen and pruned
  int64_t delete_files = 0;
};

struct ScanPlan {
  std::optional<int64_t> snapshot_id;  // none for a table without snapshots
  nlohmann::json schema;               // the schema rows are read with
  Expr filter;                         // the bound filter
  std::vector<ScanTask> tasks;
  std::vector<DataFile> delete_files;
  std::vector<int32_t> delete_spec_ids;  // parallel to delete_files
  ScanStats stats;
};

Result<ScanPlan> PlanScan(const nlohmann::json& metadata, const ScanOptions& options,
                          const FileReader& read);

// The snapshot `options` selects (nullptr for an empty table); kNotFound for an unknown snapshot
// id or ref.
Result<const nlohmann::json*> SelectSnapshot(const nlohmann::json& metadata,
                                             const ScanOptions& options);

// The bound partition spec `spec_id` of the table (bound to the current schema, falling back to
// older schemas for sources dropped since).
Result<PartitionSpec> TableSpec(const nlohmann::json& metadata, int32_t spec_id);

// A data or delete file in the REST spec's ContentFile JSON form (planTableScan results).
nlohmann::json ContentFileJson(const DataFile& f, int32_t spec_id, const nlohmann::json& schema);

}  // namespace lakemesh::table
