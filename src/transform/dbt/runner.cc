#include "transform/dbt/runner.h"

#include <chrono>
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

bool IsTimestamp(const std::string& s) {
  return s.size() >= 19 && IsDate(s.substr(0, 10)) && (s[10] == ' ' || s[10] == 'T') && s[13] == ':' &&
         s[16] == ':';
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

Result<bool> Runner::Exists(const std::string& schema, const std::string& name) {
  // Asked of the relation itself (at the session's branch): the catalogs would define every
  // table and view of every domain to answer.
  auto r = executor_.Execute("SELECT * FROM " + Relation(schema, name) + " LIMIT 0");
  return r.ok();
}

Status Runner::Ensure(const std::string& schema) {
  if (schemas_.count(schema)) return Status::OK();
  auto r = executor_.Execute("CREATE SCHEMA IF NOT EXISTS " + Ident(schema));
  if (!r.ok()) return r.status();
  schemas_.insert(schema);
  return Status::OK();
}

Result<QueryResult> Runner::Transaction(const std::vector<std::string>& statements,
                                        const std::string& message) {
  LM_TRY(executor_.Execute("SET lakemesh.commit_message = " + Literal(message)).status());
  LM_TRY(executor_.Execute("BEGIN").status());
  QueryResult last;  // what the transaction did: its last statement other than a DROP
  for (const std::string& s : statements) {
    auto r = executor_.Execute(s);
    if (!r.ok()) {
      (void)executor_.Execute("ROLLBACK");
      return r.status();
    }
    if (s.rfind("DROP ", 0) != 0 || last.tag.empty()) last = std::move(*r);
  }
  auto c = executor_.Execute("COMMIT");
  if (!c.ok()) return c.status();
  return last;
}

NodeResult Runner::RunModel(const CompiledNode& n, bool full_refresh) {
  NodeResult r;
  const std::string rel = Relation(n.schema, n.alias);
  auto fail = [&](const Status& st) {
    r.status = "error";
    r.message = st.message();
    return r;
  };
  if (Status st = Ensure(n.schema); !st.ok()) return fail(st);
  auto exists = Exists(n.schema, n.alias);
  if (!exists.ok()) return fail(exists.status());
  std::vector<std::string> statements;
  const std::string& m = n.materialized;
  if (m == "view") {
    statements = {"CREATE OR REPLACE VIEW " + rel + " AS\n" + n.compiled_code};
  } else if (m == "table" || (m == "incremental" && (!*exists || full_refresh))) {
    if (m == "incremental" && *exists) {
      if (Status st = compiler_.Recompile(n.unique_id, false); !st.ok()) return fail(st);
    }
    statements = {"DROP VIEW IF EXISTS " + rel, "DROP TABLE IF EXISTS " + rel,
                  "CREATE TABLE " + rel + " AS\n" + compiler_.nodes().at(n.unique_id).compiled_code};
    if (!*exists) statements.erase(statements.begin(), statements.begin() + 2);
  } else if (m == "incremental") {
    if (Status st = compiler_.Recompile(n.unique_id, true); !st.ok()) return fail(st);
    const std::string& sql = compiler_.nodes().at(n.unique_id).compiled_code;
    const Value* key = n.config.dict().Find(std::string_view("unique_key"));
    const std::string strategy = StrOf(n.config, "incremental_strategy");
    if (key && !key->is_none() && strategy != "append") {
      // delete+insert on the unique key, in one commit. The new rows are computed once, into a
      // relation of the transaction, before anything is deleted: the model's SQL usually reads
      // the table itself ({{ this }}), which the delete changes.
      std::vector<std::string> keys;
      for (const auto& k : key->is_list() ? key->list().items : std::vector<Value>{*key}) keys.push_back(k.Str());
      std::string cols;
      for (size_t i = 0; i < keys.size(); ++i) cols += (i ? ", " : "") + Ident(keys[i]);
      const std::string tmp = Relation(n.schema, n.alias + "__dbt_tmp");
      statements = {"DROP TABLE IF EXISTS " + tmp,
                    "CREATE TABLE " + tmp + " AS\n" + sql,
                    "DELETE FROM " + rel + " WHERE (" + cols + ") IN (SELECT " + cols + " FROM " + tmp + ")",
                    "INSERT INTO " + rel + " SELECT * FROM " + tmp,
                    "DROP TABLE " + tmp};
    } else {
      statements = {"INSERT INTO " + rel + "\n" + sql};
    }
  } else {
    return fail(InvalidArgument("unknown materialization '" + m + "' (view, table, incremental or ephemeral)"));
  }
  auto result = Transaction(statements, "dbt: " + m + " model " + n.relation() + " (" + n.unique_id + ")");
  if (!result.ok()) return fail(result.status());
  r.status = "success";
  r.message = result->tag;
  return r;
}

NodeResult Runner::RunSeed(const CompiledNode& n) {
  NodeResult r;
  auto fail = [&](const Status& st) {
    r.status = "error";
    r.message = st.message();
    return r;
  };
  std::ifstream in(compiler_.project().root + "/" + n.node->file, std::ios::binary);
  if (!in) return fail(NotFound("cannot read " + n.node->file));
  std::stringstream ss;
  ss << in.rdbuf();
  const Value* types = n.config.dict().Find(std::string_view("column_types"));
  size_t rows = 0;
  auto statements = SeedStatements(ss.str(), Relation(n.schema, n.alias), types ? *types : Value::None(), &rows);
  if (!statements.ok()) return fail(InvalidArgument(n.node->file + ": " + statements.status().message()));
  if (Status st = Ensure(n.schema); !st.ok()) return fail(st);
  auto exists = Exists(n.schema, n.alias);
  if (!exists.ok()) return fail(exists.status());
  if (*exists) statements->insert(statements->begin(), "DROP TABLE IF EXISTS " + Relation(n.schema, n.alias));
  auto result = Transaction(*statements, "dbt: seed " + n.relation() + " (" + n.unique_id + ")");
  if (!result.ok()) return fail(result.status());
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

NodeResult Runner::RunTest(const CompiledNode& n) {
  NodeResult r;
  auto fail = [&](const Status& st) {
    r.status = "error";
    r.message = st.message();
    return r;
  };
  auto q = executor_.Execute("SELECT count(*) FROM (\n" + n.compiled_code + "\n) AS dbt_internal_test");
  if (!q.ok()) return fail(q.status());
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
  if (!is_error.ok()) return fail(is_error.status());
  if (!is_warn.ok()) return fail(is_warn.status());
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
    if (Status st = Ensure(audit); !st.ok()) return fail(st);
    auto stored = Transaction({"DROP TABLE IF EXISTS " + rel, "CREATE TABLE " + rel + " AS\n" + n.compiled_code},
                              "dbt: failures of test " + n.unique_id);
    if (!stored.ok()) return fail(stored.status());
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
    if (k == NodeKind::kSnapshot) continue;  // not yet
    todo.push_back(&n);
  }
  std::vector<NodeResult> results;
  // Nodes that failed to build (or were skipped): everything that depends on them is skipped.
  // Models whose tests failed: the models that depend on them are skipped, their other tests run.
  std::set<std::string> failed, tested_bad;
  for (size_t i = 0; i < todo.size(); ++i) {
    const CompiledNode& n = *todo[i];
    NodeResult r;
    r.unique_id = n.unique_id;
    r.name = n.node->name;
    r.resource = NodeKindName(n.node->kind);
    r.materialized = n.materialized;
    r.relation = n.node->kind == NodeKind::kTest ? "" : n.relation();
    store_failures_ = o.store_failures;
    std::string blocked;
    const bool is_test = n.node->kind == NodeKind::kTest;
    for (const std::string& d : n.depends_on) {
      if (failed.count(d) || (!is_test && tested_bad.count(d))) blocked = d;
    }
    if (!blocked.empty()) {
      r.status = "skipped";
      r.message = "skipped: it depends on " + blocked + ", which failed or failed a test";
      failed.insert(n.unique_id);
      if (o.progress) o.progress(r, i + 1, todo.size(), true);
      results.push_back(std::move(r));
      continue;
    }
    if (o.progress) o.progress(r, i + 1, todo.size(), false);
    const auto t0 = std::chrono::steady_clock::now();
    NodeResult done = n.node->kind == NodeKind::kSeed   ? RunSeed(n)
                      : n.node->kind == NodeKind::kTest ? RunTest(n)
                                                        : RunModel(n, o.full_refresh);
    r.status = done.status;
    r.message = done.message;
    r.failures = done.failures;
    if (!done.relation.empty()) r.relation = done.relation;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.status == "error" || r.status == "fail") {
      failed.insert(n.unique_id);
      if (!n.tested.empty()) tested_bad.insert(n.tested);
    }
    if (o.progress) o.progress(r, i + 1, todo.size(), true);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace lakemesh::dbt
