#include "server/http.h"

#include <algorithm>

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

void Headers::Remove(std::string_view name) {
  h_.erase(std::remove_if(h_.begin(), h_.end(), [&](const auto& kv) { return IEquals(kv.first, name); }),
           h_.end());
}

std::string ContentRange(uint64_t first, uint64_t last, uint64_t size) {
  return "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size);
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

Response Response::Offload() {
  Response r;
  r.offload = true;
  return r;
}

void DeferredResponse::Finish(Response r) {
  std::function<void(Response)> fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fn_) {
      res_ = std::move(r);
      return;
    }
    fn = std::move(fn_);
  }
  fn(std::move(r));
}

void DeferredResponse::OnFinish(std::function<void(Response)> fn) {
  std::optional<Response> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!res_) {
      fn_ = std::move(fn);
      return;
    }
    r = std::move(res_);
  }
  fn(std::move(*r));
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  const std::string_view special = plus_is_space ? std::string_view("%+") : std::string_view("%");
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    // Copy the run up to the next escape in one piece.
    size_t next = s.find_first_of(special, i);
    if (next == std::string_view::npos) next = s.size();
    out.append(s.data() + i, next - i);
    i = next;
    if (i == s.size()) break;
    if (s[i] == '+') {
      out.push_back(' ');
      ++i;
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 3;
  }
  return out;
}

namespace {
// RFC 3986 unreserved characters: A-Z a-z 0-9 - _ . ~
struct UnreservedTable {
  bool v[256];
  constexpr UnreservedTable() : v() {
    for (int c = 'A'; c <= 'Z'; ++c) v[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) v[c] = true;
    for (int c = '0'; c <= '9'; ++c) v[c] = true;
    v[static_cast<int>('-')] = v[static_cast<int>('_')] = v[static_cast<int>('.')] =
        v[static_cast<int>('~')] = true;
  }
};
constexpr UnreservedTable kUnreserved;
}  // namespace

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (kUnreserved.v[u] || (keep_slash && c == '/')) {
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

Result<std::optional<std::pair<uint64_t, uint64_t>>> ParseByteRange(std::string_view h,
                                                                    uint64_t size) {
  using R = std::optional<std::pair<uint64_t, uint64_t>>;
  if (h.substr(0, 6) != "bytes=" || h.find(',') != std::string_view::npos) return R();
  std::string_view spec = h.substr(6);
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return R();
  auto num = [](std::string_view s, uint64_t* out) {
    if (s.empty() || s.size() > 19) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return true;
  };
  uint64_t a = 0, b = 0;
  std::string_view first = spec.substr(0, dash), second = spec.substr(dash + 1);
  if (first.empty()) {
    if (!num(second, &b) || b == 0) return InvalidArgument("unsatisfiable range");
    if (b > size) b = size;
    return R(std::make_pair(size - b, size - 1));
  }
  if (!num(first, &a)) return R();
  if (second.empty()) {
    b = size - 1;
  } else if (!num(second, &b) || b < a) {
    return R();
  }
  if (a >= size) return InvalidArgument("unsatisfiable range");
  if (b >= size) b = size - 1;
  return R(std::make_pair(a, b));
}


std::string_view OriginForm(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && target.substr(0, scheme.size()) == scheme) {
      size_t slash = target.find('/', scheme.size());
      return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  return target;
}

}  // namespace lakemesh::server
