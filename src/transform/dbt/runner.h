// Running a compiled dbt project: seeds loaded, models materialized (view, table, incremental
// with the append, merge and delete+insert strategies and on_schema_change; ephemeral ones are
// inlined where used), snapshots kept as SCD type 2, tests run, each node after what it depends
// on and skipped when something it depends on failed. Each node is rendered just before it runs
// and written in one commit. Statements go to an Executor: the SQL engine in-process or a
// server over the PostgreSQL protocol.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "transform/dbt/compiler.h"

namespace lakemesh::dbt {

struct NodeResult {
  std::string unique_id, name, resource;  // resource: model, seed, test
  std::string materialized;
  std::string relation;
  std::string status;   // success, error, skipped (models, seeds); pass, fail, warn, error (tests)
  std::string message;  // what the database said, or why it failed
  int64_t failures = 0;  // tests: rows returned
  double seconds = 0;
};

struct BuildOptions {
  bool models = true, seeds = true, tests = true, snapshots = true;
  bool full_refresh = false;
  bool store_failures = false;  // every test keeps its failing rows (also per test: store_failures)
  // Unique ids to run (empty: all enabled nodes of the kinds above).
  std::set<std::string> select;
  // Called before (`done` false) and after each node.
  std::function<void(const NodeResult&, size_t index, size_t total, bool done)> progress;
};

class Runner {
 public:
  // Templates' queries (run_query, statement blocks, the adapter) go to `executor` too.
  Runner(Compiler& compiler, Executor& executor) : compiler_(compiler), executor_(executor) {
    compiler.SetExecutor(&executor);
  }

  // Runs what `options` selects in dependency order. The result lists every node run or
  // skipped; a failure of the machinery itself (not of a node) is an error.
  Result<std::vector<NodeResult>> Build(const BuildOptions& options);

 private:
  NodeResult RunModel(const CompiledNode& n, bool full_refresh);
  NodeResult RunSeed(const CompiledNode& n);
  NodeResult RunTest(const CompiledNode& n);
  NodeResult RunSnapshot(const CompiledNode& n);
  Status Incremental(const CompiledNode& n, const std::string& sql, std::string* tag);
  // Renders the ephemeral models `n` uses (and theirs), for their CTEs.
  Status CompileEphemerals(const CompiledNode& n);
  // A relation's columns: (name, type).
  Result<std::vector<std::pair<std::string, std::string>>> Columns(const std::string& relation);
  Status Begin(const std::string& message);
  Status Finish(Status st);
  Result<bool> Exists(const std::string& schema, const std::string& name);
  Status Ensure(const std::string& schema);
  // Runs `statements` in one transaction, one commit whose message is `message`; rolls back
  // on the first failure.
  Result<QueryResult> Transaction(const std::vector<std::string>& statements,
                                  const std::string& message);

  Compiler& compiler_;
  Executor& executor_;
  std::set<std::string> schemas_;  // domains known to exist
  bool store_failures_ = false;
  std::string snapshot_time_;  // the build's snapshot time (UTC), for every snapshot it runs
};

// dbt's warn_if / error_if: whether `failures` meets `condition` ("!= 0", ">10", "<= 3").
Result<bool> TestCondition(const std::string& condition, int64_t failures);

// A seed's CSV as a table: the column names and, per column, the type its values all fit
// (BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP or VARCHAR; `column_types` overrides), and the
// statements that create `relation` with those rows.
Result<std::vector<std::string>> SeedStatements(const std::string& csv, const std::string& relation,
                                                const jinja::Value& column_types,
                                                size_t* row_count = nullptr);

}  // namespace lakemesh::dbt
