// `lakemesh dbt`: runs an unmodified dbt project against lakemesh — build, run, seed, test,
// snapshot, compile, ls, docs generate — with the SQL engine in-process (--data) or on a
// running server. Progress lines as dbt prints them; the exit code is 1 when a node failed.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli/commands.h"
#include "cli/sql_runner.h"
#include "base/files.h"
#include "base/random.h"
#include "transform/dbt/artifacts.h"
#include "transform/dbt/compiler.h"
#include "transform/dbt/runner.h"

namespace lakemesh::cli {
namespace {

namespace fs = std::filesystem;

struct DbtOptions {
  std::string project_dir = ".";
  std::string profiles_dir;
  std::string schema;
  std::string target;
  std::string branch;
  std::string data, pg;
  std::vector<std::string> select, exclude;
  std::string vars;
  bool full_refresh = false;
  bool store_failures = false;
  bool publish = false;
  int threads = 0;  // 0: the profile's, else 1
};

// The SQL engine as the runner needs it, through `lakemesh sql`'s runners.
class RunnerExecutor : public dbt::Executor {
 public:
  explicit RunnerExecutor(Runner& r) : r_(r) {}
  explicit RunnerExecutor(std::unique_ptr<Runner> owned) : r_(*owned), owned_(std::move(owned)) {}
  Result<dbt::QueryResult> Execute(const std::string& sql) override {
    Result_ res = r_.Run(sql);
    if (!res.error.empty()) {
      std::string m = res.error;
      if (m.rfind("ERROR:  ", 0) == 0) m = m.substr(8);
      return InvalidArgument(m);
    }
    dbt::QueryResult out;
    out.columns = std::move(res.columns);
    out.rows = std::move(res.rows);
    out.tag = std::move(res.tag);
    return out;
  }

 private:
  Runner& r_;
  std::unique_ptr<Runner> owned_;
};

// The connection, opened when something first needs it (a template's run_query in `compile`
// needs one; `ls` and most compiles do not), reading at the build's branch.
class LazyExecutor : public dbt::Executor {
 public:
  LazyExecutor(Cli& cli, const DbtOptions& o) : cli_(cli), o_(o) {}
  Result<Runner*> Open() {
    if (!runner_) {
      LM_ASSIGN_OR_RETURN(runner_, OpenRunner(cli_, o_.data, o_.pg));
      executor_ = std::make_unique<RunnerExecutor>(*runner_);
    }
    return runner_.get();
  }
  // Reads (and writes) at `branch` from now on.
  Status ReadAt(const std::string& branch) {
    LM_TRY(Open().status());
    return executor_->Execute("SET lakemesh.ref = '" + branch + "'").status();
  }
  Result<dbt::QueryResult> Execute(const std::string& sql) override {
    if (!runner_) {
      LM_TRY(Open().status());
      if (!o_.branch.empty() && o_.branch != "main") LM_TRY(ReadAt(o_.branch));
    }
    return executor_->Execute(sql);
  }

 private:
  Cli& cli_;
  const DbtOptions& o_;
  std::unique_ptr<Runner> runner_;
  std::unique_ptr<RunnerExecutor> executor_;
};

// dbt's node selection: names, tag:x, path:dir, package wildcards; `+` before a selector adds
// what it depends on, after it what depends on it. Several selectors are a union.
Result<std::set<std::string>> Select(const dbt::Compiler& c, const std::vector<std::string>& selectors) {
  std::set<std::string> out;
  const auto& nodes = c.nodes();
  std::map<std::string, std::vector<std::string>> children;
  for (const auto& [uid, n] : nodes) {
    for (const auto& d : n.depends_on) children[d].push_back(uid);
  }
  for (std::string sel : selectors) {
    bool up = false, down = false;
    if (!sel.empty() && sel.front() == '+') {
      up = true;
      sel.erase(0, 1);
    }
    if (!sel.empty() && sel.back() == '+') {
      down = true;
      sel.pop_back();
    }
    std::set<std::string> matched;
    for (const auto& [uid, n] : nodes) {
      bool hit = false;
      if (sel.rfind("tag:", 0) == 0) {
        hit = std::find(n.tags.begin(), n.tags.end(), sel.substr(4)) != n.tags.end();
      } else if (sel.rfind("path:", 0) == 0) {
        std::string prefix = sel.substr(5);
        hit = n.node->file.rfind(prefix, 0) == 0;
      } else if (sel.rfind("test_type:", 0) == 0) {
        hit = n.node->kind == dbt::NodeKind::kTest &&
              ((sel.substr(10) == "generic") == !n.tested.empty());
      } else if (sel.rfind("resource_type:", 0) == 0) {
        hit = sel.substr(14) == dbt::NodeKindName(n.node->kind);
      } else {
        std::string fqn;
        for (const auto& part : n.node->fqn) fqn += (fqn.empty() ? "" : ".") + part;
        hit = n.node->name == sel || uid == sel || fqn == sel ||
              (fqn.rfind(sel + ".", 0) == 0);  // a folder: shop.staging
      }
      if (hit) matched.insert(uid);
    }
    if (matched.empty()) return NotFound("the selector '" + sel + "' does not match any node");
    std::vector<std::string> stack(matched.begin(), matched.end());
    if (up) {
      std::vector<std::string> s = stack;
      while (!s.empty()) {
        std::string u = s.back();
        s.pop_back();
        auto it = nodes.find(u);
        if (it == nodes.end()) continue;
        for (const auto& d : it->second.depends_on) {
          if (nodes.count(d) && matched.insert(d).second) s.push_back(d);
        }
      }
    }
    if (down) {
      std::vector<std::string> s = stack;
      while (!s.empty()) {
        std::string u = s.back();
        s.pop_back();
        for (const auto& ch : children[u]) {
          if (matched.insert(ch).second) s.push_back(ch);
        }
      }
    }
    // Tests of what is selected come along (as dbt build selects them).
    for (const auto& [uid, n] : nodes) {
      if (!n.tested.empty() && matched.count(n.tested)) matched.insert(uid);
    }
    out.insert(matched.begin(), matched.end());
  }
  return out;
}

std::string Dots(const std::string& left, const std::string& right, size_t width = 80) {
  std::string s = left + " ";
  size_t used = s.size() + right.size() + 1;
  if (used < width) s += std::string(width - used, '.');
  return s + " " + right;
}

Status RunDbtWith(Cli& cli, const std::string& command, const DbtOptions& o, dbt::Project project,
                  std::chrono::steady_clock::time_point t0);

Status RunDbt(Cli& cli, const std::string& command, const DbtOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  LM_ASSIGN_OR_RETURN(dbt::Project project, dbt::LoadProject(o.project_dir));
  // The profile, as dbt finds it: --profiles-dir, $DBT_PROFILES_DIR, the current directory,
  // ~/.dbt. Flags win over it.
  DbtOptions o_ = o;
  {
    std::vector<std::string> dirs;
    if (!o.profiles_dir.empty()) {
      dirs.push_back(o.profiles_dir);
    } else {
      if (const char* d = std::getenv("DBT_PROFILES_DIR")) dirs.push_back(d);
      dirs.push_back(".");
      if (const char* home = std::getenv("HOME")) dirs.push_back(std::string(home) + "/.dbt");
    }
    for (const std::string& dir : dirs) {
      auto p = dbt::LoadProfile(dir, project.profile.empty() ? project.name : project.profile, o.target);
      if (p.status().IsNotFound()) {
        if (!o.profiles_dir.empty()) return p.status();
        continue;
      }
      if (!p.ok()) return p.status();
      if (o_.schema.empty()) o_.schema = p->schema;
      if (o_.branch.empty()) o_.branch = p->branch;
      if (o_.data.empty() && o_.pg.empty()) {
        o_.data = p->data;
        o_.pg = p->pg;
      }
      // The profile's server, unless --url or $LAKEMESH_URL names one.
      if (!p->url.empty() && cli.url.empty() && !std::getenv("LAKEMESH_URL")) cli.url = p->url;
      if (o_.target.empty()) o_.target = p->name;
      if (o_.threads == 0) o_.threads = p->threads;
      break;
    }
  }
  return RunDbtWith(cli, command, o_, std::move(project), t0);
}

Status RunDbtWith(Cli& cli, const std::string& command, const DbtOptions& o, dbt::Project project,
                  std::chrono::steady_clock::time_point t0) {
  jinja::Value vars = jinja::Value::Dict();
  if (!o.vars.empty()) {
    LM_ASSIGN_OR_RETURN(vars, dbt::ParseYamlValue(o.vars));
    if (!vars.is_dict()) return InvalidArgument("--vars takes a YAML map: '{key: value}'");
  }
  dbt::Target target;
  target.name = o.target.empty() ? "dev" : o.target;
  target.schema = o.schema.empty() ? project.name : o.schema;
  target.branch = o.branch.empty() ? "main" : o.branch;
  target.threads = std::max(1, o.threads);
  dbt::Compiler compiler(project, target, vars);
  LazyExecutor executor(cli, o);
  compiler.SetExecutor(&executor);
  compiler.SetLog([](const std::string& message) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[16];
    std::strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
    std::printf("%s  %s\n", stamp, message.c_str());
    std::fflush(stdout);
  });
  // compile and docs render every node now; the build commands render each node just before
  // they run it (what it reads of the database is then as of that moment).
  LM_TRY(compiler.CompileAll(command == "compile" || command == "docs"));
  std::set<std::string> selected;
  if (!o.select.empty()) {
    LM_ASSIGN_OR_RETURN(selected, Select(compiler, o.select));
  } else {
    for (const auto& [uid, n] : compiler.nodes()) {
      if (n.enabled) selected.insert(uid);
    }
  }
  if (!o.exclude.empty()) {
    LM_ASSIGN_OR_RETURN(auto excluded, Select(compiler, o.exclude));
    for (const auto& e : excluded) selected.erase(e);
  }
  LM_ASSIGN_OR_RETURN(std::vector<std::string> order, compiler.Order());
  const std::string invocation = NewUuid();
  const fs::path target_dir = fs::path(o.project_dir) / project.target_path;
  auto write_artifact = [&](const char* name, const nlohmann::json& j) -> Status {
    std::error_code ec;
    fs::create_directories(target_dir, ec);
    return WriteFileAtomic((target_dir / name).string(), j.dump(2) + "\n", 0644);
  };
  if (command == "compile" || command == "docs") {
    LM_TRY(write_artifact("manifest.json", dbt::Manifest(compiler, invocation)));
  }

  if (command == "ls") {
    for (const std::string& uid : order) {
      if (!selected.count(uid)) continue;
      const auto& n = compiler.nodes().at(uid);
      std::string fqn;
      for (const auto& part : n.node->fqn) fqn += (fqn.empty() ? "" : ".") + part;
      std::printf("%s\n", fqn.c_str());
    }
    return Status::OK();
  }
  if (command == "compile") {
    size_t written = 0;
    for (const std::string& uid : order) {
      const auto& n = compiler.nodes().at(uid);
      if (!selected.count(uid) || n.node->kind == dbt::NodeKind::kSeed) continue;
      fs::path out = fs::path(o.project_dir) / project.target_path / "compiled" / project.name /
                     (n.tested.empty() ? n.node->file : "tests/" + n.node->name + ".sql");
      std::error_code ec;
      fs::create_directories(out.parent_path(), ec);
      std::ofstream(out) << n.compiled_code << "\n";
      ++written;
    }
    std::printf("Compiled %zu nodes into %s/compiled/%s\n", written, project.target_path.c_str(),
                project.name.c_str());
    return Status::OK();
  }

  if (command == "docs") {
    // catalog.json: the columns of every relation the project has built, and of its sources.
    std::vector<dbt::CatalogTable> nodes, sources;
    auto describe = [&](const std::string& uid, const std::string& schema, const std::string& name,
                        bool view, std::vector<dbt::CatalogTable>* into) -> Status {
      auto d = executor.Execute("DESCRIBE \"" + schema + "\".\"" + name + "\"");
      if (!d.ok()) {
        if (d.status().code() == ErrorCode::kInvalidArgument) return Status::OK();  // not built
        return d.status();
      }
      dbt::CatalogTable t{uid, schema, name, view, {}};
      for (const auto& row : d->rows) {
        if (row.size() >= 2 && row[0] && row[1]) t.columns.emplace_back(*row[0], *row[1]);
      }
      into->push_back(std::move(t));
      return Status::OK();
    };
    for (const std::string& uid : order) {
      const auto& n = compiler.nodes().at(uid);
      if (!selected.count(uid) || n.node->kind == dbt::NodeKind::kTest || n.materialized == "ephemeral") continue;
      LM_TRY(describe(uid, n.schema, n.alias, n.materialized == "view", &nodes));
    }
    for (const auto& src : project.sources) LM_TRY(describe(src.unique_id, src.schema, src.identifier, false, &sources));
    LM_TRY(write_artifact("catalog.json", dbt::Catalog(nodes, sources, invocation)));
    std::printf("Catalog written to %s/catalog.json (%zu relations, %zu sources)\n",
                (fs::path(project.target_path)).string().c_str(), nodes.size(), sources.size());
    return Status::OK();
  }

  const bool on_branch = !o.branch.empty() && o.branch != "main";
  if (o.publish && !on_branch) {
    return InvalidArgument("--publish merges the build's branch into main: give it --branch NAME");
  }
  LM_ASSIGN_OR_RETURN(Runner* runner, executor.Open());
  std::set<std::string> domains;  // what the build writes
  const bool snapshots = command == "build" || command == "snapshot";
  for (const auto& uid : selected) {
    const auto& n = compiler.nodes().at(uid);
    if ((n.node->kind == dbt::NodeKind::kModel && n.materialized != "ephemeral") ||
        n.node->kind == dbt::NodeKind::kSeed || (snapshots && n.node->kind == dbt::NodeKind::kSnapshot)) {
      domains.insert(n.schema);
    }
  }
  if (on_branch) {
    // Write-audit-publish: everything is built and tested on a branch of each domain written.
    for (const std::string& d : domains) {
      LM_TRY(executor.Execute("CREATE SCHEMA IF NOT EXISTS \"" + d + "\"").status());
      LM_ASSIGN_OR_RETURN(bool made, runner->EnsureBranch(d, o.branch, "main"));
      std::printf("%s branch %s of domain %s\n", made ? "Created" : "Building on the existing",
                  o.branch.c_str(), d.c_str());
    }
    LM_TRY(executor.ReadAt(o.branch));
  }
  dbt::BuildOptions b;
  b.models = command == "build" || command == "run";
  b.seeds = command == "build" || command == "seed";
  b.tests = command == "build" || command == "test";
  b.snapshots = snapshots;
  b.threads = static_cast<size_t>(target.threads);
  b.connect = [runner, on_branch, &o]() -> Result<std::unique_ptr<dbt::Executor>> {
    LM_ASSIGN_OR_RETURN(std::unique_ptr<Runner> another, runner->Another());
    auto ex = std::make_unique<RunnerExecutor>(std::move(another));
    if (on_branch) LM_TRY(ex->Execute("SET lakemesh.ref = '" + o.branch + "'").status());
    return std::unique_ptr<dbt::Executor>(std::move(ex));
  };
  b.full_refresh = o.full_refresh;
  b.store_failures = o.store_failures;
  b.select = selected;
  std::printf("Running with lakemesh on %s (domain %s, branch %s)\n", runner->Where().c_str(),
              target.schema.c_str(), target.branch.c_str());
  if (target.threads > 1) {
    std::printf("Concurrency: %d threads (target='%s')\n", target.threads, target.name.c_str());
  }
  b.progress = [](const dbt::NodeResult& r, size_t i, size_t total, bool done) {
    std::string what = r.resource == "test"       ? "test " + r.name
                       : r.resource == "seed"     ? "seed file " + r.relation
                       : r.resource == "snapshot" ? "snapshot " + r.relation
                                                  : "sql " + r.materialized + " model " + r.relation;
    char prefix[32];
    std::snprintf(prefix, sizeof(prefix), "%zu of %zu", i, total);
    if (!done) {
      std::printf("%s\n", Dots(std::string(prefix) + " START " + what, "[RUN]").c_str());
    } else {
      char secs[32];
      std::snprintf(secs, sizeof(secs), "%.2fs", r.seconds);
      std::string status = r.status == "success" ? "[" + r.message + " in " + secs + "]"
                           : r.status == "pass"  ? std::string("[PASS in ") + secs + "]"
                           : r.status == "warn"  ? std::string("[WARN ") + std::to_string(r.failures) + " in " + secs + "]"
                           : r.status == "fail"  ? std::string("[FAIL ") + std::to_string(r.failures) + " in " + secs + "]"
                           : r.status == "skipped" ? std::string("[SKIP]")
                                                   : std::string("[ERROR in ") + secs + "]";
      const char* verb = r.status == "success" ? "OK created" : r.status == "pass" ? "PASS"
                         : r.status == "warn" ? "WARN" : r.status == "fail" ? "FAIL"
                         : r.status == "skipped" ? "SKIP" : "ERROR creating";
      std::printf("%s\n", Dots(std::string(prefix) + " " + verb + " " + what, status).c_str());
    }
    std::fflush(stdout);
  };
  LM_ASSIGN_OR_RETURN(std::vector<dbt::NodeResult> results, dbt::Runner(compiler, executor).Build(b));
  // The manifest as the build rendered each node.
  LM_TRY(write_artifact("manifest.json", dbt::Manifest(compiler, invocation)));
  LM_TRY(write_artifact("run_results.json",
                        dbt::RunResults(compiler, results,
                                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                                        invocation, command)));
  size_t ok = 0, warn = 0, errors = 0, skipped = 0;
  for (const auto& r : results) {
    if (r.status == "success" || r.status == "pass") ++ok;
    if (r.status == "warn") ++warn;
    if (r.status == "error" || r.status == "fail") ++errors;
    if (r.status == "skipped") ++skipped;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\nFinished running %zu nodes in %.2f seconds.\n", results.size(), secs);
  for (const auto& r : results) {
    if (r.status == "error" || r.status == "fail" || r.status == "warn") {
      std::printf("\n%s in %s %s (%s)\n  %s\n", r.status == "warn" ? "Warning" : "Failure",
                  r.resource.c_str(), r.name.c_str(), r.unique_id.c_str(), r.message.c_str());
    }
  }
  std::printf("\n%s PASS=%zu WARN=%zu ERROR=%zu SKIP=%zu TOTAL=%zu\n",
              errors ? "Completed with errors." : "Completed successfully.", ok, warn, errors, skipped,
              results.size());
  if (o.publish) {
    if (errors) {
      std::printf("\nNot published: main is untouched; the branch %s is kept for inspection.\n",
                  o.branch.c_str());
    } else {
      for (const std::string& d : domains) {
        auto commit = runner->Merge(d, o.branch, "main", "dbt build: publish " + o.branch);
        if (!commit.ok()) {
          return Status(commit.status().code(), "publishing " + d + ": " + commit.status().message());
        }
        std::printf("Published: merged %s into main of domain %s (commit %s)\n", o.branch.c_str(),
                    d.c_str(), commit->substr(0, 12).c_str());
      }
    }
  }
  if (errors) return Status(ErrorCode::kInvalidArgument, std::to_string(errors) + " node(s) failed");
  return Status::OK();
}

}  // namespace

void AddDbt(CLI::App& app, Cli& cli) {
  auto* dbt = app.add_subcommand("dbt", "Run a dbt project on lakemesh (see docs/dbt.md)");
  dbt->require_subcommand(1);
  struct Cmd {
    const char* name;
    const char* help;
  };
  auto* docs = dbt->add_subcommand("docs", "documentation artifacts");
  docs->require_subcommand(1);
  for (const Cmd& c : {Cmd{"build", "seeds, snapshots, models and tests, in dependency order"},
                       Cmd{"run", "build the models"}, Cmd{"seed", "load the seeds (CSV files)"},
                       Cmd{"snapshot", "record the snapshots' changes (SCD type 2)"},
                       Cmd{"test", "run the data tests"},
                       Cmd{"compile", "write the compiled SQL to target/compiled"},
                       Cmd{"ls", "list the selected nodes"},
                       Cmd{"generate", "write target/catalog.json: the columns of every relation built, and of the sources"}}) {
    const bool is_docs = std::string(c.name) == "generate";
    auto* sub = (is_docs ? docs : dbt)->add_subcommand(c.name, c.help);
    auto o = std::make_shared<DbtOptions>();
    sub->add_option("--project-dir", o->project_dir, "the dbt project (default: .)");
    sub->add_option("--profiles-dir", o->profiles_dir,
                    "where profiles.yml is (default: $DBT_PROFILES_DIR, ., ~/.dbt); an output of "
                    "type lakemesh gives schema, branch, data or pg");
    sub->add_option("--schema", o->schema, "the domain models are built in (default: the project's name)");
    sub->add_option("--target,-t", o->target, "the profile's output to use, also target.name (default: the profile's target, else dev)");
    sub->add_option("--branch", o->branch, "the branch to build on (default: main)");
    sub->add_option("-s,--select", o->select, "nodes: name, +name, name+, tag:x, path:models/x")->delimiter(' ');
    sub->add_option("--exclude", o->exclude, "nodes to leave out (same syntax)")->delimiter(' ');
    sub->add_option("--vars", o->vars, "variables as YAML: '{key: value}'");
    sub->add_flag("--full-refresh", o->full_refresh, "rebuild incremental models from scratch");
    sub->add_option("--threads", o->threads,
                    "nodes run at once, each on its own connection (default: the profile's threads, else 1)")
        ->check(CLI::Range(1, 64));
    sub->add_flag("--store-failures", o->store_failures,
                  "keep each test's failing rows in <schema>-dbt-test-audit.<test>");
    sub->add_flag("--publish", o->publish,
                  "with --branch: merge the branch into main when every node and test passed "
                  "(write-audit-publish); otherwise main is untouched");
    sub->add_option("--data", o->data, "run in-process on this data directory (no server may hold it)");
    sub->add_option("--pg", o->pg, "the server's PostgreSQL address HOST:PORT (default: asked of the server)");
    const std::string name = is_docs ? "docs" : c.name;
    sub->callback([&cli, o, name] { cli.action = [&cli, o, name] { return RunDbt(cli, name, *o); }; });
  }
}

}  // namespace lakemesh::cli
