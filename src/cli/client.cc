#include "cli/client.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>

#include "base/files.h"
#include "server/http.h"

namespace lakemesh::cli {

using nlohmann::json;

std::string Seg(const std::string& s) { return server::PercentEncode(s, false); }

namespace {

struct Curl {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~Curl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
  }
};

size_t AppendBody(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}

struct ProgressCtx {
  const Progress* fn;
  bool upload;
};

int OnProgress(void* ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
               curl_off_t ulnow) {
  auto* ctx = static_cast<ProgressCtx*>(ud);
  if (ctx->fn && *ctx->fn) {
    if (ctx->upload) {
      (*ctx->fn)(static_cast<uint64_t>(ulnow), static_cast<uint64_t>(ultotal));
    } else {
      (*ctx->fn)(static_cast<uint64_t>(dlnow), static_cast<uint64_t>(dltotal));
    }
  }
  return 0;
}

Status ServerError(long status, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.contains("error") && j["error"].is_object()) {
    std::string msg = j["error"].value("message", "");
    if (j.contains("conflicts") && j["conflicts"].is_array()) {
      msg += "\nconflicting paths:";
      for (const auto& p : j["conflicts"]) {
        std::string path = p.get<std::string>();
        msg += "\n  " + path;
        if (j.contains("conflict_reasons") && j["conflict_reasons"].contains(path)) {
          msg += ": " + j["conflict_reasons"][path].get<std::string>();
        }
      }
    }
    const json& code = j["error"].contains("code") ? j["error"]["code"] : json("Internal");
    if (code.is_number()) {  // the Iceberg REST catalog's error model: an HTTP status
      switch (code.get<int>()) {
        case 400: return InvalidArgument(msg);
        case 401: return Unauthenticated(msg);
        case 403: return PermissionDenied(msg);
        case 404: return NotFound(msg);
        case 409:
          return j["error"].value("type", "") == "AlreadyExistsException" ? AlreadyExists(msg)
                                                                         : Conflict(msg);
        case 503: return Unavailable(msg);
        default: return Internal(msg);
      }
    }
    return Status(ErrorCodeFromName(code.is_string() ? code.get<std::string>() : "Internal"), msg);
  }
  return Internal("server answered HTTP " + std::to_string(status));
}

Status Perform(Curl& c, const std::string& url) {
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, err);
  CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK) {
    std::string m = err[0] ? err : curl_easy_strerror(rc);
    if (rc == CURLE_COULDNT_CONNECT) {
      return Unavailable("cannot reach lakemesh at " + url + " (" + m +
                         "); is `lakemesh serve` running? Set LAKEMESH_URL or --url");
    }
    return Unavailable("request to " + url + " failed: " + m);
  }
  return Status::OK();
}

void Common(Curl& c, const std::string& key, const std::string& secret) {
  curl_easy_setopt(c.h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(c.h, CURLOPT_USERNAME, key.c_str());
  curl_easy_setopt(c.h, CURLOPT_PASSWORD, secret.c_str());
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, "lakemesh-cli/0.1");
}

}  // namespace

Result<Client> Client::Connect(const std::string& url_flag) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::string url, key, secret;
  auto env = [](const char* n) -> std::string {
    const char* v = std::getenv(n);
    return v ? v : "";
  };
  std::string cfg_path = env("LAKEMESH_CONFIG");
  if (cfg_path.empty()) cfg_path = env("HOME") + "/.config/lakemesh/config.json";
  json cfg = json::object();
  if (PathExists(cfg_path)) {
    auto data = ReadFile(cfg_path);
    if (data.ok()) {
      cfg = json::parse(*data, nullptr, false);
      if (cfg.is_discarded() || !cfg.is_object()) {
        return InvalidArgument("config file '" + cfg_path + "' is not a JSON object");
      }
    }
  }
  url = !url_flag.empty() ? url_flag : env("LAKEMESH_URL");
  if (url.empty()) url = cfg.value("url", "http://127.0.0.1:8080");
  key = env("LAKEMESH_ACCESS_KEY_ID");
  secret = env("LAKEMESH_SECRET_ACCESS_KEY");
  if (key.empty() && secret.empty()) {
    key = cfg.value("access_key_id", "");
    secret = cfg.value("secret_access_key", "");
  }
  if (key.empty() || secret.empty()) {
    return Unauthenticated(
        "no credentials: set LAKEMESH_ACCESS_KEY_ID and LAKEMESH_SECRET_ACCESS_KEY (lakemesh "
        "serve prints an admin key at first start), or put them in " + cfg_path);
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return InvalidArgument("server URL '" + url + "' must start with http:// or https://");
  }
  return Client(url, key, secret);
}

std::string Client::Url(const std::string& path, const Query& query) const {
  std::string u = url_ + path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    u += sep;
    u += server::PercentEncode(k, false) + "=" + server::PercentEncode(v, false);
    sep = '&';
  }
  return u;
}

Result<json> Client::Call(const std::string& method, const std::string& path, const Query& query,
                          const json* body) {
  Curl c;
  std::string url = Url(path, query);
  std::string out, payload;
  Common(c, key_, secret_);
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &out);
  if (body) {
    payload = body->dump();
    c.headers = curl_slist_append(c.headers, "Content-Type: application/json");
    curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  LM_TRY(Perform(c, url_));
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300) return ServerError(status, out);
  if (out.empty()) return json::object();
  json j = json::parse(out, nullptr, false);
  if (j.is_discarded()) return Internal("server sent a response that is not JSON");
  return j;
}

Result<json> Client::ListAll(const std::string& path, Query query) {
  json all = json::array();
  query.emplace_back("after", "");
  while (true) {
    LM_ASSIGN_OR_RETURN(auto page, Call("GET", path, query));
    for (auto& r : page["results"]) all.push_back(std::move(r));
    if (!page["pagination"]["has_more"].get<bool>()) return all;
    query.back().second = page["pagination"]["next_after"].get<std::string>();
  }
}

Result<json> Client::Upload(const std::string& path, const Query& query,
                            const std::string& local_file, const std::string& content_type,
                            const Progress& progress, const std::string& method) {
  FILE* f = std::fopen(local_file.c_str(), "rb");
  if (!f) return ErrnoStatus("opening", local_file, errno);
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  Curl c;
  std::string url = Url(path, query), out;
  Common(c, key_, secret_);
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_UPLOAD, 1L);
  if (method != "PUT") curl_easy_setopt(c.h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c.h, CURLOPT_READDATA, f);
  curl_easy_setopt(c.h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &out);
  std::string ct = "Content-Type: " + content_type;
  c.headers = curl_slist_append(c.headers, ct.c_str());
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  ProgressCtx pctx{&progress, true};
  curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, &pctx);
  Status st = Perform(c, url_);
  std::fclose(f);
  LM_TRY(st);
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300) return ServerError(status, out);
  json j = json::parse(out, nullptr, false);
  if (j.is_discarded()) return Internal("server sent a response that is not JSON");
  return j;
}

Result<uint64_t> Client::Download(const std::string& path, const Query& query,
                                  const std::function<bool(const char*, size_t)>& sink,
                                  const Progress& progress) {
  struct Ctx {
    const std::function<bool(const char*, size_t)>* sink;
    std::string error_body;
    long status = 0;
    CURL* h;
    uint64_t bytes = 0;
  } ctx;
  ctx.sink = &sink;
  Curl c;
  ctx.h = c.h;
  std::string url = Url(path, query);
  Common(c, key_, secret_);
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(
      c.h, CURLOPT_WRITEFUNCTION, +[](char* p, size_t size, size_t n, void* ud) -> size_t {
        auto* x = static_cast<Ctx*>(ud);
        if (x->status == 0) curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
        if (x->status >= 300) {
          x->error_body.append(p, size * n);
          return size * n;
        }
        if (!(*x->sink)(p, size * n)) return 0;  // aborts the transfer
        x->bytes += size * n;
        return size * n;
      });
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &ctx);
  ProgressCtx pctx{&progress, false};
  curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, &pctx);
  Status st = Perform(c, url_);
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300) return ServerError(status, ctx.error_body);
  LM_TRY(st);
  return ctx.bytes;
}

}  // namespace lakemesh::cli
