// What the Trino protocol reads from a request before the SQL engine sees anything: header lists
// (X-Trino-Session, X-Trino-Prepared-Statement), EXECUTE's parameters, durations, LIKE
// patterns and SHOW tails; and the encoder of the engine's values (whose text a table's data
// decides) for every type.
#include <cstdint>
#include <string>

#include "protocols/trino/dialect.h"
#include "protocols/trino/types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lakemesh::trino;  // NOLINT(build/namespaces)
  std::string in(reinterpret_cast<const char*>(data), size);
  for (const auto& [name, value] : ParsePairs(in)) {
    // What a client sends back is what the server encoded.
    auto again = ParsePairs(EncodePair(name, value));
    if (again.size() != 1 || again[0].first != name || again[0].second != value) __builtin_trap();
  }
  const size_t n = CountParameters(in);
  if (!BindParameters(in, std::vector<std::string>(n, "1")).ok()) __builtin_trap();
  ParseDuration(in);
  StringLiteral(in);
  ParseShowTail(in).status().IgnoreError();
  size_t half = in.size() / 2;
  Like(in.substr(0, half), in.substr(half), '\\');
  for (int t = 0; t <= static_cast<int>(lakemesh::sql::ColumnType::kOther); ++t) {
    lakemesh::sql::ResultColumn c("c", static_cast<lakemesh::sql::ColumnType>(t));
    c.precision = static_cast<int>(size % 10);
    std::string out;
    AppendValue(c, in, &out);
    if (t == static_cast<int>(lakemesh::sql::ColumnType::kOther)) {
      c.nested = lakemesh::sql::ResultColumn::Nested::kStruct;
      c.children.emplace_back("a", lakemesh::sql::ColumnType::kNumeric);
      AppendValue(c, in, &out);
    }
  }
  return 0;
}
