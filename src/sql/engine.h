// The SQL engine: lakemesh tables queried with DuckDB's SQL (the Trino role on one machine).
//
// Every domain is a schema and every table of it a view: `sales.orders` is the table on `main`,
// `sales."orders@dev"` the table at branch `dev` (a tag or a commit id works the same way). A view
// reads exactly the data files of the table's snapshot at that ref, by Iceberg field id, with its
// delete files applied; it is (re)defined when a statement names the table and the table has
// moved, so every statement sees the table's latest commit. `SET lakemesh.ref = 'dev'` makes
// unqualified refs mean `dev` for the session.
//
// What a statement may do is decided here, before DuckDB sees it: queries are parsed (DuckDB's
// own parser, through json_serialize_sql), their table references resolved and their table
// functions checked against an allow-list, so SQL reaches lakemesh's tables and nothing else.
// DuckDB itself runs with external access off, file access limited to the table files and its
// scratch directory, and its configuration locked.
//
// No DuckDB type leaves src/sql: results come as text values with a small type vocabulary that
// the wire protocols map to their own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lakemesh::catalog {
class Catalog;
}
namespace lakemesh::versioning {
class Repositories;
class Buckets;
}  // namespace lakemesh::versioning
namespace lakemesh::storage {
class BlobStore;
}

namespace lakemesh::sql {

enum class ColumnType {
  kBool,
  kInt16,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64,
  kNumeric,
  kText,
  kBytes,
  kDate,
  kTime,
  kTimestamp,
  kTimestamptz,
  kInterval,
  kUuid,
  kJson,
  kOther,  // lists, structs, maps, ...: sent as text
};

struct ResultColumn {
  ResultColumn() = default;
  ResultColumn(std::string n, ColumnType t) : name(std::move(n)), type(t) {}

  std::string name;
  ColumnType type = ColumnType::kText;
  // The exact type, for protocols that describe types fully (Trino). `precision`: a decimal's
  // digits, or a time or timestamp's fractional digits; `scale`: a decimal's. `nested` (type
  // kOther): a list's element, a map's key and value, or a struct's named fields in `children`.
  int precision = 0;
  int scale = 0;
  enum class Nested { kNone, kList, kMap, kStruct } nested = Nested::kNone;
  std::vector<ResultColumn> children;
};

// Receives the rows of a statement. Values are text in PostgreSQL's output format (booleans
// t/f, bytea as \x hex); nullopt is NULL. The views are valid only during the call.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual Status Columns(const std::vector<ResultColumn>& columns) = 0;
  virtual Status Row(const std::vector<std::optional<std::string_view>>& values) = 0;
};

struct SqlError {
  std::string sqlstate;  // PostgreSQL's code for the same mistake: 42P01, 42703, 42601, ...
  std::string message;
  int64_t position = -1;  // where in the statement (0-based byte offset), when known
};

struct Outcome {
  std::optional<SqlError> error;
  std::string tag;         // the command tag: "SELECT 3", "SET", "BEGIN"
  bool has_rows = false;   // Columns() was called
  int64_t rows = 0;
};

// Where `read_csv('s3://...')` and the other file readers find objects: repositories
// (s3://repo/ref/path) and plain buckets (s3://bucket/key). Null: such reads are refused.
struct ObjectSources {
  versioning::Repositories* repos = nullptr;
  versioning::Buckets* buckets = nullptr;
  storage::BlobStore* blobs = nullptr;
};

struct EngineOptions {
  // DuckDB spills here, and table files of a non-local blob store are copied here to be read.
  std::string scratch_dir;
  int threads = 0;           // 0: DuckDB's default (the machine's cores)
  std::string memory_limit;  // DuckDB syntax ("4GB"); empty: DuckDB's default
  // Table versions read again and again are kept in memory as DuckDB tables, up to this many
  // bytes (a quarter of the memory limit when negative; 0 turns the cache off).
  int64_t table_cache_bytes = -1;
  // Catalog names a query may put before domain.table (lakemesh.sales.orders, as Trino clients
  // write it); they mean lakemesh's own tables.
  std::vector<std::string> catalog_names = {"lakemesh"};
};

// How a session's rows come (fixed when it connects).
struct SessionOptions {
  // Lists, maps and structs as JSON text (`[1,2]`, `{"a":1}`) instead of PostgreSQL's text.
  bool nested_as_json = false;
};

class Engine;

// The rows a client sends for COPY table FROM STDIN (Session::BeginCopyIn), in COPY's text or
// CSV format, in pieces of any size. They are gathered in a scratch file; Finish() writes them
// to the table as one commit, and destroying it before that writes nothing.
class CopyIn {
 public:
  ~CopyIn();
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;

  size_t columns() const;  // how many columns each row has
  Status Write(std::string_view data);
  // The end of the data: the rows are converted to the table's types and appended; the tag is
  // "COPY <rows>".
  Outcome Finish();

  struct Impl;

 private:
  friend class Session;
  explicit CopyIn(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One client's session: its settings and its DuckDB connection. Used by one thread at a time;
// Cancel() may be called from any thread.
class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs one statement (see SplitStatements), sending its columns and rows, if any, to `sink`.
  Outcome Execute(std::string_view statement, ResultSink& sink);

  // --- the extended query protocol: statements with parameters ($1, $2, ...) ---
  struct Description {
    std::vector<ColumnType> params;
    std::vector<ResultColumn> columns;  // empty: the statement returns no rows
  };
  // What `statement` takes and returns, without running it (statements that only return rows,
  // such as SHOW, are run to find out).
  // `declared`: the parameter types the client gave (nullopt: unspecified); a parameter the
  // statement leaves untyped takes its declared type, or text.
  struct DeclaredType {
    ColumnType type = ColumnType::kText;
    bool array = false;  // a one-dimensional array of `type` (int4[], text[], ...)
  };
  using Declared = std::vector<std::optional<DeclaredType>>;
  std::optional<SqlError> Describe(std::string_view statement, Description* out,
                                   const Declared& declared = {});
  // Binds `statement` to the parameter values `params` (text; nullopt = NULL) as portal `name`,
  // replacing a portal of that name. Queries run when fetched; other statements run here and
  // keep their outcome for Fetch. `out` (optional) receives what the portal returns.
  std::optional<SqlError> Bind(const std::string& name, std::string_view statement,
                               const std::vector<std::optional<std::string>>& params,
                               Description* out, const Declared& declared = {});
  // Sends up to `max_rows` (0: all) more rows of portal `name` to `sink` (Columns is not
  // called). `*suspended` when rows may remain; otherwise the outcome carries the command tag.
  Outcome Fetch(const std::string& name, int64_t max_rows, ResultSink& sink, bool* suspended);
  void ClosePortal(const std::string& name);
  // The columns portal `name` returns (empty: no rows); nullopt if there is no such portal.
  std::optional<std::vector<ResultColumn>> PortalColumns(const std::string& name) const;
  // COPY table [(columns)] FROM STDIN ... (ParseCopyFromStdin): checks the table and columns
  // and returns what takes the rows, before the client sends them.
  std::optional<SqlError> BeginCopyIn(std::string_view statement, std::unique_ptr<CopyIn>* out);
  // Interrupts the running statement (it ends with SQLSTATE 57014).
  void Cancel();

  const std::string& user() const;
  // The ref unqualified table names read ("main" unless SET lakemesh.ref changed it).
  const std::string& ref() const;
  bool in_transaction() const;
  // The domain a table name without one reads (`orders` for `sales.orders`); empty: none.
  void SetDefaultDomain(std::string domain);
  // Tables a protocol provides for this session (Trino's system.runtime.nodes): `names` as a
  // query writes them ("system.runtime.nodes", "lakemesh.information_schema.columns"), with
  // its columns and rows (text values, nullopt = NULL, converted to the column types). They
  // take precedence over tables of those names; a table defined again is replaced.
  Status DefineTable(const std::vector<std::string>& names, std::vector<ResultColumn> columns,
                   std::vector<std::vector<std::optional<std::string>>> rows);

  struct Impl;

 private:
  friend class Engine;
  explicit Session(std::unique_ptr<Impl> impl);
  Outcome ExecuteStatement(std::string_view statement, ResultSink& sink);
  Outcome Declare(std::string_view statement,
                  const std::vector<std::optional<std::string>>& params, const Declared& declared);
  Outcome FetchCursor(std::string_view statement, ResultSink& sink);
  std::unique_ptr<Impl> impl_;
};

class Engine {
 public:
  // Opens the engine's in-memory DuckDB over `catalog`'s tables (and the objects of `sources`).
  static Result<std::unique_ptr<Engine>> Open(catalog::Catalog& catalog, EngineOptions options,
                                              ObjectSources sources = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Result<std::unique_ptr<Session>> Connect(const std::string& user, SessionOptions options = {});

  // The table cache (EngineOptions::table_cache_bytes): table versions held in memory now.
  struct CacheStats {
    size_t tables = 0;
    uint64_t bytes = 0;
    uint64_t budget = 0;
    uint64_t copies = 0;  // made since the engine opened
  };
  CacheStats TableCacheStats() const;
  // Queries prepared with their aggregation moved below their joins (eager_aggregation.h).
  uint64_t EagerAggregations() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakemesh::sql
