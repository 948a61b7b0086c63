#include "transform/dbt/runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

namespace lakemesh::dbt {
namespace {

using jinja::Value;

// `s` between `q`s, a `q` in it doubled: a SQL string literal ('), an identifier (").
std::string Quoted(const std::string& s, char q) {
  std::string out(1, q);
  for (char c : s) {
    out += c;
    if (c == q) out += q;
  }
  return out + q;
}
std::string Literal(const std::string& s) { return Quoted(s, '\''); }
std::string Ident(const std::string& s) { return Quoted(s, '"'); }

std::string Relation(const std::string& schema, const std::string& name) {
  return Ident(schema) + "." + Ident(name);
}

std::string StrOf(const Value& d, const char* key) {
  if (!d.is_dict()) return "";
  const Value* v = d.dict().Find(std::string_view(key));
  return v && !v->is_none() && !v->is_undefined() ? v->Str() : "";
}

// RFC 4180 records: quoted fields with "" for a quote, CRLF or LF line ends.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text, std::string* error) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty() || !row.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) *error = "a quoted field is not closed";
  if (any || !field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

bool IsInt(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool IsNumber(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0' && s.find_first_of("nNiI") == std::string::npos;  // no nan/inf
}

bool IsBool(const std::string& s) {
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return l == "true" || l == "false";
}

bool IsDate(const std::string& s) {
  return s.size() == 10 && s[4] == '-' && s[7] == '-' &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '-'; });
}

// Now in UTC as SQL writes a timestamp: 2026-12-01 06:10:25.145189.
std::string FormatTimestamp() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const time_t secs = static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  const long long micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count() % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%06lld", micros);
  return buf;
}

bool IsTimestamp(const std::string& s) {
  return s.size() >= 19 && IsDate(s.substr(0, 10)) && (s[10] == ' ' || s[10] == 'T') && s[13] == ':' &&
         s[16] == ':';
}

// A node that could not be run, and why.
NodeResult Failed(const Status& st) {
  NodeResult r;
  r.status = "error";
  r.message = st.message();
  return r;
}

}  // namespace

Result<std::vector<std::string>> SeedStatements(const std::string& csv, const std::string& relation,
                                                const Value& column_types, size_t* row_count) {
  std::string error;
  auto rows = ParseCsv(csv, &error);
  if (!error.empty()) return InvalidArgument(error);
  if (rows.empty()) return InvalidArgument("the seed has no header row");
  const std::vector<std::string> header = rows[0];
  rows.erase(rows.begin());
  if (row_count) *row_count = rows.size();
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != header.size()) {
      return InvalidArgument("row " + std::to_string(r + 2) + " has " + std::to_string(rows[r].size()) +
                             " fields; the header has " + std::to_string(header.size()));
    }
  }
  std::vector<std::string> types;
  for (size_t c = 0; c < header.size(); ++c) {
    if (column_types.is_dict()) {
      if (const Value* t = column_types.dict().Find(std::string_view(header[c]))) {
        types.push_back(t->Str());
        continue;
      }
    }
    bool ints = true, nums = true, bools = true, dates = true, stamps = true, any = false;
    for (const auto& row : rows) {
      const std::string& v = row[c];
      if (v.empty()) continue;
      any = true;
      ints = ints && IsInt(v);
      nums = nums && IsNumber(v);
      bools = bools && IsBool(v);
      dates = dates && IsDate(v);
      stamps = stamps && IsTimestamp(v);
    }
    types.push_back(!any ? "VARCHAR" : ints ? "BIGINT" : nums ? "DOUBLE" : bools ? "BOOLEAN" : dates ? "DATE"
                                   : stamps ? "TIMESTAMP" : "VARCHAR");
  }
  std::string columns;
  for (size_t c = 0; c < header.size(); ++c) columns += (c ? ", " : "") + Ident(header[c]);
  std::vector<std::string> out;
  if (rows.empty()) {
    std::string create = "CREATE TABLE " + relation + " (";
    for (size_t c = 0; c < header.size(); ++c) create += (c ? ", " : "") + Ident(header[c]) + " " + types[c];
    out.push_back(create + ")");
    return out;
  }
  constexpr size_t kBatch = 1000;
  for (size_t start = 0; start < rows.size(); start += kBatch) {
    std::string values;
    for (size_t r = start; r < rows.size() && r < start + kBatch; ++r) {
      values += r > start ? ",\n(" : "(";
      for (size_t c = 0; c < header.size(); ++c) {
        const std::string& v = rows[r][c];
        values += (c ? ", " : "") + (v.empty() ? "CAST(NULL AS " + types[c] + ")"
                                               : "CAST(" + Literal(v) + " AS " + types[c] + ")");
      }
      values += ")";
    }
    const std::string select = "SELECT * FROM (VALUES\n" + values + "\n) AS seed(" + columns + ")";
    out.push_back(start == 0 ? "CREATE TABLE " + relation + " AS " + select
                             : "INSERT INTO " + relation + " " + select);
  }
  return out;
}

Result<bool> Runner::Exists(Executor& ex, const std::string& schema, const std::string& name) {
  // Asked of the relation itself (at the session's branch): the catalogs would define every
  // table and view of every domain to answer.
  auto r = ex.Execute("SELECT * FROM " + Relation(schema, name) + " LIMIT 0");
  return r.ok();
}

Status Runner::Ensure(Executor& ex, const std::string& schema) {
  std::lock_guard<std::mutex> lock(schemas_mu_);
  if (schemas_.count(schema)) return Status::OK();
  auto r = ex.Execute("CREATE SCHEMA IF NOT EXISTS " + Ident(schema));
  if (!r.ok()) return r.status();
  schemas_.insert(schema);
  return Status::OK();
}

Result<std::string> Runner::Render(Executor& ex, const std::string& uid, bool incremental) {
  // One rendering at a time (the compiler keeps its state per rendering); its queries go to
  // the worker's connection.
  std::lock_guard<std::mutex> lock(render_mu_);
  compiler_.SetExecutor(&ex);
  LM_TRY(compiler_.Recompile(uid, incremental));
  return compiler_.nodes().at(uid).compiled_code;
}

Result<std::vector<std::string>> Runner::HookStatements(Executor& ex, const std::string& uid, const char* which) {
  std::lock_guard<std::mutex> lock(render_mu_);
  compiler_.SetExecutor(&ex);
  return compiler_.Hooks(uid, which);
}

Status Runner::RunHooks(Executor& ex, const std::string& uid, const char* which) {
  LM_ASSIGN_OR_RETURN(std::vector<std::string> hooks, HookStatements(ex, uid, which));
  for (const std::string& h : hooks) {
    auto r = ex.Execute(h);
    if (!r.ok()) return Status(r.status().code(), std::string(which) + ": " + r.status().message());
  }
  return Status::OK();
}

Result<QueryResult> Runner::Transaction(Executor& ex, const std::vector<std::string>& statements,
                                        const std::string& message) {
  LM_TRY(ex.Execute("SET lakemesh.commit_message = " + Literal(message)).status());
  LM_TRY(ex.Execute("BEGIN").status());
  QueryResult last;  // what the transaction did: its last statement other than a DROP
  for (const std::string& s : statements) {
    auto r = ex.Execute(s);
    if (!r.ok()) {
      (void)ex.Execute("ROLLBACK");
      return r.status();
    }
    if (s.rfind("DROP ", 0) != 0 || last.tag.empty()) last = std::move(*r);
  }
  auto c = ex.Execute("COMMIT");
  if (!c.ok()) return c.status();
  return last;
}

Result<std::vector<std::pair<std::string, std::string>>> Runner::Columns(Executor& ex, const std::string& relation) {
  LM_ASSIGN_OR_RETURN(QueryResult d, ex.Execute("DESCRIBE " + relation));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : d.rows) {
    if (row.size() >= 2 && row[0] && row[1]) out.emplace_back(*row[0], *row[1]);
  }
  return out;
}

// Starts a transaction whose commit has `message`; Finish commits it, or rolls it back when
// `st` failed.
Status Runner::Begin(Executor& ex, const std::string& message) {
  LM_TRY(ex.Execute("SET lakemesh.commit_message = " + Literal(message)).status());
  return ex.Execute("BEGIN").status();
}

Status Runner::Finish(Executor& ex, Status st) {
  if (!st.ok()) {
    (void)ex.Execute("ROLLBACK");
    return st;
  }
  return ex.Execute("COMMIT").status();
}

namespace {

bool Has(const std::vector<std::pair<std::string, std::string>>& cols, const std::string& name) {
  return std::any_of(cols.begin(), cols.end(), [&](const auto& c) { return c.first == name; });
}

std::vector<std::string> Strings(const Value* v) {
  std::vector<std::string> out;
  if (!v || v->is_none() || v->is_undefined()) return out;
  for (const auto& k : v->is_list() ? v->list().items : std::vector<Value>{*v}) out.push_back(k.Str());
  return out;
}

}  // namespace

// An incremental model's new rows (its SQL with is_incremental() true) into its table, in one
// commit: the rows are computed once into a relation of the transaction, before anything
// changes (the SQL usually reads {{ this }}); then on_schema_change, then the strategy.
Status Runner::Incremental(Executor& ex, const CompiledNode& n, const std::string& sql, std::string* tag) {
  const std::string rel = Relation(n.schema, n.alias);
  const std::string tmp = Relation(n.schema, n.alias + "__dbt_tmp");
  const std::vector<std::string> keys = Strings(n.config.dict().Find(std::string_view("unique_key")));
  std::string strategy = StrOf(n.config, "incremental_strategy");
  if (strategy.empty()) strategy = keys.empty() ? "append" : "delete+insert";
  if (strategy != "append" && strategy != "merge" && strategy != "delete+insert") {
    return InvalidArgument("incremental_strategy '" + strategy +
                           "' is not one lakemesh runs (append, merge, delete+insert)");
  }
  if (strategy == "delete+insert" && keys.empty()) {
    return InvalidArgument("incremental_strategy delete+insert needs a unique_key");
  }
  std::string on_change = StrOf(n.config, "on_schema_change");
  if (on_change.empty()) on_change = "ignore";
  if (on_change != "ignore" && on_change != "fail" && on_change != "append_new_columns" &&
      on_change != "sync_all_columns") {
    return InvalidArgument("on_schema_change '" + on_change +
                           "' is not one of ignore, fail, append_new_columns, sync_all_columns");
  }
  std::vector<std::string> predicates = Strings(n.config.dict().Find(std::string_view("incremental_predicates")));
  LM_TRY(ex.Execute("DROP TABLE IF EXISTS " + tmp).status());
  LM_TRY(ex.Execute("CREATE TABLE " + tmp + " AS\n" + sql).status());
  LM_ASSIGN_OR_RETURN(auto incoming, Columns(ex, tmp));
  LM_ASSIGN_OR_RETURN(auto existing, Columns(ex, rel));
  std::vector<std::string> added, removed;
  for (const auto& c : incoming) {
    if (!Has(existing, c.first)) added.push_back(c.first);
  }
  for (const auto& c : existing) {
    if (!Has(incoming, c.first)) removed.push_back(c.first);
  }
  if (!added.empty() || !removed.empty()) {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s.empty() ? std::string("none") : s;
    };
    if (on_change == "fail") {
      return InvalidArgument("The source and target schemas on this incremental model are out of sync: "
                             "new columns: " + list(added) + "; missing columns: " + list(removed) +
                             ". Set on_schema_change to append_new_columns or sync_all_columns, or "
                             "run with --full-refresh");
    }
    if (on_change == "append_new_columns" || on_change == "sync_all_columns") {
      for (const auto& c : incoming) {
        if (Has(existing, c.first)) continue;
        LM_TRY(ex.Execute("ALTER TABLE " + rel + " ADD COLUMN " + Ident(c.first) + " " + c.second).status());
      }
    }
    if (on_change == "sync_all_columns") {
      for (const std::string& c : removed) {
        LM_TRY(ex.Execute("ALTER TABLE " + rel + " DROP COLUMN " + Ident(c)).status());
      }
    }
    LM_ASSIGN_OR_RETURN(existing, Columns(ex, rel));
  }
  // The columns both have: what is inserted (by name, not position).
  std::vector<std::string> cols;
  for (const auto& c : incoming) {
    if (Has(existing, c.first)) cols.push_back(c.first);
  }
  std::string names, src_names;
  for (const auto& c : cols) {
    names += (names.empty() ? "" : ", ") + Ident(c);
    src_names += (src_names.empty() ? "" : ", ") + std::string("DBT_INTERNAL_SOURCE.") + Ident(c);
  }
  for (const std::string& k : keys) {
    if (!Has(incoming, k)) return InvalidArgument("the unique_key column '" + k + "' is not among the model's columns");
  }
  std::string extra;  // incremental_predicates
  for (const auto& p : predicates) extra += " AND (" + p + ")";
  QueryResult last;
  if (strategy == "merge" && !keys.empty()) {
    std::vector<std::string> update = Strings(n.config.dict().Find(std::string_view("merge_update_columns")));
    const std::vector<std::string> exclude = Strings(n.config.dict().Find(std::string_view("merge_exclude_columns")));
    if (update.empty()) update = cols;
    std::string on, set;
    for (const auto& k : keys) {
      on += (on.empty() ? "" : " AND ") + std::string("DBT_INTERNAL_DEST.") + Ident(k) + " = DBT_INTERNAL_SOURCE." + Ident(k);
    }
    for (const auto& c : update) {
      if (std::find(exclude.begin(), exclude.end(), c) != exclude.end()) continue;
      if (std::find(cols.begin(), cols.end(), c) == cols.end()) {
        return InvalidArgument("merge_update_columns names '" + c + "', which the model does not have");
      }
      set += (set.empty() ? "" : ", ") + Ident(c) + " = DBT_INTERNAL_SOURCE." + Ident(c);
    }
    std::string merge = "MERGE INTO " + rel + " AS DBT_INTERNAL_DEST USING " + tmp +
                        " AS DBT_INTERNAL_SOURCE ON " + on + extra;
    if (!set.empty()) merge += " WHEN MATCHED THEN UPDATE SET " + set;
    merge += " WHEN NOT MATCHED THEN INSERT (" + names + ") VALUES (" + src_names + ")";
    LM_ASSIGN_OR_RETURN(last, ex.Execute(merge));
  } else {
    if (strategy == "delete+insert") {
      std::string kc;
      for (size_t i = 0; i < keys.size(); ++i) kc += (i ? ", " : "") + Ident(keys[i]);
      std::string pred;
      for (const auto& p : predicates) pred += " AND (" + p + ")";
      LM_TRY(ex.Execute("DELETE FROM " + rel + " AS DBT_INTERNAL_DEST WHERE (" + kc + ") IN (SELECT " + kc +
                               " FROM " + tmp + ")" + pred).status());
    }
    LM_ASSIGN_OR_RETURN(last, ex.Execute("INSERT INTO " + rel + " (" + names + ") SELECT " + names + " FROM " + tmp));
  }
  LM_TRY(ex.Execute("DROP TABLE " + tmp).status());
  *tag = last.tag;
  return Status::OK();
}

NodeResult Runner::RunModel(Executor& ex, const CompiledNode& n, bool full_refresh) {
  NodeResult r;
  const std::string rel = Relation(n.schema, n.alias);
  if (Status st = Ensure(ex, n.schema); !st.ok()) return Failed(st);
  const std::string& m = n.materialized;
  // (A view is replaced whatever was there; a table's materializations need to know.)
  auto exists = m == "view" ? Result<bool>(false) : Exists(ex, n.schema, n.alias);
  if (!exists.ok()) return Failed(exists.status());
  const bool incremental = m == "incremental" && *exists && !full_refresh;
  if (m != "view" && m != "table" && m != "incremental") {
    return Failed(InvalidArgument("unknown materialization '" + m + "' (view, table, incremental or ephemeral)"));
  }
  // Rendered now, as dbt does just before it runs a node: is_incremental() and what run_query
  // and the adapter see are as of this moment.
  auto rendered = Render(ex, n.unique_id, incremental);
  if (!rendered.ok()) return Failed(rendered.status());
  const std::string& sql = *rendered;
  std::string tag;
  auto attempt = [&](bool replace_table) {
    Status st = Begin(ex, "dbt: " + m + " model " + n.relation() + " (" + n.unique_id + ")");
    if (!st.ok()) return st;
    st = [&]() -> Status {
      LM_TRY(RunHooks(ex, n.unique_id, "pre_hook"));
      if (replace_table) LM_TRY(ex.Execute("DROP TABLE IF EXISTS " + rel).status());
      LM_TRY(Materialize(ex, n, m, rel, sql, incremental, *exists, &tag));
      return RunHooks(ex, n.unique_id, "post_hook");
    }();
    return Finish(ex, st);
  };
  Status st = attempt(false);
  if (!st.ok() && m == "view" && st.message().find("Table already exists") != std::string::npos) {
    st = attempt(true);  // a table model become a view: the table goes (in the same commit)
  }
  if (!st.ok()) return Failed(st);
  r.status = "success";
  r.message = tag;
  return r;
}

// The model's relation from its SQL: a view replaced, an incremental's new rows applied, a
// table made again.
Status Runner::Materialize(Executor& ex, const CompiledNode& n, const std::string& m, const std::string& rel,
                           const std::string& sql, bool incremental, bool exists, std::string* tag) {
  if (m == "view") {
    LM_ASSIGN_OR_RETURN(QueryResult q, ex.Execute("CREATE OR REPLACE VIEW " + rel + " AS\n" + sql));
    *tag = q.tag;
    return Status::OK();
  }
  if (incremental) return Incremental(ex, n, sql, tag);
  if (exists) {
    LM_TRY(ex.Execute("DROP VIEW IF EXISTS " + rel).status());
    LM_TRY(ex.Execute("DROP TABLE IF EXISTS " + rel).status());
  }
  LM_ASSIGN_OR_RETURN(QueryResult q, ex.Execute("CREATE TABLE " + rel + " AS\n" + sql));
  *tag = q.tag;
  return Status::OK();
}

// A snapshot as dbt's SCD type 2: each row of the snapshot's query is kept with the period it
// was current (dbt_valid_from .. dbt_valid_to, NULL while current). A row whose unique_key is
// new, or whose row changed (strategy timestamp: its updated_at is later; check: one of
// check_cols differs), closes the current version and adds a new one; with hard_deletes
// 'invalidate' a key gone from the query closes its version. One commit per run.
NodeResult Runner::RunSnapshot(Executor& ex, const CompiledNode& n) {
  NodeResult r;
  const Value& cfg = n.config;
  const std::string strategy = StrOf(cfg, "strategy");
  const std::vector<std::string> keys = Strings(cfg.dict().Find(std::string_view("unique_key")));
  if (keys.empty()) return Failed(InvalidArgument(n.node->file + ": the snapshot " + n.node->name + " needs a unique_key"));
  if (strategy != "timestamp" && strategy != "check") {
    return Failed(InvalidArgument(n.node->file + ": the snapshot " + n.node->name +
                                " needs a strategy: timestamp (with updated_at) or check (with check_cols)"));
  }
  const std::string updated_at = StrOf(cfg, "updated_at");
  if (strategy == "timestamp" && updated_at.empty()) {
    return Failed(InvalidArgument(n.node->file + ": the timestamp strategy needs updated_at"));
  }
  const Value* check_cols = cfg.dict().Find(std::string_view("check_cols"));
  if (strategy == "check" && !check_cols) {
    return Failed(InvalidArgument(n.node->file + ": the check strategy needs check_cols (a list, or 'all')"));
  }
  std::string hard = StrOf(cfg, "hard_deletes");
  if (hard.empty()) {
    const Value* legacy = cfg.dict().Find(std::string_view("invalidate_hard_deletes"));
    hard = legacy && legacy->Truthy() ? "invalidate" : "ignore";
  }
  if (hard != "ignore" && hard != "invalidate") {
    return Failed(InvalidArgument("hard_deletes '" + hard + "': lakemesh runs ignore and invalidate"));
  }
  // The meta columns, renamed by snapshot_meta_column_names.
  std::map<std::string, std::string> meta = {{"dbt_valid_from", "dbt_valid_from"}, {"dbt_valid_to", "dbt_valid_to"},
                                             {"dbt_scd_id", "dbt_scd_id"}, {"dbt_updated_at", "dbt_updated_at"}};
  if (const Value* names = cfg.dict().Find(std::string_view("snapshot_meta_column_names")); names && names->is_dict()) {
    for (auto& [k, v] : meta) {
      if (const Value* x = names->dict().Find(std::string_view(k))) v = x->Str();
    }
  }
  const std::string valid_from = Ident(meta["dbt_valid_from"]), valid_to = Ident(meta["dbt_valid_to"]),
                    scd_id = Ident(meta["dbt_scd_id"]), upd_col = Ident(meta["dbt_updated_at"]);
  const std::string current_value = StrOf(cfg, "dbt_valid_to_current");  // instead of NULL
  auto is_current = [&](const std::string& a) {
    return current_value.empty() ? a + "." + valid_to + " IS NULL" : a + "." + valid_to + " = " + current_value;
  };
  const std::string now = "CAST(" + Literal(snapshot_time_) + " AS TIMESTAMP)";
  auto updated = [&](const std::string& a) {
    return strategy == "timestamp" ? a + "." + Ident(updated_at) : now;
  };
  auto keys_equal = [&](const std::string& a, const std::string& b) {
    std::string s;
    for (const auto& k : keys) s += (s.empty() ? "" : " AND ") + a + "." + Ident(k) + " = " + b + "." + Ident(k);
    return s;
  };
  auto scd = [&](const std::string& a, const std::string& upd) {
    std::string s = "md5(";
    for (const auto& k : keys) s += "coalesce(CAST(" + a + "." + Ident(k) + " AS VARCHAR), '') || '|' || ";
    return s + "coalesce(CAST(" + upd + " AS VARCHAR), ''))";
  };

  auto rendered = Render(ex, n.unique_id, false);
  if (!rendered.ok()) return Failed(rendered.status());
  const std::string& sql = *rendered;
  const std::string rel = Relation(n.schema, n.alias);
  if (Status st = Ensure(ex, n.schema); !st.ok()) return Failed(st);
  auto exists = Exists(ex, n.schema, n.alias);
  if (!exists.ok()) return Failed(exists.status());
  std::string tag;
  Status st = Begin(ex, "dbt: snapshot " + n.relation() + " (" + n.unique_id + ")");
  if (st.ok()) st = RunHooks(ex, n.unique_id, "pre_hook");
  if (st.ok()) {
    st = [&]() -> Status {
      const std::string stage = Relation(n.schema, n.alias + "__dbt_snapshot_source");
      const std::string changes = Relation(n.schema, n.alias + "__dbt_snapshot_changes");
      if (!*exists) {
        const std::string upd = updated("S");
        LM_ASSIGN_OR_RETURN(QueryResult q, ex.Execute(
            "CREATE TABLE " + rel + " AS SELECT S.*, " + scd("S", upd) + " AS " + scd_id + ", " + upd + " AS " +
            upd_col + ", " + upd + " AS " + valid_from + ", " +
            (current_value.empty() ? "nullif(" + upd + ", " + upd + ")" : current_value) + " AS " + valid_to +
            " FROM (\n" + sql + "\n) AS S"));
        tag = q.tag;
        return Status::OK();
      }
      LM_TRY(ex.Execute("DROP TABLE IF EXISTS " + stage).status());
      LM_TRY(ex.Execute("DROP TABLE IF EXISTS " + changes).status());
      LM_TRY(ex.Execute("CREATE TABLE " + stage + " AS\n" + sql).status());
      LM_ASSIGN_OR_RETURN(auto source_cols, Columns(ex, stage));
      LM_ASSIGN_OR_RETURN(auto snap_cols, Columns(ex, rel));
      for (const auto& k : keys) {
        if (!Has(source_cols, k)) return InvalidArgument("the unique_key column '" + k + "' is not among the snapshot's columns");
      }
      if (strategy == "timestamp" && !Has(source_cols, updated_at)) {
        return InvalidArgument("the updated_at column '" + updated_at + "' is not among the snapshot's columns");
      }
      // New columns of the query join the snapshot (as dbt does).
      for (const auto& c : source_cols) {
        if (!Has(snap_cols, c.first)) {
          LM_TRY(ex.Execute("ALTER TABLE " + rel + " ADD COLUMN " + Ident(c.first) + " " + c.second).status());
        }
      }
      std::string changed;
      if (strategy == "timestamp") {
        changed = "C." + valid_from + " < S." + Ident(updated_at);
      } else {
        std::vector<std::string> cols;
        if (check_cols->is_string() && check_cols->as_string() == "all") {
          for (const auto& c : source_cols) cols.push_back(c.first);
        } else {
          cols = Strings(check_cols);
        }
        for (const auto& c : cols) {
          if (!Has(source_cols, c)) return InvalidArgument("check_cols names '" + c + "', which the snapshot's query does not have");
          changed += (changed.empty() ? "" : " OR ") + std::string("C.") + Ident(c) + " IS DISTINCT FROM S." + Ident(c);
        }
        if (changed.empty()) changed = "false";
      }
      LM_TRY(ex.Execute(
          "CREATE TABLE " + changes + " AS SELECT S.*, " + updated("S") + " AS __lm_updated, CASE WHEN C." +
          Ident(keys[0]) + " IS NULL THEN 'insert' ELSE 'update' END AS __lm_change FROM " + stage +
          " AS S LEFT JOIN (SELECT * FROM " + rel + " AS C WHERE " + is_current("C") + ") AS C ON " +
          keys_equal("C", "S") + " WHERE C." + Ident(keys[0]) + " IS NULL OR (" + changed + ")").status());
      // Versions that changed close when the new one begins.
      LM_TRY(ex.Execute("MERGE INTO " + rel + " AS C USING (SELECT * FROM " + changes +
                               " WHERE __lm_change = 'update') AS U ON " + keys_equal("C", "U") + " AND " +
                               is_current("C") + " WHEN MATCHED THEN UPDATE SET " + valid_to + " = U.__lm_updated")
                 .status());
      if (hard == "invalidate") {
        LM_TRY(ex.Execute("UPDATE " + rel + " AS C SET " + valid_to + " = " + now + " WHERE " + is_current("C") +
                                 " AND NOT EXISTS (SELECT 1 FROM " + stage + " AS S WHERE " + keys_equal("C", "S") + ")")
                   .status());
      }
      std::string names, values;
      for (const auto& c : source_cols) {
        names += Ident(c.first) + ", ";
        values += "X." + Ident(c.first) + ", ";
      }
      LM_ASSIGN_OR_RETURN(QueryResult q, ex.Execute(
          "INSERT INTO " + rel + " (" + names + scd_id + ", " + upd_col + ", " + valid_from + ", " + valid_to +
          ") SELECT " + values + scd("X", "X.__lm_updated") + ", X.__lm_updated, X.__lm_updated, " +
          (current_value.empty() ? "NULL" : current_value) + " FROM " + changes + " AS X"));
      tag = q.tag;
      LM_TRY(ex.Execute("DROP TABLE " + stage).status());
      LM_TRY(ex.Execute("DROP TABLE " + changes).status());
      return Status::OK();
    }();
    if (st.ok()) st = RunHooks(ex, n.unique_id, "post_hook");
    st = Finish(ex, st);
  }
  if (!st.ok()) return Failed(st);
  r.status = "success";
  r.message = tag;
  return r;
}

NodeResult Runner::RunSeed(Executor& ex, const CompiledNode& n) {
  NodeResult r;
  std::ifstream in(compiler_.project().root + "/" + n.node->file, std::ios::binary);
  if (!in) return Failed(NotFound("cannot read " + n.node->file));
  std::stringstream ss;
  ss << in.rdbuf();
  const Value* types = n.config.dict().Find(std::string_view("column_types"));
  size_t rows = 0;
  auto statements = SeedStatements(ss.str(), Relation(n.schema, n.alias), types ? *types : Value::None(), &rows);
  if (!statements.ok()) return Failed(InvalidArgument(n.node->file + ": " + statements.status().message()));
  if (Status st = Ensure(ex, n.schema); !st.ok()) return Failed(st);
  auto exists = Exists(ex, n.schema, n.alias);
  if (!exists.ok()) return Failed(exists.status());
  if (*exists) statements->insert(statements->begin(), "DROP TABLE IF EXISTS " + Relation(n.schema, n.alias));
  auto pre = HookStatements(ex, n.unique_id, "pre_hook");
  if (!pre.ok()) return Failed(pre.status());
  auto post = HookStatements(ex, n.unique_id, "post_hook");
  if (!post.ok()) return Failed(post.status());
  statements->insert(statements->begin(), pre->begin(), pre->end());
  statements->insert(statements->end(), post->begin(), post->end());
  auto result = Transaction(ex, *statements, "dbt: seed " + n.relation() + " (" + n.unique_id + ")");
  if (!result.ok()) return Failed(result.status());
  r.status = "success";
  r.message = "INSERT " + std::to_string(rows);
  return r;
}

Result<bool> TestCondition(const std::string& condition, int64_t failures) {
  // dbt's warn_if / error_if: a comparison with the number of failing rows ("!= 0", ">10").
  std::string c;
  for (char ch : condition) {
    if (!std::isspace(static_cast<unsigned char>(ch))) c += ch;
  }
  size_t digits = c.find_first_of("-0123456789");
  if (digits == std::string::npos || digits == 0) {
    return InvalidArgument("a test condition is a comparison such as '!= 0' or '>10', not '" + condition + "'");
  }
  const std::string op = c.substr(0, digits);
  char* end = nullptr;
  const long long n = std::strtoll(c.c_str() + digits, &end, 10);
  if (!end || *end) return InvalidArgument("a test condition compares with a number, not '" + condition + "'");
  if (op == "!=" || op == "<>") return failures != n;
  if (op == "==" || op == "=") return failures == n;
  if (op == ">") return failures > n;
  if (op == ">=") return failures >= n;
  if (op == "<") return failures < n;
  if (op == "<=") return failures <= n;
  return InvalidArgument("unknown comparison '" + op + "' in test condition '" + condition + "'");
}

Status Runner::CompileEphemerals(Executor& ex, const CompiledNode& n) {
  for (const std::string& d : n.depends_on) {
    auto it = compiler_.nodes().find(d);
    if (it == compiler_.nodes().end() || it->second.materialized != "ephemeral" ||
        it->second.node->kind != NodeKind::kModel) {
      continue;
    }
    LM_TRY(CompileEphemerals(ex, it->second));
    LM_TRY(Render(ex, d, false).status());
  }
  return Status::OK();
}

NodeResult Runner::RunTest(Executor& ex, const CompiledNode& n) {
  NodeResult r;
  auto rendered = Render(ex, n.unique_id, false);
  if (!rendered.ok()) return Failed(rendered.status());
  const std::string& sql = *rendered;
  auto q = ex.Execute("SELECT count(*) FROM (\n" + sql + "\n) AS dbt_internal_test");
  if (!q.ok()) return Failed(q.status());
  r.failures = q->rows.empty() || !q->rows[0][0] ? 0 : std::stoll(*q->rows[0][0]);
  // severity, error_if and warn_if as dbt reads them: with severity error, error_if decides a
  // failure and warn_if a warning; with severity warn, only warn_if counts.
  std::string severity = StrOf(n.config, "severity");
  for (auto& ch : severity) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string error_if = StrOf(n.config, "error_if"), warn_if = StrOf(n.config, "warn_if");
  if (error_if.empty()) error_if = "!= 0";
  if (warn_if.empty()) warn_if = "!= 0";
  auto is_error = TestCondition(error_if, r.failures);
  auto is_warn = TestCondition(warn_if, r.failures);
  if (!is_error.ok()) return Failed(is_error.status());
  if (!is_warn.ok()) return Failed(is_warn.status());
  const std::string count = "Got " + std::to_string(r.failures) + " result" + (r.failures == 1 ? "" : "s");
  if (severity != "warn" && *is_error) {
    r.status = "fail";
    r.message = count + ", configured to fail if " + error_if;
  } else if (*is_warn) {
    r.status = "warn";
    r.message = count + ", configured to warn if " + warn_if;
  } else {
    r.status = "pass";
  }
  // store_failures: the failing rows in <schema>-dbt-test-audit.<test> (dbt's
  // <schema>_dbt_test__audit, in a domain's characters).
  const Value* store = n.config.dict().Find(std::string_view("store_failures"));
  if (store_failures_ || (store && store->Truthy())) {
    const std::string audit = compiler_.target().schema + "-dbt-test-audit";
    const std::string rel = Relation(audit, n.node->name);
    if (Status st = Ensure(ex, audit); !st.ok()) return Failed(st);
    auto stored = Transaction(ex, {"DROP TABLE IF EXISTS " + rel, "CREATE TABLE " + rel + " AS\n" + sql},
                              "dbt: failures of test " + n.unique_id);
    if (!stored.ok()) return Failed(stored.status());
    r.relation = audit + "." + n.node->name;
  }
  return r;
}

Result<std::vector<NodeResult>> Runner::Build(const BuildOptions& o) {
  LM_ASSIGN_OR_RETURN(std::vector<std::string> order, compiler_.Order());
  std::vector<const CompiledNode*> todo;
  for (const std::string& uid : order) {
    const CompiledNode& n = compiler_.nodes().at(uid);
    if (!o.select.empty() && !o.select.count(uid)) continue;
    const NodeKind k = n.node->kind;
    if (k == NodeKind::kModel && (!o.models || n.materialized == "ephemeral")) continue;
    if (k == NodeKind::kSeed && !o.seeds) continue;
    if (k == NodeKind::kTest && !o.tests) continue;
    if (k == NodeKind::kSnapshot && !o.snapshots) continue;
    todo.push_back(&n);
  }
  snapshot_time_ = FormatTimestamp();
  store_failures_ = o.store_failures;

  // What each node waits for: what it depends on, and (as in the order above, where a model's
  // tests come right after it) the tests of what it depends on, so that a failing test stops
  // its model's dependents. Every edge goes forward in `todo`: no cycles.
  const size_t total = todo.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < total; ++i) index[todo[i]->unique_id] = i;
  std::map<std::string, std::vector<size_t>> tests_of;
  for (size_t i = 0; i < total; ++i) {
    if (!todo[i]->tested.empty()) tests_of[todo[i]->tested].push_back(i);
  }
  std::vector<std::vector<size_t>> dependents(total);
  std::vector<size_t> pending(total, 0);
  for (size_t i = 0; i < total; ++i) {
    std::set<size_t> waits;
    for (const std::string& d : todo[i]->depends_on) {
      if (auto it = index.find(d); it != index.end()) waits.insert(it->second);
      if (todo[i]->node->kind == NodeKind::kTest) continue;
      for (size_t t : tests_of[d]) {
        if (t < i) waits.insert(t);
      }
    }
    for (size_t w : waits) dependents[w].push_back(i);
    pending[i] = waits.size();
  }

  // Connections: this runner's, and one more per extra thread.
  std::vector<Executor*> executors = {&executor_};
  std::vector<std::unique_ptr<Executor>> owned;
  const size_t threads = std::max<size_t>(1, std::min(o.threads, total));
  for (size_t t = 1; t < threads && o.connect; ++t) {
    LM_ASSIGN_OR_RETURN(std::unique_ptr<Executor> ex, o.connect());
    executors.push_back(ex.get());
    owned.push_back(std::move(ex));
  }

  LM_ASSIGN_OR_RETURN(std::vector<std::string> start, compiler_.RunHooks("on-run-start"));
  for (const std::string& h : start) {
    auto r = executor_.Execute(h);
    if (!r.ok()) return Status(r.status().code(), "on-run-start: " + r.status().message());
  }
  std::mutex mu;
  std::condition_variable cv;
  std::set<size_t> ready;  // by position in `todo`: one thread runs them in that order
  for (size_t i = 0; i < total; ++i) {
    if (pending[i] == 0) ready.insert(i);
  }
  size_t started = 0, finished = 0;
  std::vector<NodeResult> results;
  // Nodes that failed to build (or were skipped): everything that depends on them is skipped.
  // Models whose tests failed: the models that depend on them are skipped, their other tests run.
  std::set<std::string> failed, tested_bad;
  auto work = [&](Executor& ex, size_t thread) {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait(lock, [&] { return !ready.empty() || finished == total; });
      if (ready.empty()) return;
      const size_t i = *ready.begin();
      ready.erase(ready.begin());
      const CompiledNode& n = *todo[i];
      const size_t number = ++started;
      NodeResult r;
      r.unique_id = n.unique_id;
      r.name = n.node->name;
      r.resource = NodeKindName(n.node->kind);
      r.materialized = n.materialized;
      r.relation = n.node->kind == NodeKind::kTest ? "" : n.relation();
      r.thread = thread;
      std::string blocked;
      const bool is_test = n.node->kind == NodeKind::kTest;
      for (const std::string& d : n.depends_on) {
        if (failed.count(d) || (!is_test && tested_bad.count(d))) blocked = d;
      }
      if (!blocked.empty()) {
        r.status = "skipped";
        r.message = "skipped: it depends on " + blocked + ", which failed or failed a test";
      } else {
        if (o.progress) o.progress(r, number, total, false);
        lock.unlock();
        const auto t0 = std::chrono::steady_clock::now();
        NodeResult done;
        // The ephemeral models it uses are rendered first (as of now), for their CTEs.
        if (Status st = CompileEphemerals(ex, n); !st.ok()) {
          done.status = "error";
          done.message = st.message();
        } else {
          done = n.node->kind == NodeKind::kSeed       ? RunSeed(ex, n)
                 : n.node->kind == NodeKind::kTest     ? RunTest(ex, n)
                 : n.node->kind == NodeKind::kSnapshot ? RunSnapshot(ex, n)
                                                       : RunModel(ex, n, o.full_refresh);
        }
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        lock.lock();
        r.status = done.status;
        r.message = done.message;
        r.failures = done.failures;
        if (!done.relation.empty()) r.relation = done.relation;
      }
      if (r.status == "error" || r.status == "fail" || r.status == "skipped") {
        failed.insert(n.unique_id);
        if (!n.tested.empty() && r.status != "skipped") tested_bad.insert(n.tested);
      }
      if (o.progress) o.progress(r, number, total, true);
      results.push_back(std::move(r));
      ++finished;
      for (size_t d : dependents[i]) {
        if (--pending[d] == 0) ready.insert(d);
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < executors.size(); ++t) pool.emplace_back(work, std::ref(*executors[t]), t);
  work(*executors[0], 0);
  for (auto& t : pool) t.join();
  compiler_.SetExecutor(&executor_);
  LM_ASSIGN_OR_RETURN(std::vector<std::string> end, compiler_.RunHooks("on-run-end"));
  for (const std::string& h : end) {
    auto r = executor_.Execute(h);
    if (!r.ok()) return Status(r.status().code(), "on-run-end: " + r.status().message());
  }
  return results;
}

}  // namespace lakemesh::dbt
