#include "server/router.h"

namespace lakemesh::server {

static std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void Router::Add(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back(Route{method, Split(pattern), std::move(handler)});
}

const Handler* Router::Match(Request& req, bool* path_matched) const {
  *path_matched = false;
  std::vector<std::string> segs = Split(req.path);
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    bool ok = true;
    size_t i = 0;
    for (; i < r.segments.size(); ++i) {
      const std::string& p = r.segments[i];
      bool is_param = p.size() > 2 && p.front() == '{' && p.back() == '}';
      if (is_param && p[p.size() - 2] == '*') {
        if (i >= segs.size()) {
          ok = false;
          break;
        }
        std::string rest;
        for (size_t k = i; k < segs.size(); ++k) rest += (k > i ? "/" : "") + segs[k];
        auto d = PercentDecode(rest, false);
        if (!d || d->empty()) {
          ok = false;
          break;
        }
        params[p.substr(1, p.size() - 3)] = *d;
        i = segs.size();
        break;
      }
      if (i >= segs.size()) {
        ok = false;
        break;
      }
      if (is_param) {
        auto d = PercentDecode(segs[i], false);
        if (!d || d->empty()) {
          ok = false;
          break;
        }
        params[p.substr(1, p.size() - 2)] = *d;
      } else if (p != segs[i]) {
        ok = false;
        break;
      }
    }
    if (!ok || i != segs.size()) continue;
    if (r.method != req.method && !(r.method == "GET" && req.method == "HEAD")) {
      *path_matched = true;
      continue;
    }
    req.params = std::move(params);
    return &r.handler;
  }
  return nullptr;
}

}  // namespace lakemesh::server
