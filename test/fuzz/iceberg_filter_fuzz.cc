// Scan filters arrive in planTableScan request bodies: JSON in the REST spec's Predicate form.
// The input is parsed, bound to a schema with a column of most types, projected onto a spec with
// each transform, and evaluated against a partition tuple, manifest summaries and file metrics
// (some of them malformed, as a foreign manifest may hold). Invariant: nothing throws or crashes.
#include <cstdint>
#include <string>

#include "table/expression.h"

namespace t = lakemesh::table;
using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json in = json::parse(reinterpret_cast<const char*>(data),
                        reinterpret_cast<const char*>(data) + size, nullptr, false);
  if (in.is_discarded()) return 0;
  auto e = t::ParseExpression(in);
  if (!e.ok()) return 0;
  t::ToString(*e);
  t::ToJson(*e);
  static const json schema = json::parse(R"j({"type": "struct", "schema-id": 0, "fields": [
      {"id": 1, "name": "id", "required": true, "type": "long"},
      {"id": 2, "name": "ts", "required": false, "type": "timestamptz"},
      {"id": 3, "name": "region", "required": false, "type": "string"},
      {"id": 4, "name": "amount", "required": false, "type": "decimal(9,2)"},
      {"id": 5, "name": "score", "required": false, "type": "double"},
      {"id": 6, "name": "day", "required": false, "type": "date"},
      {"id": 7, "name": "key", "required": false, "type": "uuid"}]})j");
  auto b = t::Bind(*e, schema, /*case_sensitive=*/false);
  if (!b.ok()) return 0;
  static const auto spec = *t::BindPartitionSpec(json::parse(R"j({"spec-id": 0, "fields": [
      {"source-id": 1, "field-id": 1000, "name": "id_b", "transform": "bucket[16]"},
      {"source-id": 2, "field-id": 1001, "name": "ts_h", "transform": "hour"},
      {"source-id": 3, "field-id": 1002, "name": "region", "transform": "identity"},
      {"source-id": 4, "field-id": 1003, "name": "amount_t", "transform": "truncate[100]"},
      {"source-id": 6, "field-id": 1004, "name": "day_m", "transform": "month"},
      {"source-id": 3, "field-id": 1005, "name": "region_t", "transform": "truncate[1]"},
      {"source-id": 7, "field-id": 1006, "name": "key_v", "transform": "void"}]})j"), schema);
  t::Expr projected = t::ProjectToPartition(*b, spec);
  t::PartitionTuple tuple(spec.fields.size());
  tuple[2] = t::Literal::String("eu");
  t::MatchPartition(projected, tuple);
  std::vector<t::FieldSummary> summaries(spec.fields.size());
  summaries[2] = t::FieldSummary{true, std::nullopt, std::string("eu"), std::string("us")};
  summaries[0] = t::FieldSummary{false, false, std::string("\1\0\0\0", 4), std::string("x")};
  t::MightMatchSummaries(projected, spec, summaries);
  t::DataFile f;
  f.record_count = 10;
  f.value_counts = {{1, 10}, {3, 10}, {5, 10}};
  f.null_value_counts = {{1, 0}, {3, 2}, {5, 0}};
  f.nan_value_counts = {{5, 1}};
  f.lower_bounds = {{1, std::string("\1\0\0\0\0\0\0\0", 8)}, {3, "a"}, {5, "bad"}};
  f.upper_bounds = {{1, std::string("\x09\0\0\0\0\0\0\0", 8)}, {3, "z"}, {5, std::string(8, '\xff')}};
  t::MightMatchMetrics(*b, f);
  return 0;
}
