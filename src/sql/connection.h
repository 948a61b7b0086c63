// A thin RAII layer over DuckDB's C API, private to src/sql (no DuckDB type leaves this module).
#pragma once

#include <duckdb.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lakemesh::sql {

class QueryResult {
 public:
  QueryResult() = default;
  ~QueryResult() {
    if (valid_) duckdb_destroy_result(&r_);
  }
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;

  size_t rows() { return duckdb_row_count(&r_); }
  size_t columns() { return duckdb_column_count(&r_); }
  bool IsNull(size_t col, size_t row) { return duckdb_value_is_null(&r_, col, row); }
  int64_t Int(size_t col, size_t row) { return duckdb_value_int64(&r_, col, row); }
  // The value as text; nullopt for NULL.
  std::optional<std::string> Text(size_t col, size_t row);

 private:
  friend class Connection;
  duckdb_result r_{};
  bool valid_ = false;
};

// An in-memory database with one connection, for one task (a file conversion).
class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `threads` 0 = DuckDB's default.
  static Result<std::unique_ptr<Connection>> OpenInMemory(int threads = 0);
  // A connection owned elsewhere (the SQL engine's session), used through this interface; not
  // closed by this object.
  static std::unique_ptr<Connection> Borrow(duckdb_connection conn);

  // Runs `sql`; kInvalidArgument with DuckDB's message when it fails.
  Status Run(const std::string& sql);
  Status Query(const std::string& sql, QueryResult* out);
  // Runs exactly one statement (prepared first, so text that holds several statements is
  // refused): for SQL that embeds text from a request.
  Status QueryOne(const std::string& sql, QueryResult* out);
  // Registers lakemesh's scalar functions (iceberg_bucket_*: Iceberg's bucket transform).
  Status RegisterIcebergFunctions();

 private:
  Connection() = default;
  duckdb_database db_ = nullptr;
  duckdb_connection conn_ = nullptr;
  bool owned_ = true;
};

// 'text' as an SQL string literal; "name" as an SQL identifier.
std::string Literal(std::string_view text);
std::string Ident(std::string_view name);

}  // namespace lakemesh::sql
