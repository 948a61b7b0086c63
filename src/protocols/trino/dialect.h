// The parts of Trino's SQL and headers that lakemesh handles itself rather than hand to the
// engine: header lists of name=value pairs, `?` parameters of prepared statements, durations
// of session properties, LIKE patterns of SHOW statements.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lakemesh::trino {

// "a=1,b=x%20y" (X-Trino-Session, X-Trino-Prepared-Statement): names and values
// percent-decoded ('+' is a space, as Java's URLEncoder writes it). Malformed pairs are
// skipped.
std::vector<std::pair<std::string, std::string>> ParsePairs(std::string_view header);
// "name=value" with both percent-encoded, for X-Trino-Set-Session and X-Trino-Added-Prepare.
std::string EncodePair(std::string_view name, std::string_view value);

// How many `?` parameters `statement` has (outside quotes and comments).
size_t CountParameters(std::string_view statement);
// `statement` with its `?` parameters replaced, in order, by the SQL expressions `values`.
// kInvalidArgument when the counts differ.
Result<std::string> BindParameters(std::string_view statement,
                                   const std::vector<std::string>& values);

// A Trino duration ("10s", "1.5m", "250ms", "2h", "1d") in milliseconds.
std::optional<int64_t> ParseDuration(std::string_view text);

// The value of a SQL string literal ('it''s' -> it's); nullopt when `text` is not one.
std::optional<std::string> StringLiteral(std::string_view text);

// SQL LIKE: '%' any run, '_' any one character; `escape` (0: none) quotes the next one.
bool Like(std::string_view value, std::string_view pattern, char escape = 0);

// The parts of a SHOW statement's tail: "FROM x.y LIKE 'p' ESCAPE '\'" (FROM or IN).
struct ShowTail {
  std::vector<std::string> from;  // the name after FROM / IN, split at dots
  std::optional<std::string> like;
  char escape = 0;
};
// kInvalidArgument on text that is not such a tail.
Result<ShowTail> ParseShowTail(std::string_view tail);

}  // namespace lakemesh::trino
