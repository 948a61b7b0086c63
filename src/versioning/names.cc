#include "versioning/names.h"

#include "base/coding.h"

#include "base/time.h"

namespace lakemesh::versioning {

Status ValidateRepoName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid repository name '" + std::string(name) + "': " +
                           std::string(why) +
                           " (use 3-63 characters of a-z, 0-9 and '-', starting and ending "
                           "with a letter or digit)");
  };
  if (name.size() < 3 || name.size() > 63) return bad("length must be 3 to 63");
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return bad("contains a character that is not allowed");
    }
  }
  if (name.front() == '-' || name.back() == '-') return bad("starts or ends with '-'");
  return Status::OK();
}

Status ValidateBucketName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid bucket name '" + std::string(name.substr(0, 100)) + "': " +
                           std::string(why) +
                           " (use 3-63 characters of a-z, 0-9, '.' and '-', starting and ending "
                           "with a letter or digit)");
  };
  if (name.size() < 3 || name.size() > 63) return bad("length must be 3 to 63");
  bool all_digits_and_dots = true;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
      return bad("contains a character that is not allowed");
    }
    if (c != '.' && !(c >= '0' && c <= '9')) all_digits_and_dots = false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return bad("starts or ends with '.' or '-'");
  if (name.find("..") != std::string_view::npos) return bad("contains '..'");
  if (all_digits_and_dots) return bad("is shaped like an IP address");
  return Status::OK();
}

Status ValidateRefName(std::string_view name, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid " + std::string(what) + " name '" + std::string(name) +
                           "': " + std::string(why) +
                           " (use up to 128 characters of A-Z, a-z, 0-9, '_', '.' and '-', "
                           "starting with a letter, digit or '_')");
  };
  if (name.empty() || name.size() > 128) return bad("length must be 1 to 128");
  // Reserved: s3://<repo>/_tables/... reads table files (catalog::kTablesRef).
  if (name == "_tables") {
    return InvalidArgument("'_tables' is reserved (s3://<repository>/_tables/ holds table files)");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return bad("contains a character that is not allowed");
  }
  if (name.front() == '.' || name.front() == '-') return bad("starts with '.' or '-'");
  if (name.find("..") != std::string_view::npos) return bad("contains '..'");
  return Status::OK();
}


Status ValidatePath(std::string_view path) {
  auto shown = [&] {
    std::string s;
    for (char c : path.substr(0, 200)) {
      s += (static_cast<uint8_t>(c) < 0x20 || c == 0x7f) ? '?' : c;
    }
    return s;
  };
  if (path.empty()) return InvalidArgument("object path is empty");
  if (path.size() > 1024) {
    return InvalidArgument("object path is " + std::to_string(path.size()) +
                           " bytes long; the limit is 1024");
  }
  for (char c : path) {
    if (static_cast<uint8_t>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument("object path '" + shown() +
                             "' contains a control character (NUL, newline, ...)");
    }
  }
  if (!IsValidUtf8(path)) return InvalidArgument("object path '" + shown() + "' is not valid UTF-8");
  if (path.front() == '/') {
    return InvalidArgument("object path '" + shown() + "' starts with '/'");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg == "." || seg == "..") {
      return InvalidArgument("object path '" + shown() + "' contains a '" + std::string(seg) +
                             "' segment");
    }
    start = end + 1;
  }
  return Status::OK();
}

Result<RefExpr> ParseRefExpr(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid ref '" + std::string(text) + "': " + std::string(why) +
                           " (examples: main, v1, a1b2c3d4, main~2, main^2, "
                           "main@{2026-11-01T00:00:00Z})");
  };
  RefExpr out;
  size_t i = 0;
  while (i < text.size() && text[i] != '~' && text[i] != '^' && text[i] != '@') ++i;
  out.base = std::string(text.substr(0, i));
  if (out.base.empty()) return bad("no branch, tag or commit before the suffix");
  Status s = ValidateRefName(out.base, "ref");
  if (!s.ok()) return s;
  auto number = [&](int64_t def) -> int64_t {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return def;
    int64_t v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + (text[i] - '0');
      if (v > 1000000000) return -1;
      ++i;
    }
    return v;
  };
  while (i < text.size()) {
    char c = text[i++];
    if (c == '~') {
      int64_t n = number(1);
      if (n < 0) return bad("number too large");
      out.steps.push_back({RefExpr::Step::Kind::kAncestor, n});
    } else if (c == '^') {
      int64_t n = number(1);
      if (n < 0) return bad("number too large");
      out.steps.push_back({RefExpr::Step::Kind::kParent, n});
    } else if (c == '@') {
      if (i >= text.size() || text[i] != '{') return bad("'@' must be followed by {timestamp}");
      size_t close = text.find('}', i);
      if (close == std::string_view::npos) return bad("missing '}'");
      auto ts = ParseRfc3339(text.substr(i + 1, close - i - 1));
      if (!ts) return bad("the timestamp is not RFC 3339 (2026-11-01T00:00:00Z)");
      out.steps.push_back({RefExpr::Step::Kind::kAtTime, *ts});
      i = close + 1;
    } else {
      return bad("unexpected character");
    }
  }
  return out;
}

}  // namespace lakemesh::versioning
