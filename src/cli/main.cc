// The lakemesh binary: `lakemesh serve` runs the server; every other subcommand is a client of a
// running server (LAKEMESH_URL) over the REST API.
#include <duckdb.h>

#include <cstdio>

#include "app/application.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace lakemesh;  // NOLINT(build/namespaces)
  cli::Cli c;
  CLI::App app{
      "lakemesh: a self-serve data mesh in one binary.\n\n"
      "Start a server with `lakemesh serve`; the other commands talk to it (LAKEMESH_URL,\n"
      "LAKEMESH_ACCESS_KEY_ID, LAKEMESH_SECRET_ACCESS_KEY, or ~/.config/lakemesh/config.json).\n"
      "Objects are addressed lakemesh://REPO/REF/PATH; a REF is a branch, tag, commit id or an\n"
      "expression such as main~2, main^2 or main@{2026-11-01T00:00:00Z}.",
      "lakemesh"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "show help for every subcommand");
  app.add_flag("--json", c.json, "print machine-readable JSON");
  app.add_option("--url", c.url, "server URL (default: $LAKEMESH_URL or http://127.0.0.1:8080)");
  app.set_version_flag("--version",
                       std::string("lakemesh ") + app::kVersion + " (DuckDB " +
                           duckdb_library_version() + ")");
  cli::AddServe(app, c);
  cli::AddRepo(app, c);
  cli::AddBranch(app, c);
  cli::AddTag(app, c);
  cli::AddHistory(app, c);
  cli::AddObjects(app, c);
  cli::AddKeys(app, c);
  cli::AddGc(app, c);
  cli::AddTable(app, c);
  cli::AddSql(app, c);
  cli::AddDbt(app, c);
  cli::AddProduct(app, c);
  CLI11_PARSE(app, argc, argv);
  if (!c.action) return 0;
  Status st = c.action();
  if (!st.ok()) {
    std::fprintf(stderr, "lakemesh: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
