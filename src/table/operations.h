// Table writes as Iceberg snapshots: each operation turns its input into the files it adds
// (manifests, a manifest list) and the commit that makes them current (REST TableRequirements
// and TableUpdates), so that the catalog writes the files once and then commits through the same
// path an engine's commit takes.
//
//   - PrepareAppend: a "fast append" — one new manifest of the added files, listed beside the
//     parent snapshot's manifests.
//   - PrepareCombinedAppends: for a merge of two branches that both only appended to a table,
//     one snapshot on the destination's that adds the source's new manifests.
#pragma once

#include <cstdint>
#include <map>
#include <set>
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

// Copy-on-write: a snapshot on `options.branch` that removes the data files at `removed` (paths of
// live data files of the branch's snapshot) and adds `added` (rewritten survivors, or new rows).
// Manifests that list a removed file are rewritten, their other entries kept as EXISTING and the
// removed ones marked DELETED; other manifests are carried over; added files get a new manifest.
// The operation is "delete" when nothing is added, "overwrite" otherwise. The commit requires the
// branch to be still at the snapshot the rewrite was computed from (kConflict otherwise: plan
// again). kInvalidArgument when a removed path is not a live data file of the snapshot.
Result<PreparedCommit> PrepareRewrite(const nlohmann::json& metadata,
                                      const std::set<std::string>& removed,
                                      const std::vector<DataFile>& added,
                                      const AppendOptions& options, const FileReader& read);

// When `ours` (the merge destination's table) and `theirs` (the source's) both changed `base`
// (the table at the merge base) only by appending on their main branch, with the same schemas,
// partition specs, sort orders and properties: the commit that adds to `ours` one "append"
// snapshot listing ours' manifests and the manifests theirs added since `base`. kConflict with
// the reason otherwise ("schema changed on both sides", "the source deleted rows", ...).
Result<PreparedCommit> PrepareCombinedAppends(const nlohmann::json& base,
                                              const nlohmann::json& ours,
                                              const nlohmann::json& theirs, int64_t now_ms,
                                              const FileReader& read);

// Snapshot expiry: which snapshots to remove so that each branch keeps its head, its last
// `retain_last` snapshots and every ancestor newer than `older_than_ms`; tags keep theirs; a
// snapshot no ref reaches (left by a rollback) goes once it is older than `older_than_ms`.
// Commit the result as a `remove-snapshots` update. (Files stay: older repository commits still
// refer to them.)
struct ExpireOptions {
  int64_t older_than_ms = 0;
  int retain_last = 1;
};
std::vector<int64_t> SnapshotsToExpire(const nlohmann::json& metadata, const ExpireOptions& o);

// A new snapshot id: positive, random, not used by `metadata`.
int64_t NewSnapshotId(const nlohmann::json& metadata);

}  // namespace lakemesh::table
