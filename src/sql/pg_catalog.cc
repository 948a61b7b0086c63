#include "sql/pg_catalog.h"

#include <map>
#include <regex>
#include <set>
#include <tuple>
#include <cctype>

#include "sql/connection.h"
#include "sql/statements.h"

namespace lakemesh::sql {
namespace {

// Tables and functions of pg_catalog the compatibility schema provides.
const std::set<std::string>& CompatTables() {
  static const std::set<std::string> k = {
      "pg_namespace", "pg_class", "pg_database", "pg_policy", "pg_inherits", "pg_statistic_ext",
      "pg_publication", "pg_publication_namespace", "pg_publication_rel", "pg_collation",
      "pg_am", "pg_roles", "pg_user", "pg_trigger", "pg_rewrite", "pg_foreign_table",
      "pg_attribute", "pg_type",
      "pg_partitioned_table", "pg_event_trigger", "pg_extension"};
  return k;
}
const std::set<std::string>& CompatFunctions() {
  static const std::set<std::string> k = {
      "pg_get_userbyid", "pg_encoding_to_char", "pg_relation_is_publishable",
      "pg_get_statisticsobjdef_columns", "pg_get_expr", "pg_table_is_visible",
      "pg_get_partkeydef", "pg_get_indexdef", "pg_get_triggerdef", "pg_get_ruledef",
      "pg_total_relation_size", "pg_relation_size", "pg_tablespace_location",
      "current_setting", "pg_get_function_identity_arguments", "array_upper", "array_lower",
      "pg_get_function_result", "pg_get_function_arguments", "format_type", "version", "pg_get_serial_sequence", "quote_ident",
      "initcap"};
  return k;
}

std::string TypeName(std::string t) {
  static const std::map<std::string, std::string> k = {
      {"text", "VARCHAR"}, {"varchar", "VARCHAR"}, {"name", "VARCHAR"}, {"regclass", "VARCHAR"},
      {"regtype", "VARCHAR"}, {"regnamespace", "VARCHAR"}, {"regproc", "VARCHAR"},
      {"regprocedure", "VARCHAR"}, {"int2", "SMALLINT"}, {"int4", "INTEGER"}, {"int8", "BIGINT"},
      {"oid", "BIGINT"}, {"bool", "BOOLEAN"}, {"char", "VARCHAR"}};
  auto it = k.find(t);
  return it == k.end() ? t : it->second;
}

}  // namespace

bool IsCompatTable(const std::string& name) { return CompatTables().count(name) > 0; }

std::vector<std::string> PgCatalogSetup() {
  const std::string s = kPgCompatSchema;
  const std::string settings =
      "CASE lower(n) WHEN 'server_version_num' THEN '160000' WHEN 'server_version' THEN '16.0' "
      "WHEN 'max_index_keys' THEN '32' WHEN 'search_path' THEN 'public' "
      "WHEN 'standard_conforming_strings' THEN 'on' ELSE NULL END";
  // A DuckDB column type (duckdb_columns().data_type) as a PostgreSQL type OID.
  // Lists of those are arrays of them (checked first: 'DECIMAL(9,2)[]' is LIKE 'DECIMAL%').
  const std::string oid_of =
      "CASE WHEN data_type = 'BOOLEAN[]' THEN 1000 WHEN data_type = 'BLOB[]' THEN 1001 "
      "WHEN data_type IN ('SMALLINT[]', 'TINYINT[]', 'UTINYINT[]') THEN 1005 "
      "WHEN data_type IN ('INTEGER[]', 'USMALLINT[]') THEN 1007 WHEN data_type = 'BIGINT[]' "
      "THEN 1016 WHEN data_type = 'FLOAT[]' THEN 1021 WHEN data_type = 'DOUBLE[]' THEN 1022 "
      "WHEN data_type = 'DATE[]' THEN 1182 WHEN data_type = 'TIME[]' THEN 1183 "
      "WHEN data_type = 'TIMESTAMP WITH TIME ZONE[]' THEN 1185 WHEN data_type LIKE "
      "'TIMESTAMP%[]' THEN 1115 WHEN data_type = 'INTERVAL[]' THEN 1187 WHEN data_type = "
      "'UUID[]' THEN 2951 WHEN data_type LIKE 'DECIMAL%[]' OR data_type IN ('HUGEINT[]', "
      "'UBIGINT[]') THEN 1231 WHEN data_type = 'VARCHAR[]' THEN 1009 "
      "WHEN data_type = 'BOOLEAN' THEN 16 WHEN data_type = 'BLOB' THEN 17 "
      "WHEN data_type = 'BIGINT' THEN 20 WHEN data_type IN ('SMALLINT', 'TINYINT', 'UTINYINT') "
      "THEN 21 WHEN data_type IN ('INTEGER', 'USMALLINT') THEN 23 WHEN data_type = 'FLOAT' "
      "THEN 700 WHEN data_type = 'DOUBLE' THEN 701 WHEN data_type LIKE 'DECIMAL%' OR "
      "data_type IN ('HUGEINT', 'UBIGINT', 'UHUGEINT') THEN 1700 WHEN data_type = 'DATE' THEN "
      "1082 WHEN data_type = 'TIME' THEN 1083 WHEN data_type LIKE 'TIMESTAMP WITH TIME ZONE' "
      "THEN 1184 WHEN data_type LIKE 'TIMESTAMP%' THEN 1114 WHEN data_type = 'INTERVAL' THEN "
      "1186 WHEN data_type = 'UUID' THEN 2950 WHEN data_type = 'JSON' THEN 114 ELSE 25 END";
  // The engine's views of a table at another ref than main (`orders@dev`, `orders@<commit>`,
  // made when a query reads it there) are not tables of their own: the catalogs list a domain's
  // tables once, by their names.
  auto not_ref_view = [](const char* column) {
    return std::string(column) + " NOT LIKE '%@%'";
  };
  return {
      "CREATE SCHEMA IF NOT EXISTS " + s,
      // Domains and the two catalogs clients know; not DuckDB's main/temp, not this schema.
      "CREATE OR REPLACE VIEW " + s + ".pg_namespace AS SELECT oid, nspname, 10 AS nspowner, "
      "nspacl FROM pg_catalog.pg_namespace WHERE nspname NOT IN ('main', 'temp', '__lm_cache', '" + s + "')",
      // lakemesh's tables are views in DuckDB; clients list them as tables. (Iceberg views are
      // DuckDB views commented 'lakemesh view'.)
      "CREATE OR REPLACE VIEW " + s + ".pg_class AS SELECT * REPLACE ("
      "CASE WHEN relkind = 'v' AND relnamespace IN (SELECT oid FROM " + s + ".pg_namespace "
      "WHERE nspname NOT IN ('pg_catalog', 'information_schema')) AND oid NOT IN (SELECT "
      "view_oid FROM duckdb_views() WHERE comment = 'lakemesh view') THEN 'r' ELSE relkind END "
      "AS relkind, 10 AS relowner), false AS relforcerowsecurity FROM pg_catalog.pg_class "
      "WHERE relnamespace IN (SELECT oid FROM " + s + ".pg_namespace) AND " +
          not_ref_view("relname"),
      // information_schema.tables / views as clients expect them: domain tables are BASE TABLEs.
      "CREATE OR REPLACE VIEW " + s + ".tables AS SELECT * REPLACE (CASE WHEN table_type = 'VIEW' "
      "AND table_schema NOT IN ('pg_catalog', 'information_schema') AND (table_schema, "
      "table_name) NOT IN (SELECT (schema_name, view_name) FROM duckdb_views() WHERE comment = "
      "'lakemesh view') THEN 'BASE TABLE' ELSE table_type END AS table_type) FROM "
      "information_schema.tables WHERE table_schema NOT IN ('main', 'temp', '__lm_cache', '" + s + "') "
      "AND " + not_ref_view("table_name"),
      // The columns of the domains' tables and views, not of DuckDB's or lakemesh's own.
      "CREATE OR REPLACE VIEW " + s + ".columns AS SELECT * FROM information_schema.columns "
      "WHERE table_schema NOT IN ('main', 'temp', '__lm_cache', '" + s + "') AND " +
          not_ref_view("table_name"),
      // The domains, and the two catalogs clients know.
      "CREATE OR REPLACE VIEW " + s + ".schemata AS SELECT * REPLACE ('lakemesh' AS catalog_name, "
      "'lakemesh' AS schema_owner) FROM information_schema.schemata WHERE schema_name NOT IN "
      "('main', 'temp', '__lm_cache', '" + s + "')",
      "CREATE OR REPLACE VIEW " + s + ".views AS SELECT * FROM information_schema.views WHERE "
      "(table_schema, table_name) IN (SELECT (schema_name, view_name) FROM duckdb_views() WHERE "
      "comment = 'lakemesh view')",
      // One database: lakemesh (clients may name any; they all reach the same mesh).
      "CREATE OR REPLACE VIEW " + s + ".pg_database AS SELECT 1 AS oid, 'lakemesh' AS datname, "
      "10 AS datdba, 6 AS encoding, 'C' AS datcollate, 'C' AS datctype, "
      "NULL::VARCHAR AS daticulocale, 'c' AS datlocprovider, NULL::VARCHAR[] AS datacl, "
      "true AS datallowconn, -1 AS datconnlimit, false AS datistemplate, 0 AS dattablespace",
      // Columns with PostgreSQL's type OIDs and modifiers (DuckDB's pg_attribute gives its own
      // type ids), NOT NULL as declared.
      "CREATE OR REPLACE VIEW " + s + ".pg_attribute AS SELECT table_oid AS attrelid, "
      "column_name AS attname, " + oid_of + " AS atttypid, 0 AS attstattarget, "
      "CAST(-1 AS SMALLINT) AS attlen, CAST(column_index AS SMALLINT) AS attnum, "
      "0 AS attndims, -1 AS attcacheoff, CASE WHEN data_type LIKE 'DECIMAL%' THEN "
      "((numeric_precision << 16) | numeric_scale) + 4 ELSE -1 END AS atttypmod, "
      "false AS attbyval, 'p' AS attstorage, 'i' AS attalign, NOT is_nullable AS attnotnull, "
      "column_default IS NOT NULL AS atthasdef, false AS atthasmissing, '' AS attidentity, "
      "'' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount, "
      "0 AS attcollation, NULL AS attcompression, NULL::VARCHAR[] AS attacl, "
      "NULL::VARCHAR[] AS attoptions, NULL::VARCHAR[] AS attfdwoptions, "
      "NULL AS attmissingval FROM duckdb_columns()",
      // The PostgreSQL types lakemesh's columns have, by their PostgreSQL OIDs, and their
      // arrays (typelem: the element's type; typarray: the type's array).
      "CREATE OR REPLACE VIEW " + s + ".pg_type AS WITH base(oid, typname, typlen, typcategory) "
      "AS (VALUES (16, 'bool', 1, 'B'), (17, 'bytea', -1, 'U'), (20, 'int8', 8, 'N'), "
      "(21, 'int2', 2, 'N'), (23, 'int4', 4, 'N'), (25, 'text', -1, 'S'), (114, 'json', -1, 'U'), "
      "(700, 'float4', 4, 'N'), (701, 'float8', 8, 'N'), (1043, 'varchar', -1, 'S'), "
      "(1082, 'date', 4, 'D'), (1083, 'time', 8, 'D'), (1114, 'timestamp', 8, 'D'), "
      "(1184, 'timestamptz', 8, 'D'), (1186, 'interval', 16, 'T'), (1700, 'numeric', -1, 'N'), "
      "(2950, 'uuid', 16, 'U')), arrays(array_oid, elem) AS (VALUES (1000, 16), (1001, 17), "
      "(1005, 21), (1007, 23), (1016, 20), (1021, 700), (1022, 701), (1009, 25), (1015, 1043), "
      "(1182, 1082), (1183, 1083), (1115, 1114), (1185, 1184), (1187, 1186), (1231, 1700), "
      "(2951, 2950), (199, 114)), types AS (SELECT oid, typname, typlen, typcategory, "
      "0 AS typelem, coalesce((SELECT array_oid FROM arrays WHERE elem = base.oid), 0) AS "
      "typarray FROM base UNION ALL SELECT a.array_oid, '_' || b.typname, -1, 'A', a.elem, 0 "
      "FROM arrays a JOIN base b ON b.oid = a.elem) "
      "SELECT oid, typname, (SELECT oid FROM "
      "pg_catalog.pg_namespace WHERE nspname = 'pg_catalog') AS typnamespace, 10 AS typowner, "
      "typlen, typlen > 0 AS typbyval, 'b' AS typtype, typcategory, false AS typispreferred, "
      "true AS typisdefined, ',' AS typdelim, 0 AS typrelid, typelem, typarray, "
      "typname || 'in' AS typinput, typname || 'out' AS typoutput, false AS typnotnull, "
      "0 AS typbasetype, -1 AS typtypmod, 0 AS typndims, 0 AS typcollation, "
      "NULL::VARCHAR AS typdefault, NULL::VARCHAR[] AS typacl FROM types",
      "CREATE OR REPLACE MACRO " + s + ".format_type(t, m) AS CASE t "
      "WHEN 16 THEN 'boolean' WHEN 17 THEN 'bytea' WHEN 20 THEN 'bigint' WHEN 21 THEN 'smallint' "
      "WHEN 23 THEN 'integer' WHEN 25 THEN 'text' WHEN 114 THEN 'json' WHEN 700 THEN 'real' "
      "WHEN 701 THEN 'double precision' WHEN 1043 THEN 'character varying' WHEN 1082 THEN "
      "'date' WHEN 1083 THEN 'time without time zone' WHEN 1114 THEN "
      "'timestamp without time zone' WHEN 1184 THEN 'timestamp with time zone' WHEN 1186 THEN "
      "'interval' WHEN 2950 THEN 'uuid' WHEN 1700 THEN CASE WHEN m > 4 THEN 'numeric(' || "
      "((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')' ELSE 'numeric' END "
      "WHEN 1000 THEN 'boolean[]' WHEN 1001 THEN 'bytea[]' WHEN 1005 THEN 'smallint[]' "
      "WHEN 1007 THEN 'integer[]' WHEN 1016 THEN 'bigint[]' WHEN 1021 THEN 'real[]' WHEN 1022 "
      "THEN 'double precision[]' WHEN 1009 THEN 'text[]' WHEN 1015 THEN 'character varying[]' "
      "WHEN 1182 THEN 'date[]' WHEN 1183 THEN 'time without time zone[]' WHEN 1115 THEN "
      "'timestamp without time zone[]' WHEN 1185 THEN 'timestamp with time zone[]' WHEN 1187 "
      "THEN 'interval[]' WHEN 1231 THEN 'numeric[]' WHEN 2951 THEN 'uuid[]' WHEN 199 THEN "
      "'json[]' ELSE 'text' END",
      "CREATE OR REPLACE VIEW " + s + ".pg_am AS SELECT 2 AS oid, 'heap' AS amname, 't' AS amtype",
      "CREATE OR REPLACE VIEW " + s + ".pg_roles AS SELECT 10 AS oid, 'lakemesh' AS rolname, "
      "true AS rolsuper, true AS rolinherit, true AS rolcreaterole, true AS rolcreatedb, "
      "true AS rolcanlogin, false AS rolreplication, false AS rolbypassrls, -1 AS rolconnlimit, "
      "NULL::TIMESTAMP AS rolvaliduntil, NULL::VARCHAR[] AS rolconfig",
      "CREATE OR REPLACE VIEW " + s + ".pg_user AS SELECT 'lakemesh' AS usename, 10 AS usesysid, "
      "true AS usecreatedb, true AS usesuper",
      // Features lakemesh does not have: empty catalogs with the columns clients select.
      "CREATE OR REPLACE VIEW " + s + ".pg_policy AS SELECT NULL::BIGINT AS oid, "
      "NULL::VARCHAR AS polname, NULL::BIGINT AS polrelid, NULL::VARCHAR AS polcmd, "
      "NULL::BOOLEAN AS polpermissive, NULL::BIGINT[] AS polroles, NULL::VARCHAR AS polqual, "
      "NULL::VARCHAR AS polwithcheck WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_inherits AS SELECT NULL::BIGINT AS inhrelid, "
      "NULL::BIGINT AS inhparent, NULL::INTEGER AS inhseqno, NULL::BOOLEAN AS inhdetachpending "
      "WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_statistic_ext AS SELECT NULL::BIGINT AS oid, "
      "NULL::BIGINT AS stxrelid, NULL::BIGINT AS stxnamespace, NULL::VARCHAR AS stxname, "
      "NULL::VARCHAR[] AS stxkind, NULL::INTEGER AS stxstattarget WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_publication AS SELECT NULL::BIGINT AS oid, "
      "NULL::VARCHAR AS pubname, NULL::BOOLEAN AS puballtables WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_publication_namespace AS SELECT NULL::BIGINT AS "
      "pnpubid, NULL::BIGINT AS pnnspid WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_publication_rel AS SELECT NULL::BIGINT AS prpubid, "
      "NULL::BIGINT AS prrelid, NULL::VARCHAR AS prqual, NULL::SMALLINT[] AS prattrs WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_collation AS SELECT NULL::BIGINT AS oid, "
      "NULL::VARCHAR AS collname WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_trigger AS SELECT NULL::BIGINT AS oid, "
      "NULL::BIGINT AS tgrelid, NULL::VARCHAR AS tgname, NULL::BOOLEAN AS tgisinternal, "
      "NULL::VARCHAR AS tgenabled, NULL::BIGINT AS tgparentid WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_rewrite AS SELECT NULL::BIGINT AS oid, "
      "NULL::BIGINT AS ev_class, NULL::VARCHAR AS rulename WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_foreign_table AS SELECT NULL::BIGINT AS ftrelid, "
      "NULL::BIGINT AS ftserver WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_partitioned_table AS SELECT NULL::BIGINT AS "
      "partrelid WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_event_trigger AS SELECT NULL::BIGINT AS oid "
      "WHERE false",
      "CREATE OR REPLACE VIEW " + s + ".pg_extension AS SELECT NULL::BIGINT AS oid, "
      "NULL::VARCHAR AS extname, NULL::VARCHAR AS extversion WHERE false",
      // Functions.
      "CREATE OR REPLACE MACRO " + s + ".version() AS 'PostgreSQL 16.0 (lakemesh) on "
      "x86_64-pc-linux-gnu, embedding DuckDB ' || system.main.version()",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_userbyid(id) AS 'lakemesh'",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_serial_sequence(t, c) AS NULL::VARCHAR",
      // An identifier as SQL writes it: as it is when lower-case letters, digits and _ are all
      // it has, else double-quoted (Grafana's query builder lists columns with it).
      "CREATE OR REPLACE MACRO " + s + ".quote_ident(i) AS CASE WHEN regexp_full_match(i, "
      "'[a-z_][a-z0-9_$]*') THEN i ELSE '\"' || replace(i, '\"', '\"\"') || '\"' END",
      // Each word (a run of letters and digits) with its first letter upper-case and the
      // others lower-case.
      "CREATE OR REPLACE MACRO " + s + ".initcap(t) AS CASE WHEN t IS NULL THEN NULL ELSE "
      "coalesce(array_to_string(list_transform(regexp_extract_all(t, '[\\pL\\pN]+|"
      "[^\\pL\\pN]+'), lambda w: upper(w[1]) || lower(w[2:])), ''), '') END",
      "CREATE OR REPLACE MACRO " + s + ".pg_encoding_to_char(e) AS 'UTF8'",
      "CREATE OR REPLACE MACRO " + s + ".pg_relation_is_publishable(r) AS false",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_statisticsobjdef_columns(o) AS NULL::VARCHAR",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_expr(a, b) AS NULL::VARCHAR, "
      "(a, b, c) AS NULL::VARCHAR",
      "CREATE OR REPLACE MACRO " + s + ".pg_table_is_visible(r) AS true",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_partkeydef(r) AS NULL::VARCHAR",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_indexdef(a) AS NULL::VARCHAR, "
      "(a, b, c) AS NULL::VARCHAR",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_triggerdef(a) AS NULL::VARCHAR, "
      "(a, b) AS NULL::VARCHAR",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_ruledef(a) AS NULL::VARCHAR, "
      "(a, b) AS NULL::VARCHAR",
      "CREATE OR REPLACE MACRO " + s + ".pg_total_relation_size(r) AS 0::BIGINT",
      "CREATE OR REPLACE MACRO " + s + ".pg_relation_size(r) AS 0::BIGINT",
      "CREATE OR REPLACE MACRO " + s + ".pg_tablespace_location(t) AS ''",
      "CREATE OR REPLACE MACRO " + s + ".current_setting(n) AS " + settings + ", "
      "(n, missing_ok) AS " + settings,
      "CREATE OR REPLACE MACRO " + s + ".pg_get_function_identity_arguments(f) AS ''",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_function_result(f) AS ''",
      // The JDBC driver's getPrimaryKeys expands index keys with this (tables have no indexes).
      "CREATE OR REPLACE MACRO " + s + "._pg_expandarray(a) AS "
      "{'x': NULL::INTEGER, 'n': NULL::INTEGER}",
      "CREATE OR REPLACE MACRO " + s + ".pg_get_function_arguments(f) AS ''",
      "CREATE OR REPLACE MACRO " + s + ".array_upper(a, d) AS len(a), (a) AS len(a)",
      "CREATE OR REPLACE MACRO " + s + ".array_lower(a, d) AS 1",
  };
}

bool MentionsPgCatalog(std::string_view q) {
  return q.find("pg_") != std::string_view::npos;
}

std::string RewritePgCatalog(std::string_view query) {
  static const std::regex kOperator(R"(OPERATOR\s*\(\s*pg_catalog\s*\.\s*([^)\s]+)\s*\))",
                                    std::regex::icase);
  static const std::regex kPrattrs(R"(prattrs\[s\])");
  static const std::regex kCollate(R"(\s+COLLATE\s+pg_catalog\s*\.\s*"?default"?)",
                                   std::regex::icase);
  static const std::regex kCast(R"(::\s*pg_catalog\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))");
  static const std::regex kBareCast(R"(::\s*(regclass|regtype|regnamespace|regproc|oid|name)\b)",
                                    std::regex::icase);
  static const std::regex kExpand(R"(\binformation_schema\s*\.\s*_pg_expandarray\s*\()");
  static const std::regex kQualified(R"(\bpg_catalog\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)(\s*\()?)");
  return TransformCode(query, [&](std::string_view code) {
    std::string s(code);
    s = std::regex_replace(s, kOperator, "$1");
    // psql's \d reads publication columns as prattrs[s] over generate_series(...) s, a
    // whole-row reference PostgreSQL allows for one-column functions; DuckDB names the column.
    s = std::regex_replace(s, kPrattrs, "prattrs[s.generate_series]");
    s = std::regex_replace(s, kCollate, "");
    s = std::regex_replace(s, kExpand, std::string(kPgCompatSchema) + "._pg_expandarray(");
    std::string out;
    // Casts to pg_catalog types, then pg_catalog names: the compatibility schema's when it has
    // them, DuckDB's otherwise (its pg_catalog tables; functions by their plain name).
    auto rewrite = [&](const std::regex& re, auto&& fn) {
      std::string result;
      auto begin = std::sregex_iterator(s.begin(), s.end(), re);
      size_t last = 0;
      for (auto it = begin; it != std::sregex_iterator(); ++it) {
        result.append(s, last, static_cast<size_t>(it->position()) - last);
        result += fn(*it);
        last = static_cast<size_t>(it->position() + it->length());
      }
      result.append(s, last, std::string::npos);
      s = std::move(result);
    };
    rewrite(kCast, [](const std::smatch& m) { return "::" + TypeName(m[1].str()); });
    rewrite(kBareCast, [](const std::smatch& m) {
      std::string t = m[1].str();
      for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return "::" + TypeName(t);
    });
    rewrite(kQualified, [](const std::smatch& m) {
      const std::string name = m[1].str();
      const bool call = m[2].matched;
      if (call) {
        return (CompatFunctions().count(name) ? std::string(kPgCompatSchema) + "." : std::string()) +
               name + m[2].str();
      }
      return (CompatTables().count(name) ? std::string(kPgCompatSchema) : std::string("pg_catalog")) +
             "." + name;
    });
    return s;
  });
}

std::optional<std::string> PgToCharSql(std::string_view f) {
  // Numeric patterns are matched in any case (as PostgreSQL does); names and AM/PM keep the
  // case they are written in, which is the case of what they write.
  std::string upper(f);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::string> parts;  // SQL expressions, concatenated
  std::string chunk;               // strftime format text not yet in `parts`
  bool any_pattern = false;
  auto flush = [&] {
    if (!chunk.empty()) parts.push_back("strftime(__lm_x, " + Literal(chunk) + ")");
    chunk.clear();
  };
  auto expr = [&](std::string e) {
    flush();
    parts.push_back(std::move(e));
  };
  auto starts = [&](size_t i, std::string_view p) { return f.substr(i, p.size()) == p; };
  auto starts_any_case = [&](size_t i, std::string_view p) {
    return std::string_view(upper).substr(i, p.size()) == p;
  };
  size_t i = 0;
  while (i < f.size()) {
    if (f[i] == '"') {  // literal text
      size_t end = f.find('"', i + 1);
      std::string_view lit = f.substr(i + 1, end == f.npos ? f.npos : end - i - 1);
      for (char c : lit) chunk += c == '%' ? std::string("%%") : std::string(1, c);
      i = end == f.npos ? f.size() : end + 1;
      continue;
    }
    bool fm = false;
    if (starts_any_case(i, "FM")) {
      fm = true;
      i += 2;
    }
    // Month and day names in the case written; Month and Day padded to 9 unless FM.
    bool named = false;
    for (const auto& [pattern, spec, pad9] :
         {std::tuple{std::string_view("MONTH"), "%B", true}, {"MON", "%b", false},
          {"DAY", "%A", true}, {"DY", "%a", false}}) {
      if (!starts_any_case(i, pattern)) continue;
      const std::string_view written = f.substr(i, pattern.size());
      const char* fn = written == pattern                     ? "upper"
                       : std::islower(static_cast<unsigned char>(written[0])) ? "lower"
                                                                               : "";
      std::string e = std::string(fn) + "(strftime(__lm_x, '" + spec + "'))";
      if (pad9 && !fm) {
        expr("rpad(" + e + ", 9, ' ')");
      } else if (*fn) {
        expr(e);
      } else {
        chunk += spec;
      }
      i += pattern.size();
      named = any_pattern = true;
      break;
    }
    if (named) continue;
    if (starts(i, "am") || starts(i, "pm") || starts(i, "a.m.") || starts(i, "p.m.")) {
      expr("lower(strftime(__lm_x, '%p'))");
      i += f[i + 1] == '.' ? 4 : 2;
      any_pattern = true;
      continue;
    }
    struct Pattern {
      std::string_view pattern;
      const char* spec;     // strftime, or ""
      const char* sql;      // an expression instead, or ""
      bool pads = false;    // FM drops the zero padding ("%-d")
    };
    static const Pattern kPatterns[] = {
        {"HH24", "%H", "", true},
        {"HH12", "%I", "", true},
        {"HH", "%I", "", true},
        {"MI", "%M", "", true},
        {"SS", "%S", "", true},
        {"MS", "%g", ""},
        {"US", "%f", ""},
        {"A.M.", "%p", ""},
        {"P.M.", "%p", ""},
        {"AM", "%p", ""},
        {"PM", "%p", ""},
        {"Y,YYY", "", "regexp_replace(strftime(__lm_x, '%Y'), '(\\d)(\\d{3})$', '\\1,\\2')"},
        {"IYYY", "%G", ""},
        {"YYYY", "%Y", ""},
        {"YYY", "", "right(strftime(__lm_x, '%Y'), 3)"},
        {"YY", "%y", ""},
        {"Y", "", "right(strftime(__lm_x, '%Y'), 1)"},
        {"MM", "%m", "", true},
        {"DDD", "%j", "", true},
        {"DD", "%d", "", true},
        {"D", "", "CAST(dayofweek(__lm_x) + 1 AS VARCHAR)"},  // Sunday is 1
        {"IW", "%V", "", true},
        {"WW", "", "lpad(CAST((dayofyear(__lm_x) - 1) // 7 + 1 AS VARCHAR), 2, '0')", true},
        {"Q", "", "CAST(quarter(__lm_x) AS VARCHAR)"},
        {"TZ", "%Z", ""},
    };
    bool matched = false;
    for (const Pattern& p : kPatterns) {
      if (!starts_any_case(i, p.pattern)) continue;
      if (*p.spec) {
        chunk += fm && p.pads ? std::string("%-") + (p.spec + 1) : std::string(p.spec);
      } else if (fm && p.pads) {  // WW without its zero
        expr("CAST((dayofyear(__lm_x) - 1) // 7 + 1 AS VARCHAR)");
      } else {
        expr(p.sql);
      }
      i += p.pattern.size();
      matched = any_pattern = true;
      break;
    }
    if (matched) continue;
    chunk += f[i] == '%' ? std::string("%%") : std::string(1, f[i]);
    ++i;
  }
  if (!any_pattern) return std::nullopt;
  flush();
  std::string out = "(" + parts[0];
  for (size_t k = 1; k < parts.size(); ++k) out += " || " + parts[k];
  return out + ")";
}

}  // namespace lakemesh::sql
