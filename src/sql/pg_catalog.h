// What PostgreSQL clients ask of pg_catalog, answered over DuckDB's own pg_catalog emulation:
// psql's \dn, \dt, \d <table>, \l and the JDBC driver's DatabaseMetaData (and so DBeaver's
// navigator) send catalog queries in PostgreSQL's dialect (OPERATOR(pg_catalog.~), COLLATE
// pg_catalog.default, ::pg_catalog.regclass, functions and tables DuckDB does not have). The
// schema `lakemesh_pg` holds what is missing or must differ: lakemesh's tables are DuckDB views
// but listed as tables (relkind 'r'), DuckDB's own schemas are hidden, and the catalogs of
// features lakemesh does not have (policies, inheritance, publications, ...) are empty.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakemesh::sql {

// The schema of the compatibility objects.
inline constexpr const char* kPgCompatSchema = "lakemesh_pg";

// Whether the compatibility schema has its own version of pg_catalog table `name`
// (pg_namespace, pg_class, ...): a query naming it without a schema reads that one too.
bool IsCompatTable(const std::string& name);

// The statements that create the compatibility schema (run once per database).
std::vector<std::string> PgCatalogSetup();

// Whether `query` uses PostgreSQL's catalog (so that the rewrite below applies and the tables of
// every domain should be listed).
bool MentionsPgCatalog(std::string_view query);

// `query` with PostgreSQL-only syntax translated and pg_catalog names that the compatibility
// schema provides pointed there. Text inside quotes and comments is kept.
std::string RewritePgCatalog(std::string_view query);

// PostgreSQL's to_char(timestamp or date, format) as a DuckDB SQL expression over the value
// `__lm_x`: the template patterns (YYYY, MM, DD, HH24, HH12, MI, SS, MS, US, AM, Month, Mon,
// Day, Dy, DDD, D, Q, IW, IYYY, WW, TZ, with their upper/lower/capitalized forms and the FM
// prefix) become strftime formats and functions of the value, with PostgreSQL's padding
// (Month and Day to 9 characters); text in double quotes and anything else is literal.
// nullopt when the format has no date or time pattern (a number format, which this does not
// translate).
std::optional<std::string> PgToCharSql(std::string_view format);

}  // namespace lakemesh::sql
