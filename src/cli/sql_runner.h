// Running SQL statements from the command line (`lakemesh sql`, `lakemesh dbt`): over the
// PostgreSQL protocol to a running server (libpq), or in-process on a data directory no server
// holds.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace lakemesh::cli {

struct Cli;

// One statement's result, however it was run.
struct Result_ {
  std::vector<std::string> columns;
  std::vector<bool> numeric;  // per column: JSON number / boolean rather than string
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string tag;
  std::string error;  // "ERROR:  message" as psql prints it
  bool has_rows = false;
};

class Runner {
 public:
  virtual ~Runner() = default;
  virtual Result_ Run(const std::string& statement) = 0;
  virtual std::string Where() const = 0;

  // Repository operations (write-audit-publish): branch `branch` of `repo` from `from` (true
  // when made, false when it already existed), and a merge of `source` into `dest` (the commit;
  // kConflict naming the paths when both changed them).
  virtual Result<bool> EnsureBranch(const std::string& repo, const std::string& branch,
                                    const std::string& from) = 0;
  virtual Result<std::string> Merge(const std::string& repo, const std::string& source,
                                    const std::string& dest, const std::string& message) = 0;
  // Another connection to the same place (a session of its own), for work in parallel; it
  // lives no longer than this one.
  virtual Result<std::unique_ptr<Runner>> Another() = 0;
};

// `data` non-empty: that data directory in-process; otherwise the server the CLI is configured
// for, at `pg` (HOST:PORT) or where the server says its PostgreSQL port is.
Result<std::unique_ptr<Runner>> OpenRunner(Cli& cli, const std::string& data, const std::string& pg);

}  // namespace lakemesh::cli
