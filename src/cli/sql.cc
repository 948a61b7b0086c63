// `lakemesh sql`: an SQL shell. It talks to a running server over the PostgreSQL protocol
// (libpq; the server tells where its --pg port is), or, with --data, opens a data directory
// in-process when no server holds it. Statements come from -c, -f, or the terminal (line
// editing and history with libedit; a statement ends with `;`).
#include <editline/readline.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/files.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "meta/sqlite_meta_store.h"
#include "sql/engine.h"
#include "sql/statements.h"
#include "storage/local_blob_store.h"
#include "versioning/buckets.h"
#include "versioning/repository.h"

namespace lakemesh::cli {
namespace {

using Json = nlohmann::json;

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

// Over the PostgreSQL protocol.
class PgRunner : public Runner {
 public:
  ~PgRunner() override {
    if (conn_) PQfinish(conn_);
  }
  static ::lakemesh::Result<std::unique_ptr<PgRunner>> Connect(const std::string& address,
                                                               const std::string& user,
                                                               const std::string& password) {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) return InvalidArgument("--pg needs HOST:PORT");
    std::string host = address.substr(0, colon), port = address.substr(colon + 1);
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    const char* keys[] = {"host", "port", "user", "password", "dbname", "application_name",
                          "connect_timeout", nullptr};
    const char* values[] = {host.c_str(), port.c_str(), user.c_str(), password.c_str(),
                            "lakemesh", "lakemesh sql", "10", nullptr};
    auto r = std::unique_ptr<PgRunner>(new PgRunner());
    r->conn_ = PQconnectdbParams(keys, values, 0);
    r->where_ = host + ":" + port;
    if (PQstatus(r->conn_) != CONNECTION_OK) {
      std::string m = PQerrorMessage(r->conn_);
      while (!m.empty() && m.back() == '\n') m.pop_back();
      return Unavailable("cannot connect to the SQL port " + r->where_ + ": " + m);
    }
    return r;
  }
  Result_ Run(const std::string& statement) override {
    Result_ out;
    PGresult* res = PQexec(conn_, statement.c_str());
    switch (PQresultStatus(res)) {
      case PGRES_TUPLES_OK: {
        out.has_rows = true;
        int n = PQnfields(res);
        for (int c = 0; c < n; ++c) {
          out.columns.push_back(PQfname(res, c));
          Oid t = PQftype(res, c);
          out.numeric.push_back(t == 16 || t == 20 || t == 21 || t == 23 || t == 700 ||
                                t == 701 || t == 1700);
        }
        for (int r = 0; r < PQntuples(res); ++r) {
          std::vector<std::optional<std::string>> row;
          for (int c = 0; c < n; ++c) {
            if (PQgetisnull(res, r, c)) {
              row.emplace_back();
            } else {
              row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
            }
          }
          out.rows.push_back(std::move(row));
        }
        out.tag = PQcmdStatus(res);
        break;
      }
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        out.tag = PQcmdStatus(res);
        break;
      default: {
        const char* m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        const char* sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
        out.error = std::string(sev ? sev : "ERROR") + ":  " + (m ? m : PQerrorMessage(conn_));
        while (!out.error.empty() && out.error.back() == '\n') out.error.pop_back();
      }
    }
    PQclear(res);
    return out;
  }
  std::string Where() const override { return where_; }

 private:
  PgRunner() = default;
  PGconn* conn_ = nullptr;
  std::string where_;
};

// In-process, over a data directory no server holds.
class LocalRunner : public Runner {
 public:
  ~LocalRunner() override {
    session_.reset();
    engine_.reset();
    catalog_.reset();
    buckets_.reset();
    repos_.reset();
    blobs_.reset();
    meta_.reset();
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }
  static ::lakemesh::Result<std::unique_ptr<LocalRunner>> Open(const std::string& dir) {
    auto r = std::unique_ptr<LocalRunner>(new LocalRunner());
    r->dir_ = dir;
    if (!PathExists(dir + "/meta.db")) {
      return NotFound("'" + dir + "' is not a lakemesh data directory (no meta.db)");
    }
    std::string lock = dir + "/lakemesh.lock";
    r->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (r->lock_fd_ < 0 || ::flock(r->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return Unavailable("data directory '" + dir + "' is in use by a running server: connect to "
                         "it instead (lakemesh sql without --data)");
    }
    LM_ASSIGN_OR_RETURN(r->meta_, meta::SqliteMetaStore::Open(dir + "/meta.db"));
    LM_ASSIGN_OR_RETURN(r->blobs_, storage::LocalBlobStore::Open(dir + "/blobs"));
    r->repos_ = std::make_unique<versioning::Repositories>(*r->meta_, *r->blobs_);
    r->buckets_ = std::make_unique<versioning::Buckets>(*r->meta_, *r->blobs_);
    r->catalog_ = std::make_unique<catalog::Catalog>(*r->repos_, *r->blobs_);
    sql::EngineOptions o;
    o.scratch_dir = dir + "/tmp/sql-shell-" + std::to_string(::getpid());
    LM_ASSIGN_OR_RETURN(r->engine_, sql::Engine::Open(*r->catalog_, o,
                                                      {r->repos_.get(), r->buckets_.get(),
                                                       r->blobs_.get()}));
    LM_ASSIGN_OR_RETURN(r->session_, r->engine_->Connect("local"));
    return r;
  }
  Result_ Run(const std::string& statement) override {
    struct Sink : sql::ResultSink {
      Result_* out;
      Status Columns(const std::vector<sql::ResultColumn>& cols) override {
        out->has_rows = true;
        for (const auto& c : cols) {
          out->columns.push_back(c.name);
          using T = sql::ColumnType;
          out->numeric.push_back(c.type == T::kBool || c.type == T::kInt16 ||
                                 c.type == T::kInt32 || c.type == T::kInt64 ||
                                 c.type == T::kFloat32 || c.type == T::kFloat64 ||
                                 c.type == T::kNumeric);
        }
        return Status::OK();
      }
      Status Row(const std::vector<std::optional<std::string_view>>& values) override {
        std::vector<std::optional<std::string>> row;
        for (const auto& v : values) {
          row.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
        }
        out->rows.push_back(std::move(row));
        return Status::OK();
      }
    };
    Result_ out;
    Sink sink;
    sink.out = &out;
    sql::Outcome o = session_->Execute(statement, sink);
    if (o.error) {
      out.error = "ERROR:  " + o.error->message;
    } else {
      out.tag = o.tag;
    }
    return out;
  }
  std::string Where() const override { return dir_; }

 private:
  LocalRunner() = default;
  std::string dir_;
  int lock_fd_ = -1;
  std::unique_ptr<meta::MetaStore> meta_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<versioning::Repositories> repos_;
  std::unique_ptr<versioning::Buckets> buckets_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<sql::Engine> engine_;
  std::unique_ptr<sql::Session> session_;
};

// UTF-8 aware display width (code points; good enough for aligned tables).
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
      "sql", "SQL shell: query and write lakemesh tables (see docs/sql.md)");
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
      std::unique_ptr<Runner> runner;
      if (!o->data.empty()) {
        LM_ASSIGN_OR_RETURN(runner, LocalRunner::Open(o->data));
      } else {
        LM_ASSIGN_OR_RETURN(Client client, cli.Connect());
        std::string address = o->pg;
        if (address.empty()) {
          LM_ASSIGN_OR_RETURN(Json who, client.Call("GET", "/api/v1/auth/whoami"));
          address = who.value("listeners", Json::object()).value("pg", std::string());
          if (address.empty()) {
            return Unavailable("the server did not say where its SQL port is; give --pg HOST:PORT");
          }
          // The server may listen on all interfaces; reach it where the REST API is.
          std::string url = client.url();
          size_t scheme = url.find("://");
          std::string host = url.substr(scheme == std::string::npos ? 0 : scheme + 3);
          host = host.substr(0, host.find_first_of(":/"));
          size_t colon = address.rfind(':');
          std::string listen_host = address.substr(0, colon);
          if (listen_host == "0.0.0.0" || listen_host == "127.0.0.1") {
            address = host + address.substr(colon);
          }
        }
        LM_ASSIGN_OR_RETURN(runner,
                            PgRunner::Connect(address, client.access_key_id(), client.secret()));
      }
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
