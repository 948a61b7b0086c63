// `lakemesh sql`: an SQL shell. It talks to a running server over the PostgreSQL protocol
// (libpq; the server tells where its --pg port is), or, with --data, opens a data directory
// in-process when no server holds it. Statements come from -c, -f, or the terminal (line
// editing and history with libedit; a statement ends with `;`).
#include <editline/readline.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/files.h"
#include "cli/commands.h"
#include "cli/sql_runner.h"
#include "sql/engine.h"
#include "sql/statements.h"

namespace lakemesh::cli {
namespace {

using Json = nlohmann::json;

size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void PrintTable(const Result_& r) {
  std::vector<size_t> w(r.columns.size());
  for (size_t c = 0; c < r.columns.size(); ++c) w[c] = Width(r.columns[c]);
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], Width(row[c].value_or("")));
  }
  auto pad = [](const std::string& s, size_t width, bool right) {
    std::string fill(width - std::min(width, Width(s)), ' ');
    return right ? fill + s : s + fill;
  };
  auto print = [](std::string line) {  // no trailing blanks, as psql prints
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  };
  std::string line;
  for (size_t c = 0; c < r.columns.size(); ++c) {
    line += (c ? " | " : " ") + pad(r.columns[c], w[c], false);
  }
  print(line);
  line.clear();
  for (size_t c = 0; c < r.columns.size(); ++c) line += (c ? "-+-" : "-") + std::string(w[c], '-');
  std::printf("%s-\n", line.c_str());
  for (const auto& row : r.rows) {
    line.clear();
    for (size_t c = 0; c < row.size(); ++c) {
      line += (c ? " | " : " ") + pad(row[c].value_or(""), w[c], r.numeric[c] && row[c]);
    }
    print(line);
  }
  std::printf("(%zu row%s)\n\n", r.rows.size(), r.rows.size() == 1 ? "" : "s");
}

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos && !v.empty()) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

void PrintCsv(const Result_& r) {
  std::string line;
  for (size_t c = 0; c < r.columns.size(); ++c) line += (c ? "," : "") + CsvField(r.columns[c]);
  std::printf("%s\n", line.c_str());
  for (const auto& row : r.rows) {
    line.clear();
    for (size_t c = 0; c < row.size(); ++c) {
      line += (c ? "," : "") + (row[c] ? CsvField(*row[c]) : std::string());
    }
    std::printf("%s\n", line.c_str());
  }
}

// One JSON object per row (JSON lines); numbers and booleans as JSON numbers and booleans.
void PrintJsonRows(const Result_& r) {
  for (const auto& row : r.rows) {
    Json o = Json::object();
    for (size_t c = 0; c < row.size(); ++c) {
      if (!row[c]) {
        o[r.columns[c]] = nullptr;
      } else if (r.numeric[c]) {
        const std::string& v = *row[c];
        if (v == "t" || v == "true") {
          o[r.columns[c]] = true;
        } else if (v == "f" || v == "false") {
          o[r.columns[c]] = false;
        } else {
          Json n = Json::parse(v, nullptr, false);
          o[r.columns[c]] = n.is_number() ? n : Json(v);
        }
      } else {
        o[r.columns[c]] = *row[c];
      }
    }
    std::printf("%s\n", o.dump().c_str());
  }
}

struct Options {
  std::vector<std::string> commands;
  std::string file;
  std::string format = "table";
  std::string pg;
  std::string data;
  bool timing = false;
};

// Runs the statements of `text`; false at the first error (printed to stderr).
bool RunText(Runner& runner, const std::string& text, const Options& o) {
  for (const std::string& st : sql::SplitStatements(text)) {
    auto t0 = std::chrono::steady_clock::now();
    Result_ r = runner.Run(st);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
    if (!r.error.empty()) {
      std::fprintf(stderr, "%s\n", r.error.c_str());
      return false;
    }
    if (r.has_rows) {
      if (o.format == "csv") {
        PrintCsv(r);
      } else if (o.format == "json") {
        PrintJsonRows(r);
      } else {
        PrintTable(r);
      }
    } else if (o.format == "table") {
      std::printf("%s\n", r.tag.c_str());
    }
    if (o.timing) std::printf("Time: %.3f ms\n", ms);
    std::fflush(stdout);
  }
  return true;
}

Status Interactive(Runner& runner, Options o) {
  const char* home = std::getenv("HOME");
  std::string history = std::string(home && *home ? home : ".") + "/.lakemesh_sql_history";
  using_history();
  read_history(history.c_str());
  std::printf("lakemesh sql (%s). End statements with ';'. \\q quits, \\timing toggles timing, "
              "\\? helps.\n",
              runner.Where().c_str());
  std::string buffer;
  while (true) {
    char* line = readline(buffer.empty() ? "lakemesh=> " : "lakemesh-> ");
    if (!line) {
      std::printf("\n");
      break;
    }
    std::string text(line);
    std::free(line);
    std::string trimmed = text;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
      trimmed.pop_back();
    }
    if (buffer.empty() && !trimmed.empty() && trimmed[0] == '\\') {
      add_history(trimmed.c_str());
      if (trimmed == "\\q") break;
      if (trimmed == "\\timing") {
        o.timing = !o.timing;
        std::printf("Timing is %s.\n", o.timing ? "on" : "off");
      } else if (trimmed == "\\?" || trimmed == "\\h") {
        std::printf("  \\q          quit\n  \\timing     toggle timing of statements\n"
                    "  SQL: see docs/sql.md (domain.table, domain.\"table@ref\", "
                    "SET lakemesh.ref = 'dev')\n");
      } else {
        std::printf("unknown command %s (\\? for help)\n", trimmed.c_str());
      }
      continue;
    }
    if (trimmed.empty() && buffer.empty()) continue;
    buffer += (buffer.empty() ? "" : "\n") + text;
    if (!sql::EndsStatement(buffer)) continue;
    add_history(buffer.c_str());
    RunText(runner, buffer, o);
    buffer.clear();
  }
  write_history(history.c_str());
  return Status::OK();
}

}  // namespace

void AddSql(CLI::App& app, Cli& cli) {
  auto* cmd = app.add_subcommand(
      "sql", "SQL shell: query and write lakemesh tables; COPY ... FROM STDIN reads standard "
             "input, COPY ... TO STDOUT prints (see docs/sql.md)");
  auto o = std::make_shared<Options>();
  cmd->add_option("-c,--command", o->commands, "run these statements and exit (repeatable)");
  cmd->add_option("-f,--file", o->file, "run the statements of this file and exit");
  cmd->add_option("--format", o->format, "output: table (default), csv or json (one object per "
                                         "row)")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  cmd->add_flag("--timing", o->timing, "print how long each statement took");
  cmd->add_option("--pg", o->pg, "the server's PostgreSQL address HOST:PORT (default: asked of "
                                 "the server)");
  cmd->add_option("--data", o->data, "open this data directory in-process instead of "
                                     "connecting to a server (it must not be in use)");
  cmd->callback([&cli, o] {
    cli.action = [&cli, o]() -> Status {
      LM_ASSIGN_OR_RETURN(std::unique_ptr<Runner> runner, OpenRunner(cli, o->data, o->pg));
      if (!o->commands.empty() || !o->file.empty()) {
        for (const std::string& c : o->commands) {
          if (!RunText(*runner, c, *o)) return Status(ErrorCode::kInvalidArgument, "stopped at the failed statement");
        }
        if (!o->file.empty()) {
          std::ifstream in(o->file);
          if (!in) return NotFound("cannot read " + o->file);
          std::stringstream ss;
          ss << in.rdbuf();
          if (!RunText(*runner, ss.str(), *o)) {
            return Status(ErrorCode::kInvalidArgument, "stopped at the failed statement");
          }
        }
        return Status::OK();
      }
      if (!::isatty(STDIN_FILENO)) {  // statements piped in
        std::stringstream ss;
        ss << std::cin.rdbuf();
        if (!RunText(*runner, ss.str(), *o)) {
          return Status(ErrorCode::kInvalidArgument, "stopped at the failed statement");
        }
        return Status::OK();
      }
      return Interactive(*runner, *o);
    };
  });
}

}  // namespace lakemesh::cli
