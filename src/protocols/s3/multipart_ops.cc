// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts, ListMultipartUploads.
#include "base/time.h"
#include "protocols/s3/internal.h"

namespace lakemesh::s3::internal {
namespace {

// The upload named by ?uploadId, which must belong to this bucket and key.
Result<versioning::MultipartUpload> FindUpload(Ctx& c) {
  std::string id = c.req.Query("uploadId").value_or("");
  LM_ASSIGN_OR_RETURN(auto u, c.s.uploads.Get(c.bucket, id));
  if (u.key != c.key) {
    return NotFound("upload '" + id + "' is for key '" + u.key + "', not '" + c.key + "'");
  }
  return u;
}

Result<int> PartNumber(const Ctx& c) {
  std::string v = c.req.Query("partNumber").value_or("");
  if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(v) < 1 || std::stoi(v) > versioning::kMaxParts) {
    return InvalidArgument("partNumber must be an integer from 1 to 10000");
  }
  return std::stoi(v);
}

void Owner(XmlWriter& x, const std::string& tag, const std::string& id) {
  x.Open(tag).Element("ID", id).Element("DisplayName", id).Close(tag);
}

}  // namespace

Response CreateMultipartUpload(Ctx& c) {
  auto t = ResolveTarget(c.s, c.bucket, c.key);
  if (!t.ok()) return c.Error(t.status(), Missing::kBucket);
  if (auto err = CheckWritableOrNewTableFile(c.s, *t)) return c.Error(*err);
  auto u = c.s.uploads.Create(c.bucket, c.key, OptionsFromHeaders(c.req), c.auth.principal.name);
  if (!u.ok()) return c.Error(u.status());
  XmlWriter x("InitiateMultipartUploadResult");
  x.Element("Bucket", c.bucket).Element("Key", c.key).Element("UploadId", u->upload_id);
  return XmlResponse(200, x.Finish());
}

Response UploadPart(Ctx& c) {
  auto number = PartNumber(c);
  if (!number.ok()) return c.Error(number.status());
  auto u = FindUpload(c);
  if (!u.ok()) return c.Error(u.status(), Missing::kUpload);
  auto up = c.s.uploads.NewPartUpload();
  if (!up.ok()) return c.Error(up.status());
  std::optional<ChecksumResult> checksum;
  if (auto err = ReceiveBody(c, **up, &checksum)) return c.Error(*err);
  auto p = c.s.uploads.PutPart(c.bucket, u->upload_id, *number, std::move(*up));
  if (!p.ok()) return c.Error(p.status(), Missing::kUpload);
  Response r = Response::Text(200, "");
  r.headers.Set("ETag", QuotedEtag(p->etag));
  if (checksum) r.headers.Set(checksum->header, checksum->value);
  return r;
}

Response UploadPartCopy(Ctx& c) {
  auto number = PartNumber(c);
  if (!number.ok()) return c.Error(number.status());
  auto u = FindUpload(c);
  if (!u.ok()) return c.Error(u.status(), Missing::kUpload);
  std::string_view spec = *c.req.Header("x-amz-copy-source");
  size_t q = spec.find('?');
  auto decoded = server::PercentDecode(spec.substr(0, q), false);
  if (!decoded) return c.Error(MakeError(400, "InvalidArgument", "x-amz-copy-source is not valid"));
  std::string s = *decoded;
  if (!s.empty() && s[0] == '/') s.erase(0, 1);
  size_t slash = s.find('/');
  if (slash == std::string::npos) {
    return c.Error(MakeError(400, "InvalidArgument", "x-amz-copy-source must be '<bucket>/<key>'"));
  }
  auto src = ResolveTarget(c.s, s.substr(0, slash), s.substr(slash + 1));
  if (!src.ok()) return c.Error(src.status(), Missing::kBucket);
  auto so = StatTarget(c.s, *src);
  if (!so.ok()) return c.Error(so.status(), Missing::kKey);
  uint64_t offset = 0, length = so->entry.size;
  if (auto range = c.req.Header("x-amz-copy-source-range")) {
    auto r = server::ParseByteRange(*range, so->entry.size);
    if (!r.ok() || !*r) {
      return c.Error(MakeError(400, "InvalidArgument",
                               "x-amz-copy-source-range must be bytes=first-last within the "
                               "source object"));
    }
    offset = (*r)->first;
    length = (*r)->second - offset + 1;
  }
  auto reader = OpenTarget(c.s, *src, *so, offset, length);
  if (!reader.ok()) return c.Error(reader.status(), Missing::kKey);
  auto up = c.s.uploads.NewPartUpload();
  if (!up.ok()) return c.Error(up.status());
  if (Status st = (*up)->AppendFrom(**reader); !st.ok()) return c.Error(st);
  auto p = c.s.uploads.PutPart(c.bucket, u->upload_id, *number, std::move(*up));
  if (!p.ok()) return c.Error(p.status(), Missing::kUpload);
  XmlWriter x("CopyPartResult");
  x.Element("LastModified", FormatIso8601Millis(p->mtime_micros)).Element("ETag", QuotedEtag(p->etag));
  return XmlResponse(200, x.Finish());
}

Response CompleteMultipartUpload(Ctx& c) {
  auto u = FindUpload(c);
  if (!u.ok()) return c.Error(u.status(), Missing::kUpload);
  std::optional<S3Error> err;
  auto body = ReadSmallBody(c, 4 << 20, &err);
  if (!body.ok()) return c.Error(*err);
  auto parts = ParseCompleteMultipartUpload(*body);
  if (!parts.ok()) return c.Error(MakeError(400, "MalformedXML", parts.status().message()));
  auto t = ResolveTarget(c.s, c.bucket, c.key);
  if (!t.ok()) return c.Error(t.status(), Missing::kBucket);
  if (auto werr = CheckWritableOrNewTableFile(c.s, *t)) return c.Error(*werr);
  auto up = NewTargetUpload(c.s, *t, /*md5=*/false);
  if (!up.ok()) return c.Error(up.status());
  std::vector<versioning::CompletedPart> completed;
  for (const auto& p : *parts) completed.push_back({p.number, p.etag});
  versioning::MultipartUploads::PartProblem why;
  auto etag = c.s.uploads.Assemble(*u, completed, **up, &why);
  if (!etag.ok()) {
    using PP = versioning::MultipartUploads::PartProblem;
    switch (why) {
      case PP::kInvalidPartOrder: return c.Error(MakeError(400, "InvalidPartOrder", etag.status().message()));
      case PP::kInvalidPart: return c.Error(MakeError(400, "InvalidPart", etag.status().message()));
      case PP::kEntityTooSmall: return c.Error(MakeError(400, "EntityTooSmall", etag.status().message()));
      case PP::kNone: break;
    }
    return c.Error(etag.status(), Missing::kUpload);
  }
  versioning::PutOptions opts = u->options;
  opts.etag = *etag;
  auto o = PutTarget(c.s, *t, std::move(*up), opts);
  if (!o.ok()) return c.Error(o.status(), Missing::kBucket);
  c.s.uploads.Finish(c.bucket, u->upload_id).IgnoreError();
  XmlWriter x("CompleteMultipartUploadResult");
  std::string host(c.req.Header("Host").value_or("localhost"));
  x.Element("Location", "http://" + host + "/" + c.bucket + "/" + c.key);
  x.Element("Bucket", c.bucket).Element("Key", c.key).Element("ETag", QuotedEtag(*etag));
  return XmlResponse(200, x.Finish());
}

Response AbortMultipartUpload(Ctx& c) {
  auto u = FindUpload(c);
  if (!u.ok()) return c.Error(u.status(), Missing::kUpload);
  Status st = c.s.uploads.Finish(c.bucket, u->upload_id);
  if (!st.ok()) return c.Error(st, Missing::kUpload);
  return Response::Text(204, "");
}

Response ListParts(Ctx& c) {
  auto u = FindUpload(c);
  if (!u.ok()) return c.Error(u.status(), Missing::kUpload);
  int marker = 0;
  if (auto m = c.req.Query("part-number-marker"); m && !m->empty()) {
    if (m->size() > 5 || m->find_first_not_of("0123456789") != std::string::npos) {
      return c.Error(MakeError(400, "InvalidArgument", "part-number-marker must be an integer"));
    }
    marker = std::stoi(*m);
  }
  size_t max_parts = 1000;
  if (auto m = c.req.Query("max-parts"); m && !m->empty()) {
    if (m->size() > 6 || m->find_first_not_of("0123456789") != std::string::npos) {
      return c.Error(MakeError(400, "InvalidArgument", "max-parts must be an integer"));
    }
    max_parts = std::min<size_t>(1000, std::stoul(*m));
  }
  bool truncated = false;
  auto parts = c.s.uploads.ListParts(c.bucket, u->upload_id, marker, max_parts, &truncated);
  if (!parts.ok()) return c.Error(parts.status(), Missing::kUpload);
  XmlWriter x("ListPartsResult");
  x.Element("Bucket", c.bucket).Element("Key", c.key).Element("UploadId", u->upload_id);
  Owner(x, "Initiator", u->initiator);
  Owner(x, "Owner", u->initiator);
  x.Element("StorageClass", "STANDARD").Element("PartNumberMarker", std::to_string(marker));
  if (!parts->empty()) x.Element("NextPartNumberMarker", std::to_string(parts->back().number));
  x.Element("MaxParts", std::to_string(max_parts)).Element("IsTruncated", truncated ? "true" : "false");
  for (const auto& p : *parts) {
    x.Open("Part").Element("PartNumber", std::to_string(p.number));
    x.Element("LastModified", FormatIso8601Millis(p.mtime_micros)).Element("ETag", QuotedEtag(p.etag));
    x.Element("Size", std::to_string(p.size)).Close("Part");
  }
  return XmlResponse(200, x.Finish());
}

Response ListMultipartUploads(Ctx& c) {
  auto repo = IsRepository(c.s, c.bucket);
  if (!repo.ok()) return c.Error(repo.status(), Missing::kBucket);
  std::string prefix = c.req.Query("prefix").value_or("");
  std::string key_marker = c.req.Query("key-marker").value_or("");
  std::string id_marker = c.req.Query("upload-id-marker").value_or("");
  size_t max_uploads = 1000;
  if (auto m = c.req.Query("max-uploads"); m && !m->empty()) {
    if (m->size() > 6 || m->find_first_not_of("0123456789") != std::string::npos) {
      return c.Error(MakeError(400, "InvalidArgument", "max-uploads must be an integer"));
    }
    max_uploads = std::min<size_t>(1000, std::stoul(*m));
  }
  auto l = c.s.uploads.List(c.bucket, prefix, key_marker, id_marker, max_uploads);
  if (!l.ok()) return c.Error(l.status());
  XmlWriter x("ListMultipartUploadsResult");
  x.Element("Bucket", c.bucket).Element("KeyMarker", key_marker).Element("UploadIdMarker", id_marker);
  if (!l->uploads.empty()) {
    x.Element("NextKeyMarker", l->uploads.back().key);
    x.Element("NextUploadIdMarker", l->uploads.back().upload_id);
  }
  x.Element("Prefix", prefix).Element("MaxUploads", std::to_string(max_uploads));
  x.Element("IsTruncated", l->truncated ? "true" : "false");
  for (const auto& u : l->uploads) {
    x.Open("Upload").Element("Key", u.key).Element("UploadId", u.upload_id);
    Owner(x, "Initiator", u.initiator);
    Owner(x, "Owner", u.initiator);
    x.Element("StorageClass", "STANDARD").Element("Initiated", FormatIso8601Millis(u.created_micros));
    x.Close("Upload");
  }
  return XmlResponse(200, x.Finish());
}

}  // namespace lakemesh::s3::internal
