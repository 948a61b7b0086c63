#include "cli/sql_runner.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "meta/sqlite_meta_store.h"
#include "sql/engine.h"
#include "storage/local_blob_store.h"
#include "versioning/buckets.h"
#include "versioning/repository.h"

namespace lakemesh::cli {
namespace {

using Json = nlohmann::json;

// Over the PostgreSQL protocol.
class PgRunner : public Runner {
 public:
  ~PgRunner() override {
    if (conn_) PQfinish(conn_);
  }
  static ::lakemesh::Result<std::unique_ptr<PgRunner>> Connect(const std::string& address,
                                                               const std::string& user,
                                                               const std::string& password,
                                                               std::optional<Client> client = {}) {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) return InvalidArgument("--pg needs HOST:PORT");
    std::string host = address.substr(0, colon), port = address.substr(colon + 1);
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    const char* keys[] = {"host", "port", "user", "password", "dbname", "application_name",
                          "connect_timeout", nullptr};
    const char* values[] = {host.c_str(), port.c_str(), user.c_str(), password.c_str(),
                            "lakemesh", "lakemesh sql", "10", nullptr};
    auto r = std::unique_ptr<PgRunner>(new PgRunner());
    r->address_ = address;
    r->user_ = user;
    r->password_ = password;
    r->client_ = std::move(client);
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
    if (PQresultStatus(res) == PGRES_COPY_OUT) {  // COPY ... TO STDOUT: the rows to stdout
      PQclear(res);
      char* buf = nullptr;
      int n;
      while ((n = PQgetCopyData(conn_, &buf, 0)) > 0) {
        std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
        PQfreemem(buf);
      }
      res = PQgetResult(conn_);
    } else if (PQresultStatus(res) == PGRES_COPY_IN) {
      // COPY ... FROM STDIN: the rows from standard input, up to its end or a line "\.", as
      // psql reads them.
      PQclear(res);
      if (isatty(0)) std::fprintf(stderr, "Enter data to be copied, ending with a line \\.\n");
      std::string line;
      bool sent = true;
      while (sent && std::getline(std::cin, line)) {
        if (line == "\\.") break;
        line.push_back('\n');
        sent = PQputCopyData(conn_, line.data(), static_cast<int>(line.size())) == 1;
      }
      std::cin.clear();
      PQputCopyEnd(conn_, sent ? nullptr : "reading standard input failed");
      res = PQgetResult(conn_);
    }
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
    while ((res = PQgetResult(conn_)) != nullptr) PQclear(res);  // (after COPY)
    return out;
  }
  std::string Where() const override { return where_; }

  Result<bool> EnsureBranch(const std::string& repo, const std::string& branch,
                            const std::string& from) override {
    if (!client_) return Unavailable("no REST API to create branches with");
    Json body = {{"name", branch}, {"source", from}};
    auto r = client_->Call("POST", "/api/v1/repositories/" + repo + "/branches", {}, &body);
    if (r.ok()) return true;
    if (r.status().code() == ErrorCode::kAlreadyExists || r.status().IsConflict()) return false;
    return r.status();
  }
  Result<std::string> Merge(const std::string& repo, const std::string& source,
                            const std::string& dest, const std::string& message) override {
    if (!client_) return Unavailable("no REST API to merge with");
    Json body = {{"message", message}};
    LM_ASSIGN_OR_RETURN(Json r, client_->Call("POST", "/api/v1/repositories/" + repo + "/refs/" +
                                                          source + "/merge/" + dest, {}, &body));
    return r.value("commit", std::string());
  }

  Result<std::unique_ptr<Runner>> Another() override {
    LM_ASSIGN_OR_RETURN(auto r, Connect(address_, user_, password_, client_));
    return std::unique_ptr<Runner>(std::move(r));
  }

 private:
  PgRunner() = default;
  std::string address_, user_, password_;
  std::optional<Client> client_;
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
  Result_ Run(const std::string& statement) override { return RunOn(*session_, statement); }
  static Result_ RunOn(sql::Session& session, const std::string& statement) {
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
    sql::Outcome o = session.Execute(statement, sink);
    if (o.error) {
      out.error = "ERROR:  " + o.error->message;
    } else {
      out.tag = o.tag;
    }
    return out;
  }
  std::string Where() const override { return dir_; }

  // A session of its own on this runner's engine.
  class Session : public Runner {
   public:
    Session(LocalRunner& parent, std::unique_ptr<sql::Session> s) : parent_(parent), session_(std::move(s)) {}
    Result_ Run(const std::string& statement) override { return RunOn(*session_, statement); }
    std::string Where() const override { return parent_.Where(); }
    Result<bool> EnsureBranch(const std::string& repo, const std::string& branch,
                              const std::string& from) override {
      return parent_.EnsureBranch(repo, branch, from);
    }
    Result<std::string> Merge(const std::string& repo, const std::string& source,
                              const std::string& dest, const std::string& message) override {
      return parent_.Merge(repo, source, dest, message);
    }
    Result<std::unique_ptr<Runner>> Another() override { return parent_.Another(); }

   private:
    LocalRunner& parent_;
    std::unique_ptr<sql::Session> session_;
  };
  Result<std::unique_ptr<Runner>> Another() override {
    LM_ASSIGN_OR_RETURN(auto session, engine_->Connect("local"));
    return std::unique_ptr<Runner>(new Session(*this, std::move(session)));
  }

  Result<bool> EnsureBranch(const std::string& repo, const std::string& branch,
                            const std::string& from) override {
    if (repos_->GetBranch(repo, branch).ok()) return false;
    LM_TRY(repos_->CreateBranch(repo, branch, from).status());
    return true;
  }
  Result<std::string> Merge(const std::string& repo, const std::string& source,
                            const std::string& dest, const std::string& message) override {
    versioning::CommitOptions opts;
    opts.author = "dbt";
    opts.message = message;
    LM_ASSIGN_OR_RETURN(versioning::MergeResult m,
                        repos_->Merge(repo, source, dest, versioning::MergeStrategy::kFail, opts));
    if (!m.conflicts.empty()) {
      std::string paths;
      for (const auto& c : m.conflicts) paths += (paths.empty() ? "" : ", ") + c;
      return Conflict("merging " + source + " into " + dest + " of " + repo +
                      " conflicts on: " + paths);
    }
    return m.commit_id;
  }

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
}  // namespace

Result<std::unique_ptr<Runner>> OpenRunner(Cli& cli, const std::string& data, const std::string& pg) {
  std::unique_ptr<Runner> runner;
  if (!data.empty()) {
    LM_ASSIGN_OR_RETURN(runner, LocalRunner::Open(data));
  } else {
    LM_ASSIGN_OR_RETURN(Client client, cli.Connect());
    std::string address = pg;
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
    LM_ASSIGN_OR_RETURN(runner, PgRunner::Connect(address, client.access_key_id(), client.secret(),
                                                client));
  }
  return runner;
}

}  // namespace lakemesh::cli
