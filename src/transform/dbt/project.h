// A dbt project as its files describe it (docs.getdbt.com/reference/dbt_project.yml): the
// project file, models, seeds, singular tests, macro files, and the schema YAML that documents
// and tests models and declares sources. Loading reads and checks the files; rendering the
// models' Jinja is the runner's.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "transform/jinja/value.h"

namespace lakemesh::dbt {

enum class NodeKind { kModel, kSeed, kTest, kSnapshot };
const char* NodeKindName(NodeKind k);  // "model", "seed", "test", "snapshot"

// A data test from schema YAML: `unique`, `not_null`, `accepted_values: {values: [...]}`,
// `relationships: {to: ref('x'), field: id}`, or a generic test of the project's own.
struct TestSpec {
  std::string name;      // the test's macro is test_<name>
  jinja::Value args;     // a dict: its arguments (without `config`)
  jinja::Value config;   // a dict: severity, warn_if, error_if, store_failures, where, ...
  std::string column;    // empty for a test of the whole model
};

struct ColumnSpec {
  std::string name, description, data_type;
  std::vector<TestSpec> tests;
};

struct Node {
  NodeKind kind = NodeKind::kModel;
  std::string name;       // orders
  std::string unique_id;  // model.shop.orders
  std::string path;       // relative to its resource folder: staging/stg_orders.sql
  std::string file;       // relative to the project: models/staging/stg_orders.sql
  std::vector<std::string> fqn;  // shop, staging, stg_orders
  std::string raw_code;   // the SQL (a seed's CSV is not read here)
  std::string version;    // a versioned model's version ("2"), else empty
  std::string description;
  // The configuration from dbt_project.yml (project, then folders) and schema YAML, in that
  // order of precedence; a model's own config() comes on top when it is rendered.
  jinja::Value config;
  std::vector<ColumnSpec> columns;
  std::vector<TestSpec> tests;  // model-level tests from schema YAML
};

struct SourceTable {
  std::string source_name, name, schema, identifier, description;
  std::string unique_id;  // source.shop.raw.orders
  std::vector<ColumnSpec> columns;
  std::vector<TestSpec> tests;
};

struct Project {
  std::string root;  // the project directory
  std::string name, version, profile;
  std::vector<std::string> model_paths, seed_paths, test_paths, macro_paths, snapshot_paths;
  std::string target_path = "target";
  jinja::Value vars;  // dict
  std::vector<std::string> on_run_start, on_run_end;  // SQL (Jinja) run before / after a build
  // Versioned models: name -> version -> unique id, and each one's latest version.
  std::map<std::string, std::map<std::string, std::string>> versions;
  std::map<std::string, std::string> latest_version;
  std::map<std::string, Node> nodes;  // by unique_id
  std::vector<SourceTable> sources;
  std::vector<std::string> macro_files;  // relative to the project
  // Which YAML file declared what, for errors: "models/schema.yml".
  std::vector<std::string> schema_files;

  const Node* FindByName(NodeKind kind, const std::string& name) const;
};

// Reads the project at `dir`. Errors name the file (and line for YAML) and what is wrong:
// a missing dbt_project.yml, two models of one name, a schema entry for a model that does not
// exist, a malformed test.
Result<Project> LoadProject(const std::string& dir);

// The output of a profile (profiles.yml) a project builds with: `type: lakemesh`, the domain
// (`schema`), the branch, and where the SQL runs: `data` (a data directory, in-process), or a
// server: `url` (its URL) and `pg` (its PostgreSQL address, else asked of it); empty when not
// given.
struct ProfileTarget {
  std::string name, schema, branch, data, pg;
  std::string url;  // the server's URL (its REST API), when the build goes through a server
  int threads = 1;
};

// Target `target` (empty: the profile's `target:`) of profile `profile` in `dir`/profiles.yml.
// String values are rendered as Jinja, so `{{ env_var('X') }}` works. kNotFound when there is
// no profiles.yml in `dir`; kInvalidArgument when the profile or target is missing or not
// `type: lakemesh`.
Result<ProfileTarget> LoadProfile(const std::string& dir, const std::string& profile,
                                  const std::string& target);

// The value of a YAML text as Jinja sees it (for tests and vars given on the command line:
// `--vars '{key: value}'`).
Result<jinja::Value> ParseYamlValue(const std::string& text);

}  // namespace lakemesh::dbt
