#include "sql/statements.h"

#include <cctype>

namespace lakemesh::sql {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsWord(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool StartsWord(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }

// Skips the quoted text or comment starting at `i` (if any); returns the index after it, or `i`
// when nothing starts there.
size_t SkipQuotedOrComment(std::string_view s, size_t i) {
  const size_t n = s.size();
  char c = s[i];
  if (c == '-' && i + 1 < n && s[i + 1] == '-') {
    while (i < n && s[i] != '\n') ++i;
    return i;
  }
  if (c == '/' && i + 1 < n && s[i + 1] == '*') {
    int depth = 0;
    while (i < n) {
      if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
        ++depth;
        i += 2;
      } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
        i += 2;
        if (--depth == 0) return i;
      } else {
        ++i;
      }
    }
    return n;
  }
  if (c == '\'' || c == '"') {
    // E'...' strings take backslash escapes.
    bool escapes = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                   (i < 2 || !IsWord(s[i - 2]));
    ++i;
    while (i < n) {
      if (escapes && s[i] == '\\' && i + 1 < n) {
        i += 2;
        continue;
      }
      if (s[i] == c) {
        if (i + 1 < n && s[i + 1] == c) {  // doubled quote
          i += 2;
          continue;
        }
        return i + 1;
      }
      ++i;
    }
    return n;
  }
  if (c == '$' && (i == 0 || !IsWord(s[i - 1]))) {
    // $tag$ ... $tag$ (a tag is empty or an identifier not starting with a digit)
    size_t j = i + 1;
    while (j < n && IsWord(s[j])) ++j;
    if (j < n && s[j] == '$' && !(j > i + 1 && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      std::string_view tag = s.substr(i, j - i + 1);
      size_t end = s.find(tag, j + 1);
      return end == std::string_view::npos ? n : end + tag.size();
    }
  }
  return i;
}

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Whether `s` holds anything but whitespace and comments.
bool HasContent(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (IsSpace(s[i])) {
      ++i;
      continue;
    }
    size_t j = SkipQuotedOrComment(s, i);
    if (j == i || s[i] == '\'' || s[i] == '"' || s[i] == '$') return true;
    i = j;
  }
  return false;
}

// The index of the next keyword-or-token start at or after `i`, past whitespace, comments and,
// with `parens`, opening parentheses.
size_t SkipNoise(std::string_view s, size_t i, bool parens) {
  while (i < s.size()) {
    if (IsSpace(s[i]) || (parens && s[i] == '(')) {
      ++i;
      continue;
    }
    if ((s[i] == '-' || s[i] == '/')) {
      size_t j = SkipQuotedOrComment(s, i);
      if (j != i) {
        i = j;
        continue;
      }
    }
    break;
  }
  return i;
}

}  // namespace

std::vector<std::string> SplitStatements(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0, i = 0;
  auto emit = [&](size_t end) {
    std::string_view part = Trim(text.substr(start, end - start));
    if (HasContent(part)) out.emplace_back(part);
  };
  while (i < text.size()) {
    if (text[i] == ';') {
      emit(i);
      start = ++i;
      continue;
    }
    size_t j = SkipQuotedOrComment(text, i);
    i = j == i ? i + 1 : j;
  }
  emit(text.size());
  return out;
}

bool EndsStatement(std::string_view text) {
  bool ends = false;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = SkipQuotedOrComment(text, i);
    if (j != i) {
      // An unterminated quote or comment runs to the end: not complete.
      if (j == text.size() && (text[i] == '\'' || text[i] == '"' || text[i] == '$' ||
                               (text[i] == '/' && text.substr(text.size() - 2) != "*/"))) {
        return false;
      }
      if (text[i] != '-' && text[i] != '/') ends = false;
      i = j;
      continue;
    }
    if (text[i] == ';') {
      ends = true;
    } else if (!IsSpace(text[i])) {
      ends = false;
    }
    ++i;
  }
  return ends;
}

std::vector<std::string> LeadingKeywords(std::string_view statement, size_t n) {
  std::vector<std::string> out;
  size_t i = SkipNoise(statement, 0, /*parens=*/true);
  while (out.size() < n && i < statement.size() && StartsWord(statement[i])) {
    size_t j = i;
    std::string w;
    while (j < statement.size() && IsWord(statement[j])) {
      w.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(statement[j]))));
      ++j;
    }
    out.push_back(std::move(w));
    i = SkipNoise(statement, j, /*parens=*/false);
  }
  return out;
}

std::string_view AfterKeywords(std::string_view statement, size_t n) {
  size_t i = SkipNoise(statement, 0, /*parens=*/true);
  for (size_t k = 0; k < n && i < statement.size() && StartsWord(statement[i]); ++k) {
    while (i < statement.size() && IsWord(statement[i])) ++i;
    i = SkipNoise(statement, i, /*parens=*/false);
  }
  return statement.substr(i);
}

std::string TransformCode(std::string_view s,
                          const std::function<std::string(std::string_view)>& f) {
  std::string out;
  size_t code = 0, i = 0;
  while (i < s.size()) {
    size_t j = SkipQuotedOrComment(s, i);
    if (j == i) {
      ++i;
      continue;
    }
    out += f(s.substr(code, i - code));
    out.append(s.substr(i, j - i));
    code = i = j;
  }
  out += f(s.substr(code));
  return out;
}

namespace {

// Calls `f(n, start, end)` for each parameter $n of `code` (text outside quotes and comments);
// `$1` inside a word (`a$1`) is not one.
template <typename F>
void ForEachParameter(std::string_view code, F&& f) {
  for (size_t i = 0; i < code.size(); ++i) {
    if (code[i] != '$' || i + 1 >= code.size() || !std::isdigit(static_cast<unsigned char>(code[i + 1])) ||
        (i > 0 && IsWord(code[i - 1]))) {
      continue;
    }
    size_t j = i + 1;
    size_t n = 0;
    while (j < code.size() && std::isdigit(static_cast<unsigned char>(code[j])) && n < 100000) {
      n = n * 10 + static_cast<size_t>(code[j] - '0');
      ++j;
    }
    f(n, i, j);
    i = j - 1;
  }
}

}  // namespace

size_t CountParameters(std::string_view statement) {
  size_t most = 0;
  TransformCode(statement, [&](std::string_view code) {
    ForEachParameter(code, [&](size_t n, size_t, size_t) { most = std::max(most, n); });
    return std::string(code);
  });
  return most;
}

namespace {

// `statement` with each parameter $n (1 <= n <= count) replaced by `render(n)`; a parameter out
// of that range sets `*error`.
std::string ReplaceParameters(std::string_view statement, size_t count,
                              const std::function<std::string(size_t)>& render,
                              std::string* error) {
  std::string out = TransformCode(statement, [&](std::string_view code) {
    std::string text;
    size_t copied = 0;
    ForEachParameter(code, [&](size_t n, size_t start, size_t end) {
      text.append(code.substr(copied, start - copied));
      copied = end;
      if (n == 0 || n > count) {
        if (error->empty()) error->assign("there is no parameter $" + std::to_string(n));
        return;
      }
      text += render(n);
    });
    text.append(code.substr(copied));
    return text;
  });
  return error->empty() ? out : std::string();
}

}  // namespace

std::string BindParameters(std::string_view statement,
                           const std::vector<std::optional<std::string>>& values,
                           const std::vector<std::string>& types, std::string* error) {
  return ReplaceParameters(statement, values.size(), [&](size_t n) {
    const std::optional<std::string>& v = values[n - 1];
    if (!v) return std::string("NULL");
    std::string literal = "'";
    for (char c : *v) {
      literal.push_back(c);
      if (c == '\'') literal.push_back('\'');
    }
    literal.push_back('\'');
    const std::string& type = n - 1 < types.size() ? types[n - 1] : std::string();
    if (type.size() > 2 && type.compare(type.size() - 2, 2, "[]") == 0) {
      return "CAST(pg_array_as_list(" + literal + ") AS " + type + ")";  // '{1,2}'
    }
    return type.empty() ? literal : "CAST(" + literal + " AS " + type + ")";
  }, error);
}

std::string SubstituteParameters(std::string_view statement,
                                 const std::vector<std::string>& expressions,
                                 const std::vector<std::string>& types, std::string* error) {
  return ReplaceParameters(statement, expressions.size(), [&](size_t n) {
    const std::string& type = n - 1 < types.size() ? types[n - 1] : std::string();
    const std::string e = "(" + expressions[n - 1] + ")";
    return type.empty() ? e : "CAST(" + e + " AS " + type + ")";
  }, error);
}

namespace {

// What reading a PostgreSQL array meets, in order: an array opening ('{') and closing ('}'),
// and each element (nullopt: NULL).
struct PgArrayVisitor {
  std::function<void()> open, close;
  std::function<void(std::optional<std::string>)> element;
};

// One array `{...}` at `*i` of `t`, told to `v`; false if malformed (array_in's rules: quoted
// elements with backslash escapes, unquoted ones trimmed, NULL in any case is NULL).
bool PgArrayAt(std::string_view t, size_t* i, const PgArrayVisitor& v, int depth) {
  auto space = [&] {
    while (*i < t.size() && std::isspace(static_cast<unsigned char>(t[*i]))) ++*i;
  };
  if (depth > 32 || *i >= t.size() || t[*i] != '{') return false;
  ++*i;
  v.open();
  space();
  if (*i < t.size() && t[*i] == '}') {
    ++*i;
    v.close();
    return true;
  }
  while (true) {
    space();
    if (*i >= t.size()) return false;
    if (t[*i] == '{') {
      if (!PgArrayAt(t, i, v, depth + 1)) return false;
    } else {
      std::string e;
      bool quoted = t[*i] == '"';
      if (quoted) {
        for (++*i;; ++*i) {
          if (*i >= t.size()) return false;
          if (t[*i] == '\\') {
            if (++*i >= t.size()) return false;
            e.push_back(t[*i]);
          } else if (t[*i] == '"') {
            ++*i;
            break;
          } else {
            e.push_back(t[*i]);
          }
        }
      } else {
        for (; *i < t.size() && t[*i] != ',' && t[*i] != '}'; ++*i) {
          if (t[*i] == '{' || t[*i] == '"') return false;
          if (t[*i] == '\\') {
            if (++*i >= t.size()) return false;
          }
          e.push_back(t[*i]);
        }
        while (!e.empty() && std::isspace(static_cast<unsigned char>(e.back()))) e.pop_back();
        if (e.empty()) return false;
      }
      std::string upper = e;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!quoted && upper == "NULL") {
        v.element(std::nullopt);
      } else {
        v.element(std::move(e));
      }
    }
    space();
    if (*i >= t.size()) return false;
    if (t[*i] == '}') {
      ++*i;
      v.close();
      return true;
    }
    if (t[*i] != ',') return false;
    ++*i;
  }
}

// The whole of `text` as one array; false if malformed or followed by anything.
bool PgArray(std::string_view text, const PgArrayVisitor& v) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (!PgArrayAt(text, &i, v, 0)) return false;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  return i == text.size();
}

}  // namespace

std::optional<std::string> PgArrayAsListText(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n\f\v");
  if (start == std::string_view::npos || text[start] != '{') return std::string(text);
  std::string out;
  std::vector<bool> first = {true};  // per open array: no element written yet
  auto separate = [&] {
    if (!first.back()) out.append(", ");
    first.back() = false;
  };
  PgArrayVisitor v;
  v.open = [&] {
    separate();
    out.push_back('[');
    first.push_back(true);
  };
  v.close = [&] {
    out.push_back(']');
    first.pop_back();
  };
  v.element = [&](std::optional<std::string> e) {
    separate();
    if (!e) {
      out.append("NULL");
      return;
    }
    out.push_back('\'');
    for (char c : *e) {
      if (c == '\\' || c == '\'') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('\'');
  };
  if (!PgArray(text, v)) return std::nullopt;
  return out;
}

std::optional<std::vector<std::optional<std::string>>> PgArrayElements(std::string_view text) {
  std::vector<std::optional<std::string>> out;
  int depth = 0;
  bool nested = false;
  PgArrayVisitor v;
  v.open = [&] { nested = nested || ++depth > 1; };
  v.close = [&] { --depth; };
  v.element = [&](std::optional<std::string> e) { out.push_back(std::move(e)); };
  if (!PgArray(text, v) || nested) return std::nullopt;
  return out;
}

std::string RewriteAsOf(std::string_view s) {
  std::string out;
  size_t i = 0, copied = 0;
  while (i < s.size()) {
    size_t j = SkipQuotedOrComment(s, i);
    if (j != i) {
      i = j;
      continue;
    }
    if (!StartsWord(s[i]) || (i > 0 && IsWord(s[i - 1]))) {
      ++i;
      continue;
    }
    size_t p = i;
    std::string unit;
    if (ConsumeKeyword(s, &p, "FOR")) {
      if (ConsumeKeyword(s, &p, "VERSION") || ConsumeKeyword(s, &p, "SYSTEM_VERSION")) {
        unit = "VERSION";
      } else if (ConsumeKeyword(s, &p, "TIMESTAMP") || ConsumeKeyword(s, &p, "SYSTEM_TIME")) {
        unit = "TIMESTAMP";
      }
    }
    if (unit.empty() || !ConsumeKeyword(s, &p, "AS") || !ConsumeKeyword(s, &p, "OF")) {
      while (i < s.size() && IsWord(s[i])) ++i;
      continue;
    }
    p = SkipSpace(s, p);
    size_t start = p;
    if (p < s.size() && (std::isdigit(static_cast<unsigned char>(s[p])) || s[p] == '-')) {
      ++p;
      while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) ++p;
    } else {
      size_t q = p;
      if (ConsumeKeyword(s, &q, "TIMESTAMP")) {
        size_t w = q;
        if (ConsumeKeyword(s, &w, "WITH") && ConsumeKeyword(s, &w, "TIME") &&
            ConsumeKeyword(s, &w, "ZONE")) {
          q = w;
        }
      } else if (!ConsumeKeyword(s, &q, "TIMESTAMPTZ")) {
        ConsumeKeyword(s, &q, "DATE");
      }
      q = SkipSpace(s, q);
      if (q >= s.size() || s[q] != '\'') {
        i = p;
        continue;
      }
      p = SkipQuotedOrComment(s, q);
    }
    // DuckDB takes a table alias before AT, Trino after the period: move it.
    std::string alias;
    size_t a = p;
    bool has_as = ConsumeKeyword(s, &a, "AS");
    size_t name_start = SkipSpace(s, a);
    auto name = ParseName(s, &a);
    static const char* kNotAlias[] = {"WHERE", "JOIN", "LEFT", "RIGHT", "INNER", "FULL",
                                      "CROSS", "ON", "GROUP", "ORDER", "LIMIT", "UNION",
                                      "EXCEPT", "INTERSECT", "HAVING", "WINDOW", "QUALIFY",
                                      "USING", "NATURAL", "OFFSET", "FETCH", "LATERAL", "ASOF",
                                      "POSITIONAL", "SEMI", "ANTI"};
    bool is_alias = name && name->size() == 1;
    if (is_alias && !has_as) {
      size_t k = name_start;
      for (const char* kw : kNotAlias) {
        if (ConsumeKeyword(s, &k, kw)) {
          is_alias = false;
          break;
        }
      }
    }
    if (is_alias) {
      alias = " " + std::string(s.substr(name_start, a - name_start));
      // A column alias list follows the alias: t AS x(a, b).
      size_t c = a;
      if (ParseParenthesized(s, &c)) a = c;
      alias = " " + std::string(Trim(s.substr(name_start, a - name_start)));
    }
    out.append(s.substr(copied, i - copied));
    out += (alias.empty() ? "" : alias.substr(1) + " ") + "AT (" + unit + " => " +
           std::string(s.substr(start, p - start)) + ")";
    copied = i = is_alias ? a : p;
  }
  out.append(s.substr(copied));
  return out;
}

namespace {

// COPY's options after its direction ([WITH] (FORMAT ..., ...) or WITH CSV HEADER) into `c`;
// an error message, or "" .
std::string ParseCopyOptions(std::string_view st, size_t* at, const char* direction,
                             CopyFromStdin* c) {
  size_t pos = *at;
  ConsumeKeyword(st, &pos, "WITH");
  size_t p = pos;
  auto one_char = [](const std::string& name, const std::string& value, char* out) {
    if (value.size() != 1) return "COPY " + name + " must be a single one-byte character";
    *out = value[0];
    return std::string();
  };
  bool quote_set = false, escape_set = false;
  if (auto opts = ParseParenthesized(st, &p)) {
    pos = p;
    for (const std::string& o : SplitTopLevel(*opts, ',')) {
      size_t k = 0;
      auto key = ParseName(o, &k);
      if (!key || key->size() != 1) return "cannot read COPY option '" + o + "'";
      std::string value(Trim(std::string_view(o).substr(k)));
      if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
        value = value.substr(1, value.size() - 2);
      }
      std::string lower = value;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string name = (*key)[0];
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string err;
      if (name == "format") {
        if (lower != "csv" && lower != "text") {
          return "COPY " + std::string(direction) + " format '" + value +
                 "' is not supported (text, csv)";
        }
        c->csv = lower == "csv";
      } else if (name == "header") {
        c->header = lower.empty() || lower == "true" || lower == "on" || lower == "1";
      } else if (name == "delimiter") {
        err = one_char("delimiter", value, &c->delimiter);
      } else if (name == "null") {
        c->null_text = value;
      } else if (name == "quote") {
        err = one_char("quote", value, &c->quote);
        quote_set = true;
      } else if (name == "escape") {
        err = one_char("escape", value, &c->escape);
        escape_set = true;
      } else {
        return "COPY option '" + name + "' is not supported";
      }
      if (!err.empty()) return err;
    }
  } else {
    // Old syntax: WITH CSV HEADER, DELIMITER 'x'.
    while (true) {
      if (ConsumeKeyword(st, &pos, "CSV")) {
        c->csv = true;
      } else if (ConsumeKeyword(st, &pos, "HEADER")) {
        c->header = true;
      } else if (ConsumeKeyword(st, &pos, "BINARY")) {
        return "COPY " + std::string(direction) + " in binary format is not supported (text, csv)";
      } else {
        break;
      }
    }
  }
  if ((quote_set || escape_set) && !c->csv) return "COPY QUOTE and ESCAPE are only for CSV";
  if (!escape_set) c->escape = c->quote;
  if (c->csv && c->null_text == "\\N") c->null_text = "";
  if (c->csv && c->delimiter == '\t') c->delimiter = ',';
  if (SkipSpace(st, pos) < st.size()) {
    return "syntax error in COPY at \"" + std::string(st.substr(SkipSpace(st, pos), 20)) + "\"";
  }
  *at = pos;
  return "";
}

}  // namespace

CopyParse ParseCopyToStdout(std::string_view st) {
  CopyParse out;
  size_t pos = 0;
  if (!ConsumeKeyword(st, &pos, "COPY")) return out;
  CopyToStdout c;
  size_t save = pos;
  if (auto q = ParseParenthesized(st, &pos)) {
    c.query = std::string(*q);
  } else {
    pos = save;
    auto name = ParseName(st, &pos);
    if (!name) return out;
    std::string qualified;
    for (const auto& part : *name) {
      std::string quoted = "\"";
      for (char ch : part) {
        quoted.push_back(ch);
        if (ch == '"') quoted.push_back('"');
      }
      qualified += (qualified.empty() ? "" : ".") + quoted + "\"";
    }
    std::string columns = "*";
    size_t p = pos;
    if (auto list = ParseParenthesized(st, &p)) {
      columns = std::string(*list);
      pos = p;
    }
    c.query = "SELECT " + columns + " FROM " + qualified;
  }
  if (!ConsumeKeyword(st, &pos, "TO")) return out;
  if (!ConsumeKeyword(st, &pos, "STDOUT")) return out;
  CopyFromStdin o;
  out.error = ParseCopyOptions(st, &pos, "TO STDOUT", &o);
  if (!out.error.empty()) return out;
  if (o.quote != '"' || o.escape != '"') {
    out.error = "COPY TO STDOUT writes CSV with the quote and escape '\"'";
    return out;
  }
  c.csv = o.csv;
  c.header = o.header;
  c.delimiter = o.delimiter;
  c.null_text = o.null_text;
  out.copy = std::move(c);
  return out;
}

CopyInParse ParseCopyFromStdin(std::string_view st) {
  CopyInParse out;
  size_t pos = 0;
  if (!ConsumeKeyword(st, &pos, "COPY")) return out;
  size_t start = SkipSpace(st, pos);
  if (start < st.size() && st[start] == '(') return out;  // COPY (query) ...
  auto name = ParseName(st, &pos);
  if (!name) return out;
  CopyFromStdin c;
  c.table = std::string(Trim(st.substr(start, pos - start)));
  size_t p = pos;
  if (auto list = ParseParenthesized(st, &p)) {
    pos = p;
    for (const std::string& col : SplitTopLevel(*list, ',')) {
      size_t k = 0;
      auto n = ParseName(col, &k);
      if (!n || n->size() != 1 || SkipSpace(col, k) < col.size()) {
        out.error = "bad column name '" + col + "' in COPY";
        return out;
      }
      c.columns.push_back((*n)[0]);
    }
  }
  if (!ConsumeKeyword(st, &pos, "FROM")) return out;
  if (!ConsumeKeyword(st, &pos, "STDIN")) return out;
  out.error = ParseCopyOptions(st, &pos, "FROM STDIN", &c);
  if (out.error.empty()) out.copy = std::move(c);
  return out;
}

void CopyTextLineToCsv(const CopyFromStdin& copy, std::string_view line, std::string* csv) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t start = 0;
  for (bool first = true;; first = false) {
    size_t end = start;
    while (end < line.size() && line[end] != copy.delimiter) end += line[end] == '\\' ? 2 : 1;
    end = std::min(end, line.size());
    std::string_view field = line.substr(start, end - start);
    if (!first) csv->push_back(',');
    if (field != copy.null_text) {
      csv->push_back('"');
      for (size_t i = 0; i < field.size(); ++i) {
        char ch = field[i];
        if (ch == '\\' && i + 1 < field.size()) {
          char n = field[++i];
          switch (n) {
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'v': ch = '\v'; break;
            case 'x':
              if (i + 1 < field.size() && std::isxdigit(static_cast<unsigned char>(field[i + 1]))) {
                int v = 0;
                for (int k = 0; k < 2 && i + 1 < field.size() &&
                                std::isxdigit(static_cast<unsigned char>(field[i + 1]));
                     ++k) {
                  char h = field[++i];
                  v = v * 16 + (std::isdigit(static_cast<unsigned char>(h))
                                    ? h - '0'
                                    : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10);
                }
                ch = static_cast<char>(v);
              } else {
                ch = 'x';
              }
              break;
            default:
              if (n >= '0' && n <= '7') {
                int v = n - '0';
                for (int k = 0; k < 2 && i + 1 < field.size() && field[i + 1] >= '0' &&
                                field[i + 1] <= '7';
                     ++k) {
                  v = v * 8 + (field[++i] - '0');
                }
                ch = static_cast<char>(v);
              } else {
                ch = n;  // \\, \<delimiter>, and any other character stand for themselves
              }
          }
        }
        if (ch == '"') csv->push_back('"');
        csv->push_back(ch);
      }
      csv->push_back('"');
    }
    if (end >= line.size()) break;
    start = end + 1;
  }
  csv->push_back('\n');
}

std::string FormatCopyRow(const CopyToStdout& c,
                          const std::vector<std::optional<std::string_view>>& values) {
  std::string line;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) line.push_back(c.delimiter);
    if (!values[i]) {
      line += c.null_text;
      continue;
    }
    std::string_view v = *values[i];
    if (c.csv) {
      bool quote = v.empty() || v == c.null_text ||
                   v.find_first_of(std::string{c.delimiter, '"', '\n', '\r'}) != std::string_view::npos;
      if (!quote) {
        line += v;
        continue;
      }
      line.push_back('"');
      for (char ch : v) {
        if (ch == '"') line.push_back('"');
        line.push_back(ch);
      }
      line.push_back('"');
      continue;
    }
    for (char ch : v) {
      switch (ch) {
        case '\\': line += "\\\\"; break;
        case '\n': line += "\\n"; break;
        case '\r': line += "\\r"; break;
        case '\t': line += "\\t"; break;
        default:
          if (ch == c.delimiter) {
            line.push_back('\\');
          }
          line.push_back(ch);
      }
    }
  }
  line.push_back('\n');
  return line;
}

size_t SkipSpace(std::string_view s, size_t pos) { return SkipNoise(s, pos, /*parens=*/false); }

bool ConsumeKeyword(std::string_view s, size_t* pos, std::string_view kw) {
  size_t i = SkipSpace(s, *pos);
  if (s.size() - i < kw.size()) return false;
  for (size_t k = 0; k < kw.size(); ++k) {
    if (std::toupper(static_cast<unsigned char>(s[i + k])) !=
        std::toupper(static_cast<unsigned char>(kw[k]))) {
      return false;
    }
  }
  if (i + kw.size() < s.size() && IsWord(s[i + kw.size()])) return false;
  *pos = i + kw.size();
  return true;
}

bool ConsumeKeywords(std::string_view s, size_t* pos, std::initializer_list<std::string_view> kws) {
  size_t p = *pos;
  for (std::string_view kw : kws) {
    if (!ConsumeKeyword(s, &p, kw)) return false;
  }
  *pos = p;
  return true;
}

std::optional<std::vector<std::string>> ParseName(std::string_view s, size_t* pos) {
  std::vector<std::string> parts;
  size_t i = SkipSpace(s, *pos);
  while (true) {
    std::string part;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (true) {
        if (i >= s.size()) return std::nullopt;
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            part.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        part.push_back(s[i++]);
      }
      if (part.empty()) return std::nullopt;
    } else if (i < s.size() && StartsWord(s[i])) {
      while (i < s.size() && IsWord(s[i])) {
        part.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[i]))));
        ++i;
      }
    } else {
      return std::nullopt;
    }
    parts.push_back(std::move(part));
    if (i < s.size() && s[i] == '.') {
      ++i;
      continue;
    }
    break;
  }
  *pos = i;
  return parts;
}

std::optional<std::string_view> ParseParenthesized(std::string_view s, size_t* pos) {
  size_t i = SkipSpace(s, *pos);
  if (i >= s.size() || s[i] != '(') return std::nullopt;
  int depth = 0;
  size_t start = i + 1;
  while (i < s.size()) {
    size_t j = SkipQuotedOrComment(s, i);
    if (j != i) {
      i = j;
      continue;
    }
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && --depth == 0) {
      *pos = i + 1;
      return s.substr(start, i - start);
    }
    ++i;
  }
  return std::nullopt;
}

namespace {

// Calls `at(i)` for each position of `s` from `from` that is outside quotes, comments,
// parentheses and brackets; `at` returns how far to skip (0: one character) or npos to stop.
template <typename F>
void ScanTopLevel(std::string_view s, size_t from, F&& at) {
  int depth = 0;
  size_t i = from;
  while (i < s.size()) {
    size_t j = SkipQuotedOrComment(s, i);
    if (j != i) {
      i = j;
      continue;
    }
    char c = s[i];
    if (c == '(' || c == '[') ++depth;
    if ((c == ')' || c == ']') && depth > 0) --depth;
    size_t next = depth == 0 ? at(i) : 0;
    if (next == std::string_view::npos) return;
    i = next > i ? next : i + 1;
  }
}

}  // namespace

std::vector<std::string> SplitTopLevel(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  ScanTopLevel(s, 0, [&](size_t i) -> size_t {
    if (s[i] == sep) {
      out.emplace_back(Trim(s.substr(start, i - start)));
      start = i + 1;
    }
    return 0;
  });
  std::string_view last = Trim(s.substr(start));
  if (!last.empty() || !out.empty()) out.emplace_back(last);
  return out;
}

size_t FindTopLevelKeyword(std::string_view s, std::string_view kw, size_t from) {
  size_t found = std::string_view::npos;
  ScanTopLevel(s, from, [&](size_t i) -> size_t {
    if (!StartsWord(s[i]) || (i > 0 && IsWord(s[i - 1]))) return 0;
    size_t k = i;
    while (k < s.size() && IsWord(s[k])) ++k;
    std::string_view word = s.substr(i, k - i);
    if (word.size() == kw.size() &&
        std::equal(word.begin(), word.end(), kw.begin(), [](char x, char y) {
          return std::toupper(static_cast<unsigned char>(x)) ==
                 std::toupper(static_cast<unsigned char>(y));
        })) {
      found = i;
      return std::string_view::npos;
    }
    return k;
  });
  return found;
}

}  // namespace lakemesh::sql
