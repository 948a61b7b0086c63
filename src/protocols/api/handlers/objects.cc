#include <strings.h>

#include "base/time.h"
#include "protocols/api/handlers/handlers.h"
#include "protocols/api/json_util.h"
#include "protocols/blob_source.h"

namespace lakemesh::api::handlers {
namespace {

constexpr std::string_view kMetaPrefix = "x-lakemesh-meta-";

void ObjectHeaders(const versioning::ObjectInfo& o, Response& r) {
  r.headers.Set("ETag", "\"" + o.entry.etag + "\"");
  r.headers.Set("Last-Modified", FormatHttpDate(o.entry.mtime_micros));
  r.headers.Set("Content-Type",
                o.entry.content_type.empty() ? "application/octet-stream" : o.entry.content_type);
  r.headers.Set("Accept-Ranges", "bytes");
  for (const auto& [k, v] : o.entry.metadata) r.headers.Add("X-Lakemesh-Meta-" + k, v);
}

}  // namespace

Response StatObject(Services& s, Request& req, const P&) {
  auto path = RequiredQuery(req, "path");
  if (!path.ok()) return ErrorResponse(path.status());
  auto o = s.repos.StatObject(req.params["repo"], req.params["ref"], *path);
  if (!o.ok()) return ErrorResponse(o.status());
  return JsonResponse(200, ToJson(*o));
}

Response GetObject(Services& s, Request& req, const P&) {
  auto path = RequiredQuery(req, "path");
  if (!path.ok()) return ErrorResponse(path.status());
  auto o = s.repos.StatObject(req.params["repo"], req.params["ref"], *path);
  if (!o.ok()) return ErrorResponse(o.status());
  Response r;
  ObjectHeaders(*o, r);
  uint64_t offset = 0, length = o->entry.size;
  if (auto rh = req.Header("Range")) {
    auto range = server::ParseByteRange(*rh, o->entry.size);
    if (!range.ok()) {
      Response bad = ErrorResponse(InvalidArgument("range '" + std::string(*rh) +
                                                   "' is outside the object's " +
                                                   std::to_string(o->entry.size) + " bytes"));
      bad.status = 416;
      bad.headers.Set("Content-Range", "bytes */" + std::to_string(o->entry.size));
      return bad;
    }
    if (*range) {
      offset = (*range)->first;
      length = (*range)->second - offset + 1;
      r.status = 206;
      r.headers.Set("Content-Range", server::ContentRange(offset, (*range)->second, o->entry.size));
    }
  }
  if (req.method == "HEAD") {
    r.head = true;
    r.content_length = length;
    return r;
  }
  auto reader = s.repos.OpenObject(o->entry, offset, length);
  if (!reader.ok()) return ErrorResponse(reader.status());
  r.stream = std::make_unique<protocols::BlobSource>(std::move(*reader));
  return r;
}

Response ListObjects(Services& s, Request& req, const P&) {
  auto limit = LimitParam(req, 1000, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  versioning::ListOptions opts{req.Query("prefix").value_or(""),
                               req.Query("delimiter").value_or(""),
                               req.Query("after").value_or(""), *limit};
  auto l = s.repos.ListObjects(req.params["repo"], req.params["ref"], opts);
  if (!l.ok()) return ErrorResponse(l.status());
  json results = json::array();
  for (const auto& p : l->common_prefixes) results.push_back(json{{"path", p}, {"type", "prefix"}});
  for (const auto& o : l->objects) {
    json j = ToJson(o);
    j["type"] = "object";
    results.push_back(std::move(j));
  }
  std::sort(results.begin(), results.end(),
            [](const json& a, const json& b) { return a["path"] < b["path"]; });
  return JsonResponse(200, Paginated(results, l->truncated, l->next_after));
}

Response PutObject(Services& s, Request& req, const P&) {
  auto path = RequiredQuery(req, "path");
  if (!path.ok()) return ErrorResponse(path.status());
  const std::string& repo = req.params["repo"];
  const std::string& branch = req.params["branch"];
  if (Status v = versioning::ValidatePath(*path); !v.ok()) return ErrorResponse(v);
  // Fail before the body is sent when the branch cannot take it.
  if (auto b = s.repos.GetBranch(repo, branch); !b.ok()) return ErrorResponse(b.status());
  versioning::PutOptions opts;
  if (auto ct = req.Header("Content-Type")) opts.content_type = std::string(*ct);
  for (const auto& [k, v] : req.headers.all()) {
    if (k.size() > kMetaPrefix.size() &&
        strncasecmp(k.data(), kMetaPrefix.data(), kMetaPrefix.size()) == 0) {
      std::string name = k.substr(kMetaPrefix.size());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      opts.metadata[name] = v;
    }
  }
  auto up = s.repos.NewUpload();
  if (!up.ok()) return ErrorResponse(up.status());
  std::string buf(1 << 20, '\0');
  while (true) {
    auto n = req.body->Read(buf.data(), buf.size());
    if (!n.ok()) return ErrorResponse(n.status());
    if (*n == 0) break;
    if (Status st = (*up)->Append(std::string_view(buf.data(), *n)); !st.ok()) {
      return ErrorResponse(st);
    }
  }
  if (auto cl = req.body->content_length(); cl && *cl != (*up)->size()) {
    return ErrorResponse(InvalidArgument("request body ended after " +
                                         std::to_string((*up)->size()) + " of " +
                                         std::to_string(*cl) + " bytes"));
  }
  auto o = s.repos.PutObject(repo, branch, *path, std::move(*up), opts);
  if (!o.ok()) return ErrorResponse(o.status());
  return JsonResponse(201, ToJson(*o));
}

Response DeleteObject(Services& s, Request& req, const P&) {
  auto path = RequiredQuery(req, "path");
  if (!path.ok()) return ErrorResponse(path.status());
  Status st = s.repos.DeleteObject(req.params["repo"], req.params["branch"], *path);
  if (!st.ok()) return ErrorResponse(st);
  return Response::Text(204, "");
}

}  // namespace lakemesh::api::handlers
