// Trino's type vocabulary and JSON value encoding for the engine's result columns (the client
// protocol's `columns[].type`, `typeSignature` and `data`), and Trino's error codes for the
// engine's SQLSTATEs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sql/engine.h"

namespace lakemesh::trino {

// The Trino type of a column as Trino spells it: "bigint", "decimal(10,2)", "varchar",
// "timestamp(6) with time zone", "array(integer)", "map(varchar, bigint)",
// "row(a integer, b varchar)". Intervals and types Trino has no name for are "varchar".
std::string TypeName(const sql::ResultColumn& c);

// The type as a client type signature: {"rawType": ..., "arguments": [...]}.
nlohmann::json TypeSignature(const sql::ResultColumn& c);

// Appends the value `v` of column `c` (the engine's text: PostgreSQL's text output, nested
// values as JSON; nullopt is NULL) to `out` in Trino's JSON encoding: numbers as numbers
// (non-finite floats as "NaN", "Infinity", "-Infinity"), decimals as strings, varbinary as
// base64, times and timestamps with their declared fractional digits ("2026-01-01
// 12:00:00.000000 UTC"), arrays and maps as JSON arrays and objects, rows as arrays of their
// fields.
void AppendValue(const sql::ResultColumn& c, std::optional<std::string_view> v, std::string* out);

// Trino's error for an engine error: errorName, errorCode and errorType
// (USER_ERROR, INTERNAL_ERROR, INSUFFICIENT_RESOURCES).
struct ErrorCode {
  const char* name;
  int code;
  const char* type;
};
ErrorCode ErrorFor(const sql::SqlError& e);
// A Trino error by name (CATALOG_NOT_FOUND, NOT_IN_TRANSACTION, ...): those of the protocol
// itself, which have no SQLSTATE.
ErrorCode NamedError(std::string_view name);

// The QueryError object of a failed query's results (`code`: its Trino error; default
// ErrorFor(e)). `statement` locates e.position as a line and column (1-based), as Trino
// reports syntax errors.
nlohmann::json ErrorJson(const sql::SqlError& e, std::string_view statement,
                         std::optional<ErrorCode> code = std::nullopt);

}  // namespace lakemesh::trino
