#include "sql/connection.h"

#include <memory>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sql/statements.h"
#include "table/value.h"

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
  if (!owned_) return;
  if (conn_) duckdb_disconnect(&conn_);
  if (db_) duckdb_close(&db_);
}

std::unique_ptr<Connection> Connection::Borrow(duckdb_connection conn) {
  std::unique_ptr<Connection> c(new Connection());
  c->conn_ = conn;
  c->owned_ = false;
  return c;
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

namespace {

// Iceberg's bucket transform as DuckDB scalar functions, over values already in the canonical
// form the spec hashes (Appendix B): iceberg_bucket_long(BIGINT v, INTEGER n) for integers,
// dates, times and timestamps (days or micros); iceberg_bucket_bytes(BLOB v, INTEGER n) for
// strings (UTF-8), binary, fixed and uuids (16 big-endian bytes); iceberg_bucket_decimal(VARCHAR
// v, INTEGER scale, INTEGER n) for decimals as text. NULL in, NULL out.
int32_t Bucket(const table::Literal& v, int32_t n) {
  return static_cast<int32_t>((table::Hash(v) & 0x7fffffff) % n);
}

std::string_view Text(duckdb_string_t* s) {
  return std::string_view(duckdb_string_t_data(s), duckdb_string_t_length(*s));
}

template <typename F>
void ForEachRow(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output,
                size_t n_args, F f) {
  idx_t rows = duckdb_data_chunk_get_size(input);
  auto* out = static_cast<int32_t*>(duckdb_vector_get_data(output));
  duckdb_vector_ensure_validity_writable(output);
  uint64_t* out_valid = duckdb_vector_get_validity(output);
  std::vector<duckdb_vector> args(n_args);
  std::vector<uint64_t*> valid(n_args);
  for (size_t a = 0; a < n_args; ++a) {
    args[a] = duckdb_data_chunk_get_vector(input, a);
    valid[a] = duckdb_vector_get_validity(args[a]);
  }
  for (idx_t r = 0; r < rows; ++r) {
    bool null = false;
    for (size_t a = 0; a < n_args; ++a) {
      null = null || (valid[a] && !duckdb_validity_row_is_valid(valid[a], r));
    }
    if (null) {
      duckdb_validity_set_row_invalid(out_valid, r);
      continue;
    }
    int32_t n = static_cast<int32_t*>(duckdb_vector_get_data(args[n_args - 1]))[r];
    if (n <= 0) {
      duckdb_scalar_function_set_error(info, "iceberg_bucket: the bucket count must be positive");
      return;
    }
    auto v = f(args, r);
    if (!v.ok()) {
      duckdb_scalar_function_set_error(info, v.status().message().c_str());
      return;
    }
    out[r] = Bucket(*v, n);
  }
}

void BucketLong(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  ForEachRow(info, input, output, 2,
             [](const std::vector<duckdb_vector>& a, idx_t r) -> Result<table::Literal> {
               return table::Literal::Long(static_cast<int64_t*>(duckdb_vector_get_data(a[0]))[r]);
             });
}

void BucketBytes(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  ForEachRow(info, input, output, 2,
             [](const std::vector<duckdb_vector>& a, idx_t r) -> Result<table::Literal> {
               auto* s = static_cast<duckdb_string_t*>(duckdb_vector_get_data(a[0])) + r;
               table::Literal v(table::PrimitiveType{table::TypeId::kBinary});
               v.s = std::string(Text(s));
               return v;
             });
}

void BucketDecimal(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  ForEachRow(info, input, output, 3,
             [](const std::vector<duckdb_vector>& a, idx_t r) -> Result<table::Literal> {
               auto* s = static_cast<duckdb_string_t*>(duckdb_vector_get_data(a[0])) + r;
               int32_t scale = static_cast<int32_t*>(duckdb_vector_get_data(a[1]))[r];
               table::PrimitiveType t{table::TypeId::kDecimal, 38, scale};
               return table::FromJson(t, nlohmann::json(std::string(Text(s))));
             });
}

// pg_array_as_list(text): PostgreSQL's array text as DuckDB's list text (PgArrayAsListText),
// for casting to a list column.
void PgArrayAsList(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  idx_t rows = duckdb_data_chunk_get_size(input);
  duckdb_vector in = duckdb_data_chunk_get_vector(input, 0);
  auto* values = static_cast<duckdb_string_t*>(duckdb_vector_get_data(in));
  uint64_t* valid = duckdb_vector_get_validity(in);
  duckdb_vector_ensure_validity_writable(output);
  uint64_t* out_valid = duckdb_vector_get_validity(output);
  for (idx_t r = 0; r < rows; ++r) {
    if (valid && !duckdb_validity_row_is_valid(valid, r)) {
      duckdb_validity_set_row_invalid(out_valid, r);
      continue;
    }
    std::string_view text = Text(values + r);
    auto list = PgArrayAsListText(text);
    if (!list) {
      std::string m = "malformed array literal: \"" + std::string(text.substr(0, 60)) + "\"";
      duckdb_scalar_function_set_error(info, m.c_str());
      return;
    }
    duckdb_vector_assign_string_element_len(output, r, list->data(), list->size());
  }
}

Status Register(duckdb_connection conn, const char* name, std::vector<duckdb_type> params,
                duckdb_scalar_function_t fn, duckdb_type result = DUCKDB_TYPE_INTEGER) {
  duckdb_scalar_function f = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(f, name);
  for (duckdb_type p : params) {
    duckdb_logical_type t = duckdb_create_logical_type(p);
    duckdb_scalar_function_add_parameter(f, t);
    duckdb_destroy_logical_type(&t);
  }
  duckdb_logical_type ret = duckdb_create_logical_type(result);
  duckdb_scalar_function_set_return_type(f, ret);
  duckdb_destroy_logical_type(&ret);
  duckdb_scalar_function_set_function(f, fn);
  duckdb_state st = duckdb_register_scalar_function(conn, f);
  duckdb_destroy_scalar_function(&f);
  if (st != DuckDBSuccess) return Internal(std::string("registering ") + name);
  return Status::OK();
}

}  // namespace

Status Connection::RegisterIcebergFunctions() {
  LM_TRY(Register(conn_, "iceberg_bucket_long", {DUCKDB_TYPE_BIGINT, DUCKDB_TYPE_INTEGER},
                  BucketLong));
  LM_TRY(Register(conn_, "iceberg_bucket_bytes", {DUCKDB_TYPE_BLOB, DUCKDB_TYPE_INTEGER},
                  BucketBytes));
  LM_TRY(Register(conn_, "iceberg_bucket_decimal",
                  {DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_INTEGER, DUCKDB_TYPE_INTEGER}, BucketDecimal));
  LM_TRY(Register(conn_, "pg_array_as_list", {DUCKDB_TYPE_VARCHAR}, PgArrayAsList,
                  DUCKDB_TYPE_VARCHAR));
  return Status::OK();
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
