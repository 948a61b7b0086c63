// The engine's internals, shared by its query path (engine.cc) and its write path (writes.cc):
// DuckDB handles, views, portals and the helpers that turn DuckDB's errors and types into
// PostgreSQL's. Private to src/sql.
#pragma once

#include <duckdb.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <fnmatch.h>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/random.h"
#include "base/time.h"
#include "catalog/catalog.h"
#include "storage/blob_store.h"
#include "versioning/buckets.h"
#include "versioning/repository.h"
#include "sql/connection.h"
#include "sql/data_files.h"
#include "sql/eager_aggregation.h"
#include "sql/engine.h"
#include "sql/pg_catalog.h"
#include "sql/statements.h"
#include "table/value.h"

namespace lakemesh::sql {
namespace internal {

using Json = nlohmann::json;

inline SqlError Err(std::string sqlstate, std::string message) {
  return SqlError{std::move(sqlstate), std::move(message)};
}

inline bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool Contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// PostgreSQL's SQLSTATE for a DuckDB error message ("Catalog Error: Table with name x does not
// exist!"), and the message without DuckDB's "<Kind> Error: " prefix.
inline SqlError FromDuckDb(std::string message) {
  std::string kind;
  if (size_t colon = message.find(" Error: "); colon != std::string::npos && colon < 40) {
    kind = message.substr(0, colon);
    message = message.substr(colon + 8);
  }
  std::string state = "XX000";
  if (kind == "Parser" || kind == "Syntax") {
    state = "42601";
  } else if (kind == "Catalog") {
    if (Contains(message, "Table with name") || Contains(message, "View with name")) {
      state = "42P01";
    } else if (Contains(message, "Schema with name")) {
      state = "3F000";
    } else if (Contains(message, "Function with name")) {
      state = "42883";
    } else {
      state = "42704";
    }
  } else if (kind == "Binder") {
    if (Contains(message, "Referenced column") || Contains(message, "not found in FROM clause")) {
      state = "42703";
    } else if (Contains(message, "Referenced table")) {
      state = "42P01";
    } else if (Contains(message, "No function matches")) {
      state = "42883";
    } else {
      state = "42P18";
    }
  } else if (kind == "Conversion" || kind == "Invalid Input" ||
             Contains(message, "malformed array literal")) {  // (pg_array_as_list's)
    state = "22P02";
  } else if (kind == "Out of Range") {
    state = "22003";
  } else if (kind == "Divide by zero" || Contains(message, "Division by zero")) {
    state = "22012";
  } else if (kind == "INTERRUPT" || kind == "Interrupt" || Contains(message, "Interrupted")) {
    state = "57014";
    message = "canceling statement due to user request";
  } else if (kind == "Out of Memory") {
    state = "53200";
  } else if (kind == "Permission") {
    state = "42501";
  } else if (kind == "Not implemented") {
    state = "0A000";
  } else if (kind == "Constraint") {
    state = "23000";
  } else if (kind == "Parameter Not Resolved" || kind == "Parameter Not Allowed") {
    state = "42P02";
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return Err(state, message);
}

inline SqlError FromStatus(const Status& st) {
  switch (st.code()) {
    case ErrorCode::kNotFound: return Err("42P01", st.message());
    case ErrorCode::kInvalidArgument: return Err("22023", st.message());
    case ErrorCode::kPermissionDenied: return Err("42501", st.message());
    case ErrorCode::kConflict: return Err("40001", st.message());
    case ErrorCode::kUnavailable: return Err("57P03", st.message());
    default: return Err("XX000", st.message());
  }
}

inline ColumnType TypeOf(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return ColumnType::kBool;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_UTINYINT: return ColumnType::kInt16;
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_USMALLINT: return ColumnType::kInt32;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UINTEGER: return ColumnType::kInt64;
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_DECIMAL: return ColumnType::kNumeric;
    case DUCKDB_TYPE_FLOAT: return ColumnType::kFloat32;
    case DUCKDB_TYPE_DOUBLE: return ColumnType::kFloat64;
    case DUCKDB_TYPE_VARCHAR: return ColumnType::kText;
    case DUCKDB_TYPE_BLOB: return ColumnType::kBytes;
    case DUCKDB_TYPE_DATE: return ColumnType::kDate;
    case DUCKDB_TYPE_TIME: return ColumnType::kTime;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: return ColumnType::kTimestamp;
    case DUCKDB_TYPE_TIMESTAMP_TZ: return ColumnType::kTimestamptz;
    case DUCKDB_TYPE_INTERVAL: return ColumnType::kInterval;
    case DUCKDB_TYPE_UUID: return ColumnType::kUuid;
    case DUCKDB_TYPE_ENUM: return ColumnType::kText;
    default: return ColumnType::kOther;
  }
}

// A result column of DuckDB type `lt`, with its exact type (precision, scale, nested types).
inline ResultColumn ColumnOf(std::string name, duckdb_logical_type lt) {
  ResultColumn c;
  c.name = std::move(name);
  const duckdb_type id = duckdb_get_type_id(lt);
  c.type = TypeOf(id);
  auto child = [](std::string n, duckdb_logical_type t) {
    ResultColumn r = ColumnOf(std::move(n), t);
    duckdb_destroy_logical_type(&t);
    return r;
  };
  switch (id) {
    case DUCKDB_TYPE_DECIMAL:
      c.precision = duckdb_decimal_width(lt);
      c.scale = duckdb_decimal_scale(lt);
      break;
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: c.precision = 38; break;
    case DUCKDB_TYPE_UBIGINT: c.precision = 20; break;
    case DUCKDB_TYPE_TIMESTAMP_MS: c.precision = 3; break;
    case DUCKDB_TYPE_TIMESTAMP_NS: c.precision = 9; break;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_TIME: c.precision = 6; break;
    case DUCKDB_TYPE_VARCHAR: {
      char* alias = duckdb_logical_type_get_alias(lt);
      if (alias && std::string_view(alias) == "JSON") c.type = ColumnType::kJson;
      if (alias) duckdb_free(alias);
      break;
    }
    case DUCKDB_TYPE_LIST:
      c.nested = ResultColumn::Nested::kList;
      c.children.push_back(child("element", duckdb_list_type_child_type(lt)));
      break;
    case DUCKDB_TYPE_ARRAY:
      c.nested = ResultColumn::Nested::kList;
      c.children.push_back(child("element", duckdb_array_type_child_type(lt)));
      break;
    case DUCKDB_TYPE_MAP:
      c.nested = ResultColumn::Nested::kMap;
      c.children.push_back(child("key", duckdb_map_type_key_type(lt)));
      c.children.push_back(child("value", duckdb_map_type_value_type(lt)));
      break;
    case DUCKDB_TYPE_STRUCT: {
      c.nested = ResultColumn::Nested::kStruct;
      const idx_t n = duckdb_struct_type_child_count(lt);
      for (idx_t i = 0; i < n; ++i) {
        char* field = duckdb_struct_type_child_name(lt, i);
        c.children.push_back(child(field ? field : "", duckdb_struct_type_child_type(lt, i)));
        if (field) duckdb_free(field);
      }
      break;
    }
    default: break;
  }
  return c;
}

// A value of column `col` as PostgreSQL's text output writes it, in SQL over column `c`; lists,
// maps and structs as JSON when `nested_json`. A list of values of a primitive type is a
// PostgreSQL array, `{1,NULL,3}`, `{"a b","say \"hi\"",plain}`: elements that are empty, NULL as
// text, or hold braces, commas, quotes, backslashes or white space are quoted (array_out's rule).
inline std::string AsPgText(const std::string& c, const ResultColumn& col, bool nested_json) {
  if (!nested_json && col.nested == ResultColumn::Nested::kList && col.children.size() == 1 &&
      col.children[0].nested == ResultColumn::Nested::kNone) {
    const ResultColumn& e = col.children[0];
    const bool bare = e.type == ColumnType::kBool || e.type == ColumnType::kInt16 ||
                      e.type == ColumnType::kInt32 || e.type == ColumnType::kInt64 ||
                      e.type == ColumnType::kFloat32 || e.type == ColumnType::kFloat64 ||
                      e.type == ColumnType::kNumeric;
    const std::string quoted =
        bare ? "" : "WHEN __lm_v = '' OR upper(__lm_v) = 'NULL' OR "
                    "regexp_matches(__lm_v, '[{},\"\\\\\\s]') THEN '\"' || "
                    "replace(replace(__lm_v, '\\', '\\\\'), '\"', '\\\"') || '\"' ";
    return "CASE WHEN " + c + " IS NULL THEN NULL ELSE '{' || coalesce(array_to_string("
           "list_transform(list_transform(" + c + ", lambda __lm_x: " +
           AsPgText("__lm_x", e, false) + "), lambda __lm_v: CASE WHEN __lm_v IS NULL THEN "
           "'NULL' " + quoted + "ELSE __lm_v END), ','), '') || '}' END";
  }
  switch (col.type) {
    case ColumnType::kBool: return "CASE WHEN " + c + " THEN 't' WHEN NOT " + c + " THEN 'f' END";
    case ColumnType::kBytes: return "'\\x' || lower(hex(" + c + "))";
    default:
      if (nested_json && col.nested != ResultColumn::Nested::kNone) {
        return "CAST(to_json(" + c + ") AS VARCHAR)";
      }
      return "CAST(" + c + " AS VARCHAR)";
  }
}

inline std::string DuckTypeId(ColumnType t);

// The DuckDB type a declared parameter is cast to: its type, or a list of it ("INTEGER[]");
// "" leaves it to DuckDB.
inline std::string DuckTypeOf(const Session::DeclaredType& d) {
  std::string t = DuckTypeId(d.type);
  return t.empty() || !d.array ? t : t + "[]";
}

// The DuckDB type id a declared parameter type is cast to ("" = leave it to DuckDB).
inline std::string DuckTypeId(ColumnType t) {
  switch (t) {
    case ColumnType::kBool: return "BOOLEAN";
    case ColumnType::kInt16: return "SMALLINT";
    case ColumnType::kInt32: return "INTEGER";
    case ColumnType::kInt64: return "BIGINT";
    case ColumnType::kFloat32: return "FLOAT";
    case ColumnType::kFloat64: return "DOUBLE";
    case ColumnType::kText:
    case ColumnType::kJson: return "VARCHAR";
    case ColumnType::kBytes: return "BLOB";
    case ColumnType::kDate: return "DATE";
    case ColumnType::kTime: return "TIME";
    case ColumnType::kTimestamp: return "TIMESTAMP";
    case ColumnType::kTimestamptz: return "TIMESTAMP WITH TIME ZONE";
    case ColumnType::kInterval: return "INTERVAL";
    case ColumnType::kUuid: return "UUID";
    default: return "";
  }
}

inline std::string_view Text(duckdb_string_t* s) {
  return std::string_view(duckdb_string_t_data(s), duckdb_string_t_length(*s));
}

// How a result column's values become PostgreSQL text. kText columns come from DuckDB as text
// (VARCHAR, or wrapped in AsPgText); the others are written here from DuckDB's own vectors,
// exactly as DuckDB's cast to VARCHAR writes them, which spares a query whose columns are all
// of these types the second prepare that wrapping takes.
enum class Render : uint8_t {
  kText, kBool, kInt8, kInt16, kInt32, kInt64, kUInt8, kUInt16, kUInt32, kUInt64,
  kDecimal16, kDecimal32, kDecimal64, kDate
};

// The Render of DuckDB type `lt` written here (nullopt: it needs AsPgText); a decimal's scale
// and whether it has digits before the point go to `scale`, `whole`.
inline std::optional<Render> NativeRender(duckdb_logical_type lt, uint8_t* scale, bool* whole) {
  switch (duckdb_get_type_id(lt)) {
    case DUCKDB_TYPE_VARCHAR: return Render::kText;
    case DUCKDB_TYPE_BOOLEAN: return Render::kBool;
    case DUCKDB_TYPE_TINYINT: return Render::kInt8;
    case DUCKDB_TYPE_SMALLINT: return Render::kInt16;
    case DUCKDB_TYPE_INTEGER: return Render::kInt32;
    case DUCKDB_TYPE_BIGINT: return Render::kInt64;
    case DUCKDB_TYPE_UTINYINT: return Render::kUInt8;
    case DUCKDB_TYPE_USMALLINT: return Render::kUInt16;
    case DUCKDB_TYPE_UINTEGER: return Render::kUInt32;
    case DUCKDB_TYPE_UBIGINT: return Render::kUInt64;
    case DUCKDB_TYPE_DATE: return Render::kDate;
    case DUCKDB_TYPE_DECIMAL: {
      *scale = duckdb_decimal_scale(lt);
      *whole = duckdb_decimal_width(lt) > *scale;
      switch (duckdb_decimal_internal_type(lt)) {
        case DUCKDB_TYPE_SMALLINT: return Render::kDecimal16;
        case DUCKDB_TYPE_INTEGER: return Render::kDecimal32;
        case DUCKDB_TYPE_BIGINT: return Render::kDecimal64;
        default: return std::nullopt;  // HUGEINT
      }
    }
    default: return std::nullopt;
  }
}

// Value `row` of a vector's `data` in Render `k` as text, in `buf` (32 bytes are enough).
inline std::string_view RenderValue(Render k, uint8_t scale, bool whole, const void* data,
                                    idx_t row, char* buf) {
  auto digits = [&](auto v) {
    auto r = std::to_chars(buf, buf + 32, v);
    return std::string_view(buf, r.ptr - buf);
  };
  auto decimal = [&](int64_t v) {
    if (scale == 0) return digits(v);
    // DuckDB writes every digit of the scale, and "0." before them only when the type has
    // digits before the point (DECIMAL(4,2) 0.5 is "0.50", DECIMAL(2,2) 0.5 is ".50").
    char* p = buf;
    uint64_t a = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    if (v < 0) *p++ = '-';
    uint64_t pow = 1;
    for (uint8_t i = 0; i < scale; ++i) pow *= 10;
    uint64_t int_part = a / pow, frac = a % pow;
    if (int_part > 0 || whole) p = std::to_chars(p, buf + 32, int_part).ptr;
    *p++ = '.';
    for (int i = scale - 1; i >= 0; --i, frac /= 10) p[i] = static_cast<char>('0' + frac % 10);
    p += scale;
    return std::string_view(buf, p - buf);
  };
  switch (k) {
    case Render::kText: return Text(&static_cast<duckdb_string_t*>(const_cast<void*>(data))[row]);
    case Render::kBool: return static_cast<const bool*>(data)[row] ? "t" : "f";
    case Render::kInt8: return digits(static_cast<int>(static_cast<const int8_t*>(data)[row]));
    case Render::kInt16: return digits(static_cast<const int16_t*>(data)[row]);
    case Render::kInt32: return digits(static_cast<const int32_t*>(data)[row]);
    case Render::kInt64: return digits(static_cast<const int64_t*>(data)[row]);
    case Render::kUInt8: return digits(static_cast<unsigned>(static_cast<const uint8_t*>(data)[row]));
    case Render::kUInt16: return digits(static_cast<const uint16_t*>(data)[row]);
    case Render::kUInt32: return digits(static_cast<const uint32_t*>(data)[row]);
    case Render::kUInt64: return digits(static_cast<const uint64_t*>(data)[row]);
    case Render::kDecimal16: return decimal(static_cast<const int16_t*>(data)[row]);
    case Render::kDecimal32: return decimal(static_cast<const int32_t*>(data)[row]);
    case Render::kDecimal64: return decimal(static_cast<const int64_t*>(data)[row]);
    case Render::kDate: {
      duckdb_date d = static_cast<const duckdb_date*>(data)[row];
      if (!duckdb_is_finite_date(d)) return d.days > 0 ? "infinity" : "-infinity";
      duckdb_date_struct c = duckdb_from_date(d);
      // YYYY-MM-DD, the year of at least 4 digits; years before 1 as "(BC)" years
      const bool bc = c.year <= 0;
      const int32_t year = bc ? 1 - c.year : c.year;
      char* p = buf;
      for (int32_t w = 1000; w > year && w > 1; w /= 10) *p++ = '0';
      p = std::to_chars(p, buf + 32, year).ptr;
      *p++ = '-';
      *p++ = static_cast<char>('0' + c.month / 10);
      *p++ = static_cast<char>('0' + c.month % 10);
      *p++ = '-';
      *p++ = static_cast<char>('0' + c.day / 10);
      *p++ = static_cast<char>('0' + c.day % 10);
      if (bc) {
        std::memcpy(p, " (BC)", 5);
        p += 5;
      }
      return std::string_view(buf, p - buf);
    }
  }
  return {};
}

// Table functions a query may call: they compute, they read nothing.
inline const std::set<std::string>& AllowedTableFunctions() {
  static const std::set<std::string> k = {"range", "generate_series", "unnest", "repeat",
                                          "json_each", "json_tree"};
  return k;
}

// Schemas that are DuckDB's own, not domains.
inline bool SystemSchema(const std::string& s) {
  return s == "information_schema" || s == "pg_catalog" || s == "main" || s == "temp" ||
         s == "system" || s == kPgCompatSchema;
}

// "orders@dev" -> {"orders", "dev"}; "orders" -> {"orders", ""}.
inline std::pair<std::string, std::string> SplitRef(const std::string& name) {
  size_t at = name.find('@');
  if (at == std::string::npos) return {name, ""};
  return {name.substr(0, at), name.substr(at + 1)};
}

// A string member of a parsed-query node ("" when absent or not a string).
inline std::string Str(const Json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline std::string ViewName(const std::string& table, const std::string& ref) {
  return ref == "main" ? table : table + "@" + ref;
}

// Whether a parsed query is a SELECT of constants with no FROM (SELECT 1, SELECT 'x' AS a):
// its result never changes, so it can be computed once. Only literals, casts and operators
// qualify (no function could be volatile).
inline bool IsConstantSelect(const Json& tree) {
  const Json* node = nullptr;
  if (tree.contains("statements") && tree["statements"].is_array() &&
      tree["statements"].size() == 1 && tree["statements"][0].is_object()) {
    node = &tree["statements"][0]["node"];
  }
  if (!node || !node->is_object() || Str(*node, "type") != "SELECT_NODE") return false;
  auto empty = [&](const char* k) {
    return !node->contains(k) || (*node)[k].is_null() ||
           ((*node)[k].is_array() && (*node)[k].empty());
  };
  if (!node->contains("from_table") || Str((*node)["from_table"], "type") != "EMPTY") return false;
  for (const char* k : {"where_clause", "group_expressions", "having", "qualify", "sample",
                        "modifiers"}) {
    if (!empty(k)) return false;
  }
  if (node->contains("cte_map") && (*node)["cte_map"].contains("map") &&
      !(*node)["cte_map"]["map"].empty()) {
    return false;
  }
  std::function<bool(const Json&)> pure = [&](const Json& e) -> bool {
    if (!e.is_object()) return false;
    const std::string cls = Str(e, "class");
    if (cls == "CONSTANT") return true;
    if (cls == "CAST") return e.contains("child") && pure(e["child"]);
    bool op = cls == "COMPARISON" || cls == "CONJUNCTION" || cls == "OPERATOR" ||
              (cls == "FUNCTION" && e.value("is_operator", false));
    if (!op) return false;
    for (const char* k : {"left", "right"}) {
      if (e.contains(k) && !pure(e[k])) return false;
    }
    if (e.contains("children")) {
      for (const Json& c : e["children"]) {
        if (!pure(c)) return false;
      }
    }
    return true;
  };
  if (!node->contains("select_list") || !(*node)["select_list"].is_array()) return false;
  for (const Json& e : (*node)["select_list"]) {
    if (!pure(e)) return false;
  }
  return true;
}

// Gives the unnamed top-level columns of a SELECT the names PostgreSQL gives them: a function
// call its function's name (`count(*)` is "count", not DuckDB's "count_star()"), anything else
// but a column "?column?". Returns whether it named any.
inline bool PostgresColumnNames(Json& tree) {
  if (!tree.contains("statements") || !tree["statements"].is_array() ||
      tree["statements"].empty()) {
    return false;
  }
  Json& node = tree["statements"][0]["node"];
  if (!node.is_object() || Str(node, "type") != "SELECT_NODE" || !node.contains("select_list")) {
    return false;
  }
  bool named = false;
  for (Json& e : node["select_list"]) {
    if (!e.is_object() || !Str(e, "alias").empty()) continue;
    const std::string cls = Str(e, "class");
    if (cls == "COLUMN_REF" || cls == "STAR" || cls == "COLUMNS") continue;
    std::string name = "?column?";
    if ((cls == "FUNCTION" && !e.value("is_operator", false)) || cls == "WINDOW" ||
        cls == "AGGREGATE") {
      name = Str(e, "function_name");
      if (name == "count_star") name = "count";
      if (name.empty()) name = "?column?";
    } else if (cls == "CAST" && e.contains("child") && Str(e["child"], "class") == "COLUMN_REF" &&
               e["child"].contains("column_names") && !e["child"]["column_names"].empty()) {
      name = e["child"]["column_names"].back().get<std::string>();  // x::int is "x"
    }
    e["alias"] = name;
    named = true;
  }
  return named;
}

}  // namespace internal

using namespace internal;

// --- Engine ------------------------------------------------------------------------------------

struct Engine::Impl {
  catalog::Catalog& catalog;
  EngineOptions options;
  duckdb_database db = nullptr;
  duckdb_connection admin = nullptr;  // defines the views; guarded by mu
  std::mutex mu;
  // "domain\0view" -> the metadata location the view reads
  std::map<std::string, std::string> views;
  // "domain\0view" -> the relation (read_parquet of the version's files) the view reads
  std::map<std::string, std::string> view_relations;
  // "domain\0view" -> what the version's manifests say of its rows and columns (eager
  // aggregation decides with it)
  std::map<std::string, std::shared_ptr<const TableStats>> view_stats;
  FunctionKinds function_kinds;             // set once at open
  std::set<std::string> duckdb_settings;    // DuckDB's setting names, lower case (set at open)
  std::atomic<uint64_t> eager_rewrites{0};  // queries prepared with aggregation below joins
  std::set<std::string> schemas;
  std::string cache_dir;  // table files of a non-local blob store, copied once
  ObjectSources sources;

  Impl(catalog::Catalog& c, EngineOptions o) : catalog(c), options(std::move(o)) {}
  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(wd_mu);
      wd_stop = true;
    }
    wd_cv.notify_all();
    if (watchdog.joinable()) watchdog.join();
    {
      std::lock_guard<std::mutex> lock(mu);
      cache_stop = true;
      if (cache_conn) duckdb_interrupt(cache_conn);  // a copy in progress stops
    }
    cache_cv.notify_all();
    if (cache_builder.joinable()) cache_builder.join();
    if (admin) duckdb_disconnect(&admin);
    if (db) duckdb_close(&db);
  }

  // --- statement timeouts: a watchdog interrupts statements past their deadline -------------
  struct Deadline {
    duckdb_connection conn;
    std::chrono::steady_clock::time_point at;
    std::atomic<bool>* fired;
  };
  std::mutex wd_mu;
  std::condition_variable wd_cv;
  std::map<uint64_t, Deadline> deadlines;  // GUARDED_BY(wd_mu)
  uint64_t next_deadline = 1;               // GUARDED_BY(wd_mu)
  bool wd_stop = false;                     // GUARDED_BY(wd_mu)
  std::thread watchdog;

  uint64_t Arm(duckdb_connection conn, int64_t timeout_ms, std::atomic<bool>* fired) {
    std::lock_guard<std::mutex> lock(wd_mu);
    if (!watchdog.joinable()) watchdog = std::thread([this] { Watch(); });
    uint64_t id = next_deadline++;
    deadlines[id] = {conn, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms),
                     fired};
    wd_cv.notify_all();
    return id;
  }
  void Disarm(uint64_t id) {
    std::lock_guard<std::mutex> lock(wd_mu);
    deadlines.erase(id);
  }
  void Watch() {
    std::unique_lock<std::mutex> lock(wd_mu);
    while (!wd_stop) {
      auto next = std::chrono::steady_clock::time_point::max();
      auto now = std::chrono::steady_clock::now();
      for (auto it = deadlines.begin(); it != deadlines.end();) {
        if (it->second.at <= now) {
          it->second.fired->store(true);
          duckdb_interrupt(it->second.conn);
          it = deadlines.erase(it);
        } else {
          next = std::min(next, it->second.at);
          ++it;
        }
      }
      if (next == std::chrono::steady_clock::time_point::max()) {
        wd_cv.wait(lock);
      } else {
        wd_cv.wait_until(lock, next);
      }
    }
  }

  Status Run(duckdb_connection conn, const std::string& sql) {
    duckdb_result r;
    duckdb_state st = duckdb_query(conn, sql.c_str(), &r);
    std::string err = st == DuckDBSuccess ? "" : (duckdb_result_error(&r) ? duckdb_result_error(&r) : "failed");
    duckdb_destroy_result(&r);
    if (st != DuckDBSuccess) return InvalidArgument(err);
    return Status::OK();
  }

  // A local path DuckDB may read for the table file at `location`.
  Result<std::string> LocalFile(const std::string& location) {
    LM_ASSIGN_OR_RETURN(std::optional<std::string> local, catalog.LocalTableFile(location));
    if (local) return *local;
    std::string path = cache_dir + "/" + ToHex(Sha256(location)) + ".parquet";
    if (std::filesystem::exists(path)) return path;
    std::string tmp = path + "." + RandomHex(6);
    LM_TRY(catalog.CopyTableFileTo(location, tmp));
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return IoError("caching " + location + ": " + ec.message());
    return path;
  }

  // The local files holding the objects `uri` names: s3://repo/ref/path or s3://bucket/key,
  // where the path may hold glob characters (* ? [...]; ** crosses '/'). kNotFound when nothing
  // matches.
  Result<std::vector<std::string>> ResolveObjects(const std::string& uri) {
    if (!sources.repos || !sources.buckets || !sources.blobs) {
      return PermissionDenied("reading objects is not available here");
    }
    if (uri.rfind("s3://", 0) != 0) {
      return PermissionDenied("files are read from s3:// URIs only (s3://bucket/key or "
                              "s3://repo/ref/path), not '" + uri + "'");
    }
    std::string rest = uri.substr(5);
    size_t slash = rest.find('/');
    if (slash == std::string::npos || slash == 0) return InvalidArgument("no key in '" + uri + "'");
    const std::string name = rest.substr(0, slash);
    std::string path = rest.substr(slash + 1);
    const bool repo = sources.repos->GetRepo(name).ok();
    std::string ref;
    if (repo) {
      size_t s2 = path.find('/');
      if (s2 == std::string::npos) {
        return InvalidArgument("'" + uri + "' names repository '" + name +
                               "': s3://repo/ref/path");
      }
      ref = path.substr(0, s2);
      path = path.substr(s2 + 1);
    }
    const size_t glob = path.find_first_of("*?[");
    std::vector<versioning::ObjectInfo> objects;
    if (glob == std::string::npos) {
      Result<versioning::ObjectInfo> o = repo ? sources.repos->StatObject(name, ref, path)
                                              : sources.buckets->StatObject(name, path);
      if (!o.ok()) {
        if (o.status().IsNotFound()) return NotFound("could not open \"" + uri + "\": no such object");
        return o.status();
      }
      objects.push_back(std::move(*o));
    } else {
      versioning::ListOptions lo;
      lo.prefix = path.substr(0, glob);
      const bool deep = path.find("**") != std::string::npos;
      while (true) {
        Result<versioning::Listing> page = repo ? sources.repos->ListObjects(name, ref, lo)
                                                : sources.buckets->ListObjects(name, lo);
        if (!page.ok()) return page.status();
        for (auto& o : page->objects) {
          if (::fnmatch(path.c_str(), o.path.c_str(), deep ? 0 : FNM_PATHNAME) == 0) {
            objects.push_back(std::move(o));
          }
        }
        if (objects.size() > 100000) return ResourceExhausted("'" + uri + "' matches too many objects");
        if (!page->truncated) break;
        lo.after = page->next_after;
      }
      if (objects.empty()) return NotFound("could not open \"" + uri + "\": nothing matches");
    }
    std::vector<std::string> out;
    for (const auto& o : objects) {
      if (!o.entry.address.empty()) {
        if (auto local = sources.blobs->LocalPath(o.entry.address)) {
          out.push_back(*local);
          continue;
        }
      }
      // A small bucket object kept in the metadata (or a blob not on local disk): its bytes,
      // copied once into a file named after the object's version.
      std::string file = cache_dir + "/object-" +
                         ToHex(Sha256(name + "/" + o.path + "\n" + o.entry.etag + "\n" +
                                      std::to_string(o.entry.mtime_micros)));
      if (!std::filesystem::exists(file)) {
        Result<std::unique_ptr<storage::BlobReader>> reader =
            repo ? sources.repos->OpenObject(o.entry) : Result<std::unique_ptr<storage::BlobReader>>(
                                                            NotFound(""));
        if (!repo) {
          LM_ASSIGN_OR_RETURN(versioning::ObjectInfo full, sources.buckets->StatObject(name, o.path));
          reader = sources.buckets->OpenObject(full);
        }
        if (!reader.ok()) return reader.status();
        std::string bytes, buf(1 << 16, '\0');
        while (true) {
          LM_ASSIGN_OR_RETURN(size_t n, (*reader)->Read(buf.data(), buf.size()));
          if (n == 0) break;
          bytes.append(buf.data(), n);
          if (bytes.size() > (64u << 20)) {
            return ResourceExhausted("object '" + o.path + "' is too large to copy for reading");
          }
        }
        LM_TRY(WriteFileAtomic(file, bytes, 0600));
      }
      out.push_back(file);
    }
    return out;
  }

  // --- the table cache -----------------------------------------------------------------------
  // A table version that queries read a second time is copied, in the background, into an
  // in-memory DuckDB table (schema kCacheSchema), and the views of that version are pointed at
  // it: DuckDB scans its own columnar tables about 1.6x faster than it decodes Parquet. The key
  // is the version's relation (the read_parquet of its files, deletes applied), which never
  // changes what it reads, so an entry is never stale; a new version is a new entry. Entries
  // are evicted least recently used first to stay within options.table_cache_bytes, and after
  // kCacheIdle without a read. Prepared statements need no care: DuckDB binds them again when
  // a view they read is redefined.
  static constexpr const char* kCacheSchema = "__lm_cache";
  static constexpr int64_t kCacheIdle = 15LL * 60 * 1000000;  // microseconds
  static constexpr size_t kCacheMaxEntries = 4096;
  struct CacheEntry {
    std::string table;  // kCacheSchema.tN, once built
    uint64_t bytes = 0;  // estimated; measured once built
    int uses = 0;
    bool building = false, ready = false, failed = false;
    int64_t last_used = 0;
  };
  std::map<std::string, CacheEntry> cache;  // GUARDED_BY(mu): relation -> entry
  uint64_t cache_bytes = 0;                 // GUARDED_BY(mu): of built entries
  uint64_t cache_budget = 0;                // 0: off (set once at open)
  uint64_t cache_next_id = 0;               // GUARDED_BY(mu)
  uint64_t cache_copies = 0;                // GUARDED_BY(mu): copies made
  std::deque<std::string> cache_queue;      // GUARDED_BY(mu): relations to build
  bool cache_stop = false;                  // GUARDED_BY(mu)
  std::condition_variable cache_cv;
  std::thread cache_builder;
  duckdb_connection cache_conn = nullptr;   // GUARDED_BY(mu): the builder's

  // A query is about to read `relation` (REQUIRES mu): the second read queues its copy.
  void NoteRead(const std::string& relation) {
    if (cache_budget == 0) return;
    auto it = cache.find(relation);
    if (it == cache.end()) return;
    CacheEntry& e = it->second;
    e.last_used = MonotonicMicros();
    if (e.ready || e.building || e.failed || ++e.uses < 2) return;
    if (e.bytes > cache_budget / 2) return;  // one table may not take the whole cache
    e.building = true;
    cache_queue.push_back(relation);
    if (!cache_builder.joinable()) cache_builder = std::thread([this] { CacheLoop(); });
    cache_cv.notify_all();
  }

  // Points every view that reads `relation` at `source` (REQUIRES mu).
  void RedirectViews(const std::string& relation, const std::string& source) {
    for (const auto& [key, rel] : view_relations) {
      if (rel != relation) continue;
      size_t zero = key.find('\0');
      (void)Run(admin, "CREATE OR REPLACE VIEW " + Ident(key.substr(0, zero)) + "." +
                           Ident(key.substr(zero + 1)) + " AS SELECT * FROM " + source);
    }
  }

  // Drops an entry's copy, if built: its views read the files again (REQUIRES mu). The entry
  // stays, reset, while a view reads its relation, so that reads can bring the copy back.
  void DropCached(std::map<std::string, CacheEntry>::iterator it) {
    CacheEntry& e = it->second;
    if (e.ready) {
      RedirectViews(it->first, it->first);
      (void)Run(admin, "DROP TABLE IF EXISTS " + e.table);
      cache_bytes -= std::min(cache_bytes, e.bytes);
      e.ready = false;
      e.table.clear();
    }
    e.uses = 0;
    e.failed = false;
    for (const auto& [key, rel] : view_relations) {
      if (rel == it->first) return;
    }
    cache.erase(it);
  }

  // Evicts idle entries, and least recently used ones until `room` more bytes fit
  // (REQUIRES mu).
  void MakeRoom(uint64_t room) {
    const int64_t now = MonotonicMicros();
    for (auto it = cache.begin(); it != cache.end();) {
      auto next = std::next(it);
      if (!it->second.building && now - it->second.last_used > kCacheIdle) DropCached(it);
      it = next;
    }
    while (cache_bytes + room > cache_budget) {
      auto lru = cache.end();
      for (auto it = cache.begin(); it != cache.end(); ++it) {
        if (it->second.ready && (lru == cache.end() || it->second.last_used < lru->second.last_used)) {
          lru = it;
        }
      }
      if (lru == cache.end()) break;
      DropCached(lru);
    }
  }

  // The memory DuckDB's in-memory tables hold.
  static uint64_t InMemoryTableBytes(duckdb_connection conn) {
    duckdb_result r;
    uint64_t n = 0;
    if (duckdb_query(conn, "SELECT coalesce(sum(memory_usage_bytes), 0)::UBIGINT FROM "
                           "duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'", &r) == DuckDBSuccess) {
      n = duckdb_value_uint64(&r, 0, 0);
    }
    duckdb_destroy_result(&r);
    return n;
  }

  // The builder thread: copies queued versions into memory, one at a time, on its own
  // connection (queries go on meanwhile, on the files).
  void CacheLoop() {
    duckdb_connection conn = nullptr;
    if (duckdb_connect(db, &conn) != DuckDBSuccess) return;
    std::unique_lock<std::mutex> lock(mu);
    cache_conn = conn;
    while (!cache_stop) {
      cache_cv.wait_for(lock, std::chrono::seconds(60),
                        [&] { return cache_stop || !cache_queue.empty(); });
      if (cache_stop) break;
      if (cache_queue.empty()) {
        MakeRoom(0);  // idle entries
        continue;
      }
      std::string relation = std::move(cache_queue.front());
      cache_queue.pop_front();
      auto it = cache.find(relation);
      if (it == cache.end()) continue;
      MakeRoom(it->second.bytes);
      if (cache_bytes + it->second.bytes > cache_budget) {
        it->second.building = false;
        it->second.failed = true;  // does not fit beside what is in use
        continue;
      }
      std::string table = std::string(kCacheSchema) + ".t" + std::to_string(++cache_next_id);
      lock.unlock();
      const int64_t t0 = MonotonicMicros();
      uint64_t before = InMemoryTableBytes(conn);
      Status st = Run(conn, "CREATE TABLE " + table + " AS SELECT * FROM " + relation);
      uint64_t after = InMemoryTableBytes(conn);
      lock.lock();
      it = cache.find(relation);
      if (!st.ok() || it == cache.end() || cache_stop) {
        if (!st.ok() && !cache_stop) {  // (a copy stopped by shutdown is no failure)
          log::Warn("table cache: copy failed", {{"error", st.message()}});
        }
        (void)Run(conn, "DROP TABLE IF EXISTS " + table);
        if (it != cache.end()) {
          it->second.building = false;
          it->second.failed = true;
        }
        continue;
      }
      CacheEntry& e = it->second;
      e.table = table;
      if (after > before) e.bytes = after - before;
      e.building = false;
      e.ready = true;
      cache_bytes += e.bytes;
      ++cache_copies;
      RedirectViews(relation, table);
      e.last_used = MonotonicMicros();
      MakeRoom(0);  // the copy took more than estimated: older ones make way
      log::Debug("table cache: version copied into memory",
                 {{"table", table}, {"bytes", e.bytes},
                  {"ms", (MonotonicMicros() - t0) / 1000}, {"cached_bytes", cache_bytes}});
    }
    cache_conn = nullptr;
    lock.unlock();
    duckdb_disconnect(&conn);
  }

  // Makes `domain`.`view` read `table` at `ref` as it is now. kNotFound when there is no such
  // table (its view, if one was defined before, is dropped). `read`: a query is about to read
  // it (the table cache counts those).
  Status EnsureView(const std::string& domain, const std::string& table, const std::string& ref,
                    const std::string& view, const table::ScanOptions& options = {},
                    std::string* location = nullptr, bool read = true) {
    catalog::TableIdent ident{{domain}, table};
    const std::string key = domain + std::string(1, '\0') + view;
    const std::string qualified = Ident(domain) + "." + Ident(view);
    auto raw = catalog.LoadTableRaw(ref, ident);
    std::lock_guard<std::mutex> lock(mu);
    if (!raw.ok()) {
      view_relations.erase(key);
      view_stats.erase(key);
      if (views.erase(key)) (void)Run(admin, "DROP VIEW IF EXISTS " + qualified);
      if (raw.status().IsNotFound()) {
        return NotFound("relation \"" + domain + "." + view + "\" does not exist (" +
                        raw.status().message() + ")");
      }
      return raw.status();
    }
    if (location) *location = raw->metadata_location;
    auto it = views.find(key);
    if (it != views.end() && it->second == raw->metadata_location) {
      if (auto rel = view_relations.find(key); read && rel != view_relations.end()) {
        NoteRead(rel->second);
      }
      return Status::OK();
    }
    LM_ASSIGN_OR_RETURN(table::ScanPlan plan, catalog.PlanScan(ref, ident, options));
    LM_ASSIGN_OR_RETURN(LocalScan scan, LocalScanOf(plan));
    LM_ASSIGN_OR_RETURN(catalog::LoadedTable loaded, catalog.LoadTable(ref, ident));
    LM_ASSIGN_OR_RETURN(std::string relation,
                        ScanRelation(scan, plan.schema,
                                     loaded.metadata.value("schemas", Json::array())));
    if (schemas.insert(domain).second) {
      LM_TRY(Run(admin, "CREATE SCHEMA IF NOT EXISTS " + Ident(domain)));
    }
    std::string source = relation;
    if (cache_budget > 0) {
      auto [c, fresh] = cache.try_emplace(relation);
      if (fresh) {
        // An estimate until it is built: 8 bytes a value, plus the files (strings).
        uint64_t bytes = 0;
        const uint64_t columns = std::max<size_t>(1, plan.schema.value("fields", Json::array()).size());
        for (const auto& f : scan.data) {
          bytes += static_cast<uint64_t>(f.file.record_count) * columns * 8 +
                   static_cast<uint64_t>(f.file.file_size_in_bytes);
        }
        c->second.bytes = bytes;
        c->second.last_used = MonotonicMicros();
        if (cache.size() > kCacheMaxEntries) MakeRoom(0);
      }
      if (c->second.ready) source = c->second.table;
    }
    LM_TRY(Run(admin, "CREATE OR REPLACE VIEW " + qualified + " AS SELECT * FROM " + source));
    views[key] = raw->metadata_location;
    view_relations[key] = relation;
    view_stats[key] = StatsOf(scan, plan.schema);
    if (read) NoteRead(relation);
    return Status::OK();
  }

  // Rows and column ranges of a scan, from its files' manifest entries (deleted rows counted).
  static std::shared_ptr<const TableStats> StatsOf(const LocalScan& scan, const Json& schema) {
    auto stats = std::make_shared<TableStats>();
    for (const auto& f : scan.data) stats->rows += f.file.record_count;
    for (const Json& field : schema.value("fields", Json::array())) {
      if (!field.contains("name") || !field["name"].is_string()) continue;
      ColumnStats c;
      if (field.contains("type") && field["type"].is_string()) c.type = field["type"];
      auto type = table::ParsePrimitiveType(c.type);
      const int32_t id = field.value("id", int32_t{-1});
      if (type.ok() && (type->id == table::TypeId::kInt || type->id == table::TypeId::kLong ||
                        type->id == table::TypeId::kDate)) {
        bool known = !scan.data.empty();
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (const auto& f : scan.data) {
          if (f.file.record_count == 0) continue;
          const std::string* l = table::Lookup(f.file.lower_bounds, id);
          const std::string* u = table::Lookup(f.file.upper_bounds, id);
          auto lv = l ? table::FromBytes(*type, *l) : Result<table::Literal>(NotFound(""));
          auto uv = u ? table::FromBytes(*type, *u) : Result<table::Literal>(NotFound(""));
          if (!lv.ok() || !uv.ok()) {
            known = false;
            break;
          }
          lo = std::min(lo, lv->i);
          hi = std::max(hi, uv->i);
        }
        if (known && lo <= hi) {
          c.min = lo;
          c.max = hi;
        }
      }
      std::string name = field["name"].get<std::string>();
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      stats->columns[name] = std::move(c);
    }
    return stats;
  }

  // The files of a scan plan where DuckDB reads them, each delete file once.
  Result<LocalScan> LocalScanOf(const table::ScanPlan& plan) {
    LocalScan scan;
    std::map<size_t, size_t> delete_index;
    for (const auto& task : plan.tasks) {
      LM_ASSIGN_OR_RETURN(std::string path, LocalFile(task.file.file_path));
      std::vector<size_t> mine;
      for (size_t k : task.deletes) {
        auto [d, fresh] = delete_index.emplace(k, scan.delete_files.size());
        if (fresh) {
          LM_ASSIGN_OR_RETURN(std::string dpath, LocalFile(plan.delete_files[k].file_path));
          scan.delete_files.push_back({dpath, plan.delete_files[k]});
        }
        mine.push_back(d->second);
      }
      scan.data.push_back({path, task.file});
      scan.deletes.push_back(std::move(mine));
    }
    return scan;
  }

  // Drops the views of tables read at `ref` (a transaction's branch, once it is gone).
  void DropViewsAt(const std::string& ref) {
    const std::string suffix = "@" + ref;
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = views.begin(); it != views.end();) {
      size_t zero = it->first.find('\0');
      std::string view = it->first.substr(zero + 1);
      if (view.size() > suffix.size() &&
          view.compare(view.size() - suffix.size(), suffix.size(), suffix) == 0) {
        (void)Run(admin, "DROP VIEW IF EXISTS " + Ident(it->first.substr(0, zero)) + "." +
                             Ident(view));
        view_relations.erase(it->first);
        view_stats.erase(it->first);
        it = views.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Defines the views of every table of every domain at `ref` (for the catalogs:
  // information_schema, pg_catalog, SHOW TABLES), and drops those of tables gone.
  Status SyncAll(const std::string& ref) {
    LM_ASSIGN_OR_RETURN(auto domains, catalog.ListNamespaces(ref, {}));
    std::set<std::string> seen;
    for (const auto& ns : domains) {
      if (ns.size() != 1) continue;
      auto tables = catalog.ListTables(ref, ns);
      if (!tables.ok()) continue;  // a domain without the ref
      for (const std::string& t : *tables) {
        Status st = EnsureView(ns[0], t, ref, ViewName(t, ref), {}, nullptr, /*read=*/false);
        if (!st.ok() && !st.IsNotFound()) return st;
        seen.insert(ns[0] + std::string(1, '\0') + ViewName(t, ref));
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = views.begin(); it != views.end();) {
      size_t zero = it->first.find('\0');
      std::string view = it->first.substr(zero + 1);
      bool at_ref = SplitRef(view).second == (ref == "main" ? "" : ref);
      if (at_ref && !seen.count(it->first)) {
        (void)Run(admin, "DROP VIEW IF EXISTS " + Ident(it->first.substr(0, zero)) + "." +
                             Ident(view));
        view_relations.erase(it->first);
        view_stats.erase(it->first);
        it = views.erase(it);
      } else {
        ++it;
      }
    }
    return Status::OK();
  }
};



// A query prepared in DuckDB, wrapped so that its columns come as PostgreSQL text; shared by the
// session's cache and the portals that run it.
struct PreparedQuery {
  duckdb_prepared_statement stmt = nullptr;
  std::vector<ResultColumn> columns;
  // How each column's values become text (all kText when the query is wrapped in AsPgText).
  struct Rendered {
    Render kind = Render::kText;
    uint8_t scale = 0;
    bool whole = true;
  };
  std::vector<Rendered> render;
  size_t params = 0;
  std::vector<ColumnType> param_types;
  std::vector<size_t> untyped;  // parameters DuckDB could not type
  // A SELECT of constants, computed once: its rows.
  std::optional<std::vector<std::vector<std::optional<std::string>>>> constant_rows;

  PreparedQuery() = default;
  PreparedQuery(const PreparedQuery&) = delete;
  PreparedQuery& operator=(const PreparedQuery&) = delete;
  ~PreparedQuery() {
    if (stmt) duckdb_destroy_prepare(&stmt);
  }
};

// A table a prepared query reads, and the metadata its view was defined from.
struct ViewRef {
  std::string domain, table, ref, view;
  table::ScanOptions options;
  std::string location;
};

// A statement bound for execution (the extended protocol's portal). Queries are prepared in
// DuckDB and stream when fetched; other statements run when bound and keep their outcome.
struct Portal {
  std::vector<ResultColumn> columns;
  bool returns_rows = false;
  // queries
  std::shared_ptr<PreparedQuery> query;
  duckdb_prepared_statement stmt = nullptr;  // query->stmt
  size_t params = 0;
  std::vector<ColumnType> param_types;
  bool started = false, finished = false, has_result = false;
  duckdb_result result{};
  duckdb_data_chunk chunk = nullptr;
  idx_t chunk_pos = 0;
  int64_t rows = 0;
  // other statements
  Outcome done;
  std::vector<std::vector<std::optional<std::string>>> buffered;
  size_t next_row = 0;

  Portal() = default;
  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;
  ~Portal() {
    if (chunk) duckdb_destroy_data_chunk(&chunk);
    if (has_result) duckdb_destroy_result(&result);
  }
  void Use(std::shared_ptr<PreparedQuery> q) {
    query = std::move(q);
    stmt = query->stmt;
    columns = query->columns;
    params = query->params;
    param_types = query->param_types;
    returns_rows = true;
    if (query->constant_rows) {  // served from the rows computed once
      stmt = nullptr;
      buffered = *query->constant_rows;
      done = Outcome{};
      done.has_rows = true;
      done.rows = static_cast<int64_t>(buffered.size());
      done.tag = "SELECT " + std::to_string(buffered.size());
    }
  }
};

struct Session::Impl {
  Engine::Impl& engine;
  duckdb_connection conn = nullptr;
  std::string user;
  std::string ref = "main";
  bool transaction = false;
  std::map<std::string, std::string> settings;  // PostgreSQL settings a client SETs
  std::map<std::string, std::unique_ptr<Portal>> portals;
  // Cursors (DECLARE): portals by their own names, as in PostgreSQL; those declared WITH HOLD
  // outlive their transaction.
  std::set<std::string> cursors, held;
  void CloseCursors(bool held_too) {
    for (auto it = cursors.begin(); it != cursors.end();) {
      if (!held_too && held.count(*it)) {
        ++it;
        continue;
      }
      portals.erase(*it);
      held.erase(*it);
      it = cursors.erase(it);
    }
  }
  struct CachedQuery {
    std::shared_ptr<PreparedQuery> query;
    std::vector<ViewRef> views;
    bool catalogs = false;
  };
  static constexpr size_t kCachedQueries = 256;
  // SQL's PREPARE name [(types)] AS statement, for EXECUTE name (args).
  struct SqlPrepared {
    std::string statement;
    std::vector<std::string> types;  // declared, as written ("int", "text"); may be fewer
  };
  std::map<std::string, SqlPrepared> sql_prepared;
  std::map<std::string, CachedQuery> cache;
  // An explicit transaction that writes: its statements commit on a branch of its own
  // (`txn_branch`, made from `txn_target` of `txn_domain` at commit `txn_base`), which its reads
  // of that domain and branch read too; COMMIT carries the table changes over to `txn_target`
  // as one commit, provided it has not moved; ROLLBACK drops the branch.
  std::string txn_domain, txn_target, txn_branch, txn_base;
  Result<std::string> TransactionBranch(const std::string& domain, const std::string& branch);

  SessionOptions options;
  std::string default_domain;  // what a table name without a domain reads (empty: none)
  // Tables a protocol defined for the session: the name a query writes -> the temporary table
  // that holds them.
  std::map<std::string, std::string> defined;
  size_t defined_count = 0;

  Impl(Engine::Impl& e, std::string u, SessionOptions o)
      : engine(e), user(std::move(u)), options(o) {}

  // statement_timeout as PostgreSQL reads it: "5000" (ms), "5s", "2min", "250ms"; 0 is none.
  int64_t TimeoutMs() const {
    auto it = settings.find("statement_timeout");
    if (it == settings.end()) return 0;
    const std::string& v = it->second;
    char* end = nullptr;
    double n = std::strtod(v.c_str(), &end);
    std::string unit = end ? std::string(end) : "";
    while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
    double ms = unit == "" || unit == "ms" ? n
                : unit == "s"              ? n * 1000
                : unit == "min"            ? n * 60000
                : unit == "h"              ? n * 3600000
                                           : -1;
    return ms > 0 ? static_cast<int64_t>(ms) : 0;
  }

  // Arms the session's statement timeout for the scope of a statement.
  struct TimeoutGuard {
    Engine::Impl& engine;
    uint64_t id = 0;
    std::atomic<bool> fired{false};
    TimeoutGuard(Impl& s) : engine(s.engine) {
      if (int64_t ms = s.TimeoutMs(); ms > 0) id = engine.Arm(s.conn, ms, &fired);
    }
    ~TimeoutGuard() {
      if (id) engine.Disarm(id);
    }
    // An interrupted statement's error, told as a timeout when the timeout interrupted it.
    void Explain(Outcome& o) const {
      if (fired && o.error && o.error->sqlstate == "57014") {
        o.error->message = "canceling statement due to statement timeout";
      }
    }
  };

  // COPY (query) TO 's3://bucket/key' | 's3://repo/branch/path' [(FORMAT csv|parquet|json,
  // ...)] (writes.cc): the rows written as one object.
  Outcome CopyToObject(std::string_view statement);

  // --- the write path (writes.cc) ---
  // INSERT, CREATE, DROP, ALTER, DELETE, UPDATE: one commit on the target's branch each.
  // `sink` receives the rows of INSERT ... RETURNING.
  Outcome Write(const std::string& keyword, std::string_view statement, ResultSink& sink);
  Outcome Commit();
  void Rollback();
  ~Impl() {
    if (transaction) Rollback();  // a session that ends in a transaction rolls it back
    // Results and prepared statements go before their connection.
    portals.clear();
    cache.clear();
    if (conn) duckdb_disconnect(&conn);
  }

  // json_serialize_sql / json_deserialize_sql over one text argument (which they take only as
  // a constant).
  std::optional<std::string> CallText(const char* function, const std::string& arg,
                                      std::string* error) {
    std::string q = std::string("SELECT ") + function + "(" + Literal(arg) + ")";
    duckdb_result r;
    std::optional<std::string> out;
    if (duckdb_query(conn, q.c_str(), &r) == DuckDBSuccess) {
      char* v = duckdb_value_varchar(&r, 0, 0);
      if (v) {
        out = std::string(v);
        duckdb_free(v);
      }
    } else {
      *error = duckdb_result_error(&r) ? duckdb_result_error(&r) : "failed";
    }
    duckdb_destroy_result(&r);
    return out;
  }

  // The snapshot an AT (VERSION => id | TIMESTAMP => time) clause names: the id itself, or the
  // table's snapshot current at that time (from its snapshot log). kNotFound when there is none.
  Result<int64_t> SnapshotAt(const std::string& domain, const std::string& table,
                             const std::string& table_ref, const Json& at) {
    const std::string unit = Str(at, "unit");
    // The constant inside the expression (a literal, possibly under a cast).
    const Json* constant = nullptr;
    std::function<void(const Json&)> find = [&](const Json& n) {
      if (constant || !n.is_object()) return;
      if (Str(n, "class") == "CONSTANT" && n.contains("value") && n["value"].is_object()) {
        constant = &n["value"];
        return;
      }
      for (const auto& [k, v] : n.items()) find(v);
    };
    if (at.contains("expr")) find(at["expr"]);
    if (!constant || !constant->contains("value") || (*constant)["value"].is_null()) {
      return InvalidArgument("AS OF takes a literal snapshot id or timestamp");
    }
    const Json& v = (*constant)["value"];
    if (unit == "VERSION") {
      if (v.is_number_integer()) return v.get<int64_t>();
      if (v.is_string()) {
        char* end = nullptr;
        int64_t id = std::strtoll(v.get<std::string>().c_str(), &end, 10);
        if (end && *end == '\0') return id;
      }
      return InvalidArgument("FOR VERSION AS OF takes a snapshot id");
    }
    if (unit != "TIMESTAMP") return InvalidArgument("AS OF takes VERSION or TIMESTAMP");
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    duckdb_result r;
    std::string q = "SELECT epoch_ms(CAST(" + Literal(text) + " AS TIMESTAMPTZ))";
    if (duckdb_query(conn, q.c_str(), &r) != DuckDBSuccess) {
      std::string m = duckdb_result_error(&r) ? duckdb_result_error(&r) : "not a timestamp";
      duckdb_destroy_result(&r);
      return InvalidArgument("FOR TIMESTAMP AS OF: " + m);
    }
    int64_t target = duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    LM_ASSIGN_OR_RETURN(catalog::LoadedTable t,
                        engine.catalog.LoadTable(table_ref, catalog::TableIdent{{domain}, table}));
    std::optional<int64_t> found;
    for (const Json& e : t.metadata.value("snapshot-log", Json::array())) {
      if (e.value("timestamp-ms", int64_t{0}) <= target) found = e.value("snapshot-id", int64_t{-1});
    }
    if (!found) {
      return NotFound("table " + domain + "." + table + " has no snapshot at or before " + text);
    }
    return *found;
  }

  // Defines every Iceberg view of every domain at the session's ref (for the catalogs).
  bool syncing_views = false;
  Status SyncViews() {
    if (syncing_views) return Status::OK();
    syncing_views = true;
    views_this_statement.clear();
    Status result;
    auto domains = engine.catalog.ListNamespaces(ref, {});
    if (domains.ok()) {
      for (const auto& ns : *domains) {
        if (ns.size() != 1) continue;
        auto views = engine.catalog.ListViews(ref, ns);
        if (!views.ok()) continue;
        for (const std::string& v : *views) {
          Status st = EnsureIcebergView(ns[0], v, ref, ViewName(v, ref));
          if (!st.ok() && !st.IsNotFound() && st.code() != ErrorCode::kInvalidArgument) {
            result = st;  // a view whose SQL no longer resolves is just left out
          }
        }
      }
    }
    syncing_views = false;
    return result;
  }

  // Defines `domain`.`name` as the Iceberg view `table` at `table_ref`: its SQL (DuckDB's
  // dialect preferred) resolved at that ref. kNotFound when there is no such view.
  int view_depth = 0;
  // Views defined during the statement being resolved: each is resolved once per statement,
  // however many views above it read it (a chain of views would otherwise be resolved again
  // along every path to it).
  std::set<std::string> views_this_statement;
  static constexpr int kMaxViewDepth = 64;
  Status EnsureIcebergView(const std::string& domain, const std::string& table,
                           const std::string& table_ref, const std::string& name) {
    const std::string memo = domain + std::string(1, '\0') + name;
    if (views_this_statement.count(memo)) return Status::OK();
    auto view = engine.catalog.LoadView(table_ref, catalog::TableIdent{{domain}, table});
    if (!view.ok()) return view.status();
    const Json& m = view->metadata;
    const int64_t current = m.value("current-version-id", int64_t{-1});
    std::string sql;
    for (const Json& v : m.value("versions", Json::array())) {
      if (v.value("version-id", int64_t{-2}) != current) continue;
      for (const Json& r : v.value("representations", Json::array())) {
        if (r.value("type", std::string()) != "sql") continue;
        if (sql.empty() || r.value("dialect", std::string()) == "duckdb") {
          sql = r.value("sql", std::string());
        }
      }
    }
    if (sql.empty()) return InvalidArgument("view " + domain + "." + table + " has no SQL");
    if (view_depth > kMaxViewDepth) {
      return InvalidArgument("views nest too deep (a cycle?) at " + domain + "." + table);
    }
    ++view_depth;
    const std::string saved = ref;
    ref = table_ref;
    std::string resolved;
    auto err = Resolve(sql, &resolved);
    ref = saved;
    --view_depth;
    if (err) return InvalidArgument("view " + domain + "." + table + ": " + err->message);
    std::lock_guard<std::mutex> lock(engine.mu);
    if (engine.schemas.insert(domain).second) {
      LM_TRY(engine.Run(engine.admin, "CREATE SCHEMA IF NOT EXISTS " + Ident(domain)));
    }
    LM_TRY(engine.Run(engine.admin, "CREATE OR REPLACE VIEW " + Ident(domain) + "." + Ident(name) +
                                        " AS " + resolved));
    // Marked, so that the catalogs list it as a view (domain tables are views too in DuckDB).
    LM_TRY(engine.Run(engine.admin, "COMMENT ON VIEW " + Ident(domain) + "." + Ident(name) +
                                        " IS 'lakemesh view'"));
    views_this_statement.insert(memo);
    engine.views.erase(domain + std::string(1, '\0') + name);  // never taken for a table's
    engine.view_relations.erase(domain + std::string(1, '\0') + name);
    engine.view_stats.erase(domain + std::string(1, '\0') + name);
    return Status::OK();
  }

  // The parsed tree of SQL expression `sql` (as json_serialize_sql gives a select item), or
  // nullopt when it does not parse.
  std::optional<Json> ParseExpression(const std::string& sql) {
    std::string err;
    auto parsed = CallText("json_serialize_sql", "SELECT " + sql, &err);
    Json tree = parsed ? Json::parse(*parsed, nullptr, false) : Json();
    if (tree.is_discarded() || !tree.is_object() || !tree.contains("statements") ||
        !tree["statements"].is_array() || tree["statements"].empty()) {
      return std::nullopt;
    }
    const Json& items = tree["statements"][0]["node"]["select_list"];
    if (!items.is_array() || items.empty()) return std::nullopt;
    return items[0];
  }

  // A parameter that `x = ANY($1)` (DuckDB: ANY(SELECT unnest($1))) or unnest($1) reads is an
  // array, as PostgreSQL infers: sent as text or untyped (psycopg's lists of strings), it is
  // read as a list of text (PostgreSQL's array text, `{a,b}`).
  static void ArrayParameters(const Json& j, std::vector<std::string>* casts) {
    if (j.is_array()) {
      for (const Json& c : j) ArrayParameters(c, casts);
      return;
    }
    if (!j.is_object()) return;
    if (Str(j, "class") == "FUNCTION" && Str(j, "function_name") == "unnest" &&
        j.contains("children") && j["children"].is_array() && j["children"].size() == 1 &&
        Str(j["children"][0], "type") == "VALUE_PARAMETER") {
      size_t index = std::strtoul(Str(j["children"][0], "identifier").c_str(), nullptr, 10);
      if (index >= 1) {
        if (casts->size() < index) casts->resize(index);
        std::string& c = (*casts)[index - 1];
        if (c.empty() || c == "VARCHAR") c = "VARCHAR[]";
      }
    }
    for (const auto& [k, v] : j.items()) ArrayParameters(v, casts);
  }

  // PostgreSQL's generate_series in a select list returns rows, DuckDB's a list: a select item
  // that is a call of it (under casts) is unnested, and named as PostgreSQL names it. Calls
  // inside other functions are left to DuckDB (list_sum(generate_series(1, 3)) is a list).
  static bool SetReturningSelectItems(Json& j) {
    bool changed = false;
    if (j.is_array()) {
      for (Json& c : j) changed |= SetReturningSelectItems(c);
      return changed;
    }
    if (!j.is_object()) return false;
    if (Str(j, "type") == "SELECT_NODE" && j.contains("select_list") &&
        j["select_list"].is_array()) {
      for (Json& item : j["select_list"]) {
        Json* e = &item;
        while (Str(*e, "class") == "CAST" && e->contains("child")) e = &(*e)["child"];
        if (Str(*e, "class") != "FUNCTION" || Str(*e, "function_name") != "generate_series" ||
            !(Str(*e, "schema").empty() || Str(*e, "schema") == "pg_catalog")) {
          continue;
        }
        const std::string alias = Str(item, "alias");
        (*e)["schema"] = "";
        Json call = std::move(*e);
        call["alias"] = "";
        *e = {{"class", "FUNCTION"}, {"type", "FUNCTION"}, {"alias", ""},
              {"query_location", 0}, {"function_name", "unnest"}, {"schema", ""},
              {"children", Json::array({std::move(call)})}, {"filter", nullptr},
              {"order_bys", {{"type", "ORDER_MODIFIER"}, {"orders", Json::array()}}},
              {"distinct", false}, {"is_operator", false}, {"export_state", false},
              {"catalog", ""}};
        item["alias"] = alias.empty() ? std::string("generate_series") : alias;
        changed = true;
      }
    }
    for (auto& [k, v] : j.items()) changed |= SetReturningSelectItems(v);
    return changed;
  }

  // Moves aggregations below joins where that is exact and, by the tables' statistics, faster
  // (eager_aggregation.h; the session's lakemesh.eager_aggregation); returns how many.
  int EagerAggregation(Json& statements) {
    EagerAggregationOptions o;
    auto it = settings.find("lakemesh.eager_aggregation");
    if (it != settings.end()) {
      o.mode = it->second == "off" ? EagerAggregationMode::kOff
               : it->second == "on" ? EagerAggregationMode::kAlways
                                    : EagerAggregationMode::kAuto;
    }
    if (o.mode == EagerAggregationMode::kOff) return 0;
    std::vector<std::shared_ptr<const TableStats>> held;  // what lookups gave, kept alive
    auto lookup = [&](const std::string& schema, const std::string& table) -> const TableStats* {
      std::lock_guard<std::mutex> lock(engine.mu);
      auto found = engine.view_stats.find(schema + std::string(1, '\0') + table);
      if (found == engine.view_stats.end()) return nullptr;
      held.push_back(found->second);
      return held.back().get();
    };
    int n = PushAggregatesBelowJoins(statements, lookup, engine.function_kinds, o);
    engine.eager_rewrites += n;
    return n;
  }

  // Parses the query, resolves its lakemesh tables (defining their views) and checks what it
  // calls; returns the text to run (rewritten when the session's ref applied).
  // `casts`: for parameter $i+1, the DuckDB type it is cast to where it appears ("" = none), so
  // that parameters the query leaves untyped get the type the client declared (or text).
  std::optional<SqlError> Resolve(const std::string& original, std::string* out,
                                  const std::vector<std::string>& declared_casts = {},
                                  std::vector<ViewRef>* views_out = nullptr,
                                  bool* catalogs_out = nullptr, bool* constant_out = nullptr,
                                  bool* objects_out = nullptr) {
    std::vector<std::string> casts = declared_casts;
    std::string err;
    if (view_depth == 0 && !syncing_views) views_this_statement.clear();  // a new statement
    std::string query = RewriteAsOf(original);
    if (MentionsPgCatalog(query)) query = RewritePgCatalog(query);
    auto serialized = CallText("json_serialize_sql", query, &err);
    if (!serialized) return FromDuckDb(err);
    Json tree = Json::parse(*serialized, nullptr, false);
    if (tree.is_discarded()) return Err("XX000", "cannot read the parsed query");
    if (!casts.empty()) ArrayParameters(tree, &casts);
    if (tree.is_object() && tree.contains("error") && tree["error"].is_boolean() &&
        tree["error"].get<bool>()) {
      std::string type = Str(tree, "error_type");
      std::string message = Str(tree, "error_message");
      if (message.empty()) message = "cannot parse the query";
      SqlError e = type == "parser" ? Err("42601", message) : FromDuckDb(message);
      const std::string at = Str(tree, "position");
      if (!at.empty() && at.find_first_not_of("0123456789") == std::string::npos &&
          at.size() < 12 && query == original) {
        e.position = std::stoll(at);
      }
      return e;
    }
    if (!tree.is_object() || !tree.contains("statements") || !tree["statements"].is_array() ||
        tree["statements"].size() != 1) {
      return Err("42601", "one statement at a time");
    }
    bool rewritten = false, catalogs = false, reads_objects = false;
    std::optional<SqlError> failure;
    // Names of common table expressions: never a domain's table, even without a domain.
    std::set<std::string> cte_names;
    if (!default_domain.empty()) {
      std::function<void(const Json&)> ctes = [&](const Json& n) {
        if (n.is_array()) {
          for (const Json& c : n) ctes(c);
          return;
        }
        if (!n.is_object()) return;
        if (auto it = n.find("cte_map"); it != n.end() && it->is_object() && it->contains("map") &&
                                          (*it)["map"].is_array()) {
          for (const Json& e : (*it)["map"]) cte_names.insert(Str(e, "key"));
        }
        for (const auto& [k, v] : n.items()) ctes(v);
      };
      ctes(tree["statements"]);
    }
    // How often each table name appears (an alias is given to a renamed table only when its
    // name is unique in the query).
    std::map<std::string, int> table_names;
    std::function<void(const Json&)> count = [&](const Json& n) {
      if (n.is_array()) {
        for (const Json& c : n) count(c);
        return;
      }
      if (!n.is_object()) return;
      if (Str(n, "type") == "BASE_TABLE") ++table_names[Str(n, "table_name")];
      for (const auto& [k, v] : n.items()) count(v);
    };
    count(tree["statements"]);
    std::function<void(Json&)> walk = [&](Json& node) {
      if (failure) return;
      if (node.is_array()) {
        for (Json& child : node) walk(child);
        return;
      }
      if (!node.is_object()) return;
      const std::string type = Str(node, "type");
      if (type == "JOIN" && node.contains("condition")) {
        // `x = ANY(array)` in a join's condition (PostgreSQL's catalog queries have them): DuckDB
        // makes it a subquery over unnest(array), which it cannot run in an outer join, so it
        // becomes list_contains(array, x). (A NULL is false there either way.)
        std::function<void(Json&)> any = [&](Json& e) {
          if (e.is_array()) {
            for (Json& c : e) any(c);
            return;
          }
          if (!e.is_object()) return;
          if (Str(e, "class") == "SUBQUERY" && Str(e, "subquery_type") == "ANY" &&
              Str(e, "comparison_type") == "COMPARE_EQUAL" && e.contains("child") &&
              e.contains("subquery") && e["subquery"].contains("node")) {
            const Json& sub = e["subquery"]["node"];
            const Json* list = nullptr;
            if (Str(sub, "type") == "SELECT_NODE" && sub.contains("from_table") &&
                Str(sub["from_table"], "type") == "EMPTY" && sub["where_clause"].is_null() &&
                sub.contains("select_list") && sub["select_list"].size() == 1) {
              const Json& f = sub["select_list"][0];
              if (Str(f, "class") == "FUNCTION" && Str(f, "function_name") == "unnest" &&
                  f.contains("children") && f["children"].size() == 1) {
                list = &f["children"][0];
              }
            }
            if (list) {
              Json call = {{"class", "FUNCTION"}, {"type", "FUNCTION"}, {"alias", ""},
                           {"query_location", e.value("query_location", Json(0))},
                           {"function_name", "list_contains"}, {"schema", ""},
                           {"children", Json::array({*list, e["child"]})}, {"filter", nullptr},
                           {"order_bys", {{"type", "ORDER_MODIFIER"}, {"orders", Json::array()}}},
                           {"distinct", false}, {"is_operator", false}, {"export_state", false},
                           {"catalog", ""}};
              e = std::move(call);
              rewritten = true;
              return;
            }
          }
          for (auto& [k, v] : e.items()) {
            if (k != "subquery") any(v);
          }
        };
        any(node["condition"]);
      }
      // Who and where the session is, as PostgreSQL answers (DuckDB's would be "duckdb",
      // "memory", "main"): the user, the one database, the domain of unqualified names.
      auto constant = [&](const std::optional<std::string>& v, const std::string& name) {
        Json c = {{"class", "CONSTANT"}, {"type", "VALUE_CONSTANT"},
                  {"alias", Str(node, "alias").empty() ? name : Str(node, "alias")},
                  {"query_location", node.value("query_location", Json(0))},
                  {"value", {{"type", {{"id", "VARCHAR"}, {"type_info", nullptr}}},
                             {"is_null", !v.has_value()}}}};
        if (v) c["value"]["value"] = *v;
        node = std::move(c);
        rewritten = true;
      };
      if (type == "COLUMN_REF" && node.contains("column_names") &&
          node["column_names"].size() == 1 && node["column_names"][0].is_string()) {
        const std::string col = node["column_names"][0].get<std::string>();
        if (col == "current_user" || col == "session_user") return constant(user, col);
        if (col == "current_catalog") return constant(std::string("lakemesh"), col);
      }
      if (type == "FUNCTION" && (Str(node, "schema").empty() || Str(node, "schema") == "pg_catalog") &&
          node.contains("children") && node["children"].empty()) {
        const std::string fn = Str(node, "function_name");
        if (fn == "current_database" || fn == "current_catalog") {
          return constant(std::string("lakemesh"), fn);
        }
        if (fn == "current_schema") {
          return constant(default_domain.empty() ? std::nullopt
                                                 : std::optional<std::string>(default_domain),
                          fn);
        }
      }
      if (type == "FUNCTION" && Str(node, "schema").empty()) {
        // PostgreSQL's JSON constructors, by DuckDB's names (same arguments, same JSON).
        static const std::map<std::string, std::string> kJson = {
            {"json_build_object", "json_object"}, {"jsonb_build_object", "json_object"},
            {"json_build_array", "json_array"}, {"jsonb_build_array", "json_array"}};
        if (auto it = kJson.find(Str(node, "function_name")); it != kJson.end()) {
          node["function_name"] = it->second;
          rewritten = true;
        }
      }
      if (type == "FUNCTION" && Str(node, "function_name") == "format" &&
          Str(node, "schema").empty() && node.contains("children") &&
          node["children"].is_array() && !node["children"].empty()) {
        // PostgreSQL's format('%s-%s', a, b), which DuckDB's format ({} placeholders) would
        // return unchanged: its printf, over the values as text (NULL as ''). %I and %L, which
        // printf does not have, are errors rather than wrong text.
        const Json& f = node["children"][0];
        if (Str(f, "class") == "CONSTANT" && f.contains("value") && f["value"].is_object() &&
            f["value"].contains("value") && f["value"]["value"].is_string()) {
          const std::string text = f["value"]["value"].get<std::string>();
          if (text.find('%') != std::string::npos && text.find('{') == std::string::npos) {
            node["function_name"] = "printf";
            Json& args = node["children"];
            for (size_t i = 1; i < args.size(); ++i) {
              Json cast = {{"class", "CAST"}, {"type", "OPERATOR_CAST"}, {"alias", ""},
                           {"query_location", 0}, {"child", args[i]},
                           {"cast_type", {{"id", "VARCHAR"}, {"type_info", nullptr}}},
                           {"try_cast", false}};
              Json empty = {{"class", "CONSTANT"}, {"type", "VALUE_CONSTANT"}, {"alias", ""},
                            {"query_location", 0},
                            {"value", {{"type", {{"id", "VARCHAR"}, {"type_info", nullptr}}},
                                       {"is_null", false}, {"value", ""}}}};
              args[i] = {{"class", "OPERATOR"}, {"type", "OPERATOR_COALESCE"}, {"alias", ""},
                         {"query_location", 0},
                         {"children", Json::array({std::move(cast), std::move(empty)})}};
            }
            rewritten = true;
          }
        }
      }
      if (type == "FUNCTION" &&
          (Str(node, "function_name") == "quote_ident" || Str(node, "function_name") == "initcap") &&
          (Str(node, "schema").empty() || Str(node, "schema") == "pg_catalog")) {
        node["schema"] = kPgCompatSchema;  // PostgreSQL's, which DuckDB does not have
        rewritten = true;
      }
      if (type == "FUNCTION" && Str(node, "function_name") == "current_setting" &&
          (Str(node, "schema").empty() || Str(node, "schema") == "pg_catalog" ||
           Str(node, "schema") == kPgCompatSchema) &&
          node.contains("children") && node["children"].is_array() &&
          !node["children"].empty() && node["children"].size() <= 2) {
        // current_setting('name' [, missing_ok]): the session's setting, as SHOW gives it (an
        // application's own too); DuckDB's settings (memory_limit, threads) are DuckDB's to
        // answer. Its value changes with SET: never cached.
        const Json& n = node["children"][0];
        if (Str(n, "class") == "CONSTANT" && n.contains("value") && n["value"].is_object() &&
            n["value"].contains("value") && n["value"]["value"].is_string()) {
          std::string name = n["value"]["value"].get<std::string>();
          std::transform(name.begin(), name.end(), name.begin(), ::tolower);
          bool missing_ok = false;
          if (node["children"].size() == 2) {
            // true, which DuckDB's parser writes CAST('t' AS BOOLEAN)
            const Json& m = node["children"][1];
            const Json& c = Str(m, "class") == "CAST" && m.contains("child") ? m["child"] : m;
            if (Str(c, "class") == "CONSTANT" && c.contains("value") && c["value"].is_object()) {
              const Json v = c["value"].value("value", Json());
              missing_ok = v == true || v == "t" || v == "true";
            }
          }
          auto value = SettingValue(name);
          if (value || !engine.duckdb_settings.count(name)) {  // (DuckDB's own are read there)
            if (!value && !missing_ok) {
              failure = Err("42704", "unrecognized configuration parameter \"" + name + "\"");
              return;
            }
            constant(value, "current_setting");
            reads_objects = true;
            return;
          }
        }
      }
      if (type == "FUNCTION" && Str(node, "function_name") == "to_char" &&
          (Str(node, "schema").empty() || Str(node, "schema") == "pg_catalog") &&
          node.contains("children") && node["children"].is_array() &&
          node["children"].size() == 2) {
        // PostgreSQL's to_char(timestamp, 'YYYY-MM-DD HH24:MI'): its format translated
        // (PgToCharSql) into strftime and functions of the value.
        const Json& f = node["children"][1];
        if (Str(f, "class") != "CONSTANT" || !f.contains("value") || !f["value"].is_object() ||
            !f["value"].contains("value") || !f["value"]["value"].is_string()) {
          failure = Err("0A000", "to_char takes its format as a string literal");
          return;
        }
        auto sql = PgToCharSql(f["value"]["value"].get<std::string>());
        if (!sql) {
          failure = Err("0A000", "to_char with a number format is not supported: use "
                                 "printf('%.2f', x) or format('{:,.2f}', x)");
          return;
        }
        auto parsed = ParseExpression(*sql);
        if (!parsed) {
          failure = Err("XX000", "cannot translate the to_char format");
          return;
        }
        Json out = std::move(*parsed);
        const Json value = node["children"][0];
        std::function<void(Json&)> put = [&](Json& j) {
          if (j.is_array()) {
            for (Json& c : j) put(c);
            return;
          }
          if (!j.is_object()) return;
          if (Str(j, "class") == "COLUMN_REF" && j.contains("column_names") &&
              j["column_names"] == Json::array({"__lm_x"})) {
            j = value;
            return;
          }
          for (auto& [k, v] : j.items()) put(v);
        };
        put(out);
        out["alias"] = Str(node, "alias").empty() ? std::string("to_char") : Str(node, "alias");
        node = std::move(out);
        rewritten = true;
      }
      if (type == "FUNCTION" && Str(node, "function_name") == "version" &&
          (Str(node, "schema").empty() || Str(node, "schema") == "pg_catalog") &&
          node.contains("children") && node["children"].empty()) {
        // version() is PostgreSQL's string, which clients parse (SQLAlchemy, pgAdmin), not
        // DuckDB's "v1.4.4".
        node["schema"] = kPgCompatSchema;
        rewritten = true;
      }
      if (type == "VALUE_PARAMETER" && !casts.empty()) {
        size_t index = std::strtoul(Str(node, "identifier").c_str(), nullptr, 10);
        const std::string& to = index >= 1 && index <= casts.size() ? casts[index - 1] : "";
        if (to.size() > 2 && to.compare(to.size() - 2, 2, "[]") == 0) {
          // An array parameter comes as PostgreSQL's array text ({1,2}): read as a list.
          auto parsed = ParseExpression("CAST(pg_array_as_list(CAST($" +
                                        std::to_string(index) + " AS VARCHAR)) AS " + to + ")");
          if (!parsed) {
            failure = Err("XX000", "cannot read array parameter $" + std::to_string(index));
            return;
          }
          Json cast = std::move(*parsed);
          cast["alias"] = node.value("alias", Json(""));
          node = std::move(cast);
          rewritten = true;
          return;
        }
        if (index >= 1 && index <= casts.size() && !casts[index - 1].empty()) {
          Json param = node;
          param["alias"] = "";
          Json cast = {{"class", "CAST"},
                       {"type", "OPERATOR_CAST"},
                       {"alias", node.value("alias", Json(""))},
                       {"query_location", node.value("query_location", Json(0))},
                       {"child", std::move(param)},
                       {"cast_type", {{"id", casts[index - 1]}, {"type_info", nullptr}}},
                       {"try_cast", false}};
          node = std::move(cast);
          rewritten = true;
        }
        return;
      }
      if (type == "BASE_TABLE") {
        std::string schema = Str(node, "schema_name");
        std::string name = Str(node, "table_name");
        std::string catalog_name = Str(node, "catalog_name");
        if (!defined.empty()) {  // a table the protocol defined (system.runtime.nodes)
          std::string written = catalog_name.empty() ? "" : catalog_name + ".";
          if (!schema.empty()) written += schema + ".";
          written += name;
          std::transform(written.begin(), written.end(), written.begin(), ::tolower);
          if (auto it = defined.find(written); it != defined.end()) {
            node["catalog_name"] = "temp";
            node["schema_name"] = "main";
            node["table_name"] = it->second;
            rewritten = true;
            reads_objects = true;  // its rows change: never cached
            return;
          }
        }
        if (std::find(engine.options.catalog_names.begin(), engine.options.catalog_names.end(),
                      catalog_name) != engine.options.catalog_names.end()) {
          node["catalog_name"] = "";  // lakemesh.sales.orders, as Trino clients write it
          rewritten = true;
        }
        if (schema.empty() && catalog_name.empty() && !default_domain.empty() &&
            !cte_names.count(name) && !StartsWith(name, "pg_") && !StartsWith(name, "duckdb_")) {
          schema = default_domain;  // `orders` in a session whose domain is `sales`
          node["schema_name"] = schema;
          rewritten = true;
        }
        if (schema.empty() && catalog_name.empty() && !cte_names.count(name) &&
            IsCompatTable(name)) {
          schema = kPgCompatSchema;  // pg_namespace without pg_catalog., as PostgreSQL finds it
          node["schema_name"] = schema;
          rewritten = true;
        }
        if (schema == "information_schema" &&
            (name == "tables" || name == "views" || name == "columns" || name == "schemata")) {
          node["schema_name"] = kPgCompatSchema;  // tables listed as tables (see pg_catalog.cc)
          rewritten = true;
        }
        if (schema.empty() || SystemSchema(schema)) {
          if (schema == "information_schema" || schema == "pg_catalog" ||
              schema == kPgCompatSchema ||
              StartsWith(name, "pg_") || StartsWith(name, "duckdb_")) {
            catalogs = true;
          }
        } else {
          auto [table, at] = SplitRef(name);
          std::string table_ref = at.empty() ? ref : at;
          if (!txn_branch.empty() && schema == txn_domain && table_ref == txn_target) {
            table_ref = txn_branch;  // a transaction reads what it wrote
          }
          if (table_ref != (at.empty() ? std::string("main") : at)) {
            // Renamed to the view of a ref, the table keeps the name the query uses for it
            // (`orders.id` still means its column) unless another table has it too.
            if (Str(node, "alias").empty() && table_names[name] == 1) node["alias"] = name;
            name = ViewName(table, table_ref);
            node["table_name"] = name;
            rewritten = true;
          }
          table::ScanOptions options;
          if (node.contains("at_clause") && node["at_clause"].is_object()) {
            // FOR VERSION / TIMESTAMP AS OF: a view of that snapshot, with its schema.
            auto snapshot = SnapshotAt(schema, table, table_ref, node["at_clause"]);
            if (!snapshot.ok()) {
              failure = snapshot.status().IsNotFound() ? Err("22023", snapshot.status().message())
                                                       : FromStatus(snapshot.status());
              return;
            }
            options.snapshot_id = *snapshot;
            options.use_snapshot_schema = true;
            name = ViewName(table, table_ref) + "@@" + std::to_string(*snapshot);
            node["table_name"] = name;
            node["at_clause"] = nullptr;
            rewritten = true;
          }
          std::string location;
          Status st = engine.EnsureView(schema, table, table_ref, name, options, &location);
          if (st.IsNotFound() && !options.snapshot_id) {
            // Not a table: an Iceberg view of the domain, perhaps (its SQL resolved as it reads).
            if (Status v = EnsureIcebergView(schema, table, table_ref, name); v.ok()) {
              reads_objects = true;  // not cached: the view's tables are resolved every time
              return;
            } else if (!v.IsNotFound()) {
              st = v;
            }
          }
          if (!st.ok()) {
            failure = FromStatus(st);
            return;
          }
          if (views_out) views_out->push_back({schema, table, table_ref, name, options, location});
        }
      } else if (type == "TABLE_FUNCTION") {
        std::string fn;
        if (node.contains("function") && node["function"].is_object()) {
          fn = Str(node["function"], "function_name");
        }
        static const std::set<std::string> kFileReaders = {
            "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json",
            "read_json_auto", "read_ndjson", "read_ndjson_auto", "read_json_objects"};
        if (kFileReaders.count(fn)) {
          // Files as s3:// URIs of lakemesh's objects, replaced by the files that hold them.
          Json& children = node["function"]["children"];
          if (!children.is_array() || children.empty()) {
            failure = Err("42601", fn + "() needs the files to read");
            return;
          }
          std::vector<std::string> uris;
          const Json& first = children[0];
          auto constant = [](const Json& c) -> std::optional<std::string> {
            if (Str(c, "class") != "CONSTANT" || !c.contains("value")) return std::nullopt;
            const Json& v = c["value"];
            if (!v.is_object() || !v.contains("value") || !v["value"].is_string()) return std::nullopt;
            return v["value"].get<std::string>();
          };
          if (auto one = constant(first)) {
            uris.push_back(*one);
          } else if (Str(first, "class") == "FUNCTION" && Str(first, "function_name") == "list_value" &&
                     first.contains("children")) {
            for (const Json& c : first["children"]) {
              auto u = constant(c);
              if (!u) {
                uris.clear();
                break;
              }
              uris.push_back(*u);
            }
          }
          if (uris.empty()) {
            failure = Err("42501", fn + "() takes its files as s3:// URI literals");
            return;
          }
          for (size_t i = 1; i < children.size(); ++i) {
            if (Str(children[i], "class") != "COMPARISON") {
              failure = Err("42501", fn + "() takes one list of files (and named options)");
              return;
            }
          }
          Json files = Json::array();
          for (const std::string& uri : uris) {
            auto paths = engine.ResolveObjects(uri);
            if (!paths.ok()) {
              const Status& st = paths.status();
              failure = st.IsNotFound() ? Err("58P01", st.message())
                        : st.code() == ErrorCode::kPermissionDenied ? Err("42501", st.message())
                                                                  : FromStatus(st);
              return;
            }
            for (const std::string& p : *paths) {
              files.push_back({{"class", "CONSTANT"},
                               {"type", "VALUE_CONSTANT"},
                               {"alias", ""},
                               {"query_location", 0},
                               {"value", {{"type", {{"id", "VARCHAR"}, {"type_info", nullptr}}},
                                          {"is_null", false},
                                          {"value", p}}}});
            }
          }
          reads_objects = true;
          children[0] = {{"class", "FUNCTION"}, {"type", "FUNCTION"}, {"alias", ""},
                         {"query_location", 0}, {"function_name", "list_value"},
                         {"schema", "main"}, {"children", files}, {"filter", nullptr},
                         {"order_bys", {{"type", "ORDER_MODIFIER"}, {"orders", Json::array()}}},
                         {"distinct", false}, {"is_operator", false}, {"export_state", false},
                         {"catalog", ""}};
          rewritten = true;
          return;
        }
        if (!AllowedTableFunctions().count(fn)) {
          failure = Err("42501", "table function " + fn +
                                     "() is not allowed: SQL reads lakemesh tables (domain.table)");
          return;
        }
      }
      for (auto& [k, v] : node.items()) walk(v);
    };
    walk(tree["statements"]);
    if (failure) return failure;
    // A domain's table read under an alias (the name it had, when it became the view of a ref,
    // or one the statement gave it): its columns written schema.table.column, as SQLAlchemy
    // writes them, become alias.column, which DuckDB binds.
    std::set<std::pair<std::string, std::string>> renamed;
    std::function<void(const Json&)> aliased = [&](const Json& n) {
      if (n.is_array()) {
        for (const Json& c : n) aliased(c);
        return;
      }
      if (!n.is_object()) return;
      if (Str(n, "type") == "BASE_TABLE" && !Str(n, "schema_name").empty() &&
          !Str(n, "alias").empty() && !SystemSchema(Str(n, "schema_name"))) {
        renamed.insert({Str(n, "schema_name"), Str(n, "alias")});
      }
      for (const auto& [k, v] : n.items()) aliased(v);
    };
    aliased(tree["statements"]);
    if (!renamed.empty()) {
      std::function<void(Json&)> columns = [&](Json& n) {
        if (n.is_array()) {
          for (Json& c : n) columns(c);
          return;
        }
        if (!n.is_object()) return;
        if (Str(n, "class") == "COLUMN_REF" && n.contains("column_names") &&
            n["column_names"].is_array() && n["column_names"].size() == 3 &&
            n["column_names"][0].is_string() && n["column_names"][1].is_string() &&
            renamed.count({n["column_names"][0].get<std::string>(),
                           n["column_names"][1].get<std::string>()})) {
          n["column_names"].erase(0);
          rewritten = true;
        }
        for (auto& [k, v] : n.items()) columns(v);
      };
      columns(tree["statements"]);
    }
    if (SetReturningSelectItems(tree["statements"])) rewritten = true;
    if (PostgresColumnNames(tree)) rewritten = true;
    if (EagerAggregation(tree["statements"]) > 0) rewritten = true;
    if (catalogs) {
      if (Status st = engine.SyncAll(ref); !st.ok()) return FromStatus(st);
      if (Status st = SyncViews(); !st.ok()) return FromStatus(st);
    }
    if (catalogs_out) *catalogs_out = catalogs;
    if (objects_out) *objects_out = reads_objects;
    if (constant_out) *constant_out = IsConstantSelect(tree);
    if (!rewritten) {
      *out = query;
      return std::nullopt;
    }
    auto text = CallText("json_deserialize_sql", tree.dump(), &err);
    if (!text) return FromDuckDb(err);
    *out = *text;
    return std::nullopt;
  }

  // Prepares `query` (resolved) so that every column comes as PostgreSQL text: as it is when
  // all its columns are of types written here (Render), else wrapped in AsPgText; fills `out`'s
  // columns and statement. Parameters ($1, ...) stay for Bind.
  std::optional<SqlError> PrepareQuery(const std::string& query, PreparedQuery& out) {
    duckdb_prepared_statement stmt = nullptr;
    if (duckdb_prepare(conn, query.c_str(), &stmt) != DuckDBSuccess) {
      SqlError e = FromDuckDb(duckdb_prepare_error(stmt) ? duckdb_prepare_error(stmt) : "failed");
      duckdb_destroy_prepare(&stmt);
      return e;
    }
    idx_t n = duckdb_prepared_statement_column_count(stmt);
    std::string select, aliases;
    out.columns.clear();
    out.render.assign(n, PreparedQuery::Rendered{});
    bool native = true;
    for (idx_t i = 0; i < n; ++i) {
      const char* name = duckdb_prepared_statement_column_name(stmt, i);
      duckdb_logical_type lt = duckdb_prepared_statement_column_logical_type(stmt, i);
      ResultColumn c = ColumnOf(name ? name : "?column?", lt);
      PreparedQuery::Rendered& r = out.render[i];
      if (auto kind = NativeRender(lt, &r.scale, &r.whole)) {
        r.kind = *kind;
      } else {
        native = false;
      }
      duckdb_destroy_logical_type(&lt);
      std::string col = "c" + std::to_string(i);
      aliases += (i ? ", " : "") + col;
      select += (i ? ", " : "") + AsPgText(col, c, options.nested_as_json);
      out.columns.push_back(std::move(c));
    }
    if (native || n == 0) {
      out.stmt = stmt;
    } else {
      duckdb_destroy_prepare(&stmt);
      out.render.assign(n, PreparedQuery::Rendered{});
    }
    std::string wrapped = "SELECT " + select + " FROM (" + query + "\n) AS __lm_q(" + aliases + ")";
    if (!out.stmt && duckdb_prepare(conn, wrapped.c_str(), &out.stmt) != DuckDBSuccess) {
      SqlError e = FromDuckDb(duckdb_prepare_error(out.stmt) ? duckdb_prepare_error(out.stmt)
                                                              : "failed");
      duckdb_destroy_prepare(&out.stmt);
      out.stmt = nullptr;
      return e;
    }
    out.params = duckdb_nparams(out.stmt);
    out.param_types.clear();
    out.untyped.clear();
    for (idx_t i = 1; i <= out.params; ++i) {
      duckdb_type t = duckdb_param_type(out.stmt, i);
      if (t == DUCKDB_TYPE_INVALID || t == DUCKDB_TYPE_ANY) out.untyped.push_back(i - 1);
      out.param_types.push_back(t == DUCKDB_TYPE_INVALID || t == DUCKDB_TYPE_ANY
                                    ? ColumnType::kText
                                    : TypeOf(t));
    }
    return std::nullopt;
  }

  // Runs a constant query once and keeps its rows in `q` (left as it is on an error: the error
  // is then reported when it runs).
  void ComputeConstant(PreparedQuery& q) {
    duckdb_result r;
    if (duckdb_execute_prepared(q.stmt, &r) != DuckDBSuccess) {
      duckdb_destroy_result(&r);
      return;
    }
    std::vector<std::vector<std::optional<std::string>>> rows;
    const idx_t n = duckdb_column_count(&r);
    std::vector<char> bufs(n * 32);
    for (duckdb_data_chunk chunk; rows.size() < 1000 && (chunk = duckdb_fetch_chunk(r));) {
      const idx_t size = duckdb_data_chunk_get_size(chunk);
      for (idx_t row = 0; row < size && rows.size() < 1000; ++row) {
        std::vector<std::optional<std::string>> values;
        for (idx_t c = 0; c < n; ++c) {
          duckdb_vector v = duckdb_data_chunk_get_vector(chunk, c);
          uint64_t* validity = duckdb_vector_get_validity(v);
          if (validity && !duckdb_validity_row_is_valid(validity, row)) {
            values.emplace_back();
            continue;
          }
          const PreparedQuery::Rendered& how = q.render[c];
          values.emplace_back(RenderValue(how.kind, how.scale, how.whole,
                                          duckdb_vector_get_data(v), row, &bufs[c * 32]));
        }
        rows.push_back(std::move(values));
      }
      duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&r);
    q.constant_rows = std::move(rows);
  }

  // Resolves and prepares a query with parameters: declared types are cast to, and parameters
  // still untyped are taken as text (PostgreSQL's "unknown" literal behaviour). Prepared
  // queries are cached per session by text, ref and declared types; a hit only checks that the
  // tables it reads have not moved (a table that moved is prepared again).
  std::optional<SqlError> PrepareWithParams(std::string_view statement,
                                            const Session::Declared& declared, Portal& portal) {
    std::vector<std::string> casts;
    for (const auto& d : declared) casts.push_back(d ? DuckTypeOf(*d) : "");
    // (The domain search_path chose resolves unqualified names: part of the key.)
    std::string key = ref + "\x03" + txn_branch + "\x03" + default_domain;
    if (auto mode = settings.find("lakemesh.eager_aggregation"); mode != settings.end()) {
      key += "\x03" + mode->second;
    }
    for (const auto& c : casts) key += "\x01" + c;
    key += "\x02";
    key.append(statement);
    if (auto it = cache.find(key); it != cache.end()) {
      bool fresh = true;
      if (it->second.catalogs) {
        if (Status st = engine.SyncAll(ref); !st.ok()) return FromStatus(st);
      }
      for (const ViewRef& v : it->second.views) {
        std::string location;
        Status st = engine.EnsureView(v.domain, v.table, v.ref, v.view, v.options, &location);
        if (!st.ok() || location != v.location) {
          fresh = false;
          break;
        }
      }
      if (fresh) {
        portal.Use(it->second.query);
        return std::nullopt;
      }
      cache.erase(it);
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string query;
      std::vector<ViewRef> views;
      bool catalogs = false, constant = false, objects = false;
      if (auto e = Resolve(std::string(statement), &query, casts, &views, &catalogs, &constant,
                           &objects)) {
        return e;
      }
      auto prepared = std::make_shared<PreparedQuery>();
      if (auto e = PrepareQuery(query, *prepared)) return e;
      if (constant && prepared->params == 0) ComputeConstant(*prepared);
      // A parameter under a cast stays "untyped" to DuckDB (it takes any value): only those
      // without a type anywhere become text.
      casts.resize(std::max(casts.size(), prepared->params));
      bool changed = false;
      for (size_t i : prepared->untyped) {
        if (casts[i].empty()) {
          casts[i] = "VARCHAR";
          changed = true;
        }
      }
      if (changed && attempt == 0) continue;
      portal.Use(prepared);
      if (objects) return std::nullopt;  // objects change under their URIs: resolve every time
      if (cache.size() >= kCachedQueries) cache.clear();
      cache[key] = CachedQuery{prepared, std::move(views), catalogs};
      return std::nullopt;
    }
    return std::nullopt;
  }

  // Drops the session's prepared versions of `statement` (every ref and parameter typing).
  void ForgetQuery(std::string_view statement) {
    for (auto it = cache.begin(); it != cache.end();) {
      const std::string& key = it->first;
      bool match = key.size() > statement.size() &&
                   key.compare(key.size() - statement.size(), statement.size(), statement) == 0 &&
                   key[key.size() - statement.size() - 1] == '\x02';
      it = match ? cache.erase(it) : std::next(it);
    }
  }

  std::optional<SqlError> Bind(Portal& portal,
                               const std::vector<std::optional<std::string>>& params) {
    if (params.size() != portal.params) {
      return Err("08P01", "bind message supplies " + std::to_string(params.size()) +
                              " parameters, but prepared statement requires " +
                              std::to_string(portal.params));
    }
    if (!portal.stmt) return std::nullopt;  // rows computed once: nothing to bind
    duckdb_clear_bindings(portal.stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      duckdb_state st = params[i] ? duckdb_bind_varchar_length(portal.stmt, i + 1,
                                                               params[i]->data(), params[i]->size())
                                  : duckdb_bind_null(portal.stmt, i + 1);
      if (st != DuckDBSuccess) {
        return Err("22P02", "cannot bind parameter $" + std::to_string(i + 1));
      }
    }
    return std::nullopt;
  }

  // Sends up to `max_rows` (0: all) more rows of `portal` to `sink`; `*suspended` when it
  // stopped at the limit.
  Outcome Fetch(Portal& portal, int64_t max_rows, ResultSink& sink, bool* suspended) {
    Outcome out;
    *suspended = false;
    if (!portal.stmt) {  // a statement run at bind time: its buffered outcome
      out = portal.done;
      for (size_t i = portal.next_row; i < portal.buffered.size(); ++i) {
        if (max_rows > 0 && static_cast<int64_t>(i - portal.next_row) >= max_rows) {
          portal.next_row = i;
          *suspended = true;
          return out;
        }
        std::vector<std::optional<std::string_view>> values;
        for (const auto& v : portal.buffered[i]) {
          values.push_back(v ? std::optional<std::string_view>(*v) : std::nullopt);
        }
        if (Status st = sink.Row(values); !st.ok()) {
          out.error = FromStatus(st);
          return out;
        }
      }
      portal.next_row = portal.buffered.size();
      return out;
    }
    if (!portal.started) {
      portal.started = true;
      if (duckdb_execute_prepared_streaming(portal.stmt, &portal.result) != DuckDBSuccess) {
        out.error = FromDuckDb(duckdb_result_error(&portal.result)
                                   ? duckdb_result_error(&portal.result)
                                   : "failed");
        portal.finished = true;
        return out;
      }
      portal.has_result = true;
    }
    const size_t n = portal.columns.size();
    std::vector<std::optional<std::string_view>> values(n);
    const std::vector<PreparedQuery::Rendered>& render = portal.query->render;
    std::vector<char> bufs(n * 32);  // the row's values written here
    int64_t sent = 0;
    while (!portal.finished) {
      if (!portal.chunk) {
        portal.chunk = duckdb_fetch_chunk(portal.result);
        portal.chunk_pos = 0;
        if (!portal.chunk) {
          portal.finished = true;
          if (const char* e = duckdb_result_error(&portal.result); e && *e) {
            out.error = FromDuckDb(e);
            return out;
          }
          break;
        }
      }
      idx_t size = duckdb_data_chunk_get_size(portal.chunk);
      std::vector<const void*> data(n);
      std::vector<uint64_t*> validity(n);
      for (idx_t c = 0; c < n; ++c) {
        duckdb_vector v = duckdb_data_chunk_get_vector(portal.chunk, c);
        data[c] = duckdb_vector_get_data(v);
        validity[c] = duckdb_vector_get_validity(v);
      }
      while (portal.chunk_pos < size) {
        if (max_rows > 0 && sent >= max_rows) {
          *suspended = true;
          return out;
        }
        idx_t r = portal.chunk_pos++;
        for (idx_t c = 0; c < n; ++c) {
          if (validity[c] && !duckdb_validity_row_is_valid(validity[c], r)) {
            values[c] = std::nullopt;
          } else {
            const PreparedQuery::Rendered& how = render[c];
            values[c] = RenderValue(how.kind, how.scale, how.whole, data[c], r, &bufs[c * 32]);
          }
        }
        if (Status st = sink.Row(values); !st.ok()) {
          out.error = FromStatus(st);
          return out;
        }
        ++sent;
        ++portal.rows;
      }
      duckdb_destroy_data_chunk(&portal.chunk);
      portal.chunk = nullptr;
    }
    out.has_rows = true;
    out.rows = portal.rows;
    out.tag = "SELECT " + std::to_string(portal.rows);
    return out;
  }

  // Runs a query (as the client wrote it), streaming its rows to `sink` as PostgreSQL text.
  Outcome Stream(std::string_view statement, ResultSink& sink) {
    Outcome out;
    Portal portal;
    if (auto e = PrepareWithParams(statement, {}, portal)) {
      out.error = std::move(e);
      return out;
    }
    if (portal.params > 0) {
      out.error = Err("42P02", "there is no parameter $1");
      return out;
    }
    if (Status st = sink.Columns(portal.columns); !st.ok()) {
      out.error = FromStatus(st);
      return out;
    }
    bool suspended;
    out = Fetch(portal, 0, sink, &suspended);
    out.has_rows = true;
    return out;
  }

  // Runs a statement whose result is small (EXPLAIN, SHOW, DESCRIBE), materialized.
  Outcome Materialized(const std::string& statement, ResultSink& sink, std::string tag) {
    Outcome out;
    duckdb_result r;
    if (duckdb_query(conn, statement.c_str(), &r) != DuckDBSuccess) {
      out.error = FromDuckDb(duckdb_result_error(&r) ? duckdb_result_error(&r) : "failed");
      duckdb_destroy_result(&r);
      return out;
    }
    idx_t n = duckdb_column_count(&r), rows = duckdb_row_count(&r);
    std::vector<ResultColumn> columns;
    for (idx_t c = 0; c < n; ++c) {
      duckdb_logical_type lt = duckdb_column_logical_type(&r, c);
      ResultColumn col = ColumnOf(duckdb_column_name(&r, c), lt);
      duckdb_destroy_logical_type(&lt);
      if (col.type == ColumnType::kBool) col.type = ColumnType::kText;  // sent as DuckDB writes it
      columns.push_back(std::move(col));
    }
    Status s = sink.Columns(columns);
    out.has_rows = true;
    std::vector<std::string> texts(n);
    std::vector<std::optional<std::string_view>> values(n);
    for (idx_t row = 0; row < rows && s.ok(); ++row) {
      for (idx_t c = 0; c < n; ++c) {
        if (duckdb_value_is_null(&r, c, row)) {
          values[c] = std::nullopt;
          continue;
        }
        char* v = duckdb_value_varchar(&r, c, row);
        texts[c] = v ? v : "";
        if (v) duckdb_free(v);
        values[c] = texts[c];
      }
      s = sink.Row(values);
      ++out.rows;
    }
    duckdb_destroy_result(&r);
    if (!s.ok()) out.error = FromStatus(s);
    out.tag = tag.empty() ? "SELECT " + std::to_string(out.rows) : tag;
    return out;
  }

  Outcome Set(std::string_view statement, bool reset) {
    Outcome out;
    out.tag = reset ? "RESET" : "SET";
    // SET [SESSION|LOCAL] name {=|TO} value ; RESET name
    std::string_view rest = AfterKeywords(statement, 1);
    auto kw = LeadingKeywords(rest, 1);
    if (!kw.empty() && (kw[0] == "SESSION" || kw[0] == "LOCAL")) rest = AfterKeywords(rest, 1);
    // PostgreSQL's other spellings: SET TIME ZONE x; SET [SESSION CHARACTERISTICS AS]
    // TRANSACTION ... (isolation levels and access modes, which lakemesh's transactions do not
    // vary: accepted, as BEGIN ISOLATION LEVEL ... is).
    std::string time_zone;
    auto words = LeadingKeywords(rest, 3);
    if (words.size() >= 2 && words[0] == "TIME" && words[1] == "ZONE") {
      time_zone = "timezone = " + std::string(AfterKeywords(rest, 2));
      rest = time_zone;
    } else if (!words.empty() && (words[0] == "TRANSACTION" || words[0] == "CHARACTERISTICS")) {
      return out;
    }
    size_t i = 0;
    while (i < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[i])) ||
                               rest[i] == '_' || rest[i] == '.')) {
      ++i;
    }
    std::string name(rest.substr(0, i));
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string_view value = rest.substr(i);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
      value.remove_prefix(1);
    }
    if (StartsWith(value, "=")) {
      value.remove_prefix(1);
    } else if (value.size() >= 2 && (value[0] == 't' || value[0] == 'T') &&
               (value[1] == 'o' || value[1] == 'O')) {
      value.remove_prefix(2);
    }
    std::string v(value);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(0, 1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
    if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) {
      const char q = v.front();
      std::string inner;
      for (size_t i = 1; i + 1 < v.size(); ++i) {
        inner.push_back(v[i]);
        if (v[i] == q && v[i + 1] == q && i + 2 < v.size()) ++i;  // 'it''s' is it's
      }
      v = std::move(inner);
    }
    if (name.empty()) {
      out.error = Err("42601", "SET needs a setting name");
      return out;
    }
    if (name == "lakemesh.ref") {
      if (reset || v.empty() || v == "DEFAULT" || v == "default") {
        ref = "main";
      } else {
        ref = v;
      }
      return out;
    }
    if (name == "lakemesh.eager_aggregation") {  // auto (by statistics), on, off
      std::string mode = v;
      std::transform(mode.begin(), mode.end(), mode.begin(), ::tolower);
      if (mode == "true") mode = "on";
      if (mode == "false") mode = "off";
      if (reset || mode == "default") {
        settings.erase(name);
      } else if (mode == "auto" || mode == "on" || mode == "off") {
        settings[name] = mode;
      } else {
        out.error = Err("22023", "invalid value for parameter \"lakemesh.eager_aggregation\": \"" +
                                     v + "\" (auto, on or off)");
      }
      return out;
    }
    if (name == "lakemesh.commit_message") {  // the message of the next transactions' commits
      if (reset) {
        settings.erase(name);
      } else {
        settings[name] = v;
      }
      return out;
    }
    // PostgreSQL settings that drivers, tools and pg_dump's scripts set; kept for SHOW, no
    // effect on DuckDB. Names with a dot are an application's own variables (PostgreSQL's
    // custom settings), kept likewise; lakemesh's own are those above.
    static const std::set<std::string> kPg = {
        "application_name", "client_encoding", "datestyle", "extra_float_digits",
        "search_path", "statement_timeout", "timezone", "intervalstyle",
        "standard_conforming_strings", "client_min_messages", "lock_timeout",
        "idle_in_transaction_session_timeout", "bytea_output", "jit",
        "default_transaction_isolation", "transaction_isolation", "check_function_bodies",
        "xmloption", "row_security", "default_tablespace", "default_table_access_method",
        "synchronous_commit", "work_mem", "maintenance_work_mem", "temp_buffers",
        "session_replication_role", "escape_string_warning", "default_with_oids",
        "lc_messages", "lc_monetary", "lc_numeric", "lc_time", "temp_tablespaces",
        "max_parallel_workers_per_gather", "plan_cache_mode", "enable_seqscan",
        "enable_indexscan", "enable_bitmapscan", "enable_nestloop", "enable_hashjoin",
        "enable_mergejoin", "random_page_cost", "effective_cache_size", "geqo",
        "default_transaction_read_only", "default_transaction_deferrable",
        "transaction_read_only", "idle_session_timeout", "tcp_keepalives_idle",
        "tcp_keepalives_interval", "tcp_keepalives_count", "gin_fuzzy_search_limit",
        "cursor_tuple_fraction", "from_collapse_limit", "join_collapse_limit",
        "constraint_exclusion", "default_statistics_target", "vacuum_cost_delay",
        "trace_sort", "log_statement", "log_min_duration_statement", "timezone_abbreviations"};
    const bool custom = name.find('.') != std::string::npos && name.rfind("lakemesh.", 0) != 0;
    if (!kPg.count(name) && !custom) {
      if (engine.duckdb_settings.count(name)) {
        out.error = Err("42501", "setting \"" + name + "\" cannot be changed: DuckDB's settings "
                                 "are lakemesh's (lakemesh.ref selects the ref unqualified "
                                 "tables read)");
      } else {
        out.error = Err("42704", "unrecognized configuration parameter \"" + name + "\"");
      }
      return out;
    }
    if (reset) {
      settings.erase(name);
    } else {
      settings[name] = v;
    }
    if (name == "search_path") {
      // The first entry that is a domain becomes the domain of unqualified table names (what
      // DBeaver's "active schema" and `SET search_path TO sales` mean); "$user", public and
      // others are passed over.
      default_domain.clear();
      if (!reset) {
        auto domains = engine.catalog.ListNamespaces(ref, {});
        for (std::string entry : SplitTopLevel(v, ',')) {
          if (entry.size() >= 2 && (entry.front() == '"' || entry.front() == '\'') &&
              entry.back() == entry.front()) {
            entry = entry.substr(1, entry.size() - 2);
          }
          bool is_domain = false;
          if (domains.ok()) {
            for (const auto& ns : *domains) is_domain = is_domain || (ns.size() == 1 && ns[0] == entry);
          }
          if (is_domain) {
            default_domain = entry;
            break;
          }
        }
      }
    }
    return out;
  }

  // A setting's value as SHOW gives it (nullopt: no such setting).
  std::optional<std::string> SettingValue(const std::string& lower) const {
    if (lower == "lakemesh.ref") return ref;
    if (auto it = settings.find(lower); it != settings.end()) return it->second;
    if (lower == "lakemesh.eager_aggregation") return "auto";
    if (lower == "server_version") return "16.0";
    if (lower == "server_version_num") return "160000";
    if (lower == "max_index_keys") return "32";
    if (lower == "timezone") return "UTC";
    if (lower == "client_encoding" || lower == "server_encoding") return "UTF8";
    if (lower == "transaction_isolation" || lower == "default_transaction_isolation") {
      return "read committed";
    }
    if (lower == "standard_conforming_strings") return "on";
    if (lower == "search_path") return "\"$user\", public";
    if (lower == "statement_timeout") return "0";
    return std::nullopt;
  }

  // SHOW ALL: every setting SHOW knows, with what it is for, as PostgreSQL lists them.
  Outcome ShowAll(ResultSink& sink) {
    static const std::map<std::string, std::string> kAbout = {
        {"lakemesh.ref", "The ref (branch, tag, commit) tables without one are read at."},
        {"lakemesh.eager_aggregation",
         "Aggregating a joined table by its join keys before the join: auto, on or off."},
        {"lakemesh.commit_message", "The message of the next transactions' commits."},
        {"server_version", "The PostgreSQL version clients are told."},
        {"server_encoding", "The server's character set."},
        {"client_encoding", "The client's character set."},
        {"timezone", "The time zone timestamps are shown in."},
        {"transaction_isolation", "The current transaction's isolation level."},
        {"default_transaction_isolation", "The isolation level of new transactions."},
        {"standard_conforming_strings", "Backslashes in ordinary string literals are literal."},
        {"search_path", "The first domain in it is where unqualified table names are looked up."},
        {"statement_timeout", "The longest a statement may run (0: no limit)."}};
    std::set<std::string> names;
    for (const auto& [n, about] : kAbout) names.insert(n);
    for (const auto& [n, v] : settings) names.insert(n);
    Outcome out;
    Status st = sink.Columns({{"name", ColumnType::kText}, {"setting", ColumnType::kText},
                              {"description", ColumnType::kText}});
    for (const std::string& n : names) {
      auto value = SettingValue(n);
      if (!value || !st.ok()) continue;
      auto about = kAbout.find(n);
      const std::string description = about == kAbout.end() ? "" : about->second;
      st = sink.Row({std::string_view(n), std::string_view(*value),
                     std::string_view(description)});
      ++out.rows;
    }
    if (!st.ok()) out.error = FromStatus(st);
    out.has_rows = true;
    out.tag = "SHOW";
    return out;
  }

  Outcome Show(const std::string& name, ResultSink& sink) {
    Outcome out;
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    auto setting = SettingValue(lower);
    if (!setting) {
      out.error = Err("42704", "unrecognized configuration parameter \"" + name + "\"");
      return out;
    }
    const std::string value = *setting;
    Status s = sink.Columns({{lower, ColumnType::kText}});
    if (s.ok()) s = sink.Row({std::string_view(value)});
    if (!s.ok()) out.error = FromStatus(s);
    out.has_rows = true;
    out.rows = 1;
    out.tag = "SHOW";
    return out;
  }
};

}  // namespace lakemesh::sql
