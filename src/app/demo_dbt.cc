#include "app/demo_dbt.h"

#include <filesystem>
#include <fstream>

#include "sql/engine.h"
#include "transform/dbt/compiler.h"
#include "transform/dbt/runner.h"

namespace lakemesh::app {
namespace {

// The runner's statements on an engine session.
class SessionExecutor : public dbt::Executor {
 public:
  explicit SessionExecutor(sql::Session& s) : s_(s) {}
  Result<dbt::QueryResult> Execute(const std::string& statement) override {
    struct Sink : sql::ResultSink {
      dbt::QueryResult* out;
      Status Columns(const std::vector<sql::ResultColumn>& cols) override {
        for (const auto& c : cols) out->columns.push_back(c.name);
        return Status::OK();
      }
      Status Row(const std::vector<std::optional<std::string_view>>& values) override {
        std::vector<std::optional<std::string>> row;
        for (const auto& v : values) row.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
        out->rows.push_back(std::move(row));
        return Status::OK();
      }
    };
    dbt::QueryResult out;
    Sink sink;
    sink.out = &out;
    sql::Outcome o = s_.Execute(statement, sink);
    if (o.error) return InvalidArgument(o.error->message);
    out.tag = o.tag;
    return out;
  }

 private:
  sql::Session& s_;
};

}  // namespace

Result<std::string> BuildDemoDbt(sql::Engine& engine, const std::string& dir) {
  namespace fs = std::filesystem;
  for (const auto& [path, text] : DemoDbtProject()) {
    fs::path p = fs::path(dir) / path;
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::binary);
    out << text;
    if (!out.good()) return IoError("cannot write " + p.string());
  }
  LM_ASSIGN_OR_RETURN(dbt::Project project, dbt::LoadProject(dir));
  dbt::Target target;
  target.schema = "shop";
  dbt::Compiler compiler(project, target);
  LM_TRY(compiler.CompileAll());
  LM_ASSIGN_OR_RETURN(auto session, engine.Connect("demo"));
  SessionExecutor executor(*session);
  dbt::BuildOptions options;
  LM_ASSIGN_OR_RETURN(std::vector<dbt::NodeResult> results, dbt::Runner(compiler, executor).Build(options));
  size_t ok = 0;
  std::string failed;
  for (const auto& r : results) {
    if (r.status == "success" || r.status == "pass") {
      ++ok;
    } else if (failed.empty()) {
      failed = r.unique_id + ": " + r.message;
    }
  }
  if (!failed.empty()) return Internal("the demo dbt project did not build: " + failed);
  return std::to_string(results.size()) + " nodes: " + std::to_string(ok) + " passed";
}

}  // namespace lakemesh::app
