// Running a compiled dbt project: seeds loaded, models materialized (view, table, incremental
// with the append, merge and delete+insert strategies and on_schema_change; ephemeral ones are
// inlined where used), snapshots kept as SCD type 2, tests run, each node after what it depends
// on and skipped when something it depends on failed. Each node is rendered just before it runs
// and written in one commit. Statements go to an Executor: the SQL engine in-process or a
// server over the PostgreSQL protocol.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
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
  size_t thread = 0;  // which of the build's threads ran it
};

struct BuildOptions {
  bool models = true, seeds = true, tests = true, snapshots = true;
  bool full_refresh = false;
  bool store_failures = false;  // every test keeps its failing rows (also per test: store_failures)
  // Unique ids to run (empty: all enabled nodes of the kinds above).
  std::set<std::string> select;
  // Nodes run at once (dbt's --threads), each on its own connection from `connect`; nodes
  // wait only for what they depend on (and its tests).
  size_t threads = 1;
  std::function<Result<std::unique_ptr<Executor>>()> connect;
  // Called before (`done` false) and after each node, one call at a time.
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
  // Each of these runs on the connection it is given (one per thread).
  NodeResult RunModel(Executor& ex, const CompiledNode& n, bool full_refresh);
  NodeResult RunSeed(Executor& ex, const CompiledNode& n);
  NodeResult RunTest(Executor& ex, const CompiledNode& n);
  NodeResult RunSnapshot(Executor& ex, const CompiledNode& n);
  Status Materialize(Executor& ex, const CompiledNode& n, const std::string& materialized,
                     const std::string& relation, const std::string& sql, bool incremental,
                     bool exists, std::string* tag);
  // The node's pre_hook / post_hook statements, rendered now; RunHooks runs them.
  Result<std::vector<std::string>> HookStatements(Executor& ex, const std::string& uid, const char* which);
  Status RunHooks(Executor& ex, const std::string& uid, const char* which);
  Status Incremental(Executor& ex, const CompiledNode& n, const std::string& sql, std::string* tag);
  // Node `uid` rendered now (its queries on `ex`): its SQL.
  Result<std::string> Render(Executor& ex, const std::string& uid, bool incremental);
  // Renders the ephemeral models `n` uses (and theirs), for their CTEs.
  Status CompileEphemerals(Executor& ex, const CompiledNode& n);
  Result<bool> Exists(Executor& ex, const std::string& schema, const std::string& name);
  Status Ensure(Executor& ex, const std::string& schema);
  // A relation's columns: (name, type).
  Result<std::vector<std::pair<std::string, std::string>>> Columns(Executor& ex, const std::string& relation);
  // Runs `statements` in one transaction, one commit whose message is `message`; rolls back
  // on the first failure.
  Result<QueryResult> Transaction(Executor& ex, const std::vector<std::string>& statements,
                                  const std::string& message);
  // A transaction whose commit has `message`; Finish commits it, or rolls it back when `st`
  // failed.
  Status Begin(Executor& ex, const std::string& message);
  Status Finish(Executor& ex, Status st);

  Compiler& compiler_;
  Executor& executor_;
  std::mutex schemas_mu_, render_mu_;
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
