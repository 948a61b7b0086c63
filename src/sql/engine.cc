#include "sql/engine.h"

#include <regex>

#include "base/coding.h"
#include "sql/engine_impl.h"
#include "storage/blob_store.h"

namespace lakemesh::sql {

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(catalog::Catalog& catalog, EngineOptions options,
                                             ObjectSources sources) {
  auto impl = std::make_unique<Impl>(catalog, std::move(options));
  impl->sources = sources;
  const EngineOptions& o = impl->options;
  std::error_code ec;
  impl->cache_dir = o.scratch_dir + "/table-files";
  std::filesystem::create_directories(impl->cache_dir, ec);
  std::filesystem::create_directories(o.scratch_dir + "/spill", ec);
  if (ec) return IoError("creating " + o.scratch_dir + ": " + ec.message());
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Internal("duckdb_create_config");
  duckdb_set_config(config, "autoinstall_known_extensions", "false");
  duckdb_set_config(config, "autoload_known_extensions", "false");
  if (o.threads > 0) duckdb_set_config(config, "threads", std::to_string(o.threads).c_str());
  if (!o.memory_limit.empty()) duckdb_set_config(config, "memory_limit", o.memory_limit.c_str());
  char* err = nullptr;
  duckdb_state st = duckdb_open_ext(nullptr, &impl->db, config, &err);
  duckdb_destroy_config(&config);
  if (st != DuckDBSuccess) {
    std::string m = err ? err : "unknown error";
    if (err) duckdb_free(err);
    return Internal("opening DuckDB: " + m);
  }
  if (duckdb_connect(impl->db, &impl->admin) != DuckDBSuccess) return Internal("duckdb_connect");
  // DuckDB reads the table files and spills to scratch; nothing else, and SQL cannot change that.
  std::string allowed = Literal(o.scratch_dir + "/");
  if (auto root = catalog.LocalTableRoot()) allowed += ", " + Literal(*root + "/");
  if (sources.blobs) {
    if (auto root = sources.blobs->LocalRoot(); root && root != catalog.LocalTableRoot()) {
      allowed += ", " + Literal(*root + "/");
    }
  }
  for (const std::string& s :
       {std::string("SET GLOBAL TimeZone = 'UTC'"),
        "SET GLOBAL temp_directory = " + Literal(o.scratch_dir + "/spill"),
        "SET GLOBAL allowed_directories = [" + allowed + "]",
        // Table files never change: their footers can be kept between queries.
        std::string("SET GLOBAL parquet_metadata_cache = true"),
        // GROUP BY on integer keys whose statistics span up to 2^18 values (ids of dimensions
        // up to 262,144 rows) aggregates by indexing an array rather than hashing: 3-6x faster
        // on millions of rows. The array (a few MB per thread) is zeroed whatever the row
        // count, ≤ 7 ms; DuckDB's default of 2^12 leaves most dimension ids to hashing.
        std::string("SET GLOBAL perfect_ht_threshold = 18"),
        std::string("SET GLOBAL enable_external_access = false"),
        std::string("SET GLOBAL lock_configuration = true")}) {
    LM_TRY_CTX(impl->Run(impl->admin, s), "configuring DuckDB");
  }
  // The table cache's budget: a quarter of DuckDB's memory limit unless set.
  if (o.table_cache_bytes < 0) {
    duckdb_result r;
    if (duckdb_query(impl->admin, "SELECT current_setting('memory_limit')", &r) == DuckDBSuccess) {
      char* v = duckdb_value_varchar(&r, 0, 0);
      if (v) {
        if (auto limit = ParseByteSize(v)) impl->cache_budget = *limit / 4;
        duckdb_free(v);
      }
    }
    duckdb_destroy_result(&r);
  } else {
    impl->cache_budget = static_cast<uint64_t>(o.table_cache_bytes);
  }
  LM_TRY_CTX(impl->Run(impl->admin, std::string("CREATE SCHEMA ") + Engine::Impl::kCacheSchema),
             "creating the table cache's schema");
  // What PostgreSQL clients ask of pg_catalog.
  for (const std::string& s : PgCatalogSetup()) {
    LM_TRY_CTX(impl->Run(impl->admin, s), "creating the pg_catalog compatibility schema");
  }
  // Bucket partitions of written rows are computed by lakemesh's own functions.
  LM_TRY(Connection::Borrow(impl->admin)->RegisterIcebergFunctions());
  // Which functions aggregate, for eager aggregation (eager_aggregation.h).
  duckdb_result kinds;
  if (duckdb_query(impl->admin,
                   "SELECT DISTINCT lower(function_name), function_type FROM duckdb_functions() "
                   "WHERE function_type IN ('scalar', 'aggregate')",
                   &kinds) != DuckDBSuccess) {
    duckdb_destroy_result(&kinds);
    return Internal("listing DuckDB's functions");
  }
  for (idx_t i = 0, n = duckdb_row_count(&kinds); i < n; ++i) {
    char* name = duckdb_value_varchar(&kinds, 0, i);
    char* type = duckdb_value_varchar(&kinds, 1, i);
    if (name && type) {
      (std::string(type) == "aggregate" ? impl->function_kinds.aggregates
                                        : impl->function_kinds.scalars)
          .insert(name);
    }
    duckdb_free(name);
    duckdb_free(type);
  }
  duckdb_destroy_result(&kinds);
  // DuckDB's settings, which SET refuses by name (PostgreSQL's are kept for SHOW).
  duckdb_result names;
  if (duckdb_query(impl->admin, "SELECT lower(name) FROM duckdb_settings()", &names) ==
      DuckDBSuccess) {
    for (idx_t i = 0, n = duckdb_row_count(&names); i < n; ++i) {
      char* name = duckdb_value_varchar(&names, 0, i);
      if (name) impl->duckdb_settings.insert(name);
      duckdb_free(name);
    }
  }
  duckdb_destroy_result(&names);
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::CacheStats Engine::TableCacheStats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  CacheStats out;
  for (const auto& [relation, e] : impl_->cache) out.tables += e.ready;
  out.bytes = impl_->cache_bytes;
  out.budget = impl_->cache_budget;
  out.copies = impl_->cache_copies;
  return out;
}

uint64_t Engine::EagerAggregations() const { return impl_->eager_rewrites.load(); }

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

const std::string& Session::user() const { return impl_->user; }
const std::string& Session::ref() const { return impl_->ref; }
bool Session::in_transaction() const { return impl_->transaction; }
void Session::Cancel() { duckdb_interrupt(impl_->conn); }

void Session::SetDefaultDomain(std::string domain) { impl_->default_domain = std::move(domain); }

Status Session::DefineTable(const std::vector<std::string>& names, std::vector<ResultColumn> columns,
                            std::vector<std::vector<std::optional<std::string>>> rows) {
  Impl& s = *impl_;
  if (names.empty()) return InvalidArgument("a defined table needs a name");
  std::string key = names[0];
  std::transform(key.begin(), key.end(), key.begin(), ::tolower);
  auto it = s.defined.find(key);
  const std::string table =
      it != s.defined.end() ? it->second : "__lm_defined_" + std::to_string(s.defined_count++);
  std::string create = "CREATE OR REPLACE TEMP TABLE " + Ident(table) + " (";
  std::vector<std::string> types;
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string t = DuckTypeId(columns[i].type);
    if (t.empty()) t = "VARCHAR";
    types.push_back(t);
    create += (i ? ", " : "") + Ident(columns[i].name) + " " + t;
  }
  create += ")";
  Status st = s.engine.Run(s.conn, create);
  for (size_t r = 0; st.ok() && r < rows.size(); r += 500) {
    std::string insert = "INSERT INTO " + Ident(table) + " VALUES ";
    for (size_t k = r; k < rows.size() && k < r + 500; ++k) {
      insert += k > r ? ", (" : "(";
      for (size_t c = 0; c < columns.size(); ++c) {
        const auto& v = c < rows[k].size() ? rows[k][c] : std::nullopt;
        insert += (c ? ", " : "") + (v ? "CAST(" + Literal(*v) + " AS " + types[c] + ")" : "NULL");
      }
      insert += ")";
    }
    st = s.engine.Run(s.conn, insert);
  }
  if (!st.ok()) return st;
  for (std::string name : names) {
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    s.defined[name] = table;
  }
  return st;
}

Result<std::unique_ptr<Session>> Engine::Connect(const std::string& user, SessionOptions options) {
  auto s = std::make_unique<Session::Impl>(*impl_, user, options);
  if (duckdb_connect(impl_->db, &s->conn) != DuckDBSuccess) return Internal("duckdb_connect");
  return std::unique_ptr<Session>(new Session(std::move(s)));
}

namespace {
bool IsQuery(const std::vector<std::string>& kw);
}  // namespace

Outcome Session::Execute(std::string_view statement, ResultSink& sink) {
  Impl::TimeoutGuard timeout(*impl_);
  Outcome out = ExecuteStatement(statement, sink);
  timeout.Explain(out);
  return out;
}

Outcome Session::ExecuteStatement(std::string_view statement, ResultSink& sink) {
  Impl& s = *impl_;
  const std::string text(statement);
  auto kw = LeadingKeywords(statement, 2);
  Outcome out;
  if (kw.empty()) {
    out.error = Err("42601", "syntax error: a statement starts with a keyword");
    return out;
  }
  const std::string& k = kw[0];
  const std::string second = kw.size() > 1 ? kw[1] : "";
  if (k == "SELECT" && statement.find("set_config") != std::string_view::npos) {
    // SELECT [pg_catalog.]set_config('name', 'value', is_local): SET, as a query (pg_dump's
    // scripts start with one). The setting holds for the session either way.
    static const std::regex kSetConfig(
        R"(^\s*SELECT\s+(?:pg_catalog\s*\.\s*)?set_config\s*\(\s*'((?:[^']|'')*)'\s*,\s*)"
        R"('((?:[^']|'')*)'\s*,\s*(?:true|false|'t'|'f')\s*\)\s*(?:AS\s+\w+\s*)?;?\s*$)",
        std::regex::icase);
    std::cmatch m;
    if (std::regex_match(statement.data(), statement.data() + statement.size(), m, kSetConfig)) {
      auto unquote = [](std::string v) {
        for (size_t p = v.find("''"); p != std::string::npos; p = v.find("''", p + 1)) v.erase(p, 1);
        return v;
      };
      const std::string name = unquote(m[1].str()), value = unquote(m[2].str());
      Outcome set = s.Set("SET " + name + " = " + Literal(value), false);
      if (set.error) return set;
      Status st = sink.Columns({{"set_config", ColumnType::kText}});
      if (st.ok()) st = sink.Row({std::string_view(value)});
      if (!st.ok()) out.error = FromStatus(st);
      out.has_rows = true;
      out.rows = 1;
      out.tag = "SELECT 1";
      return out;
    }
  }
  if (k == "SELECT" || k == "WITH" || k == "VALUES" || k == "TABLE" || k == "FROM") {
    return s.Stream(statement, sink);
  }
  if (k == "EXPLAIN") {
    std::string inner(AfterKeywords(statement, second == "ANALYZE" ? 2 : 1));
    std::string query;
    if (auto e = s.Resolve(inner, &query)) {
      out.error = std::move(e);
      return out;
    }
    return s.Materialized((second == "ANALYZE" ? "EXPLAIN ANALYZE " : "EXPLAIN ") + query, sink,
                          "EXPLAIN");
  }
  if (k == "DESCRIBE" || k == "SUMMARIZE" || (k == "SHOW" && second != "TABLES" &&
                                              second != "ALL" && second != "DATABASES")) {
    std::string target(AfterKeywords(statement, 1));
    if (k == "SHOW" && LeadingKeywords(statement, 4) ==
                           std::vector<std::string>{"SHOW", "TRANSACTION", "ISOLATION", "LEVEL"}) {
      return s.Show("transaction_isolation", sink);  // PostgreSQL's spelling of that setting
    }
    // SHOW name: a setting, unless it names a table (DuckDB's SHOW sales.orders).
    std::string lower = target;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (k == "SHOW" && target.find_first_of(" \t\n(") == std::string::npos &&
        (target.find('.') == std::string::npos || StartsWith(lower, "lakemesh.") ||
         s.settings.count(lower))) {
      return s.Show(target, sink);
    }
    std::string query;
    if (auto e = s.Resolve(k == "SUMMARIZE" && (second == "SELECT" || second == "FROM")
                               ? target
                               : "SELECT * FROM " + target,
                           &query)) {
      out.error = std::move(e);
      return out;
    }
    if (StartsWith(query, "SELECT * FROM ")) {
      // DESCRIBE <table>, without the alias resolving gave it (the name it had).
      query = query.substr(14);
      if (size_t as = query.rfind(" AS "); as != std::string::npos) {
        const std::string alias = query.substr(as + 4);
        if (alias.find(' ') == std::string::npos ||
            (alias.size() > 1 && alias.front() == '"' && alias.back() == '"')) {
          query.resize(as);
        }
      }
    }
    return s.Materialized(k + " " + query, sink, "");
  }
  if (k == "SHOW" && second == "ALL" && LeadingKeywords(statement, 3).size() == 2) {
    return s.ShowAll(sink);  // PostgreSQL's SHOW ALL: the settings
  }
  if (k == "SHOW") {  // SHOW TABLES [FROM domain], SHOW ALL TABLES
    if (second == "TABLES" && LeadingKeywords(statement, 3).size() == 2) {
      // Every domain's tables and views (DuckDB's own would show its empty main schema).
      return s.Stream("SELECT table_schema AS domain, table_name AS name, table_type AS type "
                      "FROM information_schema.tables WHERE table_schema NOT IN "
                      "('pg_catalog', 'information_schema') ORDER BY 1, 2",
                      sink);
    }
    if (Status st = s.engine.SyncAll(s.ref); !st.ok()) {
      out.error = FromStatus(st);
      return out;
    }
    return s.Materialized(text, sink, "");
  }
  if (k == "DISCARD") {
    // DISCARD ALL (what connection poolers run between clients): the session as it connected:
    // its settings, ref and cursors. (The protocol forgets its prepared statements too.)
    if (second == "ALL" && s.transaction) {
      out.error = Err("25001", "DISCARD ALL cannot run inside a transaction block");
      return out;
    }
    if (second == "ALL") {
      s.CloseCursors(/*held_too=*/true);
      s.settings.clear();
      s.ref = "main";
      s.default_domain.clear();
      s.cache.clear();
      s.sql_prepared.clear();
    }
    out.tag = "DISCARD " + (second.empty() ? std::string("ALL") : second);
    return out;
  }
  if (k == "DEALLOCATE") {
    // SQL's prepared statements are forgotten here; the protocol's by the protocol.
    size_t pos = 0;
    ConsumeKeyword(statement, &pos, "DEALLOCATE");
    ConsumeKeyword(statement, &pos, "PREPARE");
    if (ConsumeKeyword(statement, &pos, "ALL")) {
      s.sql_prepared.clear();
      out.tag = "DEALLOCATE ALL";
    } else {
      if (auto name = ParseName(statement, &pos); name && name->size() == 1) {
        s.sql_prepared.erase((*name)[0]);
      }
      out.tag = "DEALLOCATE";
    }
    return out;
  }
  if (k == "PREPARE") {  // PREPARE name [(type, ...)] AS statement
    const char* usage = "syntax error: PREPARE name [(type, ...)] AS statement";
    size_t pos = 0;
    ConsumeKeyword(statement, &pos, "PREPARE");
    auto name = ParseName(statement, &pos);
    if (!name || name->size() != 1) {
      out.error = Err("42601", usage);
      return out;
    }
    Impl::SqlPrepared p;
    if (auto list = ParseParenthesized(statement, &pos)) {
      for (const std::string& type : SplitTopLevel(*list, ',')) {  // (parts come trimmed)
        if (type.empty()) {
          out.error = Err("42601", usage);
          return out;
        }
        p.types.push_back(type);
      }
    }
    if (!ConsumeKeyword(statement, &pos, "AS") || SkipSpace(statement, pos) >= statement.size()) {
      out.error = Err("42601", usage);
      return out;
    }
    p.statement = std::string(statement.substr(SkipSpace(statement, pos)));
    if (s.sql_prepared.count((*name)[0])) {
      out.error = Err("42P05", "prepared statement \"" + (*name)[0] + "\" already exists");
      return out;
    }
    if (IsQuery(LeadingKeywords(p.statement, 1))) {
      // Checked now, as PostgreSQL does: its tables, columns and types, with NULL arguments.
      const size_t n = std::max(CountParameters(p.statement), p.types.size());
      std::string error;
      std::string probe = SubstituteParameters(p.statement, std::vector<std::string>(n, "NULL"),
                                               p.types, &error);
      if (!error.empty()) {
        out.error = Err("42P02", error);
        return out;
      }
      Description d;
      if (auto e = Describe(probe, &d)) {
        out.error = std::move(e);
        return out;
      }
    }
    s.sql_prepared[(*name)[0]] = std::move(p);
    out.tag = "PREPARE";
    return out;
  }
  if (k == "EXECUTE") {  // EXECUTE name [(argument, ...)]: the statement, its $n the arguments
    size_t pos = 0;
    ConsumeKeyword(statement, &pos, "EXECUTE");
    auto name = ParseName(statement, &pos);
    if (!name || name->size() != 1) {
      out.error = Err("42601", "syntax error: EXECUTE name [(argument, ...)]");
      return out;
    }
    auto it = s.sql_prepared.find((*name)[0]);
    if (it == s.sql_prepared.end()) {
      out.error = Err("26000", "prepared statement \"" + (*name)[0] + "\" does not exist");
      return out;
    }
    std::vector<std::string> args;
    if (auto list = ParseParenthesized(statement, &pos)) args = SplitTopLevel(*list, ',');
    if (SkipSpace(statement, pos) < statement.size()) {
      out.error = Err("42601", "syntax error: EXECUTE name [(argument, ...)]");
      return out;
    }
    const Impl::SqlPrepared& p = it->second;
    const size_t n = std::max(CountParameters(p.statement), p.types.size());
    if (args.size() != n) {
      out.error = Err("42601", "wrong number of parameters for prepared statement \"" +
                                   (*name)[0] + "\": expected " + std::to_string(n) +
                                   ", got " + std::to_string(args.size()));
      return out;
    }
    std::string error;
    std::string bound = SubstituteParameters(p.statement, args, p.types, &error);
    if (!error.empty()) {
      out.error = Err("42P02", error);
      return out;
    }
    return ExecuteStatement(bound, sink);
  }
  if (k == "SET") return s.Set(statement, false);
  if (k == "RESET") return s.Set(statement, true);
  if (k == "BEGIN" || (k == "START" && second == "TRANSACTION")) {
    out.tag = "BEGIN";
    s.transaction = true;
    return out;
  }
  if (k == "COMMIT" || k == "END") {
    s.CloseCursors(/*held_too=*/false);
    return s.Commit();
  }
  if (k == "ROLLBACK" || k == "ABORT") {
    s.CloseCursors(/*held_too=*/false);
    s.Rollback();
    out.tag = "ROLLBACK";
    return out;
  }
  if (k == "DECLARE") return Declare(statement, {}, {});
  if (k == "FETCH") return FetchCursor(statement, sink);
  if (k == "CLOSE") {
    size_t pos = 0;
    ConsumeKeyword(statement, &pos, "CLOSE");
    if (ConsumeKeyword(statement, &pos, "ALL")) {
      s.CloseCursors(/*held_too=*/true);
    } else {
      auto name = ParseName(statement, &pos);
      if (!name || name->size() != 1) {
        out.error = Err("42601", "syntax error: CLOSE cursor_name");
        return out;
      }
      if (!s.cursors.erase((*name)[0])) {
        out.error = Err("34000", "cursor \"" + (*name)[0] + "\" does not exist");
        return out;
      }
      s.portals.erase((*name)[0]);
      s.held.erase((*name)[0]);
    }
    out.tag = "CLOSE CURSOR";
    return out;
  }
  if (k == "COPY") {
    CopyParse cp = ParseCopyToStdout(statement);
    if (!cp.error.empty()) {
      out.error = Err("0A000", cp.error);
      return out;
    }
    if (cp.copy) {
      out = s.Stream(cp.copy->query, sink);
      if (!out.error) out.tag = "COPY " + std::to_string(out.rows);
      return out;
    }
    if (CopyInParse in = ParseCopyFromStdin(statement); in.copy || !in.error.empty()) {
      out.error = Err("0A000", in.error.empty() ? "COPY FROM STDIN takes its rows from a client "
                                                  "over the PostgreSQL protocol (psql's \\copy, "
                                                  "a driver's COPY support), as a simple query"
                                                : in.error);
      return out;
    }
    return s.CopyToObject(statement);
  }
  static const std::set<std::string> kNever = {
      "ATTACH", "DETACH", "INSTALL", "LOAD", "PRAGMA", "COPY", "EXPORT", "IMPORT", "CALL",
      "CHECKPOINT", "FORCE", "USE", "VACUUM", "UPDATE_EXTENSIONS"};
  if (kNever.count(k)) {
    out.error = Err("42501", k + " is not allowed: SQL reaches lakemesh's tables and nothing else");
    return out;
  }
  static const std::set<std::string> kWrites = {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP",
                                                "ALTER", "MERGE", "TRUNCATE", "COMMENT"};
  if (kWrites.count(k)) return s.Write(k, statement, sink);
  out.error = Err("42601", "syntax error at or near \"" + k + "\"");
  out.error->position = static_cast<int64_t>(statement.size() - AfterKeywords(statement, 0).size());
  return out;
}

// DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR [{WITH | WITHOUT} HOLD]
// FOR query: a portal of the session that FETCH reads forward (psycopg2's named cursors,
// SQLAlchemy's stream_results). Without HOLD it closes when the transaction ends.
Outcome Session::Declare(std::string_view statement,
                         const std::vector<std::optional<std::string>>& params,
                         const Declared& declared) {
  Impl& s = *impl_;
  Outcome out;
  size_t pos = 0;
  ConsumeKeyword(statement, &pos, "DECLARE");
  auto name = ParseName(statement, &pos);
  if (!name || name->size() != 1) {
    out.error = Err("42601", "syntax error: DECLARE cursor_name CURSOR FOR query");
    return out;
  }
  bool hold = false;
  while (true) {
    if (ConsumeKeyword(statement, &pos, "BINARY")) {
      out.error = Err("0A000", "binary cursors are not supported");
      return out;
    }
    if (ConsumeKeyword(statement, &pos, "ASENSITIVE") ||
        ConsumeKeyword(statement, &pos, "INSENSITIVE") ||
        ConsumeKeywords(statement, &pos, {"NO", "SCROLL"})) {
      continue;
    }
    if (ConsumeKeyword(statement, &pos, "SCROLL")) {
      out.error = Err("0A000", "cursors read forward only (NO SCROLL)");
      return out;
    }
    break;
  }
  if (!ConsumeKeyword(statement, &pos, "CURSOR")) {
    out.error = Err("42601", "syntax error: DECLARE cursor_name CURSOR FOR query");
    return out;
  }
  if (ConsumeKeywords(statement, &pos, {"WITH", "HOLD"})) {
    hold = true;
  } else {
    ConsumeKeywords(statement, &pos, {"WITHOUT", "HOLD"});
  }
  if (!ConsumeKeyword(statement, &pos, "FOR")) {
    out.error = Err("42601", "syntax error: DECLARE cursor_name CURSOR FOR query");
    return out;
  }
  std::string_view query = statement.substr(pos);
  const std::string portal = (*name)[0];
  if (s.portals.count(portal)) {
    out.error = Err("42P03", "cursor \"" + (*name)[0] + "\" already exists");
    return out;
  }
  if (!IsQuery(LeadingKeywords(query, 1))) {
    out.error = Err("42601", "DECLARE CURSOR takes a query");
    return out;
  }
  if (auto e = Bind(portal, query, params, nullptr, declared)) {
    out.error = std::move(e);
    return out;
  }
  s.cursors.insert(portal);
  if (hold) s.held.insert(portal);
  out.tag = "DECLARE CURSOR";
  return out;
}

// FETCH [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] cursor_name
Outcome Session::FetchCursor(std::string_view statement, ResultSink& sink) {
  Impl& s = *impl_;
  Outcome out;
  size_t pos = 0;
  ConsumeKeyword(statement, &pos, "FETCH");
  int64_t count = 1;  // 0: all
  auto number = [&](int64_t* n) {
    size_t p = SkipSpace(statement, pos), q = p;
    while (q < statement.size() && std::isdigit(static_cast<unsigned char>(statement[q]))) ++q;
    if (q == p || q - p > 18) return false;
    *n = std::stoll(std::string(statement.substr(p, q - p)));
    pos = q;
    return true;
  };
  for (const char* backward : {"PRIOR", "FIRST", "LAST", "ABSOLUTE", "RELATIVE", "BACKWARD"}) {
    if (ConsumeKeyword(statement, &pos, backward)) {
      out.error = Err("0A000", "cursors read forward only: FETCH " + std::string(backward) +
                                   " is not supported");
      return out;
    }
  }
  if (ConsumeKeyword(statement, &pos, "NEXT")) {
    count = 1;
  } else if (ConsumeKeyword(statement, &pos, "ALL")) {
    count = 0;
  } else if (ConsumeKeyword(statement, &pos, "FORWARD")) {
    if (ConsumeKeyword(statement, &pos, "ALL")) {
      count = 0;
    } else if (!number(&count)) {
      count = 1;
    }
  } else {
    number(&count);
  }
  if (!ConsumeKeyword(statement, &pos, "FROM")) ConsumeKeyword(statement, &pos, "IN");
  auto name = ParseName(statement, &pos);
  if (!name || name->size() != 1) {
    out.error = Err("42601", "syntax error: FETCH [FORWARD n] FROM cursor_name");
    return out;
  }
  auto it = s.cursors.count((*name)[0]) ? s.portals.find((*name)[0]) : s.portals.end();
  if (it == s.portals.end()) {
    out.error = Err("34000", "cursor \"" + (*name)[0] + "\" does not exist");
    return out;
  }
  if (Status st = sink.Columns(it->second->columns); !st.ok()) {
    out.error = FromStatus(st);
    return out;
  }
  const int64_t before = it->second->rows;
  bool suspended = false;
  if (count == 0 && it->second->finished) {
    out.rows = 0;
  } else {
    out = s.Fetch(*it->second, count == 0 ? 0 : count, sink, &suspended);
    if (out.error) return out;
  }
  out.has_rows = true;
  out.rows = it->second->rows - before;
  out.tag = "FETCH " + std::to_string(out.rows);
  return out;
}

namespace {

bool IsQuery(const std::vector<std::string>& kw) {
  if (kw.empty()) return false;
  const std::string& k = kw[0];
  return k == "SELECT" || k == "WITH" || k == "VALUES" || k == "TABLE" || k == "FROM";
}

// Collects a statement's columns and rows (for statements run at bind time).
struct BufferSink : ResultSink {
  std::vector<ResultColumn> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  Status Columns(const std::vector<ResultColumn>& c) override {
    columns = c;
    return Status::OK();
  }
  Status Row(const std::vector<std::optional<std::string_view>>& values) override {
    if (rows.size() >= 1000000) return ResourceExhausted("too many rows to buffer");
    std::vector<std::optional<std::string>> row;
    row.reserve(values.size());
    for (const auto& v : values) row.push_back(v ? std::optional<std::string>(*v) : std::nullopt);
    rows.push_back(std::move(row));
    return Status::OK();
  }
};

}  // namespace

std::optional<SqlError> Session::Describe(std::string_view statement, Description* out,
                                          const Declared& declared) {
  Impl& s = *impl_;
  *out = Description{};
  auto kw = LeadingKeywords(statement, 2);
  if (IsQuery(kw)) {
    Portal p;
    if (auto e = s.PrepareWithParams(statement, declared, p)) return e;
    out->params = p.param_types;
    out->columns = p.columns;
    return std::nullopt;
  }
  if (kw.empty()) return std::nullopt;
  const std::string& k = kw[0];
  if (k == "SHOW" || k == "DESCRIBE" || k == "SUMMARIZE" || k == "EXPLAIN") {
    BufferSink sink;
    Outcome o = Execute(statement, sink);
    if (o.error) return o.error;
    out->columns = sink.columns;
    return std::nullopt;
  }
  // Writes and the rest: their parameters are bound as literals (see Bind), of the declared
  // types or text, which DuckDB converts where the statement uses them.
  const size_t n = CountParameters(statement);
  for (size_t i = 0; i < n; ++i) {
    out->params.push_back(i < declared.size() && declared[i] ? declared[i]->type
                                                             : ColumnType::kText);
  }
  return std::nullopt;
}

std::optional<SqlError> Session::Bind(const std::string& name, std::string_view statement,
                                      const std::vector<std::optional<std::string>>& params,
                                      Description* out, const Declared& declared) {
  Impl& s = *impl_;
  s.portals.erase(name);
  auto portal = std::make_unique<Portal>();
  if (IsQuery(LeadingKeywords(statement, 1))) {
    if (auto e = s.PrepareWithParams(statement, declared, *portal)) return e;
    if (auto e = s.Bind(*portal, params)) return e;
    portal->returns_rows = true;
  } else if (!params.empty() && LeadingKeywords(statement, 1) == std::vector<std::string>{"DECLARE"}) {
    // DECLARE c CURSOR FOR <query with parameters> (psycopg 3's server cursors)
    Outcome o = Declare(statement, params, declared);
    if (o.error) return o.error;
    portal->done = std::move(o);
  } else {
    // A write with parameters (INSERT ... VALUES ($1, $2), UPDATE ... WHERE id = $1): DuckDB
    // prepares only queries, so the values are bound into the text as literals.
    std::string bound;
    if (!params.empty() || CountParameters(statement) > 0) {
      std::vector<std::string> types;
      for (const auto& d : declared) types.push_back(d ? DuckTypeOf(*d) : "");
      std::string error;
      bound = BindParameters(statement, params, types, &error);
      if (!error.empty()) return Err("08P01", error);
      statement = bound;
    }
    BufferSink sink;
    Outcome o = Execute(statement, sink);
    if (o.error) return o.error;
    portal->returns_rows = o.has_rows;
    portal->columns = std::move(sink.columns);
    portal->buffered = std::move(sink.rows);
    portal->done = std::move(o);
  }
  if (out) {
    out->params = portal->param_types;
    out->columns = portal->returns_rows ? portal->columns : std::vector<ResultColumn>{};
  }
  s.portals[name] = std::move(portal);
  return std::nullopt;
}

Outcome Session::Fetch(const std::string& name, int64_t max_rows, ResultSink& sink,
                       bool* suspended) {
  *suspended = false;
  auto it = impl_->portals.find(name);
  if (it == impl_->portals.end()) {
    Outcome o;
    o.error = Err("34000", "portal \"" + name + "\" does not exist");
    return o;
  }
  Impl::TimeoutGuard timeout(*impl_);
  Outcome out = impl_->Fetch(*it->second, max_rows, sink, suspended);
  timeout.Explain(out);
  return out;
}

void Session::ClosePortal(const std::string& name) { impl_->portals.erase(name); }

std::optional<std::vector<ResultColumn>> Session::PortalColumns(const std::string& name) const {
  auto it = impl_->portals.find(name);
  if (it == impl_->portals.end()) return std::nullopt;
  if (!it->second->returns_rows) return std::vector<ResultColumn>{};
  return it->second->columns;
}

}  // namespace lakemesh::sql
