// Eager aggregation: a query that joins a large table to smaller ones and aggregates the large
// table's columns by the smaller ones' attributes is rewritten to aggregate the large table by
// its join keys first, below the joins. That is the usual shape of analytic queries over a star
// schema ("revenue by brand": the facts joined to a dimension, grouped by one of its columns);
// DuckDB would otherwise carry every fact row through the join and hash the dimension's strings
// for each, where aggregating first touches only integer keys (often by DuckDB's perfect hash
// aggregate) and joins one row per key.
//
//   SELECT p.brand, sum(s.qty), count(*) FROM sales s JOIN products p ON s.pid = p.id GROUP BY 1
// becomes
//   SELECT p.brand, sum(s.a0), CAST(coalesce(sum(s.a1), 0) AS BIGINT)
//   FROM (SELECT pid, sum(qty) AS a0, count_star() AS a1 FROM sales s GROUP BY pid) AS s
//   JOIN products p ON s.pid = p.id GROUP BY 1
//
// The rewrite is exact: each joined row of the original contributes to the same groups as its
// key's pre-aggregated row does, whatever the number of matching rows on the other side; only
// aggregates that can be merged that way are rewritten (sum, count, min, max, avg over integers
// and decimals, and DISTINCT aggregates of the large table's key columns), with the types and
// values DuckDB gives the original. Anything else in the query (outer joins, subqueries, other
// aggregates, columns of unknown tables) leaves it unchanged. Whether it is worth it is judged
// from the tables' statistics: the large table's row count against the key ranges.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace lakemesh::sql {

// What is known of a table's column: its Iceberg type ("int", "long", "decimal(10,2)",
// "string", ...) and, for integer-valued types, the range of its values.
struct ColumnStats {
  std::string type;
  std::optional<int64_t> min, max;
};

struct TableStats {
  int64_t rows = 0;
  std::map<std::string, ColumnStats> columns;  // by column name, lower case
};

// The functions DuckDB knows, by kind (duckdb_functions()): a function in neither set (a macro,
// say) makes a query ineligible, since it could hide an aggregate.
struct FunctionKinds {
  std::set<std::string> aggregates, scalars;
};

enum class EagerAggregationMode {
  kOff,
  kAuto,    // where the statistics say the pre-aggregation shrinks the large table enough
  kAlways,  // wherever it applies (tests; users who know their data)
};

struct EagerAggregationOptions {
  EagerAggregationMode mode = EagerAggregationMode::kAuto;
  int64_t min_rows = 1000000;  // kAuto: the large table has at least this many rows ...
  int64_t reduction = 4;       // ... and at least this many rows per estimated key
};

// The statistics of table `table` of schema `schema` (as a BASE_TABLE node names them), or
// nullptr when it is not a table whose statistics are known.
using StatsLookup =
    std::function<const TableStats*(const std::string& schema, const std::string& table)>;

// Rewrites the SELECT nodes of a parsed statement list (json_serialize_sql's "statements") that
// qualify; returns how many were rewritten. Never fails: a node it does not understand is left
// as it is.
int PushAggregatesBelowJoins(nlohmann::json& statements, const StatsLookup& stats,
                             const FunctionKinds& kinds, const EagerAggregationOptions& options);

}  // namespace lakemesh::sql
