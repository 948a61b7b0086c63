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
};

// `data` non-empty: that data directory in-process; otherwise the server the CLI is configured
// for, at `pg` (HOST:PORT) or where the server says its PostgreSQL port is.
Result<std::unique_ptr<Runner>> OpenRunner(Cli& cli, const std::string& data, const std::string& pg);

}  // namespace lakemesh::cli
