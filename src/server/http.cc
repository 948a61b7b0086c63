#include "server/http.h"

#include <strings.h>

namespace lakemesh::server {

static bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

void Headers::Set(const std::string& name, std::string value) {
  for (auto& [k, v] : h_) {
    if (IEquals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  Add(name, std::move(value));
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : h_) {
    if (IEquals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

Response Response::Text(int status, std::string text, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(text);
  r.headers.Set("Content-Type", std::move(content_type));
  return r;
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view qs) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < qs.size()) {
    size_t end = qs.find('&', start);
    if (end == std::string_view::npos) end = qs.size();
    std::string_view part = qs.substr(start, end - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string_view k = part.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? "" : part.substr(eq + 1);
      auto dk = PercentDecode(k, true), dv = PercentDecode(v, true);
      out.emplace_back(dk.value_or(std::string(k)), dv.value_or(std::string(v)));
    }
    start = end + 1;
  }
  return out;
}

}  // namespace lakemesh::server
