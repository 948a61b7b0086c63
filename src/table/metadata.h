// Iceberg table metadata, format version 2 (../shared/specs/iceberg/table-spec.md), kept as the
// JSON document the spec defines, with what a catalog does to it: build the metadata of a new
// table, check a commit's requirements and apply its updates (the REST catalog spec's
// TableRequirement and TableUpdate). Metadata stays a JSON value so that fields this version does
// not interpret (statistics blobs, encryption keys, future additions) survive every commit.
//
// Errors: a requirement that does not hold is kConflict (the REST API's 409
// CommitFailedException); a malformed or inconsistent request is kInvalidArgument (400).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace lakemesh::table {

using Json = nlohmann::json;

inline constexpr int kFormatVersion = 2;
// Partition field ids start above this (the spec's convention: 1000 for the first field).
inline constexpr int kPartitionIdBase = 999;

struct NewTable {
  Json schema;          // Schema; its field ids are replaced by fresh ones
  Json partition_spec;  // PartitionSpec (source ids refer to `schema`) or null for unpartitioned
  Json write_order;     // SortOrder (source ids refer to `schema`) or null for unsorted
  Json properties;      // string map or null
  std::string location;
  std::string uuid;
  int64_t now_ms = 0;
};

// The metadata of a new, empty table: fresh field ids assigned as Iceberg's reference
// implementation does (each struct's fields first, then their children), the partition spec and
// sort order rebound to them, spec id 0, sort order id 1 (0 when unsorted).
Result<Json> NewTableMetadata(const NewTable& t);

// Checks a commit's `requirements` (a JSON array of TableRequirement) against `current` (null
// when the table does not exist yet).
Status CheckRequirements(const Json* current, const Json& requirements);

// Applies `updates` (a JSON array of TableUpdate) to `metadata`, in order. On error `metadata` is
// left partly updated; callers apply to a copy.
Status ApplyUpdates(Json& metadata, const Json& updates, int64_t now_ms);

// Checks that `m` is table metadata this version can serve: format version 2 (or 1), and the
// fields the spec requires with the right JSON types.
Status ValidateMetadata(const Json& m);

// Checks a schema's types: primitive names, struct/list/map shapes, unique field ids.
Status ValidateSchema(const Json& schema);

// The schema of `m` with id `schema_id` (current schema when -1); nullptr if absent.
const Json* FindSchema(const Json& m, int64_t schema_id = -1);

}  // namespace lakemesh::table
