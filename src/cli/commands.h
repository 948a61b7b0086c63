// The lakemesh command line: one Add* function per file, each registering its subcommands.
// A subcommand's callback stores the action to run in Cli::action; main() runs it and turns a
// failed Status into "lakemesh: <message>" and exit code 1.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "base/status.h"
#include "cli/client.h"

namespace lakemesh::cli {

struct Cli {
  bool json = false;
  std::string url;
  std::function<Status()> action;

  Result<Client> Connect() const { return Client::Connect(url); }
};

void AddServe(CLI::App& app, Cli& cli);
void AddRepo(CLI::App& app, Cli& cli);
void AddBranch(CLI::App& app, Cli& cli);
void AddTag(CLI::App& app, Cli& cli);
void AddHistory(CLI::App& app, Cli& cli);  // commit, log, show, diff, status, merge, revert, reset
void AddObjects(CLI::App& app, Cli& cli);  // ls, cp, cat, rm, stat
void AddKeys(CLI::App& app, Cli& cli);
void AddGc(CLI::App& app, Cli& cli);
void AddTable(CLI::App& app, Cli& cli);  // table list, describe, snapshots, history, rollback
void AddSql(CLI::App& app, Cli& cli);    // the SQL shell
void AddDbt(CLI::App& app, Cli& cli);    // dbt build, run, seed, test, compile, ls
void AddProduct(CLI::App& app, Cli& cli);  // product init, validate, list, show, diff

// Prints JSON (for --json) pretty and with a newline.
void PrintJson(const nlohmann::json& j);

// "lakemesh://repo/ref/path" -> parts; kInvalidArgument with an example otherwise.
struct Uri {
  std::string repo, ref, path;
};
Result<Uri> ParseUri(const std::string& text, bool need_ref = true);
bool IsUri(const std::string& text);

// "7d", "12h", "30m", "45s", or plain seconds -> seconds.
Result<int64_t> ParseDuration(const std::string& text);

}  // namespace lakemesh::cli
