#include "sql/duckdb.h"

#include <memory>

namespace lakemesh::sql {

std::optional<std::string> QueryResult::Text(size_t col, size_t row) {
  if (duckdb_value_is_null(&r_, col, row)) return std::nullopt;
  char* s = duckdb_value_varchar(&r_, col, row);
  if (!s) return std::nullopt;
  std::string out(s);
  duckdb_free(s);
  return out;
}

Connection::~Connection() {
  if (conn_) duckdb_disconnect(&conn_);
  if (db_) duckdb_close(&db_);
}

Result<std::unique_ptr<Connection>> Connection::OpenInMemory(int threads) {
  std::unique_ptr<Connection> c(new Connection());
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Internal("duckdb_create_config");
  // Nothing from outside: no extension downloads.
  duckdb_set_config(config, "autoinstall_known_extensions", "false");
  duckdb_set_config(config, "autoload_known_extensions", "false");
  if (threads > 0) duckdb_set_config(config, "threads", std::to_string(threads).c_str());
  char* err = nullptr;
  duckdb_state st = duckdb_open_ext(nullptr, &c->db_, config, &err);
  duckdb_destroy_config(&config);
  if (st != DuckDBSuccess) {
    std::string m = err ? err : "unknown error";
    if (err) duckdb_free(err);
    return Internal("opening DuckDB: " + m);
  }
  if (duckdb_connect(c->db_, &c->conn_) != DuckDBSuccess) return Internal("duckdb_connect");
  LM_TRY(c->Run("SET TimeZone = 'UTC'"));
  return c;
}

Status Connection::Query(const std::string& sql, QueryResult* out) {
  if (out->valid_) duckdb_destroy_result(&out->r_);
  duckdb_state st = duckdb_query(conn_, sql.c_str(), &out->r_);
  out->valid_ = true;
  if (st != DuckDBSuccess) {
    const char* e = duckdb_result_error(&out->r_);
    return InvalidArgument(e ? e : "query failed");
  }
  return Status::OK();
}

Status Connection::QueryOne(const std::string& sql, QueryResult* out) {
  duckdb_prepared_statement stmt = nullptr;
  duckdb_state st = duckdb_prepare(conn_, sql.c_str(), &stmt);
  if (st != DuckDBSuccess) {
    const char* e = duckdb_prepare_error(stmt);
    std::string msg = e ? e : "cannot prepare the statement";
    duckdb_destroy_prepare(&stmt);
    return InvalidArgument(msg);
  }
  if (out->valid_) duckdb_destroy_result(&out->r_);
  st = duckdb_execute_prepared(stmt, &out->r_);
  out->valid_ = true;
  duckdb_destroy_prepare(&stmt);
  if (st != DuckDBSuccess) {
    const char* e = duckdb_result_error(&out->r_);
    return InvalidArgument(e ? e : "query failed");
  }
  return Status::OK();
}

Status Connection::Run(const std::string& sql) {
  QueryResult r;
  return Query(sql, &r);
}

std::string Literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string Ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace lakemesh::sql
