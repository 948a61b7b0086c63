// Object operations: GetObject and HeadObject (ranges, conditional requests, response-*
// overrides), PutObject, CopyObject, DeleteObject.
#include "base/coding.h"
#include "base/time.h"
#include "protocols/blob_source.h"
#include "protocols/s3/internal.h"

namespace lakemesh::s3::internal {
namespace {

// An If-Match / If-None-Match list against `etag`: "*" or quoted (or bare) ETags.
bool EtagListMatches(std::string_view list, const std::string& etag) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
      item = item.substr(1, item.size() - 2);
    }
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// RFC 9110 section 13.2.2 order. Returns the status to answer with (304 or 412) or 0 to go on.
// `prefix` is "" for the request's own conditions and "x-amz-copy-source-" for a copy source's.
int EvaluateConditions(const Request& req, const versioning::Entry& e, const std::string& prefix,
                       bool is_get) {
  const int64_t mtime_secs = e.mtime_micros / 1000000;
  auto header = [&](const char* name) { return req.Header(prefix + name); };
  auto if_match = header("If-Match");
  if (if_match) {
    if (!EtagListMatches(*if_match, e.etag)) return 412;
  } else if (auto ius = header("If-Unmodified-Since")) {
    auto t = ParseHttpDate(*ius);
    if (t && mtime_secs > *t / 1000000) return 412;
  }
  auto if_none = header("If-None-Match");
  if (if_none) {
    if (EtagListMatches(*if_none, e.etag)) return is_get ? 304 : 412;
  } else if (auto ims = header("If-Modified-Since")) {
    auto t = ParseHttpDate(*ims);
    if (t && mtime_secs <= *t / 1000000 && is_get) return 304;
  }
  return 0;
}

void ObjectHeaders(const Ctx& c, const versioning::Entry& e, Response& r) {
  r.headers.Set("ETag", QuotedEtag(e.etag));
  r.headers.Set("Last-Modified", FormatHttpDate(e.mtime_micros));
  r.headers.Set("Content-Type", e.content_type.empty() ? "binary/octet-stream" : e.content_type);
  r.headers.Set("Accept-Ranges", "bytes");
  bool checksum_mode = c.req.Header("x-amz-checksum-mode").value_or("") == "ENABLED";
  for (const auto& [k, v] : e.headers) {
    if (k.compare(0, 15, "x-amz-checksum-") == 0) {
      if (checksum_mode) r.headers.Set(k, v);
      continue;
    }
    r.headers.Set(k, v);
  }
  for (const auto& [k, v] : e.metadata) r.headers.Add("x-amz-meta-" + k, v);
  // response-* query parameters override the stored headers (GET only, as S3 does).
  static const std::pair<const char*, const char*> kOverrides[] = {
      {"response-content-type", "Content-Type"},
      {"response-content-language", "Content-Language"},
      {"response-expires", "Expires"},
      {"response-cache-control", "Cache-Control"},
      {"response-content-disposition", "Content-Disposition"},
      {"response-content-encoding", "Content-Encoding"}};
  for (const auto& [q, h] : kOverrides) {
    if (auto v = c.req.Query(q)) r.headers.Set(h, *v);
  }
}

struct CopySource {
  std::string bucket;
  std::string key;
};

Result<CopySource> ParseCopySource(std::string_view header) {
  std::string_view v = header;
  size_t q = v.find('?');
  std::string_view version;
  if (q != std::string_view::npos) {
    version = v.substr(q + 1);
    v = v.substr(0, q);
  }
  auto decoded = server::PercentDecode(v, false);
  if (!decoded) return InvalidArgument("x-amz-copy-source is not valid percent-encoding");
  std::string s = *decoded;
  if (!s.empty() && s[0] == '/') s.erase(0, 1);
  size_t slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.size()) {
    return InvalidArgument("x-amz-copy-source must be '<bucket>/<key>'");
  }
  if (!version.empty() && version != "versionId=null") {
    return InvalidArgument("objects have only the version 'null'");
  }
  return CopySource{s.substr(0, slash), s.substr(slash + 1)};
}

}  // namespace

Response GetObject(Ctx& c) {
  const bool head = c.req.method == "HEAD";
  if (auto pn = c.req.Query("partNumber")) {
    if (*pn != "1") {
      return c.Error(MakeError(416, "InvalidPartNumber", "the requested partnumber is not satisfiable"));
    }
  }
  if (auto v = c.req.Query("versionId"); v && *v != "null") {
    return c.Error(MakeError(404, "NoSuchVersion", "objects have only the version 'null'"));
  }
  // A plain bucket answers in one metadata read; anything else is resolved as a repository.
  Result<Target> t = Internal("unresolved");
  std::shared_ptr<const versioning::ObjectInfo> object;
  if (auto direct = c.s.buckets.Lookup(c.bucket, c.key); direct.ok()) {
    if (!*direct) {
      return c.Error(MakeError(404, "NoSuchKey",
                               "object '" + c.key + "' not found in bucket '" + c.bucket + "'"));
    }
    t = Target{false, c.bucket, "", c.key};
    object = std::move(*direct);
  } else if (!direct.status().IsNotFound() &&
             direct.status().code() != ErrorCode::kInvalidArgument) {
    return c.Error(direct.status());
  } else {
    t = ResolveTarget(c.s, c.bucket, c.key);
    if (!t.ok()) {
      if (t.status().code() == ErrorCode::kInvalidArgument) {
        return c.Error(MakeError(404, "NoSuchKey", t.status().message()));
      }
      return c.Error(t.status(), Missing::kBucket);
    }
    auto o = StatTarget(c.s, *t);
    if (!o.ok()) {
      if (o.status().IsNotFound() && t->repo && !c.s.repos.Resolve(t->bucket, t->ref).ok()) {
        return c.Error(MakeError(404, "NoSuchKey",
                                 "repository '" + t->bucket + "' has no ref '" + t->ref + "'"));
      }
      if (o.status().code() == ErrorCode::kInvalidArgument) {
        return c.Error(MakeError(404, "NoSuchKey", o.status().message()));
      }
      return c.Error(o.status(), Missing::kKey);
    }
    object = std::make_shared<const versioning::ObjectInfo>(std::move(*o));
  }
  const versioning::Entry& e = object->entry;
  if (int cond = EvaluateConditions(c.req, e, "", true)) {
    if (cond == 304) {
      Response r = Response::Text(304, "");
      r.headers.Set("ETag", QuotedEtag(e.etag));
      r.headers.Set("Last-Modified", FormatHttpDate(e.mtime_micros));
      return r;
    }
    return c.Error(MakeError(412, "PreconditionFailed",
                             "at least one of the preconditions you specified did not hold"));
  }
  Response r;
  ObjectHeaders(c, e, r);
  uint64_t offset = 0, length = e.size;
  if (auto rh = c.req.Header("Range")) {
    auto range = server::ParseByteRange(*rh, e.size);
    if (!range.ok()) {
      Response bad = c.Error(MakeError(416, "InvalidRange", "the requested range is not satisfiable"));
      bad.headers.Set("Content-Range", "bytes */" + std::to_string(e.size));
      return bad;
    }
    if (*range) {
      offset = (*range)->first;
      length = (*range)->second - offset + 1;
      r.status = 206;
      r.headers.Set("Content-Range", server::ContentRange(offset, (*range)->second, e.size));
      // A checksum covers the whole object, not a range.
      for (const auto& [k, v] : e.headers) {
        if (k.compare(0, 15, "x-amz-checksum-") == 0) r.headers.Remove(k);
      }
    }
  }
  if (head) {
    r.head = true;
    r.content_length = length;
    return r;
  }
  auto reader = OpenTarget(c.s, *t, *object, offset, length);
  if (!reader.ok()) return c.Error(reader.status(), Missing::kKey);
  r.stream = std::make_unique<protocols::BlobSource>(std::move(*reader));
  return r;
}

Response PutObject(Ctx& c) {
  auto t = ResolveTarget(c.s, c.bucket, c.key);
  if (!t.ok()) return c.Error(t.status(), Missing::kBucket);
  // Engines write a table's data and manifest files under its location (s3://<repo>/_tables/
  // <uuid>/...) before committing them through the catalog: a plain PUT there creates a file
  // once. Everything else (copy, multipart, delete) stays refused by CheckWritable.
  const bool table_file = t->repo && t->ref == catalog::kTablesRef;
  if (auto err = table_file ? std::nullopt : CheckWritable(c.s, *t)) return c.Error(*err);
  if (Status v = versioning::ValidatePath(t->path); !v.ok()) {
    return c.Error(MakeError(400, t->path.size() > 1024 ? "KeyTooLongError" : "InvalidArgument",
                             v.message()));
  }
  // Conditional writes: If-None-Match: * creates only; If-Match replaces only that version.
  auto if_none = c.req.Header("If-None-Match");
  auto if_match = c.req.Header("If-Match");
  if (if_none || if_match) {
    auto cur = StatTarget(c.s, *t);
    if (!cur.ok() && !cur.status().IsNotFound()) return c.Error(cur.status());
    bool fail = (if_none && *if_none == "*" && cur.ok()) ||
                (if_match && (!cur.ok() || !EtagListMatches(*if_match, cur->entry.etag)));
    if (fail) {
      return c.Error(MakeError(412, "PreconditionFailed",
                               "at least one of the preconditions you specified did not hold"));
    }
  }
  // On an event loop (the whole body has arrived), a small object in a plain bucket is answered
  // when its metadata commit is done; anything else would block the loop and goes to a worker.
  if (c.req.can_defer && (t->repo || DeclaredSize(c).value_or(UINT64_MAX) >
                                         versioning::Buckets::kInlineMax)) {
    return Response::Offload();
  }
  auto up = NewTargetUpload(c.s, *t, /*md5=*/true);
  if (!up.ok()) return c.Error(up.status());
  std::optional<ChecksumResult> checksum;
  if (auto err = ReceiveBody(c, **up, &checksum)) return c.Error(*err);
  versioning::PutOptions opts = OptionsFromHeaders(c.req);
  if (checksum) opts.headers[checksum->header] = checksum->value;
  if (c.req.can_defer) {
    auto d = std::make_shared<server::DeferredResponse>();
    c.s.buckets.PutObjectAsync(
        t->bucket, t->path, std::move(*up), opts,
        [d, path = c.req.path, id = c.request_id,
         checksum](Result<versioning::ObjectInfo> o) {
          Response r;
          if (o.ok()) {
            r = Response::Text(200, "");
            r.headers.Set("ETag", QuotedEtag(o->entry.etag));
            if (checksum) r.headers.Set(checksum->header, checksum->value);
          } else {
            r = ErrorResponse(FromStatus(o.status(), Missing::kBucket), path, id);
          }
          StampRequestId(r, id);
          d->Finish(std::move(r));
        });
    Response r;
    r.deferred = std::move(d);
    return r;
  }
  auto o = PutTarget(c.s, *t, std::move(*up), opts);
  if (!o.ok()) {
    if (table_file && o.status().code() == ErrorCode::kAlreadyExists) {
      return c.Error(MakeError(412, "PreconditionFailed", o.status().message()));
    }
    if (table_file && o.status().code() == ErrorCode::kInvalidArgument) {
      return c.Error(MakeError(400, "InvalidArgument", o.status().message()));
    }
    return c.Error(o.status(), Missing::kBucket);
  }
  Response r = Response::Text(200, "");
  r.headers.Set("ETag", QuotedEtag(o->entry.etag));
  if (checksum) r.headers.Set(checksum->header, checksum->value);
  return r;
}

Response CopyObject(Ctx& c) {
  auto src_spec = ParseCopySource(*c.req.Header("x-amz-copy-source"));
  if (!src_spec.ok()) return c.Error(MakeError(400, "InvalidArgument", src_spec.status().message()));
  auto src = ResolveTarget(c.s, src_spec->bucket, src_spec->key);
  if (!src.ok()) {
    if (src.status().code() == ErrorCode::kInvalidArgument) {
      return c.Error(MakeError(404, "NoSuchKey", src.status().message()));
    }
    return c.Error(src.status(), Missing::kBucket);
  }
  auto dst = ResolveTarget(c.s, c.bucket, c.key);
  if (!dst.ok()) return c.Error(dst.status(), Missing::kBucket);
  if (auto err = CheckWritable(c.s, *dst)) return c.Error(*err);
  auto so = StatTarget(c.s, *src);
  if (!so.ok()) return c.Error(so.status(), Missing::kKey);
  if (EvaluateConditions(c.req, so->entry, "x-amz-copy-source-", false) != 0) {
    return c.Error(MakeError(412, "PreconditionFailed",
                             "at least one of the preconditions you specified did not hold"));
  }
  std::string directive = std::string(c.req.Header("x-amz-metadata-directive").value_or("COPY"));
  if (directive != "COPY" && directive != "REPLACE") {
    return c.Error(MakeError(400, "InvalidArgument", "x-amz-metadata-directive must be COPY or REPLACE"));
  }
  bool same = src->bucket == dst->bucket && src->ref == dst->ref && src->path == dst->path;
  if (same && directive == "COPY") {
    return c.Error(MakeError(400, "InvalidRequest",
                             "this copy request is illegal because it is trying to copy an object "
                             "to itself without changing the object's metadata, storage class, "
                             "website redirect location or encryption attributes"));
  }
  versioning::PutOptions opts;
  if (directive == "REPLACE") {
    opts = OptionsFromHeaders(c.req);
  } else {
    opts.content_type = so->entry.content_type;
    opts.metadata = so->entry.metadata;
    opts.headers = so->entry.headers;
  }
  opts.etag = so->entry.etag;
  Result<versioning::ObjectInfo> o = Internal("unset");
  if (src->repo && dst->repo) {
    // Repositories share content-addressed blobs: a copy is a new entry, no bytes move.
    versioning::Entry e = so->entry;
    e.content_type = opts.content_type;
    e.metadata = opts.metadata;
    e.headers = opts.headers;
    e.mtime_micros = NowMicros();
    o = c.s.repos.PutEntry(dst->bucket, dst->ref, dst->path, e);
  } else {
    auto reader = OpenTarget(c.s, *src, *so, 0, std::nullopt);
    if (!reader.ok()) return c.Error(reader.status(), Missing::kKey);
    auto up = NewTargetUpload(c.s, *dst, /*md5=*/false);
    if (!up.ok()) return c.Error(up.status());
    if (Status st = (*up)->AppendFrom(**reader); !st.ok()) return c.Error(st);
    o = PutTarget(c.s, *dst, std::move(*up), opts);
  }
  if (!o.ok()) return c.Error(o.status(), Missing::kBucket);
  XmlWriter x("CopyObjectResult");
  x.Element("LastModified", FormatIso8601Millis(o->entry.mtime_micros));
  x.Element("ETag", QuotedEtag(o->entry.etag));
  return XmlResponse(200, x.Finish());
}

Response DeleteObject(Ctx& c) {
  auto t = ResolveTarget(c.s, c.bucket, c.key);
  if (!t.ok()) return c.Error(t.status(), Missing::kBucket);
  if (auto err = CheckWritable(c.s, *t)) return c.Error(*err);
  Status st = DeleteTarget(c.s, *t);
  // Deleting what is not there succeeds, as in S3.
  if (!st.ok() && !st.IsNotFound()) return c.Error(st, Missing::kBucket);
  return Response::Text(204, "");
}

}  // namespace lakemesh::s3::internal
