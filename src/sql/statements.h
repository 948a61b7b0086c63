// SQL text handling that needs no parser: splitting a query string into statements (as psql and
// PostgreSQL's simple query protocol do) and naming a statement's kind by its first keywords.
// Quotes ('...', "...", E'...', $tag$...$tag$) and comments (-- and nested /* */) are honoured,
// so a semicolon inside them does not split.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lakemesh::sql {

// The statements of `text`, each trimmed, without its terminating semicolon; empty statements
// (";;", only a comment) are dropped. An unterminated quote or comment runs to the end.
std::vector<std::string> SplitStatements(std::string_view text);

// The first `n` keywords of `statement`, upper-cased, skipping leading comments, whitespace and
// opening parentheses ("(SELECT 1)" -> {"SELECT"}). A keyword starts with a letter or '_' and
// runs over [A-Za-z0-9_].
std::vector<std::string> LeadingKeywords(std::string_view statement, size_t n);

// `statement` after its first `n` keywords (and the comments and whitespace around them).
std::string_view AfterKeywords(std::string_view statement, size_t n);

}  // namespace lakemesh::sql
