// SQL text handling that needs no parser: splitting a query string into statements (as psql and
// PostgreSQL's simple query protocol do) and naming a statement's kind by its first keywords.
// Quotes ('...', "...", E'...', $tag$...$tag$) and comments (-- and nested /* */) are honoured,
// so a semicolon inside them does not split.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakemesh::sql {

// The statements of `text`, each trimmed, without its terminating semicolon; empty statements
// (";;", only a comment) are dropped. An unterminated quote or comment runs to the end.
std::vector<std::string> SplitStatements(std::string_view text);

// Whether `text` ends a statement: its last character outside whitespace and comments is a
// semicolon outside quotes (for shells reading statements line by line).
bool EndsStatement(std::string_view text);

// The first `n` keywords of `statement`, upper-cased, skipping leading comments, whitespace and
// opening parentheses ("(SELECT 1)" -> {"SELECT"}). A keyword starts with a letter or '_' and
// runs over [A-Za-z0-9_].
std::vector<std::string> LeadingKeywords(std::string_view statement, size_t n);

// `statement` after its first `n` keywords (and the comments and whitespace around them).
std::string_view AfterKeywords(std::string_view statement, size_t n);

// Trino's and Spark's time travel, `t FOR VERSION AS OF 123` and `t FOR TIMESTAMP AS OF
// TIMESTAMP '2026-11-01 00:00:00 UTC'` (also SYSTEM_VERSION / SYSTEM_TIME), rewritten as DuckDB's
// `t AT (VERSION => 123)` / `t AT (TIMESTAMP => ...)`. Other text is kept as it is.
std::string RewriteAsOf(std::string_view sql);

// COPY (query) TO STDOUT [WITH] [(FORMAT csv|text, HEADER [bool], DELIMITER 'c', NULL 'x')],
// also COPY table TO STDOUT and the old-style WITH CSV HEADER.
struct CopyToStdout {
  std::string query;  // the rows to copy, as a query
  bool csv = false;
  bool header = false;
  char delimiter = '\t';
  std::string null_text = "\\N";
};
// nullopt when `statement` is not a COPY ... TO STDOUT; kInvalidArgument-like errors are
// reported by returning a CopyToStdout with an empty query and `error` set.
struct CopyParse {
  std::optional<CopyToStdout> copy;
  std::string error;
};
CopyParse ParseCopyToStdout(std::string_view statement);
// COPY table [(columns)] FROM STDIN [[WITH] (FORMAT text|csv, HEADER [bool], DELIMITER 'c',
// NULL 'x', QUOTE 'q', ESCAPE 'e')], also the old-style WITH CSV HEADER: rows the client sends.
struct CopyFromStdin {
  std::string table;                 // as written: [domain.]table[@ref]
  std::vector<std::string> columns;  // the column list; empty: all, in order
  bool csv = false;
  bool header = false;
  char delimiter = '\t';
  std::string null_text = "\\N";
  char quote = '"';
  char escape = '"';
};
struct CopyInParse {
  std::optional<CopyFromStdin> copy;  // nullopt: not a COPY ... FROM STDIN
  std::string error;                  // a COPY FROM STDIN that cannot be read
};
CopyInParse ParseCopyFromStdin(std::string_view statement);
// One line of COPY's text format (without its line end) appended to `csv` as a CSV line (comma,
// double quotes, then a line end): fields split at the delimiter, the null string unquoted and
// empty, every other value de-escaped (\n, \t, \\, \ooo, \xhh, \<any>) and quoted.
void CopyTextLineToCsv(const CopyFromStdin& copy, std::string_view line, std::string* csv);

// One row in COPY's text or CSV format, with the line end.
std::string FormatCopyRow(const CopyToStdout& c,
                          const std::vector<std::optional<std::string_view>>& values);

// The parameters ($1, $2, ...) of a statement, outside quotes and comments: the highest number
// used (0: none).
size_t CountParameters(std::string_view statement);
// `statement` with each parameter $n replaced by `values[n-1]` as an SQL literal: quoted text
// (cast to `types[n-1]` when that is not empty), or NULL. For statements that are not queries,
// which DuckDB cannot prepare with parameters (INSERT ... VALUES ($1, $2)). The values cannot
// change the statement's meaning: quotes in them are doubled. A parameter without a value is
// kInvalidArgument-like: `*error` names it and "" is returned.
std::string BindParameters(std::string_view statement,
                           const std::vector<std::optional<std::string>>& values,
                           const std::vector<std::string>& types, std::string* error);

// `statement` with each parameter $n replaced by the SQL expression `expressions[n-1]`, in
// parentheses (cast to `types[n-1]` when that is not empty): SQL's EXECUTE name (args). A
// parameter without an expression is an error as for BindParameters.
std::string SubstituteParameters(std::string_view statement,
                                 const std::vector<std::string>& expressions,
                                 const std::vector<std::string>& types, std::string* error);

// PostgreSQL's array text (`{1,2}`, `{"a b",NULL}`, `{{1,2},{3,4}}`, as COPY, pg_dump and
// clients write arrays) as DuckDB's list text (`['1', '2']`, `['a b', NULL]`,
// `[['1', '2'], ['3', '4']]`), which DuckDB casts to a list of any element type. Text that does
// not start with `{` (DuckDB's own `[1, 2]`) is returned as it is; nullopt when it starts with
// `{` but is not a well-formed array.
std::optional<std::string> PgArrayAsListText(std::string_view text);
// The elements of a one-dimensional PostgreSQL array (NULL ones nullopt); nullopt when `text`
// is not one (malformed, or an array of arrays).
std::optional<std::vector<std::optional<std::string>>> PgArrayElements(std::string_view text);

// `text` with `f` applied to each stretch outside quotes and comments (those are kept as they
// are).
std::string TransformCode(std::string_view text,
                          const std::function<std::string(std::string_view)>& f);

// --- reading the parts of write statements (INSERT, CREATE TABLE, ...) -----------------------

// `pos` moved past whitespace and comments.
size_t SkipSpace(std::string_view s, size_t pos);

// If the keyword `kw` (case-insensitive, a whole word) is at `*pos` (after space), moves past it.
bool ConsumeKeyword(std::string_view s, size_t* pos, std::string_view kw);

// If all of `kws` follow at `*pos` (IF NOT EXISTS, OR REPLACE), moves past them; otherwise
// leaves `*pos` as it was.
bool ConsumeKeywords(std::string_view s, size_t* pos, std::initializer_list<std::string_view> kws);

// A name at `*pos`: identifiers separated by dots, each plain (lower-cased, as PostgreSQL does)
// or double-quoted (kept as written; "" is a quote). Moves past it; nullopt when there is none.
std::optional<std::vector<std::string>> ParseName(std::string_view s, size_t* pos);

// The text between the parenthesis at `*pos` and its match (quotes and nesting respected);
// moves past the closing one. nullopt when `*pos` is not at '(' or it is not closed.
std::optional<std::string_view> ParseParenthesized(std::string_view s, size_t* pos);

// `s` split at `sep` where it is outside quotes, comments, parentheses and brackets; parts
// trimmed.
std::vector<std::string> SplitTopLevel(std::string_view s, char sep);

// Where the keyword `kw` first appears in `s` at or after `from`, outside quotes, comments and
// parentheses, as a whole word; npos when it does not.
size_t FindTopLevelKeyword(std::string_view s, std::string_view kw, size_t from = 0);

}  // namespace lakemesh::sql
