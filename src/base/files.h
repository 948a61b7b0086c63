// Small POSIX file helpers with Status errors: durable writes (temp file, fsync, rename, fsync of
// the directory), whole-file reads, directory creation with a mode.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace lakemesh {

// Creates `dir` and its parents with `mode` (existing directories are left as they are). With
// `durable`, the parent of every directory it creates is fsynced, so they survive a power loss.
Status MakeDirs(const std::string& dir, int mode = 0755, bool durable = false);
Result<std::string> ReadFile(const std::string& path);
// Writes `data` to `path` atomically and durably with the given permission bits.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
Status FsyncDir(const std::string& dir);
bool PathExists(const std::string& path);
// "No such file or directory" etc. for errno, with the path.
Status ErrnoStatus(std::string_view what, const std::string& path, int err);

}  // namespace lakemesh
