// The rules for what users may name: repositories, branches and tags, object paths, and the ref
// expressions that pick a commit. Every rule returns kInvalidArgument with a message that says
// what is wrong and what is allowed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lakemesh::versioning {

// 3-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit: a repository
// is also an S3 bucket and a SQL schema, so its name must be valid as both.
Status ValidateRepoName(std::string_view name);
// A plain bucket's name, as S3 allows it: 3-63 characters of a-z, 0-9, '.' and '-', starting and
// ending with a letter or digit, no "..", not shaped like an IP address.
Status ValidateBucketName(std::string_view name);
// 1-128 characters of A-Z a-z 0-9 '_' '.' '-', starting with a letter, digit or '_', with no "..".
Status ValidateRefName(std::string_view name, std::string_view what = "branch");
// 1-1024 bytes of valid UTF-8, no control characters, not starting with '/', with no "." or ".."
// segment.
Status ValidatePath(std::string_view path);

// A parsed ref expression: base name followed by suffixes, e.g. "main~2", "v1^2",
// "a1b2c3d", "main@{2026-11-01T00:00:00Z}".
struct RefExpr {
  struct Step {
    enum class Kind { kAncestor, kParent, kAtTime };
    Kind kind;
    int64_t n;  // generations for kAncestor, parent number for kParent, micros for kAtTime
  };
  std::string base;
  std::vector<Step> steps;
  bool plain() const { return steps.empty(); }
};

Result<RefExpr> ParseRefExpr(std::string_view text);

}  // namespace lakemesh::versioning
