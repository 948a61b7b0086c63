// Writing Iceberg data files with DuckDB: rows from a CSV, Parquet or JSON file become Parquet
// files that carry the table's field ids, one per partition of the table's spec, each described
// by the table::DataFile its manifest entry needs (partition tuple, record count, size, and per
// column value/null/NaN counts and lower/upper bounds).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "table/manifest.h"

namespace lakemesh::sql {

enum class InputFormat { kCsv, kParquet, kJson };

// "csv", "parquet", "json"/"ndjson"/"jsonl"; kInvalidArgument otherwise.
Result<InputFormat> ParseInputFormat(const std::string& name);

struct WrittenFile {
  std::string local_path;  // the Parquet file written
  table::DataFile file;    // file_path left empty: the caller stores the file and sets it
};

// Reads `input` and writes its rows as Parquet data files of a table with `schema` (an Iceberg
// Schema JSON) and partition `spec` into `out_dir` (which must exist). Input columns are matched
// to table columns by name (ASCII case-insensitively) and cast to the table types; table columns
// missing from the input are null. An input column the table does not have, a value that does
// not convert, or a null in a required column is kInvalidArgument naming it, and nothing is left
// in `out_dir`. Nested columns (struct, list, map) carry field ids at every level; statistics
// are kept for primitive columns. fixed and timestamptz_ns columns are refused
// (kInvalidArgument): DuckDB's Parquet writer has no fixed-length binary and no UTC-adjusted
// nanosecond timestamp, and a file of the wrong physical type would break other readers.
Result<std::vector<WrittenFile>> WriteDataFiles(const std::string& input, InputFormat format,
                                                const nlohmann::json& schema,
                                                const table::PartitionSpec& spec,
                                                const std::string& out_dir);

// A data file of the table, copied to a local path.
struct LocalDataFile {
  std::string local_path;
  table::DataFile file;
};

// Files of a scan, copied to a local directory: the data files and the delete files that apply
// to each (`deletes[i]` indexes `delete_files` for `data[i]`; missing or empty: none).
struct LocalScan {
  std::vector<LocalDataFile> data;
  std::vector<std::vector<size_t>> deletes;
  std::vector<LocalDataFile> delete_files;
};

// What a copy-on-write pass did: the files it replaced and the files that replace them.
struct RewriteResult {
  std::vector<std::string> removed;  // file_path of each file that had matching rows
  std::vector<WrittenFile> added;    // the rewritten rows of those files
  int64_t rows = 0;                  // rows deleted or updated
};

class Connection;

// Writes the rows of the query `select` (SQL text whose columns are the table's, in order and
// of its types) as data files of a table with `schema` and `spec` into `out_dir`, with
// `db` (which must be allowed to write there). Same files and statistics as WriteDataFiles.
Result<std::vector<WrittenFile>> WriteQueryRows(Connection& db, const std::string& select,
                                                const nlohmann::json& schema,
                                                const table::PartitionSpec& spec,
                                                const std::string& out_dir);

// The table column types as DuckDB names them ("BIGINT", "DECIMAL(9,2)", "STRUCT(...)"), in
// schema order, for casting rows to the table.
Result<std::vector<std::pair<std::string, std::string>>> DuckColumns(const nlohmann::json& schema);

// The live rows of `scan` (delete files applied) as a DuckDB relation (SQL text, usable after
// FROM) with the columns of `schema`; an empty relation of those columns when the scan has no
// files. Files are read by field id, or by name when `all_schemas` (the table metadata's
// `schemas`) shows every schema had the current columns as they are (faster). The files must
// be where the DuckDB that runs it may read.
Result<std::string> ScanRelation(const LocalScan& scan, const nlohmann::json& schema,
                                 const nlohmann::json& all_schemas = nlohmann::json());

// Deletes the rows for which the SQL condition `where` is true, by copy-on-write: a file with no
// matching row is left alone, one with only matching rows is removed, any other is removed and
// its other rows written to a new file in `out_dir` (the table's current partition spec, field
// ids, fresh statistics). Files are read by field id, so they read across renames and added
// columns; the delete files of a rewritten file are applied to its rows (merge-on-read deletes
// written by other engines), so the new file holds exactly its live rows. The
// condition is evaluated by DuckDB with access to nothing but `out_dir` (where the files must
// be) and cannot hold a second statement; a condition DuckDB rejects (an unknown column, a syntax
// error) is kInvalidArgument with its message.
Result<RewriteResult> DeleteRows(const LocalScan& files, const std::string& where,
                                 const nlohmann::json& schema, const table::PartitionSpec& spec,
                                 const std::string& out_dir);
// The same with a connection the caller configured (the SQL engine's, where `where` may name
// other tables); `where` must be one expression (it is embedded in single statements). The
// table's rows are named `alias` (the statement's name for the table) when it is not empty.
Result<RewriteResult> DeleteRowsWith(Connection& db, const LocalScan& files,
                                     const std::string& where, const nlohmann::json& schema,
                                     const table::PartitionSpec& spec, const std::string& out_dir,
                                     const std::string& alias);

// Updates by copy-on-write: on the rows for which `where` is true, each column of `set` (name ->
// SQL expression over the row's old values) takes the expression's value, cast to the column's
// type. Each file with such a row is replaced by its rewritten rows, split by partition again
// when a partition source changed. Same confinement and errors as DeleteRows; an unknown column
// in `set` is kInvalidArgument.
Result<RewriteResult> UpdateRows(const LocalScan& files,
                                 const std::vector<std::pair<std::string, std::string>>& set,
                                 const std::string& where, const nlohmann::json& schema,
                                 const table::PartitionSpec& spec, const std::string& out_dir);
Result<RewriteResult> UpdateRowsWith(Connection& db, const LocalScan& files,
                                     const std::vector<std::pair<std::string, std::string>>& set,
                                     const std::string& where, const nlohmann::json& schema,
                                     const table::PartitionSpec& spec, const std::string& out_dir,
                                     const std::string& alias);

// Rows of a table read from its data files (copied to `dir`, where DuckDB may read), by field id,
// with the delete files that apply to each file removed: position deletes by (file_path, pos),
// equality deletes by their columns (nulls equal). `where` (optional) filters rows in SQL,
// confined as for DeleteRows. At most `limit` rows, as JSON values by column.
struct Rows {
  std::vector<std::string> columns;
  nlohmann::json rows = nlohmann::json::array();  // arrays of values, in `columns` order
  bool truncated = false;                          // more rows than `limit` matched
};
Result<Rows> ReadRows(const LocalScan& scan, const nlohmann::json& schema,
                      const std::string& where, int64_t limit,
                      const std::string& dir);

}  // namespace lakemesh::sql
