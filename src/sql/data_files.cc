#include "sql/data_files.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "base/random.h"
#include "sql/connection.h"

namespace lakemesh::sql {
namespace {

using Json = nlohmann::json;
using table::PrimitiveType;
using table::TypeId;

Status Bad(std::string m) { return InvalidArgument(std::move(m)); }

// Bounds longer than this are left out (a file without bounds is never pruned, which is safe).
constexpr size_t kMaxBoundBytes = 64;

struct Column {
  std::string name;
  int32_t id = 0;
  bool required = false;
  bool primitive = true;
  PrimitiveType type;  // when primitive
  Json type_json;      // the Iceberg type as the schema has it
  std::string duck_type;
  std::string field_ids;  // the FIELD_IDS value: "7" or "{__duckdb_field_id: 7, ...}"
};

Result<std::string> DuckType(const PrimitiveType& t, const std::string& column) {
  switch (t.id) {
    case TypeId::kBoolean: return std::string("BOOLEAN");
    case TypeId::kInt: return std::string("INTEGER");
    case TypeId::kLong: return std::string("BIGINT");
    case TypeId::kFloat: return std::string("FLOAT");
    case TypeId::kDouble: return std::string("DOUBLE");
    case TypeId::kDecimal:
      return "DECIMAL(" + std::to_string(t.precision) + "," + std::to_string(t.scale) + ")";
    case TypeId::kDate: return std::string("DATE");
    case TypeId::kTime: return std::string("TIME");
    case TypeId::kTimestamp: return std::string("TIMESTAMP");
    case TypeId::kTimestamptz: return std::string("TIMESTAMPTZ");
    case TypeId::kTimestampNs: return std::string("TIMESTAMP_NS");
    case TypeId::kString: return std::string("VARCHAR");
    case TypeId::kUuid: return std::string("UUID");
    case TypeId::kBinary: return std::string("BLOB");
    case TypeId::kTimestamptzNs:
      return Bad("column '" + column + "' is of type timestamptz_ns, which lakemesh cannot write: "
                 "DuckDB's Parquet writer has no UTC-adjusted nanosecond timestamp");
    case TypeId::kFixed:
      break;
  }
  return Bad("column '" + column + "' is of type " + table::TypeName(t) +
             ", which lakemesh cannot write: DuckDB's Parquet writer has no fixed-length binary "
             "(use binary)");
}

// The DuckDB type of an Iceberg type (nested ones included), and the FIELD_IDS entry that gives
// the Parquet columns their Iceberg ids: {__duckdb_field_id: id, child: ...} for nested types,
// with list elements named `element` and map entries `key` and `value`.
Status NestedType(const Json& type, const std::string& column, int32_t id, std::string* duck,
                  std::string* ids) {
  if (type.is_string()) {
    LM_ASSIGN_OR_RETURN(PrimitiveType t, table::ParsePrimitiveType(type.get<std::string>()));
    LM_ASSIGN_OR_RETURN(*duck, DuckType(t, column));
    *ids = std::to_string(id);
    return Status::OK();
  }
  if (!type.is_object()) return Bad("column '" + column + "' has a malformed type");
  std::string kind = type.value("type", std::string());
  std::string own = "{__duckdb_field_id: " + std::to_string(id);
  if (kind == "struct") {
    std::string fields;
    for (const Json& f : type.value("fields", Json::array())) {
      std::string d, i, name = f.value("name", std::string());
      LM_TRY(NestedType(f.value("type", Json()), column + "." + name, f.value("id", 0), &d, &i));
      fields += (fields.empty() ? "" : ", ") + Ident(name) + " " + d;
      own += ", " + Literal(name) + ": " + i;
    }
    *duck = "STRUCT(" + fields + ")";
    *ids = own + "}";
    return Status::OK();
  }
  if (kind == "list") {
    std::string d, i;
    LM_TRY(NestedType(type.value("element", Json()), column + ".element",
                      type.value("element-id", 0), &d, &i));
    *duck = d + "[]";
    *ids = own + ", element: " + i + "}";
    return Status::OK();
  }
  if (kind == "map") {
    std::string kd, ki, vd, vi;
    LM_TRY(NestedType(type.value("key", Json()), column + ".key", type.value("key-id", 0), &kd,
                      &ki));
    LM_TRY(NestedType(type.value("value", Json()), column + ".value", type.value("value-id", 0),
                      &vd, &vi));
    *duck = "MAP(" + kd + ", " + vd + ")";
    *ids = own + ", key: " + ki + ", value: " + vi + "}";
    return Status::OK();
  }
  return Bad("column '" + column + "' has an unknown type '" + kind + "'");
}

// An expression of Iceberg type `t` as SQL whose text form Parse() reads back exactly.
std::string Canon(const std::string& e, const PrimitiveType& t) {
  switch (t.id) {
    case TypeId::kBoolean: return "CAST(" + e + " AS INTEGER)";
    case TypeId::kInt:
    case TypeId::kLong: return "CAST(" + e + " AS BIGINT)";
    case TypeId::kFloat:
    case TypeId::kDouble: return "CAST(" + e + " AS DOUBLE)";
    case TypeId::kDate: return "CAST((" + e + ") - DATE '1970-01-01' AS BIGINT)";
    case TypeId::kTime:
      return "(CAST(hour(" + e + ") * 3600 + minute(" + e + ") * 60 AS BIGINT) * 1000000 + "
             "microsecond(" + e + "))";
    case TypeId::kTimestamp:
    case TypeId::kTimestamptz: return "epoch_us(" + e + ")";
    case TypeId::kTimestampNs:
    case TypeId::kTimestamptzNs: return "epoch_ns(" + e + ")";
    case TypeId::kBinary:
    case TypeId::kFixed: return "hex(" + e + ")";
    default: return "CAST(" + e + " AS VARCHAR)";
  }
}

Result<table::Literal> Parse(const std::string& text, const PrimitiveType& t) {
  if (table::IsIntegral(t.id)) {
    table::Literal v(t);
    char* end = nullptr;
    v.i = std::strtoll(text.c_str(), &end, 10);
    if (!end || *end != '\0') return Internal("not an integer from DuckDB: " + text);
    return v;
  }
  if (t.id == TypeId::kFloat || t.id == TypeId::kDouble) {
    table::Literal v(t);
    v.d = std::strtod(text.c_str(), nullptr);
    return v;
  }
  return table::FromJson(t, Json(text));
}

// The partition transform of `pf` as SQL over its source column.
Result<std::string> TransformSql(const table::PartitionField& pf, const std::string& col) {
  const table::Transform& t = pf.transform;
  bool ns = pf.source_type.id == TypeId::kTimestampNs || pf.source_type.id == TypeId::kTimestamptzNs;
  switch (t.kind) {
    case table::Transform::kIdentity: return col;
    case table::Transform::kYear: return "(year(" + col + ") - 1970)";
    case table::Transform::kMonth:
      return "((year(" + col + ") - 1970) * 12 + month(" + col + ") - 1)";
    case table::Transform::kDay: return "CAST(" + col + " AS DATE)";
    case table::Transform::kHour:
      return ns ? "CAST(floor(epoch_ns(" + col + ") / 3600000000000.0) AS BIGINT)"
                : "CAST(floor(epoch_us(" + col + ") / 3600000000.0) AS BIGINT)";
    case table::Transform::kTruncate: {
      std::string w = std::to_string(t.param);
      if (pf.source_type.id == TypeId::kInt || pf.source_type.id == TypeId::kLong) {
        return "(" + col + " - (((" + col + " % " + w + ") + " + w + ") % " + w + "))";
      }
      if (pf.source_type.id == TypeId::kString) return "left(" + col + ", " + w + ")";
      if (pf.source_type.id == TypeId::kBinary) {
        return "unhex(left(hex(" + col + "), " + std::to_string(2 * t.param) + "))";
      }
      if (pf.source_type.id == TypeId::kDecimal) {
        // On the unscaled value: v - (((v % W) + W) % W), here in decimals of the same scale
        // (exact in DuckDB), wide enough for W and for a value rounded down past the minimum.
        const int s = pf.source_type.scale;
        std::string width = std::to_string(t.param);
        if (s > 0) {
          if (width.size() <= static_cast<size_t>(s)) {
            width.insert(0, static_cast<size_t>(s) + 1 - width.size(), '0');
          }
          width.insert(width.size() - static_cast<size_t>(s), ".");
        }
        std::string d = "DECIMAL(38," + std::to_string(s) + ")";
        std::string v = "CAST(" + col + " AS " + d + ")", wd = "CAST('" + width + "' AS " + d + ")";
        return "(" + v + " - (((" + v + " % " + wd + ") + " + wd + ") % " + wd + "))";
      }
      break;
    }
    case table::Transform::kBucket: {
      std::string n = std::to_string(t.param);
      switch (pf.source_type.id) {
        case TypeId::kInt:
        case TypeId::kLong:
          return "iceberg_bucket_long(CAST(" + col + " AS BIGINT), " + n + ")";
        case TypeId::kDate:
        case TypeId::kTime:
        case TypeId::kTimestamp:
        case TypeId::kTimestamptz:
          return "iceberg_bucket_long(" + Canon(col, pf.source_type) + ", " + n + ")";
        case TypeId::kTimestampNs:
          // Nanoseconds hash as microseconds, floored.
          return "iceberg_bucket_long((epoch_ns(" + col + ") - ((epoch_ns(" + col +
                 ") % 1000) + 1000) % 1000) // 1000, " + n + ")";
        case TypeId::kString: return "iceberg_bucket_bytes(encode(" + col + "), " + n + ")";
        case TypeId::kBinary: return "iceberg_bucket_bytes(" + col + ", " + n + ")";
        case TypeId::kUuid:
          return "iceberg_bucket_bytes(unhex(replace(CAST(" + col + " AS VARCHAR), '-', '')), " +
                 n + ")";
        case TypeId::kDecimal:
          return "iceberg_bucket_decimal(CAST(" + col + " AS VARCHAR), " +
                 std::to_string(pf.source_type.scale) + ", " + n + ")";
        default: break;
      }
      break;
    }
    case table::Transform::kVoid: return std::string("NULL");
    default: break;
  }
  return Bad("partition field '" + pf.name + "' (" + t.name + " of " +
             table::TypeName(pf.source_type) + ") is not supported when appending files yet");
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Status Wrap(const Status& st, const std::string& what) {
  if (st.ok()) return st;
  return Bad(what + ": " + st.message());
}

Result<std::vector<Column>> Columns(const Json& schema) {
  std::vector<Column> columns;
  if (!schema.contains("fields") || !schema["fields"].is_array()) {
    return Bad("table schema has no fields");
  }
  for (const Json& f : schema["fields"]) {
    Column c;
    c.name = f.value("name", std::string());
    c.id = f.value("id", 0);
    c.required = f.value("required", false);
    c.type_json = f.value("type", Json());
    c.primitive = c.type_json.is_string();
    if (c.primitive) {
      LM_ASSIGN_OR_RETURN(c.type, table::ParsePrimitiveType(c.type_json.get<std::string>()));
    }
    LM_TRY(NestedType(c.type_json, c.name, c.id, &c.duck_type, &c.field_ids));
    columns.push_back(std::move(c));
  }
  return columns;
}

std::string FieldIds(const std::vector<Column>& columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    out += (i ? ", " : "") + Literal(columns[i].name) + ": " + columns[i].field_ids;
  }
  return out;
}

// read_parquet by Iceberg field id: columns renamed since a file was written, or added after,
// read as the table has them now.
std::string ReadByFieldId(const std::vector<std::string>& paths,
                          const std::vector<Column>& columns) {
  std::string list;
  for (const std::string& p : paths) list += (list.empty() ? "" : ", ") + Literal(p);
  std::string map;
  for (size_t i = 0; i < columns.size(); ++i) {
    map += (i ? ", " : "") + std::to_string(columns[i].id) + ": {name: " +
           Literal(columns[i].name) + ", type: " + Literal(columns[i].duck_type) +
           ", default_value: NULL}";
  }
  return "read_parquet([" + list + "], schema = MAP {" + map + "})";
}

std::string ReadByFieldId(const std::string& path, const std::vector<Column>& columns) {
  return ReadByFieldId(std::vector<std::string>{path}, columns);
}

Result<std::vector<std::string>> PartitionSql(const table::PartitionSpec& spec,
                                              const std::vector<Column>& columns) {
  std::vector<std::string> part_sql;
  for (const auto& pf : spec.fields) {
    auto src = std::find_if(columns.begin(), columns.end(),
                            [&](const Column& c) { return c.id == pf.source_id; });
    if (src == columns.end()) {
      return Bad("partition field '" + pf.name + "' has no source column in the table");
    }
    LM_ASSIGN_OR_RETURN(std::string e, TransformSql(pf, Ident(src->name)));
    part_sql.push_back(e);
  }
  return part_sql;
}

// The statistics and partition tuple of a Parquet file of the table, read back from the file;
// nullopt for a file without rows.
Result<std::optional<WrittenFile>> Describe(Connection& db, const std::string& path,
                                            const std::vector<Column>& columns,
                                            const std::vector<std::string>& part_sql,
                                            const table::PartitionSpec& spec) {
  std::string stats;
  for (const Column& c : columns) {
    std::string col = Ident(c.name);
    if (!c.primitive) {  // nested: only whether it is null (metrics are kept for primitives)
      stats += ", count(" + col + "), NULL, NULL, 0";
      continue;
    }
    bool floating = c.type.id == TypeId::kFloat || c.type.id == TypeId::kDouble;
    std::string filter = floating ? " FILTER (WHERE NOT isnan(" + col + "))" : "";
    stats += ", count(" + col + ")";
    stats += ", " + Canon("min(" + col + ")" + filter, c.type);
    stats += ", " + Canon("max(" + col + ")" + filter, c.type);
    stats += floating ? ", count_if(isnan(" + col + "))" : ", 0";
  }
  for (size_t i = 0; i < part_sql.size(); ++i) {
    stats += ", " + Canon("any_value(" + part_sql[i] + ")", spec.fields[i].type);
  }
  QueryResult r;
  Status st = db.Query("SELECT count(*)" + stats + " FROM read_parquet(" + Literal(path) + ")", &r);
  if (!st.ok()) return Internal("reading back " + path + ": " + st.message());
  int64_t rows = r.Int(0, 0);
  if (rows == 0) return std::optional<WrittenFile>();
  WrittenFile w;
  w.local_path = path;
  table::DataFile& f = w.file;
  f.record_count = rows;
  std::error_code ec;
  f.file_size_in_bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  size_t k = 1;
  for (const Column& c : columns) {
    int64_t non_null = r.Int(k, 0);
    if (c.required && non_null != rows) {
      return Bad("required column '" + c.name + "' has " + std::to_string(rows - non_null) +
                 " null value(s)");
    }
    if (!c.primitive) {
      k += 4;
      continue;
    }
    f.value_counts.emplace_back(c.id, rows);
    f.null_value_counts.emplace_back(c.id, rows - non_null);
    auto lo = r.Text(k + 1, 0), hi = r.Text(k + 2, 0);
    if (lo && hi) {
      auto l = Parse(*lo, c.type), h = Parse(*hi, c.type);
      if (l.ok() && h.ok()) {
        std::string lb = table::ToBytes(*l), hb = table::ToBytes(*h);
        if (lb.size() <= kMaxBoundBytes && hb.size() <= kMaxBoundBytes) {
          f.lower_bounds.emplace_back(c.id, std::move(lb));
          f.upper_bounds.emplace_back(c.id, std::move(hb));
        }
      }
    }
    if (c.type.id == TypeId::kFloat || c.type.id == TypeId::kDouble) {
      f.nan_value_counts.emplace_back(c.id, r.Int(k + 3, 0));
    }
    k += 4;
  }
  for (size_t i = 0; i < part_sql.size(); ++i, ++k) {
    auto text = r.Text(k, 0);
    if (!text) {
      f.partition.emplace_back();
      continue;
    }
    LM_ASSIGN_OR_RETURN(table::Literal v, Parse(*text, spec.fields[i].type));
    f.partition.emplace_back(std::move(v));
  }
  std::sort(f.value_counts.begin(), f.value_counts.end());
  std::sort(f.null_value_counts.begin(), f.null_value_counts.end());
  std::sort(f.nan_value_counts.begin(), f.nan_value_counts.end());
  std::sort(f.lower_bounds.begin(), f.lower_bounds.end());
  std::sort(f.upper_bounds.begin(), f.upper_bounds.end());
  return std::optional<WrittenFile>(std::move(w));
}

// Writes the rows of `source` (a relation whose columns are the table's) as Parquet files of the
// table into a new directory under `out_dir`: one file per partition, field ids, statistics read
// back. The directory is removed again on failure. `one_statement`: `source` embeds request text.
Result<std::vector<WrittenFile>> WriteRows(Connection& db, const std::string& source,
                                           bool one_statement, const std::vector<Column>& columns,
                                           const std::vector<std::string>& part_sql,
                                           const table::PartitionSpec& spec,
                                           const std::string& out_dir) {
  const std::string dir = out_dir + "/" + NewUuid();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("creating " + dir + ": " + ec.message());
  auto cleanup = [&] { std::filesystem::remove_all(dir, ec); };
  const std::string field_ids = FieldIds(columns);
  std::string copy;
  if (spec.fields.empty()) {
    copy = "COPY (SELECT * FROM " + source + ") TO " + Literal(dir + "/data.parquet") +
           " (FORMAT parquet, FIELD_IDS {" + field_ids + "})";
  } else {
    std::string extra, by;
    for (size_t i = 0; i < part_sql.size(); ++i) {
      // The keys only group rows (each file's tuple is read back from its rows); binary ones go
      // as hex, as DuckDB names the directories after them.
      const TypeId k = spec.fields[i].type.id;
      bool binary = k == TypeId::kBinary || k == TypeId::kFixed;
      extra += ", " + (binary ? "hex(" + part_sql[i] + ")" : part_sql[i]) + " AS __lm_p" +
               std::to_string(i);
      by += (i ? ", " : "") + std::string("__lm_p") + std::to_string(i);
    }
    copy = "COPY (SELECT *" + extra + " FROM " + source + ") TO " + Literal(dir) +
           " (FORMAT parquet, PARTITION_BY (" + by + "), FIELD_IDS {" + field_ids + "})";
  }
  QueryResult r;
  Status st = one_statement ? db.QueryOne(copy, &r) : db.Query(copy, &r);
  if (!st.ok()) {
    cleanup();
    return Bad("writing the rows: " + st.message());
  }
  std::vector<std::string> paths;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".parquet") paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  // Statistics and partition values of each file, read back from the file itself.
  std::vector<WrittenFile> out;
  for (const std::string& path : paths) {
    auto w = Describe(db, path, columns, part_sql, spec);
    if (!w.ok()) {
      cleanup();
      return w.status();
    }
    if (*w) out.push_back(std::move(**w));
  }
  return out;
}

}  // namespace

Result<InputFormat> ParseInputFormat(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), ::tolower);
  if (n == "csv" || n == "tsv") return InputFormat::kCsv;
  if (n == "parquet") return InputFormat::kParquet;
  if (n == "json" || n == "ndjson" || n == "jsonl") return InputFormat::kJson;
  return Bad("unknown input format '" + name + "' (csv, parquet or json)");
}

Result<std::vector<WrittenFile>> WriteDataFiles(const std::string& input, InputFormat format,
                                                const Json& schema,
                                                const table::PartitionSpec& spec,
                                                const std::string& out_dir) {
  LM_ASSIGN_OR_RETURN(std::vector<Column> columns, Columns(schema));
  LM_ASSIGN_OR_RETURN(auto db, Connection::OpenInMemory(2));
  LM_TRY(db->RegisterIcebergFunctions());
  std::string source;
  switch (format) {
    case InputFormat::kCsv: source = "read_csv(" + Literal(input) + ", header = true)"; break;
    case InputFormat::kParquet: source = "read_parquet(" + Literal(input) + ")"; break;
    case InputFormat::kJson: source = "read_json_auto(" + Literal(input) + ")"; break;
  }
  QueryResult described;
  LM_TRY(Wrap(db->Query("DESCRIBE SELECT * FROM " + source, &described), "reading the input"));
  std::vector<std::string> input_columns;
  for (size_t r = 0; r < described.rows(); ++r) input_columns.push_back(*described.Text(0, r));

  // Each input column goes to the table column of its name.
  std::vector<std::string> matched(columns.size());
  for (const std::string& in : input_columns) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const Column& c) { return EqualsIgnoreCase(c.name, in); });
    if (it == columns.end()) {
      std::string names;
      for (const Column& c : columns) names += (names.empty() ? "" : ", ") + c.name;
      return Bad("input column '" + in + "' is not a column of the table (" + names + ")");
    }
    matched[it - columns.begin()] = in;
  }
  std::string select;
  const std::string field_ids = FieldIds(columns);
  for (size_t i = 0; i < columns.size(); ++i) {
    const Column& c = columns[i];
    const std::string& type = c.duck_type;
    std::string value = matched[i].empty() ? "NULL" : Ident(matched[i]);
    if (matched[i].empty() && c.required) {
      return Bad("required column '" + c.name + "' is missing from the input");
    }
    select += (i ? ", " : "") + std::string("CAST(") + value + " AS " + type + ") AS " +
              Ident(c.name);
  }
  LM_TRY(Wrap(db->Run("CREATE VIEW rows AS SELECT " + select + " FROM " + source),
              "reading the input"));

  LM_ASSIGN_OR_RETURN(std::vector<std::string> part_sql, PartitionSql(spec, columns));

  return WriteRows(*db, "rows", /*one_statement=*/false, columns, part_sql, spec, out_dir);
}

namespace {

// The live rows of `scan.data[i]`, as a relation with the table's columns: the file read by field
// id, less the rows its delete files remove (position deletes by (file_path, pos), equality
// deletes null-safely on their columns).
Result<std::string> LiveRows(const LocalScan& scan, size_t i, const std::vector<Column>& columns) {
  const LocalDataFile& data = scan.data[i];
  std::string source = ReadByFieldId(data.local_path, columns);
  if (i >= scan.deletes.size() || scan.deletes[i].empty()) return source;
  // The same read with each row's position in the file, for position deletes.
  source.insert(source.size() - 1, ", file_row_number = true");
  std::string cols;
  for (const Column& c : columns) cols += (cols.empty() ? "d." : ", d.") + Ident(c.name);
  std::string q = "(SELECT " + cols + " FROM " + source + " d WHERE true";
  for (size_t k : scan.deletes[i]) {
    if (k >= scan.delete_files.size()) return Internal("delete file index out of range");
    const LocalDataFile& del = scan.delete_files[k];
    if (del.file.content == table::FileContent::kPositionDeletes) {
      q += " AND d.file_row_number NOT IN (SELECT pos FROM read_parquet(" +
           Literal(del.local_path) + ") WHERE file_path = " + Literal(data.file.file_path) + ")";
      continue;
    }
    // Equality deletes: the delete file's columns, read by field id, compared null-safely.
    std::vector<Column> keys;
    for (int32_t id : del.file.equality_ids) {
      auto c = std::find_if(columns.begin(), columns.end(),
                            [&](const Column& col) { return col.id == id; });
      if (c == columns.end()) {
        return Bad("equality delete file " + del.file.file_path + " uses field " +
                   std::to_string(id) + ", which is not a column of the table");
      }
      keys.push_back(*c);
    }
    if (keys.empty()) return Bad("equality delete file " + del.file.file_path + " has no ids");
    std::string match;
    for (const Column& c : keys) {
      match += (match.empty() ? "" : " AND ") + std::string("e.") + Ident(c.name) +
               " IS NOT DISTINCT FROM d." + Ident(c.name);
    }
    q += " AND NOT EXISTS (SELECT 1 FROM " + ReadByFieldId(del.local_path, keys) + " e WHERE " +
         match + ")";
  }
  return q + ")";
}

}  // namespace

namespace {

enum class ReadMode { kFieldId, kByName };

// How files of a table with these schemas (its metadata's `schemas`) can be read: by name when
// every schema the table ever had holds the current columns with the same names and types
// (DuckDB reads by name about twice as fast as through a field-id schema map); by field id
// otherwise (renames, type changes, and columns added since some files were written: a file
// without the column reads it as NULL).
ReadMode ReadModeFor(const Json& current, const Json& all_schemas) {
  if (!all_schemas.is_array() || !current.contains("fields")) return ReadMode::kFieldId;
  for (const Json& f : current["fields"]) {
    const int32_t id = f.value("id", 0);
    const std::string name = f.value("name", std::string());
    for (const Json& s : all_schemas) {
      bool present = false;
      for (const Json& g : s.value("fields", Json::array())) {
        const int32_t gid = g.value("id", 0);
        const std::string gname = g.value("name", std::string());
        if (gid == id) {
          present = true;
          if (gname != name || g.value("type", Json()) != f.value("type", Json())) {
            return ReadMode::kFieldId;
          }
        } else if (gname == name) {
          return ReadMode::kFieldId;  // the name meant another column once
        }
      }
      if (!present) return ReadMode::kFieldId;
    }
  }
  return ReadMode::kByName;
}

std::string ReadFiles(const std::vector<std::string>& paths, const std::vector<Column>& columns,
                      ReadMode mode) {
  if (mode == ReadMode::kFieldId) return ReadByFieldId(paths, columns);
  std::string list, cols;
  for (const std::string& p : paths) list += (list.empty() ? "" : ", ") + Literal(p);
  for (const Column& c : columns) {
    cols += (cols.empty() ? "" : ", ") + std::string("CAST(") + Ident(c.name) + " AS " +
            c.duck_type + ") AS " + Ident(c.name);
  }
  return "(SELECT " + cols + " FROM read_parquet([" + list + "]))";
}

}  // namespace

Result<std::string> ScanRelation(const LocalScan& scan, const Json& schema,
                                 const Json& all_schemas) {
  LM_ASSIGN_OR_RETURN(std::vector<Column> columns, Columns(schema));
  if (scan.data.empty()) {
    std::string cols;
    for (const Column& c : columns) {
      cols += (cols.empty() ? "" : ", ") + std::string("CAST(NULL AS ") + c.duck_type + ") AS " +
              Ident(c.name);
    }
    return "(SELECT " + cols + " LIMIT 0)";
  }
  const ReadMode mode = ReadModeFor(schema, all_schemas);
  // Files without deletes in one read; each file with deletes on its own.
  std::vector<std::string> plain, parts;
  for (size_t i = 0; i < scan.data.size(); ++i) {
    if (i < scan.deletes.size() && !scan.deletes[i].empty()) {
      LM_ASSIGN_OR_RETURN(std::string live, LiveRows(scan, i, columns));
      parts.push_back("SELECT * FROM " + live);
    } else {
      plain.push_back(scan.data[i].local_path);
    }
  }
  if (!plain.empty()) parts.insert(parts.begin(), "SELECT * FROM " + ReadFiles(plain, columns, mode));
  if (parts.size() == 1 && !plain.empty()) return ReadFiles(plain, columns, mode);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "(" : " UNION ALL ") + p;
  return out + ")";
}

namespace {

// One copy-on-write pass: for each file with rows matching `where`, the relation `rewrite(src)`
// (over `src`, the file read by field id) gives its new rows; with `drop_all`, a file whose rows
// all match is removed without a rewrite.
// `shared`: the connection to run on (configured by the caller); null: a fresh in-memory DuckDB
// confined to `out_dir`.
Result<RewriteResult> CopyOnWrite(Connection* shared, const LocalScan& files,
                                  const std::string& where, const Json& schema,
                                  const table::PartitionSpec& spec, const std::string& out_dir,
                                  const std::function<std::string(const std::string&)>& rewrite,
                                  bool drop_all, const std::string& alias) {
  if (where.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Bad("a condition is needed (to match every row, use 'true')");
  }
  LM_ASSIGN_OR_RETURN(std::vector<Column> columns, Columns(schema));
  LM_ASSIGN_OR_RETURN(std::vector<std::string> part_sql, PartitionSql(spec, columns));
  std::unique_ptr<Connection> own;
  if (!shared) {
    LM_ASSIGN_OR_RETURN(own, Connection::OpenInMemory(2));
    LM_TRY(own->RegisterIcebergFunctions());
    // The SQL comes from a request: DuckDB may read and write nothing but `out_dir`.
    LM_TRY(own->Run("SET allowed_directories = [" + Literal(out_dir + "/") + "]"));
    LM_TRY(own->Run("SET enable_external_access = false"));
    LM_TRY(own->Run("SET lock_configuration = true"));
  }
  Connection* db = shared ? shared : own.get();
  RewriteResult result;
  for (size_t i = 0; i < files.data.size(); ++i) {
    const LocalDataFile& f = files.data[i];
    LM_ASSIGN_OR_RETURN(std::string source, LiveRows(files, i, columns));
    // Named as the statement names the table, so that conditions may say `t.id`.
    if (!alias.empty()) source += " AS " + Ident(alias);
    QueryResult r;
    LM_TRY(Wrap(db->QueryOne("SELECT count(*) FILTER (WHERE (" + where + ")), count(*) FROM " +
                                 source,
                             &r),
                "the condition"));
    int64_t matching = r.Int(0, 0), rows = r.Int(1, 0);
    if (matching == 0) continue;
    result.removed.push_back(f.file.file_path);
    result.rows += matching;
    if (drop_all && matching == rows) continue;
    auto written = WriteRows(*db, rewrite(source), /*one_statement=*/true, columns, part_sql, spec,
                             out_dir);
    if (!written.ok()) return Bad("rewriting " + f.file.file_path + ": " + written.status().message());
    for (auto& w : *written) result.added.push_back(std::move(w));
  }
  return result;
}

Result<RewriteResult> DeleteRowsOn(Connection* db, const LocalScan& files,
                                   const std::string& where, const Json& schema,
                                   const table::PartitionSpec& spec, const std::string& out_dir,
                                   const std::string& alias) {
  return CopyOnWrite(db, files, where, schema, spec, out_dir,
                     [&](const std::string& src) {
                       return "(SELECT * FROM " + src + " WHERE (" + where + ") IS NOT TRUE)";
                     },
                     /*drop_all=*/true, alias);
}

Result<RewriteResult> UpdateRowsOn(Connection* db, const LocalScan& files,
                                   const std::vector<std::pair<std::string, std::string>>& set,
                                   const std::string& where, const Json& schema,
                                   const table::PartitionSpec& spec, const std::string& out_dir,
                                   const std::string& alias) {
  if (set.empty()) return Bad("an update needs at least one column to set");
  LM_ASSIGN_OR_RETURN(std::vector<Column> columns, Columns(schema));
  std::string replace;
  for (const auto& item : set) {
    const std::string& name = item.first;
    const std::string& expr = item.second;
    auto c = std::find_if(columns.begin(), columns.end(),
                          [&](const Column& col) { return EqualsIgnoreCase(col.name, name); });
    if (c == columns.end()) return Bad("cannot set '" + name + "': the table has no such column");
    if (expr.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Bad("no value given for column '" + name + "'");
    }
    replace += (replace.empty() ? "" : ", ") + std::string("CASE WHEN (") + where +
               ") THEN CAST((" + expr + ") AS " + c->duck_type + ") ELSE " + Ident(c->name) +
               " END AS " + Ident(c->name);
  }
  return CopyOnWrite(db, files, where, schema, spec, out_dir,
                     [&](const std::string& src) {
                       return "(SELECT * REPLACE (" + replace + ") FROM " + src + ")";
                     },
                     /*drop_all=*/false, alias);
}

}  // namespace

Result<RewriteResult> DeleteRows(const LocalScan& files, const std::string& where,
                                 const Json& schema, const table::PartitionSpec& spec,
                                 const std::string& out_dir) {
  return DeleteRowsOn(nullptr, files, where, schema, spec, out_dir, "");
}

Result<RewriteResult> DeleteRowsWith(Connection& db, const LocalScan& files,
                                     const std::string& where, const Json& schema,
                                     const table::PartitionSpec& spec, const std::string& out_dir,
                                     const std::string& alias) {
  return DeleteRowsOn(&db, files, where, schema, spec, out_dir, alias);
}

Result<RewriteResult> UpdateRows(const LocalScan& files,
                                 const std::vector<std::pair<std::string, std::string>>& set,
                                 const std::string& where, const Json& schema,
                                 const table::PartitionSpec& spec, const std::string& out_dir) {
  return UpdateRowsOn(nullptr, files, set, where, schema, spec, out_dir, "");
}

Result<RewriteResult> UpdateRowsWith(Connection& db, const LocalScan& files,
                                     const std::vector<std::pair<std::string, std::string>>& set,
                                     const std::string& where, const Json& schema,
                                     const table::PartitionSpec& spec, const std::string& out_dir,
                                     const std::string& alias) {
  return UpdateRowsOn(&db, files, set, where, schema, spec, out_dir, alias);
}

Result<std::vector<WrittenFile>> WriteQueryRows(Connection& db, const std::string& select,
                                                const Json& schema,
                                                const table::PartitionSpec& spec,
                                                const std::string& out_dir) {
  LM_ASSIGN_OR_RETURN(std::vector<Column> columns, Columns(schema));
  LM_ASSIGN_OR_RETURN(std::vector<std::string> part_sql, PartitionSql(spec, columns));
  return WriteRows(db, "(" + select + ")", /*one_statement=*/true, columns, part_sql, spec,
                   out_dir);
}

Result<std::vector<std::pair<std::string, std::string>>> DuckColumns(const Json& schema) {
  LM_ASSIGN_OR_RETURN(std::vector<Column> columns, Columns(schema));
  std::vector<std::pair<std::string, std::string>> out;
  for (const Column& c : columns) out.emplace_back(c.name, c.duck_type);
  return out;
}

Result<Rows> ReadRows(const LocalScan& scan, const Json& schema, const std::string& where,
                      int64_t limit, const std::string& dir) {
  LM_ASSIGN_OR_RETURN(std::vector<Column> columns, Columns(schema));
  Rows out;
  for (const Column& c : columns) out.columns.push_back(c.name);
  if (scan.data.empty() || limit <= 0) return out;
  LM_ASSIGN_OR_RETURN(auto db, Connection::OpenInMemory(2));
  LM_TRY(db->Run("SET allowed_directories = [" + Literal(dir + "/") + "]"));
  LM_TRY(db->Run("SET enable_external_access = false"));
  LM_TRY(db->Run("SET lock_configuration = true"));
  // Values as JSON renders them exactly: decimals as their text ("14.20", not 14.2), binary as
  // hex; the rest as DuckDB's to_json writes them.
  std::string select_cols;
  for (const Column& c : columns) {
    std::string v = "d." + Ident(c.name);
    if (c.primitive && c.type.id == TypeId::kDecimal) v = "CAST(" + v + " AS VARCHAR)";
    if (c.primitive && (c.type.id == TypeId::kBinary || c.type.id == TypeId::kFixed)) {
      v = "hex(" + v + ")";
    }
    select_cols += (select_cols.empty() ? "" : ", ") + v + " AS " + Ident(c.name);
  }
  std::string parts;
  for (size_t i = 0; i < scan.data.size(); ++i) {
    LM_ASSIGN_OR_RETURN(std::string live, LiveRows(scan, i, columns));
    std::string q = "SELECT " + select_cols + " FROM " + live + " d";
    if (!where.empty()) q += " WHERE (" + where + ")";
    parts += (parts.empty() ? "" : " UNION ALL ") + std::string("(") + q + ")";
  }
  QueryResult r;
  LM_TRY(Wrap(db->QueryOne("SELECT to_json(t) FROM (" + parts + ") t LIMIT " +
                               std::to_string(limit + 1),
                           &r),
              "reading the table"));
  for (size_t i = 0; i < r.rows(); ++i) {
    if (static_cast<int64_t>(i) == limit) {
      out.truncated = true;
      break;
    }
    Json row = Json::parse(r.Text(0, i).value_or("{}"), nullptr, false);
    Json values = Json::array();
    for (const Column& c : columns) values.push_back(row.is_object() ? row.value(c.name, Json()) : Json());
    out.rows.push_back(std::move(values));
  }
  return out;
}

}  // namespace lakemesh::sql
