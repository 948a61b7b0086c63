// Row filters for scan planning: the predicates of the Iceberg REST spec's `Predicate` schema
// (and/or/not, comparisons, in/not-in, null and NaN tests, starts-with), bound to a schema, and
// the three evaluations planning needs (table-spec.md "Scan Planning"):
//
//   - ProjectToPartition: the inclusive projection of a row filter onto a partition spec, so a
//     partition tuple that fails it holds no matching row;
//   - MightMatchSummaries: whether a manifest, by its partition field summaries, can hold a
//     tuple matching a projected filter;
//   - MightMatchMetrics: whether a data or delete file, by its column bounds and counts, can hold
//     a matching row.
//
// Each answers "might match" conservatively: true unless the statistics prove otherwise.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "table/manifest.h"
#include "table/value.h"

namespace lakemesh::table {

struct Expr {
  enum Op {
    kTrue, kFalse, kAnd, kOr, kNot,
    kLt, kLtEq, kGt, kGtEq, kEq, kNotEq, kStartsWith, kNotStartsWith,
    kIn, kNotIn, kIsNull, kNotNull, kIsNan, kNotNan,
  };
  Op op = kTrue;
  std::vector<Expr> children;  // and/or: two; not: one

  // Predicates. Unbound: `column` names the field and `raw` holds the JSON literals. Bound:
  // `field_id` and `type` are set and `values` holds the literals in the field's type. In a
  // partition projection `field_id` is the position in the partition tuple.
  std::string column;
  std::vector<nlohmann::json> raw;
  int32_t field_id = -1;
  PrimitiveType type;
  std::vector<Literal> values;

  Expr() = default;
  explicit Expr(Op o) : op(o) {}

  bool IsPredicate() const { return op >= kLt; }
  static Expr True() { return Expr{kTrue}; }
  static Expr False() { return Expr{kFalse}; }
  static Expr And(Expr a, Expr b);
  static Expr Or(Expr a, Expr b);
  static Expr Not(Expr a);
  // A comparison of `column` with JSON literals (one for comparisons, any number for in/not-in,
  // none for the null and NaN tests).
  static Expr Predicate(Op op, std::string column, std::vector<nlohmann::json> values = {});
};

// Parses the REST spec's Predicate JSON: `true`/`false`, {"type":"and","left":..,"right":..},
// {"type":"lt","term":"x","value":5} and the newer {"type":"lt","left":{"type":"reference",
// "name":"x"},"right":5} forms.
Result<Expr> ParseExpression(const nlohmann::json& j);
nlohmann::json ToJson(const Expr& e);
std::string ToString(const Expr& e);  // "(id < 5 and region = 'eu')"

// Resolves names against `schema` (dotted names reach into structs; fields inside lists and maps
// cannot be filtered on), converts literals to the field types and pushes `not` down to the
// predicates. kInvalidArgument for an unknown column or a literal of the wrong type.
Result<Expr> Bind(const Expr& e, const nlohmann::json& schema, bool case_sensitive = true);

// The inclusive projection of a bound filter onto `spec`.
Expr ProjectToPartition(const Expr& bound, const PartitionSpec& spec);

// Exact evaluation of a projected filter on one partition tuple.
bool MatchPartition(const Expr& projected, const PartitionTuple& tuple);

// Whether a manifest with these partition field summaries may hold a matching tuple.
bool MightMatchSummaries(const Expr& projected, const PartitionSpec& spec,
                         const std::vector<FieldSummary>& summaries);

// Whether a file with these metrics may hold a matching row.
bool MightMatchMetrics(const Expr& bound, const DataFile& f);

}  // namespace lakemesh::table
