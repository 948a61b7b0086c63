// Iceberg view metadata, format version 1 (../shared/specs/iceberg/view-spec.md), as the JSON
// document the spec defines: building a new view from a CreateViewRequest, and checking and
// applying a CommitViewRequest's requirements and updates. Errors as in table/metadata.h:
// kConflict for a failed requirement, kInvalidArgument for malformed or inconsistent input.
#pragma once

#include "table/metadata.h"

namespace lakemesh::table {

inline constexpr int kViewFormatVersion = 1;

// `request` is a CreateViewRequest (name, schema, view-version, properties).
Result<Json> NewViewMetadata(const Json& request, const std::string& location,
                             const std::string& uuid, int64_t now_ms);

// ViewRequirement: assert-view-uuid.
Status CheckViewRequirements(const Json& current, const Json& requirements);

// ViewUpdate: assign-uuid, upgrade-format-version, add-schema, set-location, set-properties,
// remove-properties, add-view-version, set-current-view-version.
Status ApplyViewUpdates(Json& metadata, const Json& updates, int64_t now_ms);

Status ValidateViewMetadata(const Json& m);

}  // namespace lakemesh::table
