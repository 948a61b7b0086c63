// Compiling a dbt project: its macros become functions every template sees, and each model,
// seed, snapshot and singular test is rendered with dbt's context (ref, source, config, var,
// env_var, this, target, is_incremental, log, return, exceptions, adapter, run_query,
// statement blocks and load_result, modules.datetime, graph, execute) into the SQL the runner
// executes, with ephemeral models inlined as CTEs.
//
// As dbt does, every node is rendered twice: first with `execute` false to learn its
// configuration (config()) and what it depends on (ref(), source()), then, once every node's
// relation is known, with `execute` true for its SQL. Queries a template runs (run_query,
// statement, the adapter's introspection) go to the executor, in the second rendering only.
#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "transform/dbt/executor.h"
#include "transform/dbt/project.h"
#include "transform/jinja/jinja.h"

namespace lakemesh::dbt {

// Where a project is built (a profile's target): the domain (schema) of models without one of
// their own, and the branch.
struct Target {
  std::string name = "dev";
  std::string schema;
  std::string branch = "main";
  int threads = 1;
};

struct CompiledNode {
  const Node* node = nullptr;
  std::string unique_id;
  jinja::Value config;        // the node's configuration, its own config() included
  std::string materialized;   // view, table, incremental, ephemeral; seed; test; snapshot
  bool enabled = true;
  std::string schema, alias;  // its relation: schema.alias
  std::vector<std::string> depends_on;  // unique ids of nodes and sources
  std::string compiled_code;
  std::vector<std::string> tags;
  std::string tested;  // a data test's model (unique id), when it tests one
  std::string test_name;  // unique, not_null, ... (data tests)
  std::string test_column;
  jinja::Value test_args;  // a dict

  std::string relation() const { return schema + "." + alias; }
};

class Compiler {
 public:
  // `vars`: --vars from the command line (a dict), over the project's.
  Compiler(const Project& project, Target target, jinja::Value vars = jinja::Value::Dict());
  ~Compiler();

  // Where run_query, statement blocks and the adapter's introspection run (none: they fail
  // with an error naming what needs a database).
  void SetExecutor(Executor* executor) { executor_ = executor; }
  // Where log(msg, info=True) goes.
  void SetLog(std::function<void(const std::string&)> on_log) { on_log_ = std::move(on_log); }

  // Parses the macros and compiles every enabled node. Errors name the file, line and column.
  // Without `execute`, only the first rendering (configuration and dependencies): the runner
  // then renders each node just before it runs it (Recompile), as dbt does.
  Status CompileAll(bool execute = true);

  const std::map<std::string, CompiledNode>& nodes() const { return nodes_; }
  // The enabled nodes, each after everything it depends on; kInvalidArgument on a cycle.
  Result<std::vector<std::string>> Order() const;

  jinja::Environment& environment() { return *env_; }
  const Project& project() const { return project_; }
  const Target& target() const { return target_; }

  // Renders node `uid` again for running it, with is_incremental() as given (dbt compiles a
  // node just before it runs, when it knows whether the table exists).
  Status Recompile(const std::string& uid, bool incremental);
  // The node's pre_hook or post_hook statements ("pre_hook" / "post_hook"; also spelled
  // pre-hook), rendered with its context.
  Result<std::vector<std::string>> Hooks(const std::string& uid, const char* which);
  // The project's on-run-start or on-run-end statements, rendered.
  Result<std::vector<std::string>> RunHooks(const char* which);

 private:
  Status LoadMacros();
  Status AddDataTests();
  Result<std::string> RenderNode(CompiledNode& n, bool execute);
  jinja::Value Context(CompiledNode& n, bool execute, std::vector<std::string>* ctes);
  bool incremental_ = false;  // what is_incremental() answers while rendering
  std::list<Node> generated_;  // data tests from schema YAML
  jinja::Value RelationValue(const std::string& schema, const std::string& identifier) const;
  Result<std::string> SchemaFor(const CompiledNode& n);
  jinja::Value GraphValue() const;
  jinja::Value Query(const std::string& sql);  // runs it for a template; raises on failure

  Executor* executor_ = nullptr;
  std::function<void(const std::string&)> on_log_;
  std::map<std::string, jinja::Value> statement_results_;  // load_result(), per rendering
  jinja::Value graph_;  // graph.nodes and graph.sources, once the first pass is done

  const Project& project_;
  Target target_;
  jinja::Value vars_;
  std::unique_ptr<jinja::Environment> env_;
  std::vector<std::shared_ptr<const jinja::Template>> macro_templates_;
  std::map<std::string, std::shared_ptr<const jinja::Template>> parsed_;  // nodes' templates
  std::map<std::string, jinja::Value> macros_;  // by name
  std::map<std::string, CompiledNode> nodes_;
};

}  // namespace lakemesh::dbt
