// MetaStore keys that more than one versioning service reads (docs/formats.md lists them all).
// Repositories and plain buckets share the S3 bucket namespace, so each checks the other's key.
#pragma once

#include <string>
#include <string_view>

namespace lakemesh::versioning {

inline std::string RepoKey(std::string_view repo) { return "r/" + std::string(repo); }
inline std::string BucketKey(std::string_view bucket) { return "pb/" + std::string(bucket); }

}  // namespace lakemesh::versioning
