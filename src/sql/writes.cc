// The SQL engine's write path: each statement becomes Iceberg commits through the catalog.
//
//   CREATE SCHEMA d                       a new domain (repository)
//   CREATE TABLE d.t (cols) [partitioning] | CREATE TABLE d.t [partitioning] AS query
//   DROP TABLE [IF EXISTS] d.t             ALTER TABLE d.t ADD/DROP/RENAME COLUMN, RENAME TO
//   INSERT INTO d.t [(cols)] query         new Parquet data files, one append snapshot
//   DELETE FROM d.t [WHERE c]              copy-on-write of the files with matching rows
//   UPDATE d.t SET col = e, ... [WHERE c]  likewise
//   COPY d.t [(cols)] FROM STDIN           the client's rows (CopyIn), one append snapshot
//
// The target is `domain.table` on the session's ref, or `domain."table@branch"`; writing at a
// tag or a commit is refused (SQLSTATE 25006). Partitioning is given the Trino way, WITH
// (partitioning = ARRAY['day(ts)', 'bucket(id, 16)']), or the Spark way, PARTITIONED BY
// (days(ts), bucket(16, id)).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "sql/engine_impl.h"
#include "base/files.h"
#include "table/metadata.h"
#include "versioning/buckets.h"
#include "versioning/repository.h"

namespace lakemesh::sql {
namespace {

struct Target {
  std::string domain, table, branch;
  catalog::TableIdent ident;
};

// `catalogs`: the catalog names that may come first (lakemesh.sales.orders); `domain`: the
// domain of a name without one (empty: a domain is required).
std::optional<SqlError> ParseTarget(std::string_view s, size_t* pos, const std::string& ref,
                                    const std::vector<std::string>& catalogs,
                                    const std::string& domain, Target* out) {
  auto name = ParseName(s, pos);
  if (!name) return Err("42601", "syntax error: a table name (domain.table) is expected");
  std::vector<std::string> parts = *name;
  if (parts.size() == 3 && std::find(catalogs.begin(), catalogs.end(), parts[0]) != catalogs.end()) {
    parts.erase(parts.begin());
  }
  if (parts.size() == 1 && !domain.empty()) parts.insert(parts.begin(), domain);
  if (parts.size() != 2) {
    return Err("42601", "name the table with its domain: domain.table (got " +
                            std::to_string(parts.size()) + " part(s))");
  }
  auto [table, at] = SplitRef(parts[1]);
  out->domain = parts[0];
  out->table = table;
  out->branch = at.empty() ? ref : at;
  out->ident = catalog::TableIdent{{out->domain}, out->table};
  return std::nullopt;
}

// A catalog error for a write: a ref that is not a branch is SQLSTATE 25006.
SqlError WriteError(const Status& st) {
  if (st.code() == ErrorCode::kInvalidArgument &&
      (st.message().find("is not a branch") != std::string::npos ||
       st.message().find("only branches can be written") != std::string::npos)) {
    return Err("25006", st.message());
  }
  if (st.code() == ErrorCode::kAlreadyExists) return Err("42P07", st.message());
  if (st.code() == ErrorCode::kConflict) return Err("40001", st.message());
  return FromStatus(st);
}

Outcome Failed(SqlError e) {
  Outcome o;
  o.error = std::move(e);
  return o;
}

Outcome Done(std::string tag) {
  Outcome o;
  o.tag = std::move(tag);
  return o;
}

// --- DuckDB types as Iceberg types --------------------------------------------------------------

// Reads a DuckDB type name ("BIGINT", "DECIMAL(9,2)", "INTEGER[]", "STRUCT(a INTEGER, b
// VARCHAR)", "MAP(VARCHAR, BIGINT)") as an Iceberg type, giving nested fields ids from `*next`.
Result<Json> IcebergType(std::string t, int32_t* next) {
  while (!t.empty() && t.back() == ' ') t.pop_back();
  while (!t.empty() && t.front() == ' ') t.erase(0, 1);
  if (t.size() > 2 && t.substr(t.size() - 2) == "[]") {
    int32_t element_id = (*next)++;
    LM_ASSIGN_OR_RETURN(Json element, IcebergType(t.substr(0, t.size() - 2), next));
    return Json{{"type", "list"}, {"element-id", element_id}, {"element", element},
                {"element-required", false}};
  }
  std::string upper = t;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto inner = [&](size_t prefix) { return t.substr(prefix, t.size() - prefix - 1); };
  if (upper.rfind("STRUCT(", 0) == 0 && upper.back() == ')') {
    Json fields = Json::array();
    for (const std::string& f : SplitTopLevel(inner(7), ',')) {
      size_t pos = 0;
      auto name = ParseName(f, &pos);
      if (!name || name->size() != 1) return InvalidArgument("cannot read struct field '" + f + "'");
      int32_t id = (*next)++;
      LM_ASSIGN_OR_RETURN(Json type, IcebergType(f.substr(pos), next));
      fields.push_back({{"id", id}, {"name", (*name)[0]}, {"required", false}, {"type", type}});
    }
    return Json{{"type", "struct"}, {"fields", fields}};
  }
  if (upper.rfind("MAP(", 0) == 0 && upper.back() == ')') {
    auto kv = SplitTopLevel(inner(4), ',');
    if (kv.size() != 2) return InvalidArgument("cannot read map type '" + t + "'");
    int32_t key_id = (*next)++, value_id = (*next)++;
    LM_ASSIGN_OR_RETURN(Json key, IcebergType(kv[0], next));
    LM_ASSIGN_OR_RETURN(Json value, IcebergType(kv[1], next));
    return Json{{"type", "map"}, {"key-id", key_id}, {"key", key}, {"value-id", value_id},
                {"value", value}, {"value-required", false}};
  }
  if (upper.rfind("DECIMAL(", 0) == 0) {
    auto ps = SplitTopLevel(inner(8), ',');
    if (ps.size() != 2) return InvalidArgument("cannot read '" + t + "'");
    return Json("decimal(" + ps[0] + ", " + ps[1] + ")");
  }
  static const std::map<std::string, std::string> kTypes = {
      {"BOOLEAN", "boolean"}, {"TINYINT", "int"}, {"SMALLINT", "int"}, {"INTEGER", "int"},
      {"UTINYINT", "int"}, {"USMALLINT", "int"}, {"BIGINT", "long"}, {"UINTEGER", "long"},
      {"FLOAT", "float"}, {"DOUBLE", "double"}, {"DATE", "date"}, {"TIME", "time"},
      {"TIMESTAMP", "timestamp"}, {"TIMESTAMP WITH TIME ZONE", "timestamptz"},
      {"TIMESTAMP_NS", "timestamp_ns"}, {"VARCHAR", "string"}, {"BLOB", "binary"},
      {"UUID", "uuid"}, {"HUGEINT", "decimal(38, 0)"}, {"UBIGINT", "decimal(20, 0)"},
      {"TIMESTAMP_S", "timestamp"}, {"TIMESTAMP_MS", "timestamp"}, {"JSON", "string"}};
  auto it = kTypes.find(upper);
  if (it == kTypes.end()) {
    return InvalidArgument("type " + t + " has no Iceberg equivalent");
  }
  return Json(it->second);
}

// A table schema from (name, DuckDB type, required) columns, ids 1..n then nested ones.
Result<Json> IcebergSchema(const std::vector<std::tuple<std::string, std::string, bool>>& cols) {
  int32_t next = static_cast<int32_t>(cols.size()) + 1;
  Json fields = Json::array();
  int32_t id = 1;
  std::set<std::string> seen;
  for (const auto& [name, type, required] : cols) {
    if (!seen.insert(name).second) return InvalidArgument("column \"" + name + "\" is given twice");
    LM_ASSIGN_OR_RETURN(Json t, IcebergType(type, &next));
    fields.push_back({{"id", id++}, {"name", name}, {"required", required}, {"type", t}});
  }
  return Json{{"type", "struct"}, {"schema-id", 0}, {"fields", fields}};
}

// Partition fields from the Trino form ('day(ts)', 'bucket(id, 16)', 'region') or the Spark
// form (days(ts), bucket(16, id)), against `schema`.
Result<Json> PartitionSpecOf(const std::vector<std::string>& items, const Json& schema) {
  Json fields = Json::array();
  auto source = [&](const std::string& name) -> Result<int32_t> {
    for (const Json& f : schema["fields"]) {
      if (f.value("name", std::string()) == name) return f.value("id", 0);
    }
    return InvalidArgument("partition column \"" + name + "\" is not a column of the table");
  };
  for (std::string item : items) {
    if (item.size() >= 2 && item.front() == '\'' && item.back() == '\'') {
      item = item.substr(1, item.size() - 2);
    }
    size_t pos = 0;
    auto fn = ParseName(item, &pos);
    if (!fn || fn->size() != 1) return InvalidArgument("cannot read partition field '" + item + "'");
    std::string f = (*fn)[0];
    auto args = ParseParenthesized(item, &pos);
    if (!args) {  // identity
      LM_ASSIGN_OR_RETURN(int32_t id, source(f));
      fields.push_back({{"source-id", id}, {"name", f}, {"transform", "identity"}});
      continue;
    }
    std::vector<std::string> a = SplitTopLevel(*args, ',');
    auto column_of = [&](const std::string& text) -> Result<std::string> {
      size_t p = 0;
      auto n = ParseName(text, &p);
      if (!n || n->size() != 1) return InvalidArgument("cannot read partition field '" + item + "'");
      return (*n)[0];
    };
    static const std::map<std::string, std::string> kTime = {
        {"year", "year"},   {"years", "year"}, {"month", "month"}, {"months", "month"},
        {"day", "day"},     {"days", "day"},   {"date", "day"},    {"hour", "hour"},
        {"hours", "hour"},  {"void", "void"},  {"identity", "identity"}};
    if (auto it = kTime.find(f); it != kTime.end() && a.size() == 1) {
      LM_ASSIGN_OR_RETURN(std::string col, column_of(a[0]));
      LM_ASSIGN_OR_RETURN(int32_t id, source(col));
      fields.push_back({{"source-id", id},
                        {"name", it->second == "identity" ? col : col + "_" + it->second},
                        {"transform", it->second}});
      continue;
    }
    if ((f == "bucket" || f == "truncate") && a.size() == 2) {
      // The width is whichever argument is a number: bucket(id, 16) or bucket(16, id).
      bool first_number = !a[0].empty() && std::isdigit(static_cast<unsigned char>(a[0][0]));
      const std::string& n = first_number ? a[0] : a[1];
      LM_ASSIGN_OR_RETURN(std::string col, column_of(first_number ? a[1] : a[0]));
      LM_ASSIGN_OR_RETURN(int32_t id, source(col));
      char* end = nullptr;
      long width = std::strtol(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0' || width <= 0) {
        return InvalidArgument("partition field '" + item + "' needs a positive width");
      }
      fields.push_back({{"source-id", id},
                        {"name", col + (f == "bucket" ? "_bucket" : "_trunc")},
                        {"transform", f + "[" + std::to_string(width) + "]"}});
      continue;
    }
    return InvalidArgument("unknown partition transform '" + item +
                           "' (year, month, day, hour, bucket, truncate, identity)");
  }
  return Json{{"fields", fields}};
}

// The partitioning clause of a CREATE TABLE starting at `*pos`, if any: WITH (partitioning =
// ARRAY[...]) or PARTITIONED BY (...).
std::optional<SqlError> ParsePartitioning(std::string_view s, size_t* pos,
                                          std::vector<std::string>* items) {
  size_t p = *pos;
  if (ConsumeKeyword(s, &p, "PARTITIONED")) {
    if (!ConsumeKeyword(s, &p, "BY")) return Err("42601", "syntax error: PARTITIONED BY (...)");
    auto list = ParseParenthesized(s, &p);
    if (!list) return Err("42601", "syntax error: PARTITIONED BY (...)");
    *items = SplitTopLevel(*list, ',');
    *pos = p;
    return std::nullopt;
  }
  if (ConsumeKeyword(s, &p, "WITH")) {
    auto props = ParseParenthesized(s, &p);
    if (!props) return Err("42601", "syntax error: WITH (property = value, ...)");
    for (const std::string& prop : SplitTopLevel(*props, ',')) {
      size_t eq = prop.find('=');
      std::string key = prop.substr(0, eq);
      while (!key.empty() && key.back() == ' ') key.pop_back();
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (eq == std::string::npos) return Err("42601", "syntax error in WITH property '" + prop + "'");
      if (key != "partitioning" && key != "partitioned_by") {
        return Err("0A000", "table property '" + key + "' is not supported (partitioning is)");
      }
      std::string value = prop.substr(eq + 1);
      size_t open = value.find('['), close = value.rfind(']');
      if (open == std::string::npos || close == std::string::npos || close < open) {
        return Err("42601", "partitioning takes ARRAY['day(ts)', ...]");
      }
      *items = SplitTopLevel(std::string_view(value).substr(open + 1, close - open - 1), ',');
    }
    *pos = p;
  }
  return std::nullopt;
}

std::string Trimmed(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// What follows a MERGE's source, "[[AS] alias] ON condition WHEN ...": the source's alias as
// written (may be empty) and the ON condition, up to the first WHEN that is neither inside
// parentheses nor part of a CASE. False when there is no such ON ... WHEN.
bool SplitMergeOn(std::string_view rest, std::string* alias, std::string* cond) {
  size_t on_at = std::string_view::npos, when_at = std::string_view::npos;
  int depth = 0, cases = 0;
  auto word_is = [](std::string_view w, const char* k) {
    return w.size() == std::strlen(k) && std::equal(w.begin(), w.end(), k, [](char a, char b) {
             return std::toupper(static_cast<unsigned char>(a)) == b;
           });
  };
  for (size_t i = 0; i < rest.size() && when_at == std::string_view::npos;) {
    char c = rest[i];
    if (c == '\'' || c == '"') {  // a string or quoted name ('' and "" escape themselves)
      for (++i; i < rest.size(); ++i) {
        if (rest[i] == c) {
          if (i + 1 < rest.size() && rest[i + 1] == c) {
            ++i;
            continue;
          }
          ++i;
          break;
        }
      }
      continue;
    }
    if (c == '-' && i + 1 < rest.size() && rest[i + 1] == '-') {
      while (i < rest.size() && rest[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < rest.size() && rest[i + 1] == '*') {
      size_t end = rest.find("*/", i + 2);
      i = end == std::string_view::npos ? rest.size() : end + 2;
      continue;
    }
    if (c == '(' || c == ')') {
      depth += c == '(' ? 1 : -1;
      ++i;
      continue;
    }
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[i])) || rest[i] == '_' || rest[i] == '$')) ++i;
      std::string_view w = rest.substr(start, i - start);
      if (depth != 0) continue;
      if (on_at == std::string_view::npos) {
        if (word_is(w, "ON")) on_at = start;
      } else if (word_is(w, "CASE")) {
        ++cases;
      } else if (word_is(w, "END") && cases > 0) {
        --cases;
      } else if (word_is(w, "WHEN") && cases == 0) {
        when_at = start;
      }
      continue;
    }
    ++i;
  }
  if (on_at == std::string_view::npos || when_at == std::string_view::npos) return false;
  *alias = Trimmed(rest.substr(0, on_at));
  *cond = Trimmed(rest.substr(on_at + 2, when_at - on_at - 2));
  return !cond->empty();
}

// Whether a MERGE's clauses include WHEN NOT MATCHED BY SOURCE (which changes rows that match
// nothing, wherever they are).
bool MergesUnmatchedTargetRows(std::string_view rest) {
  std::string flat;
  for (char c : rest) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!flat.empty() && flat.back() != ' ') flat += ' ';
    } else {
      flat += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return flat.find("NOT MATCHED BY SOURCE") != std::string::npos;
}

// The part of `scan` with the data files `which` (each with its delete files).
LocalScan SubScan(const LocalScan& scan, const std::vector<size_t>& which) {
  LocalScan out;
  out.delete_files = scan.delete_files;
  for (size_t i : which) {
    out.data.push_back(scan.data[i]);
    out.deletes.push_back(i < scan.deletes.size() ? scan.deletes[i] : std::vector<size_t>{});
  }
  return out;
}

}  // namespace

// --- statements -----------------------------------------------------------------------------

namespace {

// Everything the write statements share: the session, scratch space, the table's files.
struct Writer {
  Session::Impl& s;
  Engine::Impl& e;
  explicit Writer(Session::Impl& session) : s(session), e(session.engine) {}

  // The statement's target table; inside a transaction, on the transaction's branch.
  std::optional<SqlError> ParseTarget(std::string_view st, size_t* pos, const std::string& ref,
                                      Target* out) {
    if (auto err = ::lakemesh::sql::ParseTarget(st, pos, ref, e.options.catalog_names,
                                                s.default_domain, out)) {
      return err;
    }
    if (s.transaction) {
      auto branch = s.TransactionBranch(out->domain, out->branch);
      if (!branch.ok()) {
        const Status& bst = branch.status();
        bool not_branch = bst.message().find("is not a branch") != std::string::npos;
        return bst.code() == ErrorCode::kInvalidArgument && !not_branch ? Err("0A000", bst.message())
                                                                        : WriteError(bst);
      }
      out->branch = *branch;
    }
    return std::nullopt;
  }

  std::string ScratchDir() {
    std::string dir = e.options.scratch_dir + "/write-" + NewUuid();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    return dir;
  }

  // A one-row-per-column description of a query: (name, DuckDB type).
  std::optional<SqlError> QueryColumns(const std::string& query,
                                       std::vector<std::pair<std::string, std::string>>* out) {
    duckdb_result r;
    std::string q = "DESCRIBE " + query;
    if (duckdb_query(s.conn, q.c_str(), &r) != DuckDBSuccess) {
      SqlError err = FromDuckDb(duckdb_result_error(&r) ? duckdb_result_error(&r) : "failed");
      duckdb_destroy_result(&r);
      return err;
    }
    for (idx_t i = 0; i < duckdb_row_count(&r); ++i) {
      char* name = duckdb_value_varchar(&r, 0, i);
      char* type = duckdb_value_varchar(&r, 1, i);
      out->emplace_back(name ? name : "", type ? type : "");
      duckdb_free(name);
      duckdb_free(type);
    }
    duckdb_destroy_result(&r);
    return std::nullopt;
  }

  // Runs `query` (resolved) into data files of table `t`, stored under its location.
  std::optional<SqlError> WriteFiles(const Target& t, const catalog::LoadedTable& table,
                                     const std::string& select, std::vector<table::DataFile>* out,
                                     int64_t* rows) {
    const Json* schema = table::FindSchema(table.metadata);
    if (!schema) return Err("XX000", "table metadata has no current schema");
    auto spec = table::TableSpec(table.metadata, table.metadata.value("default-spec-id", 0));
    if (!spec.ok()) return FromStatus(spec.status());
    const std::string dir = ScratchDir();
    auto conn = Connection::Borrow(s.conn);
    auto written = WriteQueryRows(*conn, select, *schema, *spec, dir);
    std::error_code ec;
    if (!written.ok()) {
      std::filesystem::remove_all(dir, ec);
      const std::string& m = written.status().message();
      return m.find("null value") != std::string::npos ? Err("23502", m) : FromDuckDb(m);
    }
    for (auto& w : *written) {
      if (Status st = e.catalog.StoreDataFile(table.metadata, w.local_path, &w.file); !st.ok()) {
        std::filesystem::remove_all(dir, ec);
        return FromStatus(st);
      }
      *rows += w.file.record_count;
      out->push_back(std::move(w.file));
    }
    std::filesystem::remove_all(dir, ec);
    (void)t;
    return std::nullopt;
  }

  // SELECT over `query`'s rows cast to the table's columns: positionally, or into `names`.
  std::optional<SqlError> CastToTable(const Json& schema, const std::string& query,
                                      const std::vector<std::string>& names, std::string* out) {
    auto cols = DuckColumns(schema);
    if (!cols.ok()) return FromStatus(cols.status());
    std::vector<std::pair<std::string, std::string>> described;
    if (auto err = QueryColumns(query, &described)) return err;
    const size_t n = described.size();
    std::vector<std::string> targets = names;
    if (targets.empty()) {
      for (const auto& c : *cols) targets.push_back(c.first);
    }
    if (n > targets.size()) return Err("42601", "INSERT has more expressions than target columns");
    if (n < targets.size() && !names.empty()) {
      return Err("42601", "INSERT has more target columns than expressions");
    }
    std::string aliases;
    for (size_t i = 0; i < n; ++i) aliases += (i ? ", " : "") + std::string("c") + std::to_string(i);
    std::string select;
    for (const auto& [name, type] : *cols) {
      auto it = std::find(targets.begin(), targets.end(), name);
      size_t k = static_cast<size_t>(it - targets.begin());
      std::string value = it == targets.end() || k >= n ? "NULL" : "c" + std::to_string(k);
      if (value != "NULL" && described[k].second == "VARCHAR" && type.size() > 2 &&
          type.compare(type.size() - 2, 2, "[]") == 0) {
        value = "pg_array_as_list(" + value + ")";  // '{a,b}', as PostgreSQL writes arrays
      }
      select += (select.empty() ? "" : ", ") + std::string("CAST(") + value + " AS " + type +
                ") AS " + Ident(name);
    }
    for (const std::string& t : targets) {
      if (std::none_of(cols->begin(), cols->end(), [&](const auto& c) { return c.first == t; })) {
        return Err("42703", "column \"" + t + "\" of the table does not exist");
      }
    }
    *out = "SELECT " + select + " FROM (" + query + "\n) AS __lm_src(" + aliases + ")";
    return std::nullopt;
  }

  // A condition or expression list resolved as the session reads it: `SELECT <what> FROM
  // <target> WHERE <cond>` goes through Resolve (views, allowed functions, the session's ref),
  // and the pieces come back from the resolved text.
  std::optional<SqlError> ResolveWhere(const Target& t, const std::string& alias,
                                       const std::string& cond, std::string* out) {
    std::string resolved;
    std::string q = "SELECT 1 FROM " + Ident(t.domain) + "." +
                    Ident(t.branch == s.ref ? t.table : t.table + "@" + t.branch) + " AS " +
                    Ident(alias) + " WHERE (" + cond + ")";
    if (auto err = s.Resolve(q, &resolved)) return err;
    size_t where = FindTopLevelKeyword(resolved, "WHERE");
    if (where == std::string::npos) return Err("XX000", "cannot read the resolved condition");
    *out = resolved.substr(where + 5);
    return std::nullopt;
  }

  // `[AS] alias` after a statement's table, unless `next` (the keyword that follows) comes
  // first; `dflt` (the table's name) when there is none.
  static std::string ParseAlias(std::string_view st, size_t* pos, const char* next,
                                const std::string& dflt) {
    size_t p = *pos;
    bool as = ConsumeKeyword(st, &p, "AS");
    size_t k = p;
    if (!as && (ConsumeKeyword(st, &k, next) || SkipSpace(st, p) >= st.size())) return dflt;
    auto name = ParseName(st, &p);
    if (!name || name->size() != 1) return dflt;
    *pos = p;
    return (*name)[0];
  }

  // The table's files at `snapshot`, local, for a copy-on-write pass.
  std::optional<SqlError> LocalFiles(const Target& t, int64_t snapshot, LocalScan* scan) {
    table::ScanOptions so;
    so.snapshot_id = snapshot;
    auto plan = e.catalog.PlanScan(t.branch, t.ident, so);
    if (!plan.ok()) return FromStatus(plan.status());
    auto local = e.LocalScanOf(*plan);
    if (!local.ok()) return FromStatus(local.status());
    *scan = std::move(*local);
    return std::nullopt;
  }

  // A copy-on-write rewrite committed, provided the table did not move meanwhile.
  // `expect`: the snapshot the statement's RETURNING rows were read from, which the rewrite
  // must start from too.
  Outcome Rewrite(const Target& t, const char* verb,
                  const std::function<Result<RewriteResult>(Connection&, const LocalScan&,
                                                            const Json&,
                                                            const table::PartitionSpec&,
                                                            const std::string&)>& op,
                  std::optional<int64_t> expect = std::nullopt) {
    auto table = e.catalog.LoadTable(t.branch, t.ident);
    if (!table.ok()) return Failed(FromStatus(table.status()));
    int64_t snapshot = table->metadata.value("current-snapshot-id", int64_t{-1});
    if (expect && *expect != snapshot) {
      return Failed(Err("40001", "could not serialize access due to concurrent update of \"" +
                                     t.domain + "." + t.table + "\": run the statement again"));
    }
    const Json* schema = table::FindSchema(table->metadata);
    if (!schema) return Failed(Err("XX000", "table metadata has no current schema"));
    auto spec = table::TableSpec(table->metadata, table->metadata.value("default-spec-id", 0));
    if (!spec.ok()) return Failed(FromStatus(spec.status()));
    if (snapshot < 0) return Done(std::string(verb) + " 0");
    LocalScan scan;
    if (auto err = LocalFiles(t, snapshot, &scan)) return Failed(*err);
    const std::string dir = ScratchDir();
    std::error_code ec;
    auto conn = Connection::Borrow(s.conn);
    auto result = op(*conn, scan, *schema, *spec, dir);
    if (!result.ok()) {
      std::filesystem::remove_all(dir, ec);
      return Failed(FromDuckDb(result.status().message()));
    }
    std::vector<table::DataFile> added;
    for (auto& w : result->added) {
      if (Status st = e.catalog.StoreDataFile(table->metadata, w.local_path, &w.file); !st.ok()) {
        std::filesystem::remove_all(dir, ec);
        return Failed(FromStatus(st));
      }
      added.push_back(std::move(w.file));
    }
    std::filesystem::remove_all(dir, ec);
    if (!result->removed.empty()) {
      auto committed = e.catalog.RewriteFiles(t.branch, t.ident, snapshot, result->removed, added,
                                              s.user);
      if (!committed.ok()) return Failed(WriteError(committed.status()));
    }
    return Done(std::string(verb) + " " + std::to_string(result->rows));
  }

  // INSERT ...; with `returning` (the rows of INSERT ... RETURNING go there).
  Outcome Insert(std::string_view st, ResultSink* returning_sink) {
    std::string returning;
    if (size_t r = FindTopLevelKeyword(st, "RETURNING"); r != std::string::npos) {
      returning = Trimmed(st.substr(r + 9));
      st = st.substr(0, r);
      if (returning.empty()) return Failed(Err("42601", "syntax error at end of RETURNING"));
    }
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "INSERT");
    if (!ConsumeKeyword(st, &pos, "INTO")) return Failed(Err("42601", "syntax error: INSERT INTO"));
    Target t;
    if (auto err = ParseTarget(st, &pos, s.ref, &t)) return Failed(*err);
    std::vector<std::string> names;
    size_t save = pos;
    if (auto list = ParseParenthesized(st, &pos)) {
      // A column list, unless the parenthesis opens the query itself: INSERT INTO t (SELECT ...).
      auto kw = LeadingKeywords(*list, 1);
      if (!kw.empty() && (kw[0] == "SELECT" || kw[0] == "WITH" || kw[0] == "VALUES")) {
        pos = save;
      } else {
        for (const std::string& n : SplitTopLevel(*list, ',')) {
          size_t p = 0;
          auto name = ParseName(n, &p);
          if (!name || name->size() != 1) return Failed(Err("42601", "bad column name '" + n + "'"));
          names.push_back((*name)[0]);
        }
      }
    }
    std::string query = Trimmed(st.substr(pos));
    auto kw = LeadingKeywords(query, 1);
    if (kw.empty() || (kw[0] != "SELECT" && kw[0] != "WITH" && kw[0] != "VALUES" &&
                       kw[0] != "TABLE" && kw[0] != "FROM")) {
      return Failed(Err("42601", "syntax error: INSERT INTO table [(columns)] VALUES ... | SELECT ..."));
    }
    std::string resolved;
    if (auto err = s.Resolve(query, &resolved)) return Failed(*err);
    auto table = e.catalog.LoadTable(t.branch, t.ident);
    if (!table.ok()) return Failed(FromStatus(table.status()));
    const Json* schema = table::FindSchema(table->metadata);
    if (!schema) return Failed(Err("XX000", "table metadata has no current schema"));
    std::string select;
    if (auto err = CastToTable(*schema, resolved, names, &select)) return Failed(*err);
    // RETURNING: the rows are computed once, into a temporary table the files are written from
    // and the RETURNING list then reads (under the table's name, as the list may name it).
    const std::string kReturned = "__lm_returning";
    if (!returning.empty()) {
      if (Status st = e.Run(s.conn, "CREATE OR REPLACE TEMP TABLE " + kReturned + " AS " + select);
          !st.ok()) {
        return Failed(FromDuckDb(st.message()));
      }
      select = "SELECT * FROM temp." + kReturned;
    }
    auto drop = [&] {
      if (!returning.empty()) (void)e.Run(s.conn, "DROP TABLE IF EXISTS temp." + kReturned);
    };
    std::vector<table::DataFile> files;
    int64_t rows = 0;
    if (auto err = WriteFiles(t, *table, select, &files, &rows)) {
      drop();
      return Failed(*err);
    }
    Outcome out = Done("INSERT 0 " + std::to_string(rows));
    if (!returning.empty()) {
      // Sent before the commit: a RETURNING list that fails commits nothing.
      const std::string q =
          "SELECT " + returning + " FROM temp." + kReturned + " AS " + Ident(t.table);
      Outcome r = s.Stream(q, *returning_sink);
      s.ForgetQuery(q);  // the temporary table is another one next time
      drop();
      if (r.error) return r;
      out.has_rows = true;
    }
    if (!files.empty()) {
      auto committed = e.catalog.AppendFiles(t.branch, t.ident, files, s.user);
      if (!committed.ok()) return Failed(WriteError(committed.status()));
    }
    return out;
  }


  // The table COPY FROM STDIN writes to, and how many columns its rows have.
  // The columns of table `t` as DuckDB types them (name, type), in schema order.
  std::optional<SqlError> TableColumns(const Target& t,
                                       std::vector<std::pair<std::string, std::string>>* out) {
    auto table = e.catalog.LoadTable(t.branch, t.ident);
    if (!table.ok()) return FromStatus(table.status());
    const Json* schema = table::FindSchema(table->metadata);
    if (!schema) return Err("XX000", "table metadata has no current schema");
    auto cols = DuckColumns(*schema);
    if (!cols.ok()) return FromStatus(cols.status());
    *out = std::move(*cols);
    return std::nullopt;
  }

  std::optional<SqlError> CopyTarget(const CopyFromStdin& c, Target* t, size_t* columns) {
    size_t pos = 0;
    if (auto err = ParseTarget(c.table, &pos, s.ref, t)) return err;
    // Writing at a tag or a commit is refused before the client sends its rows.
    if (auto head = e.catalog.HeadOf(t->domain, t->branch); !head.ok()) {
      return WriteError(head.status());
    }
    std::vector<std::pair<std::string, std::string>> cols;
    if (auto err = TableColumns(*t, &cols)) return err;
    for (const std::string& name : c.columns) {
      if (std::none_of(cols.begin(), cols.end(), [&](const auto& k) { return k.first == name; })) {
        return Err("42703", "column \"" + name + "\" of relation \"" + t->table +
                                "\" does not exist");
      }
    }
    *columns = c.columns.empty() ? cols.size() : c.columns.size();
    return std::nullopt;
  }

  // A mistake in COPY's rows as PostgreSQL reports it, from DuckDB's CSV reader's error ("CSV
  // Error on Line: 2 / Original Line: ... / Error when converting column "c0". Could not convert
  // string "x" to 'BIGINT'" and a page of advice for its own options): the line (plus
  // `line_offset`, lines the reader did not see), the column by its name, the value.
  static SqlError CopyDataError(SqlError err, const std::vector<std::string>& names,
                                int64_t line_offset) {
    const std::string& m = err.message;
    size_t at = m.find("CSV Error on Line: ");
    if (at == std::string::npos) return err;
    int64_t line = std::atoll(m.c_str() + at + 19) + line_offset;
    auto rest_of_line = [&](const char* key) {
      size_t k = m.find(key);
      if (k == std::string::npos) return std::string();
      k += std::strlen(key);
      return m.substr(k, m.find('\n', k) - k);
    };
    std::string where = "line " + std::to_string(line);
    if (std::string conv = rest_of_line("Error when converting column \"c"); !conv.empty()) {
      size_t col = static_cast<size_t>(std::atoll(conv.c_str()));
      std::string value = rest_of_line("Could not convert string ");
      size_t to = value.rfind(" to ");
      std::string type = to == std::string::npos ? "" : value.substr(to + 4);
      if (to != std::string::npos) value = value.substr(0, to);
      if (type.size() >= 2 && type.front() == '\'') type = type.substr(1, type.size() - 2);
      std::string column = col < names.size() ? names[col] : "?";
      return Err("22P02", "invalid input syntax for type " + type + ": " + value + " (COPY " +
                              where + ", column " + column + ")");
    }
    if (std::string count = rest_of_line("Expected Number of Columns: "); !count.empty()) {
      return Err("22P04", "COPY " + where + " has the wrong number of columns (expected " +
                              count.substr(0, count.find(' ')) + ", found " +
                              rest_of_line(" Found: ") + ")");
    }
    // Any other mistake (an unterminated quote, bad UTF-8): the reader's sentence after the line
    // it quotes.
    std::string why = m.substr(0, m.find('\n'));
    if (size_t orig = m.find("Original Line:"); orig != std::string::npos) {
      if (size_t b = m.find('\n', orig); b != std::string::npos) {
        size_t end = m.find('\n', b + 1);
        why = m.substr(b + 1, end == std::string::npos ? std::string::npos : end - b - 1);
      }
    }
    return Err("22P04", "COPY " + where + ": " + why);
  }

  // Appends the rows of CSV file `file` (`columns` fields a row, read as `c` says) to table `t`
  // as one commit; `line_offset`: lines of the client's data the file does not have.
  Outcome CopyRows(const CopyFromStdin& c, const Target& t, size_t columns,
                   const std::string& file, int64_t line_offset) {
    auto table = e.catalog.LoadTable(t.branch, t.ident);
    if (!table.ok()) return Failed(FromStatus(table.status()));
    const Json* schema = table::FindSchema(table->metadata);
    if (!schema) return Failed(Err("XX000", "table metadata has no current schema"));
    auto cols = DuckColumns(*schema);
    if (!cols.ok()) return Failed(FromStatus(cols.status()));
    // The CSV reader converts primitive values itself, so that a bad one is reported with its
    // line; nested ones are read as text and cast.
    std::vector<std::string> names = c.columns;
    if (names.empty()) {
      for (const auto& col : *cols) names.push_back(col.first);
    }
    std::string fields;
    for (size_t i = 0; i < columns && i < names.size(); ++i) {
      std::string type = "VARCHAR";
      for (const auto& [name, duck] : *cols) {
        if (name == names[i] && duck.find_first_of("[(") == std::string::npos) type = duck;
        if (name == names[i] && duck.rfind("DECIMAL", 0) == 0) type = duck;
      }
      fields += (i ? ", " : "") + Literal("c" + std::to_string(i)) + ": " + Literal(type);
    }
    std::string query = "SELECT * FROM read_csv(" + Literal(file) + ", columns = {" + fields +
                        "}, header = " + (c.header ? "true" : "false") +
                        ", delim = " + Literal(std::string(1, c.delimiter)) +
                        ", quote = " + Literal(std::string(1, c.quote)) +
                        ", escape = " + Literal(std::string(1, c.escape)) +
                        ", nullstr = " + Literal(c.null_text) +
                        ", allow_quoted_nulls = false, auto_detect = false, strict_mode = true)";
    std::string select;
    if (auto err = CastToTable(*schema, query, c.columns, &select)) return Failed(*err);
    std::vector<table::DataFile> files;
    int64_t rows = 0;
    if (auto err = WriteFiles(t, *table, select, &files, &rows)) {
      return Failed(CopyDataError(*err, names, line_offset));
    }
    if (files.empty()) return Done("COPY 0");
    auto committed = e.catalog.AppendFiles(t.branch, t.ident, files, s.user);
    if (!committed.ok()) return Failed(WriteError(committed.status()));
    return Done("COPY " + std::to_string(rows));
  }

  Outcome CreateSchema(std::string_view st) {
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "CREATE");
    ConsumeKeyword(st, &pos, "SCHEMA");
    bool if_not_exists = ConsumeKeywords(st, &pos, {"IF", "NOT", "EXISTS"});
    auto name = ParseName(st, &pos);
    if (!name || name->size() != 1) return Failed(Err("42601", "syntax error: CREATE SCHEMA name"));
    auto created = e.catalog.CreateNamespace(s.ref, *name, Json::object(), s.user);
    if (!created.ok()) {
      if (created.status().code() == ErrorCode::kAlreadyExists && if_not_exists) {
        return Done("CREATE SCHEMA");
      }
      if (created.status().code() == ErrorCode::kAlreadyExists) {
        return Failed(Err("42P06", "schema \"" + (*name)[0] + "\" already exists"));
      }
      return Failed(WriteError(created.status()));
    }
    return Done("CREATE SCHEMA");
  }

  Outcome CreateTable(std::string_view st) {
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "CREATE");
    ConsumeKeyword(st, &pos, "TABLE");
    bool if_not_exists = ConsumeKeywords(st, &pos, {"IF", "NOT", "EXISTS"});
    Target t;
    if (auto err = ParseTarget(st, &pos, s.ref, &t)) return Failed(*err);
    std::vector<std::tuple<std::string, std::string, bool>> cols;
    std::optional<std::string> query;
    if (auto defs = ParseParenthesized(st, &pos)) {
      // Column definitions, typed by DuckDB: a temporary table of them, described.
      std::string temp = "__lm_def_" + RandomHex(6);
      std::string ddl = "CREATE TEMP TABLE " + temp + " (" + std::string(*defs) + ")";
      duckdb_result r;
      if (duckdb_query(s.conn, ddl.c_str(), &r) != DuckDBSuccess) {
        SqlError err = FromDuckDb(duckdb_result_error(&r) ? duckdb_result_error(&r) : "failed");
        duckdb_destroy_result(&r);
        return Failed(err);
      }
      duckdb_destroy_result(&r);
      std::string q = "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                      "WHERE table_name = '" + temp + "' ORDER BY ordinal_position";
      if (duckdb_query(s.conn, q.c_str(), &r) == DuckDBSuccess) {
        for (idx_t i = 0; i < duckdb_row_count(&r); ++i) {
          char* n = duckdb_value_varchar(&r, 0, i);
          char* ty = duckdb_value_varchar(&r, 1, i);
          char* nul = duckdb_value_varchar(&r, 2, i);
          cols.emplace_back(n ? n : "", ty ? ty : "", nul && std::string(nul) == "NO");
          duckdb_free(n);
          duckdb_free(ty);
          duckdb_free(nul);
        }
      }
      duckdb_destroy_result(&r);
      std::string drop = "DROP TABLE " + temp;
      duckdb_query(s.conn, drop.c_str(), &r);
      duckdb_destroy_result(&r);
    }
    std::vector<std::string> partitioning;
    if (auto err = ParsePartitioning(st, &pos, &partitioning)) return Failed(*err);
    if (ConsumeKeyword(st, &pos, "AS")) {
      if (!cols.empty()) return Failed(Err("42601", "CREATE TABLE ... AS takes no column list"));
      query = Trimmed(st.substr(pos));
      std::string resolved;
      if (auto err = s.Resolve(*query, &resolved)) return Failed(*err);
      query = resolved;
      std::vector<std::pair<std::string, std::string>> described;
      if (auto err = QueryColumns(*query, &described)) return Failed(*err);
      for (auto& [n, ty] : described) cols.emplace_back(n, ty, false);
    } else if (SkipSpace(st, pos) < st.size()) {
      return Failed(Err("42601", "syntax error at or near \"" +
                                     std::string(st.substr(SkipSpace(st, pos), 20)) + "\""));
    }
    if (cols.empty()) return Failed(Err("42601", "a table needs columns: (name type, ...) or AS query"));
    auto schema = IcebergSchema(cols);
    if (!schema.ok()) return Failed(Err("0A000", schema.status().message()));
    Json request = {{"name", t.table}, {"schema", *schema}};
    if (!partitioning.empty()) {
      auto spec = PartitionSpecOf(partitioning, *schema);
      if (!spec.ok()) return Failed(Err("42P16", spec.status().message()));
      request["partition-spec"] = *spec;
    }
    auto created = e.catalog.CreateTable(t.branch, {t.domain}, request, false, s.user);
    if (!created.ok()) {
      if (created.status().code() == ErrorCode::kAlreadyExists && if_not_exists) {
        return Done("CREATE TABLE");
      }
      return Failed(WriteError(created.status()));
    }
    if (!query) return Done("CREATE TABLE");
    // CREATE TABLE AS: the rows, then one append.
    std::string select;
    if (auto err = CastToTable(*table::FindSchema(created->metadata), *query, {}, &select)) {
      return Failed(*err);
    }
    std::vector<table::DataFile> files;
    int64_t rows = 0;
    if (auto err = WriteFiles(t, *created, select, &files, &rows)) {
      (void)e.catalog.DropTable(t.branch, t.ident, s.user);
      return Failed(*err);
    }
    if (!files.empty()) {
      auto committed = e.catalog.AppendFiles(t.branch, t.ident, files, s.user);
      if (!committed.ok()) return Failed(WriteError(committed.status()));
    }
    return Done("SELECT " + std::to_string(rows));
  }

  // MERGE INTO d.t [AS a] USING source ON ... WHEN ...: DuckDB's MERGE run, in a temporary
  // table, on the rows of the files the ON condition matches rows of; the result replaces those
  // files in one snapshot (and new rows alone are an append).
  Outcome Merge(std::string_view st) {
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "MERGE");
    if (!ConsumeKeyword(st, &pos, "INTO")) return Failed(Err("42601", "syntax error: MERGE INTO"));
    Target t;
    if (auto err = ParseTarget(st, &pos, s.ref, &t)) return Failed(*err);
    std::string alias = t.table;
    size_t p = pos;
    ConsumeKeyword(st, &p, "AS");
    size_t before_name = p;
    if (!ConsumeKeyword(st, &before_name, "USING")) {
      auto a = ParseName(st, &p);
      if (!a || a->size() != 1) return Failed(Err("42601", "syntax error: MERGE INTO table [AS alias] USING"));
      alias = (*a)[0];
      pos = p;
    }
    if (!ConsumeKeyword(st, &pos, "USING")) return Failed(Err("42601", "syntax error: MERGE ... USING"));
    std::string source;
    size_t q = pos;
    if (auto sub = ParseParenthesized(st, &q)) {
      std::string resolved;
      if (auto err = s.Resolve(std::string(*sub), &resolved)) return Failed(*err);
      source = "(" + resolved + ")";
      pos = q;
    } else {
      size_t name_start = SkipSpace(st, pos);
      auto name = ParseName(st, &q);
      if (!name) return Failed(Err("42601", "syntax error: MERGE ... USING source"));
      std::string resolved;
      if (auto err = s.Resolve("SELECT * FROM " + std::string(st.substr(name_start, q - name_start)),
                               &resolved)) {
        return Failed(*err);
      }
      source = "(" + resolved + ")";
      pos = q;
      // A table name as the source is also its alias, unless one follows.
      size_t r = pos;
      ConsumeKeyword(st, &r, "AS");
      size_t on = r;
      if (ConsumeKeyword(st, &on, "ON")) source += " AS " + Ident(name->back());
    }
    const std::string rest(st.substr(pos));
    // The ON and WHEN clauses run on DuckDB as written: no file readers or SQL text there.
    bool reads = false;
    TransformCode(rest, [&](std::string_view code) {
      for (const char* fn : {"read_", "parquet_scan", "glob", "query", "sniff_csv"}) {
        if (std::string_view(code).find(fn) != std::string_view::npos) reads = true;
      }
      return std::string(code);
    });
    if (reads) return Failed(Err("42501", "MERGE conditions cannot read files or run SQL text"));
    auto table = e.catalog.LoadTable(t.branch, t.ident);
    if (!table.ok()) return Failed(FromStatus(table.status()));
    int64_t snapshot = table->metadata.value("current-snapshot-id", int64_t{-1});
    const Json* schema = table::FindSchema(table->metadata);
    if (!schema) return Failed(Err("XX000", "table metadata has no current schema"));
    auto spec = table::TableSpec(table->metadata, table->metadata.value("default-spec-id", 0));
    if (!spec.ok()) return Failed(FromStatus(spec.status()));
    LocalScan scan;
    if (snapshot >= 0) {
      if (auto err = LocalFiles(t, snapshot, &scan)) return Failed(*err);
    }
    const Json all_schemas = table->metadata.value("schemas", Json::array());
    // Runs `sql`; `values` gets the first column of every row.
    auto run = [&](const std::string& sql, std::vector<int64_t>* values) -> std::optional<SqlError> {
      duckdb_result r;
      if (duckdb_query(s.conn, sql.c_str(), &r) != DuckDBSuccess) {
        SqlError err = FromDuckDb(duckdb_result_error(&r) ? duckdb_result_error(&r) : "failed");
        duckdb_destroy_result(&r);
        return err;
      }
      for (idx_t row = 0; values && row < duckdb_row_count(&r); ++row) {
        values->push_back(duckdb_value_int64(&r, 0, row));
      }
      duckdb_destroy_result(&r);
      return std::nullopt;
    };
    // Only the files holding rows the ON condition matches change: rows elsewhere match no
    // source row, so MERGE leaves them as they are (unless it has WHEN NOT MATCHED BY SOURCE).
    // Those files are merged and rewritten; the others stay in the snapshot untouched.
    std::string source_alias, on;
    if (scan.data.size() > 1 && !MergesUnmatchedTargetRows(rest) &&
        SplitMergeOn(rest, &source_alias, &on)) {
      std::string tagged;
      for (size_t i = 0; i < scan.data.size(); ++i) {
        auto one = ScanRelation(SubScan(scan, {i}), *schema, all_schemas);
        if (!one.ok()) return Failed(FromStatus(one.status()));
        tagged += (tagged.empty() ? "" : " UNION ALL ") + std::string("SELECT ") + std::to_string(i) +
                  " AS __lm_file, * FROM " + *one;
      }
      const std::string sql = "SELECT DISTINCT " + Ident(alias) + ".__lm_file FROM (" + tagged + ") AS " +
                              Ident(alias) + " JOIN " + source + " " + source_alias + " ON " + on;
      std::vector<int64_t> files;
      if (auto err = run(sql, &files)) return Failed(*err);
      std::vector<size_t> touched(files.begin(), files.end());
      std::sort(touched.begin(), touched.end());
      if (touched.size() < scan.data.size()) scan = SubScan(scan, touched);
    }
    auto rows = ScanRelation(scan, *schema, all_schemas);
    if (!rows.ok()) return Failed(FromStatus(rows.status()));
    const std::string temp = "__lm_merge_" + RandomHex(6);
    struct DropTemp {
      std::function<void()> f;
      ~DropTemp() { f(); }
    } drop{[&] { (void)run("DROP TABLE IF EXISTS temp." + temp, nullptr); }};
    if (auto err = run("CREATE TEMP TABLE " + temp + " AS SELECT * FROM " + *rows, nullptr)) {
      return Failed(*err);
    }
    std::vector<int64_t> counts;
    if (auto err = run("MERGE INTO temp." + temp + " AS " + Ident(alias) + " USING " + source +
                           " " + rest,
                       &counts)) {
      return Failed(*err);
    }
    const int64_t changed = counts.empty() ? 0 : counts[0];
    std::vector<table::DataFile> added;
    int64_t written = 0;
    if (auto err = WriteFiles(t, *table, "SELECT * FROM temp." + temp, &added, &written)) {
      return Failed(*err);
    }
    std::vector<std::string> removed;
    for (const auto& f : scan.data) removed.push_back(f.file.file_path);
    if (removed.empty() && added.empty()) return Done("MERGE 0");
    auto committed = removed.empty()
                         ? e.catalog.AppendFiles(t.branch, t.ident, added, s.user)
                         : e.catalog.RewriteFiles(t.branch, t.ident, snapshot, removed, added, s.user);
    if (!committed.ok()) return Failed(WriteError(committed.status()));
    return Done("MERGE " + std::to_string(changed));
  }

  // CREATE [OR REPLACE] VIEW d.v AS query: an Iceberg view (SQL in DuckDB's dialect, the
  // columns the query returns), versioned on the branch like a table.
  Outcome CreateView(std::string_view st) {
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "CREATE");
    bool replace = ConsumeKeywords(st, &pos, {"OR", "REPLACE"});
    ConsumeKeyword(st, &pos, "VIEW");
    Target t;
    if (auto err = ParseTarget(st, &pos, s.ref, &t)) return Failed(*err);
    if (!ConsumeKeyword(st, &pos, "AS")) return Failed(Err("42601", "syntax error: CREATE VIEW name AS query"));
    const std::string sql = Trimmed(st.substr(pos));
    // The query must run as the view will: resolved at the view's branch.
    const std::string saved = s.ref;
    s.ref = t.branch;
    std::string resolved;
    auto err = s.Resolve(sql, &resolved);
    std::vector<std::pair<std::string, std::string>> described;
    if (!err) err = QueryColumns(resolved, &described);
    s.ref = saved;
    if (err) return Failed(*err);
    std::vector<std::tuple<std::string, std::string, bool>> cols;
    for (auto& [n, ty] : described) cols.emplace_back(n, ty, false);
    auto schema = IcebergSchema(cols);
    if (!schema.ok()) return Failed(Err("0A000", schema.status().message()));
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    Json version = {{"version-id", 1},
                    {"timestamp-ms", now_ms},
                    {"schema-id", 0},
                    {"summary", {{"engine-name", "lakemesh"}, {"operation", "create"}}},
                    {"representations",
                     Json::array({{{"type", "sql"}, {"sql", sql}, {"dialect", "duckdb"}}})},
                    {"default-namespace", Json::array({t.domain})}};
    auto existing = e.catalog.LoadView(t.branch, t.ident);
    if (existing.ok()) {
      if (!replace) return Failed(Err("42P07", "view \"" + t.domain + "." + t.table + "\" already exists"));
      int32_t next = 0;
      for (const Json& v : existing->metadata.value("versions", Json::array())) {
        next = std::max(next, v.value("version-id", 0));
      }
      int32_t schema_id = 0;
      for (const Json& sc : existing->metadata.value("schemas", Json::array())) {
        schema_id = std::max(schema_id, sc.value("schema-id", 0));
      }
      Json sch = *schema;
      sch["schema-id"] = schema_id + 1;
      version["version-id"] = next + 1;
      version["schema-id"] = -1;
      version["summary"]["operation"] = "replace";
      catalog::TableCommit c{
          t.ident, Json::array(),
          Json::array({{{"action", "add-schema"}, {"schema", sch}},
                       {{"action", "add-view-version"}, {"view-version", version}},
                       {{"action", "set-current-view-version"}, {"view-version-id", -1}}})};
      auto committed = e.catalog.CommitView(t.branch, c, s.user);
      if (!committed.ok()) return Failed(WriteError(committed.status()));
      return Done("CREATE VIEW");
    }
    Json request = {{"name", t.table}, {"schema", *schema}, {"view-version", version},
                    {"properties", Json::object()}};
    auto created = e.catalog.CreateView(t.branch, {t.domain}, request, s.user);
    if (!created.ok()) return Failed(WriteError(created.status()));
    return Done("CREATE VIEW");
  }

  Outcome Drop(std::string_view st) {
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "DROP");
    bool schema = ConsumeKeyword(st, &pos, "SCHEMA");
    bool view = !schema && ConsumeKeyword(st, &pos, "VIEW");
    if (!schema && !view && !ConsumeKeyword(st, &pos, "TABLE")) {
      return Failed(Err("0A000", "DROP takes TABLE, VIEW or SCHEMA"));
    }
    bool if_exists = ConsumeKeywords(st, &pos, {"IF", "EXISTS"});
    if (schema) {
      auto name = ParseName(st, &pos);
      if (!name || name->size() != 1) return Failed(Err("42601", "syntax error: DROP SCHEMA name"));
      Status dropped = e.catalog.DropNamespace(s.ref, *name, s.user);
      if (!dropped.ok() && !(dropped.IsNotFound() && if_exists)) {
        if (dropped.IsNotFound()) return Failed(Err("3F000", dropped.message()));
        if (dropped.IsConflict()) return Failed(Err("2BP01", dropped.message()));
        return Failed(WriteError(dropped));
      }
      return Done("DROP SCHEMA");
    }
    Target t;
    if (auto err = ParseTarget(st, &pos, s.ref, &t)) return Failed(*err);
    Status dropped = view ? e.catalog.DropView(t.branch, t.ident, s.user)
                          : e.catalog.DropTable(t.branch, t.ident, s.user);
    if (!dropped.ok() && !(dropped.IsNotFound() && if_exists)) return Failed(WriteError(dropped));
    return Done(view ? "DROP VIEW" : "DROP TABLE");
  }

  // The rows of UPDATE/DELETE ... RETURNING: `rows` (a query naming the table `alias`, as the
  // statement left them) read through `returning`, sent to `sink` before the write commits (a
  // RETURNING list that fails writes nothing). `*snapshot` is the table's version they were
  // read from.
  std::optional<SqlError> SendReturning(const Target& t, const std::string& rows,
                                        const std::string& alias, const std::string& returning,
                                        ResultSink& sink, std::optional<int64_t>* snapshot) {
    auto table = e.catalog.LoadTable(t.branch, t.ident);
    if (!table.ok()) return FromStatus(table.status());
    *snapshot = table->metadata.value("current-snapshot-id", int64_t{-1});
    Outcome r = s.Stream("SELECT " + returning + " FROM (" + rows + ") AS " + Ident(alias), sink);
    if (r.error) return r.error;
    return std::nullopt;
  }

  // The table as a statement names it (a ref or an alias of its own), for RETURNING's query.
  static std::string TableText(std::string_view st, size_t from, size_t to) {
    return Trimmed(st.substr(from, to - from));
  }

  Outcome Delete(std::string_view st, const std::string& returning = "",
                 ResultSink* returning_sink = nullptr) {
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "DELETE");
    if (!ConsumeKeyword(st, &pos, "FROM")) return Failed(Err("42601", "syntax error: DELETE FROM"));
    Target t;
    const size_t target_at = pos;
    if (auto err = ParseTarget(st, &pos, s.ref, &t)) return Failed(*err);
    const std::string table_text = TableText(st, target_at, pos);
    const std::string alias = ParseAlias(st, &pos, "WHERE", t.table);
    std::string cond = "true", where_text;
    if (ConsumeKeyword(st, &pos, "WHERE")) {
      where_text = Trimmed(st.substr(pos));
      if (auto err = ResolveWhere(t, alias, where_text, &cond)) return Failed(*err);
    } else if (SkipSpace(st, pos) < st.size()) {
      return Failed(Err("42601", "syntax error: DELETE FROM table [[AS] alias] [WHERE condition]"));
    }
    std::optional<int64_t> snapshot;
    if (!returning.empty()) {
      const std::string rows = "SELECT * FROM " + table_text + " AS " + Ident(alias) +
                               (where_text.empty() ? "" : " WHERE " + where_text);
      if (auto err = SendReturning(t, rows, alias, returning, *returning_sink, &snapshot)) {
        return Failed(*err);
      }
    }
    Outcome out = Rewrite(
        t, "DELETE",
        [&](Connection& db, const LocalScan& scan, const Json& schema,
            const table::PartitionSpec& spec, const std::string& dir) {
          return DeleteRowsWith(db, scan, cond, schema, spec, dir, alias);
        },
        snapshot);
    out.has_rows = !returning.empty() && !out.error;
    return out;
  }

  Outcome Update(std::string_view st, const std::string& returning = "",
                 ResultSink* returning_sink = nullptr) {
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "UPDATE");
    Target t;
    const size_t target_at = pos;
    if (auto err = ParseTarget(st, &pos, s.ref, &t)) return Failed(*err);
    const std::string table_text = TableText(st, target_at, pos);
    const std::string alias = ParseAlias(st, &pos, "SET", t.table);
    if (!ConsumeKeyword(st, &pos, "SET")) {
      return Failed(Err("42601", "syntax error: UPDATE table [[AS] alias] SET"));
    }
    std::string rest(st.substr(pos));
    size_t where = FindTopLevelKeyword(rest, "WHERE");
    std::string assignments = rest.substr(0, where);
    std::string cond = "true";
    if (where != std::string::npos) {
      if (auto err = ResolveWhere(t, alias, Trimmed(rest.substr(where + 5)), &cond)) {
        return Failed(*err);
      }
    }
    std::vector<std::pair<std::string, std::string>> set;
    std::vector<std::string> set_written;  // the expressions as the statement writes them
    std::string values;  // the expressions, resolved together as one row value
    for (const std::string& a : SplitTopLevel(assignments, ',')) {
      size_t p = 0;
      auto name = ParseName(a, &p);
      p = SkipSpace(a, p);
      if (!name || name->size() != 1 || p >= a.size() || a[p] != '=') {
        return Failed(Err("42601", "syntax error in SET: '" + a + "' (column = expression)"));
      }
      set.emplace_back((*name)[0], Trimmed(std::string_view(a).substr(p + 1)));
      set_written.push_back(set.back().second);
      values += "(" + set.back().second + "), ";
    }
    // The expressions as the session reads them (another table in a subquery is read at the
    // session's ref, or as the transaction wrote it): DuckDB prints `(e1, e2, NULL)` back as
    // main."row"(E1, E2, NULL).
    std::string resolved;
    if (auto err = ResolveWhere(t, alias, "(" + values + "NULL) IS NOT NULL", &resolved)) {
      return Failed(*err);
    }
    const std::string open = "main.\"row\"(";
    size_t at = resolved.find(open);
    size_t close = resolved.rfind(") IS NOT NULL");
    std::vector<std::string> exprs;
    if (at != std::string::npos && close != std::string::npos && close > at) {
      exprs = SplitTopLevel(std::string_view(resolved).substr(at + open.size(), close - at - open.size()), ',');
    }
    if (exprs.size() != set.size() + 1) {
      return Failed(Err("XX000", "cannot read the resolved SET expressions"));
    }
    std::optional<int64_t> snapshot;
    if (!returning.empty()) {
      // The rows as the update leaves them: each SET column replaced by its expression, cast
      // to the column's type as the update writes it.
      std::vector<std::pair<std::string, std::string>> cols;
      if (auto err = TableColumns(t, &cols)) return Failed(*err);
      std::string replace;
      for (size_t i = 0; i < set.size(); ++i) {
        auto col = std::find_if(cols.begin(), cols.end(),
                                [&](const auto& c) { return c.first == set[i].first; });
        if (col == cols.end()) {
          return Failed(Err("42703", "column \"" + set[i].first + "\" of relation \"" +
                                         t.table + "\" does not exist"));
        }
        replace += (i ? ", " : "") + std::string("CAST((") + set_written[i] + ") AS " +
                   col->second + ") AS " + Ident(col->first);
      }
      const std::string where_text =
          where == std::string::npos ? "" : Trimmed(rest.substr(where + 5));
      const std::string rows = "SELECT * REPLACE (" + replace + ") FROM " + table_text + " AS " +
                               Ident(alias) + (where_text.empty() ? "" : " WHERE " + where_text);
      if (auto err = SendReturning(t, rows, alias, returning, *returning_sink, &snapshot)) {
        return Failed(*err);
      }
    }
    for (size_t i = 0; i < set.size(); ++i) set[i].second = Trimmed(exprs[i]);
    Outcome out = Rewrite(
        t, "UPDATE",
        [&](Connection& db, const LocalScan& scan, const Json& schema,
            const table::PartitionSpec& spec, const std::string& dir) {
          return UpdateRowsWith(db, scan, set, cond, schema, spec, dir, alias);
        },
        snapshot);
    out.has_rows = !returning.empty() && !out.error;
    return out;
  }

  Outcome Alter(std::string_view st) {
    size_t pos = 0;
    ConsumeKeyword(st, &pos, "ALTER");
    if (!ConsumeKeyword(st, &pos, "TABLE")) {
      auto what = LeadingKeywords(st, 2);
      return Failed(Err("0A000", "ALTER " + (what.size() > 1 ? what[1] : std::string()) +
                                     " is not supported (ALTER TABLE is)"));
    }
    ConsumeKeyword(st, &pos, "ONLY");  // (no inheritance: the same)
    Target t;
    if (auto err = ParseTarget(st, &pos, s.ref, &t)) return Failed(*err);
    auto table = e.catalog.LoadTable(t.branch, t.ident);
    if (!table.ok()) return Failed(FromStatus(table.status()));
    const Json* current = table::FindSchema(table->metadata);
    if (!current) return Failed(Err("XX000", "table metadata has no current schema"));
    Json fields = (*current)["fields"];
    int32_t last_id = table->metadata.value("last-column-id", 0);
    auto find = [&](const std::string& name) {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].value("name", std::string()) == name) return static_cast<int>(i);
      }
      return -1;
    };
    if (ConsumeKeyword(st, &pos, "RENAME")) {
      if (ConsumeKeyword(st, &pos, "TO")) {
        auto to = ParseName(st, &pos);
        if (!to || to->empty()) return Failed(Err("42601", "syntax error: RENAME TO name"));
        catalog::TableIdent dest{{t.domain}, to->back()};
        Status renamed = e.catalog.RenameTable(t.branch, t.ident, dest, s.user);
        if (!renamed.ok()) return Failed(WriteError(renamed));
        return Done("ALTER TABLE");
      }
      ConsumeKeyword(st, &pos, "COLUMN");
      auto from = ParseName(st, &pos);
      if (!from || from->size() != 1 || !ConsumeKeyword(st, &pos, "TO")) {
        return Failed(Err("42601", "syntax error: RENAME COLUMN a TO b"));
      }
      auto to = ParseName(st, &pos);
      if (!to || to->size() != 1) return Failed(Err("42601", "syntax error: RENAME COLUMN a TO b"));
      int i = find((*from)[0]);
      if (i < 0) return Failed(Err("42703", "column \"" + (*from)[0] + "\" does not exist"));
      if (find((*to)[0]) >= 0) return Failed(Err("42701", "column \"" + (*to)[0] + "\" already exists"));
      fields[static_cast<size_t>(i)]["name"] = (*to)[0];
    } else if (ConsumeKeyword(st, &pos, "ADD")) {
      auto added = LeadingKeywords(st.substr(pos), 1);
      static const std::set<std::string> kConstraints = {"CONSTRAINT", "PRIMARY", "FOREIGN",
                                                         "UNIQUE", "CHECK", "EXCLUDE"};
      if (!added.empty() && kConstraints.count(added[0])) {
        return Failed(Err("0A000", "table constraints are not supported: an Iceberg table holds "
                                   "none (NOT NULL is declared with a column)"));
      }
      ConsumeKeyword(st, &pos, "COLUMN");
      bool if_not_exists = ConsumeKeywords(st, &pos, {"IF", "NOT", "EXISTS"});
      auto name = ParseName(st, &pos);
      if (!name || name->size() != 1) return Failed(Err("42601", "syntax error: ADD COLUMN name type"));
      if (find((*name)[0]) >= 0) {
        if (if_not_exists) return Done("ALTER TABLE");
        return Failed(Err("42701", "column \"" + (*name)[0] + "\" already exists"));
      }
      std::vector<std::pair<std::string, std::string>> described;
      std::string probe = "SELECT CAST(NULL AS " + Trimmed(st.substr(pos)) + ") AS c";
      if (auto err = QueryColumns(probe, &described)) return Failed(*err);
      int32_t next = last_id + 2;
      auto type = IcebergType(described.at(0).second, &next);
      if (!type.ok()) return Failed(Err("0A000", type.status().message()));
      fields.push_back({{"id", last_id + 1}, {"name", (*name)[0]}, {"required", false},
                        {"type", *type}});
      last_id = next - 1;
    } else if (ConsumeKeyword(st, &pos, "DROP")) {
      ConsumeKeyword(st, &pos, "COLUMN");
      bool if_exists = ConsumeKeywords(st, &pos, {"IF", "EXISTS"});
      auto name = ParseName(st, &pos);
      if (!name || name->size() != 1) return Failed(Err("42601", "syntax error: DROP COLUMN name"));
      int i = find((*name)[0]);
      if (i < 0) {
        if (if_exists) return Done("ALTER TABLE");
        return Failed(Err("42703", "column \"" + (*name)[0] + "\" does not exist"));
      }
      fields.erase(static_cast<size_t>(i));
    } else {
      return Failed(Err("0A000", "ALTER TABLE supports ADD COLUMN, DROP COLUMN, RENAME COLUMN "
                                 "and RENAME TO"));
    }
    Json schema = {{"type", "struct"}, {"fields", fields}};
    if (current->contains("identifier-field-ids")) {
      schema["identifier-field-ids"] = (*current)["identifier-field-ids"];
    }
    catalog::TableCommit c{
        t.ident,
        Json::array({{{"type", "assert-current-schema-id"},
                      {"current-schema-id", table->metadata.value("current-schema-id", 0)}}}),
        Json::array({{{"action", "add-schema"}, {"schema", schema}, {"last-column-id", last_id}},
                     {{"action", "set-current-schema"}, {"schema-id", -1}}})};
    auto committed = e.catalog.CommitTable(t.branch, c, s.user);
    if (!committed.ok()) return Failed(WriteError(committed.status()));
    return Done("ALTER TABLE");
  }
};

}  // namespace

// --- COPY ... FROM STDIN -------------------------------------------------------------------------

struct CopyIn::Impl {
  Session::Impl& s;
  CopyFromStdin copy;
  Target target;
  size_t columns = 0;
  std::string dir, file;
  std::ofstream out;
  // Text format is written to the file as CSV, a line at a time: a line that has not ended yet,
  // whether the header line is still to be dropped, and whether the end marker `\.` came.
  std::string partial;
  bool skip_header = false, ended = false;

  Impl(Session::Impl& session, CopyFromStdin c) : s(session), copy(std::move(c)) {}
  ~Impl() {
    out.close();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }

  Status Write(std::string_view data) {
    if (!copy.csv) {
      std::string csv;
      size_t start = 0;
      while (!ended) {
        size_t nl = data.find('\n', start);
        if (nl == std::string_view::npos) break;
        std::string_view line = data.substr(start, nl - start);
        if (!partial.empty()) {
          partial.append(line);
          line = partial;
        }
        if (line == "\\." || line == "\\.\r") {
          ended = true;
        } else if (skip_header) {
          skip_header = false;
        } else {
          CopyTextLineToCsv(copy, line, &csv);
        }
        partial.clear();
        start = nl + 1;
      }
      if (!ended) partial.append(data.substr(start));
      out.write(csv.data(), static_cast<std::streamsize>(csv.size()));
    } else {
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    if (!out) return IoError("writing " + file + ": " + std::strerror(errno));
    return Status::OK();
  }
};

CopyIn::CopyIn(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CopyIn::~CopyIn() = default;
size_t CopyIn::columns() const { return impl_->columns; }
Status CopyIn::Write(std::string_view data) { return impl_->Write(data); }

Outcome CopyIn::Finish() {
  Impl& c = *impl_;
  if (!c.copy.csv && !c.ended && !c.partial.empty()) {  // a last line without its line end
    std::string last = std::move(c.partial);
    c.partial.clear();
    if (Status st = c.Write(last + "\n"); !st.ok()) return Failed(FromStatus(st));
  }
  c.out.close();
  if (!c.out) return Failed(FromStatus(IoError("writing " + c.file)));
  CopyFromStdin how = c.copy;
  if (!how.csv) {  // written as plain CSV, the header already dropped
    how = CopyFromStdin{};
    how.csv = true;
    how.delimiter = ',';
    how.null_text = "";
    how.columns = c.copy.columns;
  }
  Writer w(c.s);
  return w.CopyRows(how, c.target, c.columns, c.file, c.copy.header && !c.copy.csv ? 1 : 0);
}

std::optional<SqlError> Session::BeginCopyIn(std::string_view statement,
                                             std::unique_ptr<CopyIn>* out) {
  CopyInParse parsed = ParseCopyFromStdin(statement);
  if (!parsed.error.empty()) return Err("0A000", parsed.error);
  if (!parsed.copy) return Err("42601", "not a COPY ... FROM STDIN statement");
  auto impl = std::make_unique<CopyIn::Impl>(*impl_, std::move(*parsed.copy));
  Writer w(*impl_);
  if (auto err = w.CopyTarget(impl->copy, &impl->target, &impl->columns)) return err;
  impl->skip_header = !impl->copy.csv && impl->copy.header;
  impl->dir = w.ScratchDir();
  impl->file = impl->dir + "/rows.csv";
  impl->out.open(impl->file, std::ios::binary);
  if (!impl->out) return FromStatus(IoError("creating " + impl->file));
  *out = std::unique_ptr<CopyIn>(new CopyIn(std::move(impl)));
  return std::nullopt;
}

Outcome Session::Impl::Write(const std::string& keyword, std::string_view statement,
                             ResultSink& sink) {
  Writer w(*this);
  auto kw = LeadingKeywords(statement, 3);
  const std::string second = kw.size() > 1 ? kw[1] : "";
  if (keyword == "INSERT") return w.Insert(statement, &sink);
  if (keyword == "UPDATE" || keyword == "DELETE") {
    if (size_t r = FindTopLevelKeyword(statement, "RETURNING"); r != std::string::npos) {
      const std::string returning = Trimmed(statement.substr(r + 9));
      if (returning.empty()) return Failed(Err("42601", "syntax error at end of RETURNING"));
      return keyword == "DELETE" ? w.Delete(statement.substr(0, r), returning, &sink)
                                 : w.Update(statement.substr(0, r), returning, &sink);
    }
  }
  if (keyword == "MERGE" && FindTopLevelKeyword(statement, "RETURNING") != std::string::npos) {
    return Failed(Err("0A000", "MERGE ... RETURNING is not supported (INSERT, UPDATE and DELETE "
                               "... RETURNING are)"));
  }
  if (transaction && second == "SCHEMA") {
    return Failed(Err("0A000", keyword + " " + second + " cannot run inside a transaction block; "
                               "run it on its own (autocommit)"));
  }
  if (keyword == "CREATE" && second == "SCHEMA") return w.CreateSchema(statement);
  if (keyword == "CREATE" && second == "TABLE") return w.CreateTable(statement);
  if (keyword == "CREATE" && (second == "VIEW" || (second == "OR" && kw.size() > 2))) {
    return w.CreateView(statement);
  }
  if (keyword == "DROP") return w.Drop(statement);
  if (keyword == "DELETE") return w.Delete(statement);
  if (keyword == "TRUNCATE") {
    // TRUNCATE [TABLE] [ONLY] t [, ...] [CONTINUE IDENTITY | RESTRICT]: every row deleted, a
    // commit per table (one for all inside a transaction).
    size_t pos = 0;
    ConsumeKeyword(statement, &pos, "TRUNCATE");
    ConsumeKeyword(statement, &pos, "TABLE");
    ConsumeKeyword(statement, &pos, "ONLY");
    std::vector<std::string> names;
    while (true) {
      size_t start = SkipSpace(statement, pos);
      if (!ParseName(statement, &pos)) return Failed(Err("42601", "syntax error: TRUNCATE table"));
      names.emplace_back(statement.substr(start, pos - start));
      size_t p = SkipSpace(statement, pos);
      if (p >= statement.size() || statement[p] != ',') break;
      pos = p + 1;
    }
    if (!ConsumeKeywords(statement, &pos, {"CONTINUE", "IDENTITY"})) {
      ConsumeKeywords(statement, &pos, {"RESTART", "IDENTITY"});
    }
    ConsumeKeyword(statement, &pos, "RESTRICT");
    if (SkipSpace(statement, pos) < statement.size()) {
      return Failed(Err("42601", "syntax error in TRUNCATE at \"" +
                                     std::string(statement.substr(SkipSpace(statement, pos), 20)) +
                                     "\""));
    }
    for (const std::string& name : names) {
      Outcome o = w.Delete("DELETE FROM " + name);
      if (o.error) return o;
    }
    return Done("TRUNCATE TABLE");
  }
  if (keyword == "MERGE") return w.Merge(statement);
  if (keyword == "UPDATE") return w.Update(statement);
  if (keyword == "ALTER") return w.Alter(statement);
  return Failed(Err("0A000", keyword + (second.empty() ? "" : " " + second) +
                                 " is not supported"));
}

Outcome Session::Impl::CopyToObject(std::string_view st) {
  const char* usage = "COPY (query) TO 's3://bucket/key' (FORMAT csv|parquet|json) writes an "
                      "object; COPY ... TO STDOUT sends rows to the client";
  size_t pos = 0;
  ConsumeKeyword(st, &pos, "COPY");
  auto query = ParseParenthesized(st, &pos);
  if (!query || !ConsumeKeyword(st, &pos, "TO")) return Failed(Err("42501", usage));
  pos = SkipSpace(st, pos);
  if (pos >= st.size() || st[pos] != '\'') return Failed(Err("42501", usage));
  size_t end = st.find('\'', pos + 1);
  if (end == std::string_view::npos) return Failed(Err("42601", "unterminated string in COPY"));
  const std::string uri(st.substr(pos + 1, end - pos - 1));
  pos = end + 1;
  if (uri.rfind("s3://", 0) != 0) {
    return Failed(Err("42501", "COPY writes only to s3:// URIs of lakemesh (or STDOUT), not '" +
                                   uri + "'"));
  }
  // Options: one file's worth; no partitioned or per-thread outputs.
  ConsumeKeyword(st, &pos, "WITH");
  std::string options = "FORMAT csv, HEADER true";
  std::string format = "csv";
  if (auto opts = ParseParenthesized(st, &pos)) {
    options = std::string(*opts);
    static const std::set<std::string> kAllowed = {"format", "header", "delimiter", "sep",
                                                   "quote", "escape", "null", "compression",
                                                   "dateformat", "timestampformat",
                                                   "row_group_size", "force_quote", "array"};
    for (const std::string& o : SplitTopLevel(*opts, ',')) {
      size_t p = 0;
      auto key = ParseName(o, &p);
      if (!key || key->size() != 1 || !kAllowed.count((*key)[0])) {
        return Failed(Err("0A000", "COPY option '" + o + "' is not supported"));
      }
      if ((*key)[0] == "format") {
        std::string v = Trimmed(std::string_view(o).substr(p));
        for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (v.size() >= 2 && v.front() == '\'') v = v.substr(1, v.size() - 2);
        if (v != "csv" && v != "parquet" && v != "json") {
          return Failed(Err("0A000", "COPY format '" + v + "' is not supported (csv, parquet, json)"));
        }
        format = v;
      }
    }
  }
  if (SkipSpace(st, pos) < st.size()) return Failed(Err("42601", usage));
  // Where it goes: a repository branch (staged there, as an S3 upload is) or a bucket.
  const ObjectSources& src = engine.sources;
  if (!src.repos || !src.buckets) return Failed(Err("42501", "writing objects is not available here"));
  std::string rest = uri.substr(5);
  size_t slash = rest.find('/');
  if (slash == std::string::npos || slash + 1 >= rest.size()) {
    return Failed(Err("42601", "no key in '" + uri + "'"));
  }
  const std::string name = rest.substr(0, slash);
  std::string path = rest.substr(slash + 1), branch;
  const bool repo = src.repos->GetRepo(name).ok();
  if (repo) {
    size_t s2 = path.find('/');
    if (s2 == std::string::npos) return Failed(Err("42601", "s3://repo/branch/path is needed"));
    branch = path.substr(0, s2);
    path = path.substr(s2 + 1);
  } else if (!src.buckets->GetBucket(name).ok()) {
    return Failed(Err("58P01", "no bucket or repository '" + name + "'"));
  }
  std::string resolved;
  if (auto err = Resolve(std::string(*query), &resolved)) return Failed(*err);
  const std::string dir = engine.options.scratch_dir + "/copy-" + NewUuid();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string file = dir + "/out." + format;
  std::string copy = "COPY (" + resolved + ") TO " + Literal(file) + " (" + options + ")";
  duckdb_result r;
  if (duckdb_query(conn, copy.c_str(), &r) != DuckDBSuccess) {
    SqlError e = FromDuckDb(duckdb_result_error(&r) ? duckdb_result_error(&r) : "failed");
    duckdb_destroy_result(&r);
    std::filesystem::remove_all(dir, ec);
    return Failed(e);
  }
  int64_t rows = duckdb_value_int64(&r, 0, 0);
  duckdb_destroy_result(&r);
  auto bytes = ReadFile(file);
  std::filesystem::remove_all(dir, ec);
  if (!bytes.ok()) return Failed(FromStatus(bytes.status()));
  auto up = repo ? src.repos->NewUpload() : src.buckets->NewUpload();
  if (!up.ok()) return Failed(FromStatus(up.status()));
  if (Status a = (*up)->Append(*bytes); !a.ok()) return Failed(FromStatus(a));
  versioning::PutOptions po;
  po.content_type = format == "csv" ? "text/csv" : format == "json" ? "application/json"
                                                                    : "application/vnd.apache.parquet";
  auto put = repo ? src.repos->PutObject(name, branch, path, std::move(*up), po)
                  : src.buckets->PutObject(name, path, std::move(*up), po);
  if (!put.ok()) return Failed(WriteError(put.status()));
  return Done("COPY " + std::to_string(rows));
}

Result<std::string> Session::Impl::TransactionBranch(const std::string& domain,
                                                     const std::string& branch) {
  if (!txn_branch.empty()) {
    if (domain != txn_domain || (branch != txn_target && branch != txn_branch)) {
      return InvalidArgument("a transaction writes the tables of one domain at one branch (" +
                             txn_domain + " at " + txn_target + "); commit it first");
    }
    return txn_branch;
  }
  versioning::Repositories* repos = engine.sources.repos;
  if (!repos) return InvalidArgument("transactions that write are not available here");
  auto base = repos->GetBranch(domain, branch);
  if (!base.ok()) {
    if (base.status().IsNotFound() && repos->Resolve(domain, branch).ok()) {
      return InvalidArgument("'" + branch + "' is not a branch of '" + domain +
                             "': tables change only on branches (tags and commits are read-only)");
    }
    return base.status();
  }
  // The transaction's writes go to a branch of their own, from the branch's head; COMMIT
  // carries its table changes over as one commit.
  std::string name = "lm-txn-" + RandomHex(8);
  LM_TRY(repos->CreateBranch(domain, name, base->head).status());
  txn_domain = domain;
  txn_target = branch;
  txn_branch = name;
  txn_base = base->head;
  return txn_branch;
}

Outcome Session::Impl::Commit() {
  transaction = false;
  if (txn_branch.empty()) return Done("COMMIT");
  versioning::Repositories* repos = engine.sources.repos;
  const std::string domain = txn_domain, target = txn_target, branch = txn_branch,
                    base = txn_base;
  txn_domain.clear();
  txn_target.clear();
  txn_branch.clear();
  txn_base.clear();
  struct DropBranch {
    Session::Impl& s;
    versioning::Repositories* repos;
    std::string domain, branch;
    ~DropBranch() {
      (void)repos->DeleteBranch(domain, branch);
      s.engine.DropViewsAt(branch);
      s.cache.clear();  // its entries read the branch
    }
  } drop{*this, repos, domain, branch};
  // What the transaction changed, as of the branch's head when it began.
  std::vector<versioning::Mutation> changes;
  versioning::PageOptions page;
  page.prefix = "_catalog/";
  while (true) {
    auto diff = repos->Diff(domain, base, branch, page);
    if (!diff.ok()) return Failed(FromStatus(diff.status()));
    for (const auto& c : diff->changes) changes.push_back({c.path, c.right});
    if (!diff->truncated) break;
    page.after = diff->next_after;
  }
  if (changes.empty()) return Done("COMMIT");
  versioning::CommitOptions opts;
  opts.author = user;
  auto custom = settings.find("lakemesh.commit_message");
  opts.message = custom != settings.end() && !custom->second.empty()
                     ? custom->second
                     : "SQL transaction: " + std::to_string(changes.size()) + " catalog change(s)";
  opts.metadata["sql.transaction"] = branch;
  opts.expected_head = base;
  // When the branch moved while the transaction ran, the transaction still commits on top if
  // nothing it changed was changed meanwhile (other tables of the domain, say); otherwise it
  // is a serialization failure.
  std::set<std::string> ours;
  for (const auto& c : changes) ours.insert(c.path);
  for (int attempt = 0;; ++attempt) {
    auto committed = repos->CommitChanges(domain, target, changes, opts);
    if (committed.ok()) return Done("COMMIT");
    if (!committed.status().IsConflict()) return Failed(WriteError(committed.status()));
    auto serialization = [&] {
      return Failed(Err("40001", "could not serialize the transaction: branch '" + target +
                                     "' of '" + domain + "' changed while it ran; run it again"));
    };
    auto head = repos->GetBranch(domain, target);
    if (!head.ok() || attempt >= 16) return serialization();
    versioning::PageOptions theirs;
    theirs.prefix = "_catalog/";
    while (true) {
      auto diff = repos->Diff(domain, opts.expected_head, head->head, theirs);
      if (!diff.ok()) return Failed(FromStatus(diff.status()));
      for (const auto& c : diff->changes) {
        if (ours.count(c.path)) return serialization();
      }
      if (!diff->truncated) break;
      theirs.after = diff->next_after;
    }
    opts.expected_head = head->head;
  }
}

void Session::Impl::Rollback() {
  transaction = false;
  if (!txn_branch.empty() && engine.sources.repos) {
    // Its commits go with the branch; files only it wrote are garbage collected.
    (void)engine.sources.repos->DeleteBranch(txn_domain, txn_branch);
    engine.DropViewsAt(txn_branch);
    cache.clear();
  }
  txn_domain.clear();
  txn_target.clear();
  txn_branch.clear();
  txn_base.clear();
}

}  // namespace lakemesh::sql
