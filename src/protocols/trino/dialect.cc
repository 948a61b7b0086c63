#include "protocols/trino/dialect.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "server/http.h"
#include "sql/statements.h"

namespace lakemesh::trino {

std::vector<std::pair<std::string, std::string>> ParsePairs(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    std::string_view part = header.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                 : comma - start);
    start = comma == std::string_view::npos ? header.size() + 1 : comma + 1;
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) part.remove_prefix(1);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) part.remove_suffix(1);
    size_t eq = part.find('=');
    if (part.empty() || eq == std::string_view::npos || eq == 0) continue;
    auto name = server::PercentDecode(part.substr(0, eq), true);
    auto value = server::PercentDecode(part.substr(eq + 1), true);
    if (!name || !value) continue;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::string EncodePair(std::string_view name, std::string_view value) {
  return server::PercentEncode(name, false) + "=" + server::PercentEncode(value, false);
}

size_t CountParameters(std::string_view statement) {
  size_t n = 0;
  sql::TransformCode(statement, [&](std::string_view code) {
    for (char c : code) n += c == '?';
    return std::string(code);
  });
  return n;
}

Result<std::string> BindParameters(std::string_view statement,
                                   const std::vector<std::string>& values) {
  const size_t expected = CountParameters(statement);
  if (expected != values.size()) {
    return InvalidArgument("Incorrect number of parameters: expected " + std::to_string(expected) +
                           " but found " + std::to_string(values.size()));
  }
  size_t next = 0;
  return sql::TransformCode(statement, [&](std::string_view code) {
    std::string out;
    for (char c : code) {
      if (c == '?' && next < values.size()) {
        out += "(" + values[next++] + ")";
      } else {
        out.push_back(c);
      }
    }
    return out;
  });
}

std::optional<int64_t> ParseDuration(std::string_view text) {
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  char* end = nullptr;
  const double n = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !std::isfinite(n) || n < 0) return std::nullopt;
  std::string unit(end);
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.front()))) unit.erase(0, 1);
  double ms;
  if (unit == "ns") {
    ms = n / 1e6;
  } else if (unit == "us") {
    ms = n / 1e3;
  } else if (unit == "ms") {
    ms = n;
  } else if (unit == "s") {
    ms = n * 1e3;
  } else if (unit == "m") {
    ms = n * 60e3;
  } else if (unit == "h") {
    ms = n * 3600e3;
  } else if (unit == "d") {
    ms = n * 86400e3;
  } else {
    return std::nullopt;
  }
  if (ms > 9e15) return std::nullopt;
  return static_cast<int64_t>(std::llround(ms));
}

std::optional<std::string> StringLiteral(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() < 2 || text.front() != '\'' || text.back() != '\'') return std::nullopt;
  std::string out;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '\'') {
      if (i + 2 < text.size() && text[i + 1] == '\'') {
        out.push_back('\'');
        ++i;
        continue;
      }
      return std::nullopt;  // a quote that ends the literal early: not one literal
    }
    out.push_back(text[i]);
  }
  return out;
}

bool Like(std::string_view value, std::string_view pattern, char escape) {
  // Iterative matching with backtracking to the last '%'.
  size_t v = 0, p = 0, star_p = std::string_view::npos, star_v = 0;
  while (v < value.size()) {
    if (p < pattern.size()) {
      char c = pattern[p];
      if (escape && c == escape && p + 1 < pattern.size()) {
        if (value[v] == pattern[p + 1]) {
          p += 2;
          ++v;
          continue;
        }
      } else if (c == '%') {
        star_p = p++;
        star_v = v;
        continue;
      } else if (c == '_' || c == value[v]) {
        ++p;
        ++v;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    v = ++star_v;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

Result<ShowTail> ParseShowTail(std::string_view tail) {
  ShowTail out;
  size_t pos = 0;
  if (sql::ConsumeKeyword(tail, &pos, "FROM") || sql::ConsumeKeyword(tail, &pos, "IN")) {
    auto name = sql::ParseName(tail, &pos);
    if (!name) return InvalidArgument("a name is expected after FROM");
    out.from = *name;
  }
  if (sql::ConsumeKeyword(tail, &pos, "LIKE")) {
    pos = sql::SkipSpace(tail, pos);
    size_t end = pos;
    if (end < tail.size() && tail[end] == '\'') {
      ++end;
      while (end < tail.size()) {
        if (tail[end] == '\'' && end + 1 < tail.size() && tail[end + 1] == '\'') {
          end += 2;
        } else if (tail[end] == '\'') {
          ++end;
          break;
        } else {
          ++end;
        }
      }
    }
    auto pattern = StringLiteral(tail.substr(pos, end - pos));
    if (!pattern) return InvalidArgument("LIKE takes a string literal");
    out.like = *pattern;
    pos = end;
    if (sql::ConsumeKeyword(tail, &pos, "ESCAPE")) {
      pos = sql::SkipSpace(tail, pos);
      size_t close = tail.find('\'', pos + 1);
      auto esc = close == std::string_view::npos ? std::nullopt
                                                 : StringLiteral(tail.substr(pos, close - pos + 1));
      if (!esc || esc->size() != 1) return InvalidArgument("ESCAPE takes one character");
      out.escape = (*esc)[0];
      pos = close + 1;
    }
  }
  if (sql::SkipSpace(tail, pos) != tail.size()) {
    return InvalidArgument("unexpected text: " + std::string(tail.substr(sql::SkipSpace(tail, pos))));
  }
  return out;
}

}  // namespace lakemesh::trino
