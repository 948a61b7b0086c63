// Table writes as Iceberg snapshots: each operation turns its input into the files it adds
// (manifests, a manifest list) and the commit that makes them current (REST TableRequirements
// and TableUpdates), so that the catalog writes the files once and then commits through the same
// path an engine's commit takes.
//
//   - PrepareAppend: a "fast append" — one new manifest of the added files, listed beside the
//     parent snapshot's manifests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "table/manifest.h"
#include "table/scan.h"

namespace lakemesh::table {

struct TableFile {
  std::string location;
  std::string bytes;
};

struct PreparedCommit {
  std::vector<TableFile> files;  // to be written (once, at new keys) before committing
  nlohmann::json requirements;   // TableRequirement array
  nlohmann::json updates;        // TableUpdate array
  int64_t snapshot_id = 0;
  nlohmann::json summary;        // the new snapshot's summary
};

struct AppendOptions {
  std::string branch = "main";                 // the table's Iceberg branch
  int64_t now_ms = 0;
  std::map<std::string, std::string> summary;  // extra snapshot summary properties
};

// Appends `files` (data files of the table's default partition spec, with partition tuples in
// spec order) as a new snapshot on `options.branch`. `read` fetches the parent's manifest list.
Result<PreparedCommit> PrepareAppend(const nlohmann::json& metadata,
                                     const std::vector<DataFile>& files,
                                     const AppendOptions& options, const FileReader& read);

// A new snapshot id: positive, random, not used by `metadata`.
int64_t NewSnapshotId(const nlohmann::json& metadata);

}  // namespace lakemesh::table
