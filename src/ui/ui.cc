#include "ui/ui.h"

#include <map>

#include "base/compress.h"
#include "base/hash.h"

namespace lakemesh::ui {
namespace {

// The first segments of the app's own pages (the routes of app/main.jsx).
constexpr std::string_view kPages[] = {"signin", "search", "products", "repos", "sql"};

// Protocols own these; the UI never answers under them.
constexpr std::string_view kNotOurs[] = {"/api/", "/iceberg/", "/v1/", "/metrics", "/healthz"};

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view FirstSegment(std::string_view path) {
  path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

bool IsPage(std::string_view path) {
  if (path == "/") return true;
  std::string_view first = FirstSegment(path);
  for (auto p : kPages) {
    if (first == p) return true;
  }
  return false;
}

// An asset ready to send: its bytes, gzipped bytes when that is smaller, and its ETag.
struct Prepared {
  std::string data;
  std::string gzipped;
  std::string etag;
  std::string content_type;
};

Prepared Prepare(std::string data, std::string_view content_type) {
  Prepared p;
  p.etag = "\"" + ToHex(Sha256(data)).substr(0, 20) + "\"";
  if (data.size() > 1024) {
    auto gz = Deflate(data, DeflateFormat::kGzip, 9);
    if (gz.ok() && gz->size() < data.size()) p.gzipped = std::move(*gz);
  }
  p.data = std::move(data);
  p.content_type = std::string(content_type);
  return p;
}

// Every asset, prepared once. index.html names the script and style sheet with their hashes
// (`?v=`), so that a browser may keep them for a year and still never runs a stale app.
const std::map<std::string, Prepared, std::less<>>& PreparedAssets() {
  static const auto* all = [] {
    auto* m = new std::map<std::string, Prepared, std::less<>>();
    for (auto name : {"app.js", "app.css", "favicon.svg"}) {
      const Asset* a = FindAsset(name);
      if (a) (*m)[name] = Prepare(std::string(a->data), a->content_type);
    }
    std::string index(FindAsset("index.html")->data);
    for (auto name : {"app.js", "app.css"}) {
      const std::string placeholder = std::string("/ui/") + name;
      size_t at = index.find(placeholder);
      if (at != std::string::npos && m->count(name)) {
        const std::string& etag = (*m)[name].etag;
        index.insert(at + placeholder.size(), "?v=" + etag.substr(1, etag.size() - 2));
      }
    }
    (*m)["index.html"] = Prepare(std::move(index), "text/html; charset=utf-8");
    return m;
  }();
  return *all;
}

bool AcceptsGzip(const server::Request& req) {
  auto ae = req.Header("Accept-Encoding");
  return ae && ae->find("gzip") != std::string_view::npos;
}

server::Response Send(const server::Request& req, const Prepared& p, int status, bool versioned) {
  server::Response r;
  r.status = status;
  r.headers.Set("Content-Type", p.content_type);
  r.headers.Set("ETag", p.etag);
  r.headers.Set("Vary", "Accept-Encoding");
  r.headers.Set("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.Set("X-Content-Type-Options", "nosniff");
  if (p.content_type.rfind("text/html", 0) == 0) {
    // The app loads only its own files and talks only to this server.
    r.headers.Set("Content-Security-Policy",
                  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    r.headers.Set("X-Frame-Options", "DENY");
    r.headers.Set("Referrer-Policy", "same-origin");
  }
  auto inm = req.Header("If-None-Match");
  if (status == 200 && inm && *inm == p.etag) {
    r.status = 304;
    return r;
  }
  const bool gz = !p.gzipped.empty() && AcceptsGzip(req);
  if (gz) r.headers.Set("Content-Encoding", "gzip");
  const std::string& body = gz ? p.gzipped : p.data;
  if (req.method == "HEAD") {
    r.head = true;
    r.content_length = body.size();
  } else {
    r.body = body;
  }
  return r;
}

}  // namespace

bool Handles(const server::Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  const std::string& path = req.path;
  for (auto p : kNotOurs) {
    if (StartsWith(path, p) || path + "/" == p) return false;
  }
  if (IsPage(path) || StartsWith(path, "/ui/")) return true;
  auto accept = req.Header("Accept");
  return accept && accept->find("text/html") != std::string_view::npos;
}

server::Response Serve(const server::Request& req) {
  const auto& assets = PreparedAssets();
  if (StartsWith(req.path, "/ui/")) {
    auto it = assets.find(std::string_view(req.path).substr(4));
    if (it == assets.end() || it->first == "index.html") {
      return server::Response::Text(404, "no such file of the web UI: " + req.path + "\n");
    }
    return Send(req, it->second, 200, req.Query("v").has_value());
  }
  return Send(req, assets.find("index.html")->second, IsPage(req.path) ? 200 : 404, false);
}

}  // namespace lakemesh::ui
