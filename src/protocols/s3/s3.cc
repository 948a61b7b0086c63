#include "protocols/s3/s3.h"

#include <strings.h>

#include "base/coding.h"
#include "base/random.h"
#include "base/time.h"
#include "protocols/s3/internal.h"

namespace lakemesh::s3 {
namespace internal {

// --- body readers ---------------------------------------------------------------------------

Result<size_t> Sha256VerifyingReader::Read(char* buf, size_t n) {
  if (error_) return InvalidArgument(error_->message);
  auto got = inner_.Read(buf, n);
  if (!got.ok()) return got;
  if (*got > 0) {
    hasher_.Update(std::string_view(buf, *got));
  } else if (!done_) {
    done_ = true;
    if (ToHex(hasher_.Finish()) != expected_) {
      error_ = MakeError(400, "XAmzContentSHA256Mismatch",
                         "the provided x-amz-content-sha256 header does not match what was "
                         "computed");
      return InvalidArgument(error_->message);
    }
  }
  return got;
}

// --- context --------------------------------------------------------------------------------

Response Ctx::Error(const S3Error& e) const {
  Response r = ErrorResponse(e, req.path, request_id);
  if (req.method == "HEAD") {
    // HEAD responses carry no body; the status and headers must say it all.
    r.content_length = 0;
    r.head = true;
  }
  return r;
}

Response Ctx::Error(const Status& st, Missing missing) const {
  return Error(FromStatus(st, missing));
}

S3Error Ctx::BodyError(const Status& st) const {
  if (chunked && chunked->error()) return *chunked->error();
  if (verifying && verifying->error()) return *verifying->error();
  if (st.code() == ErrorCode::kIo) {
    return MakeError(400, "RequestTimeout",
                     "your socket connection to the server was not read from or written to "
                     "within the timeout period");
  }
  return MakeError(400, "IncompleteBody", st.message());
}

bool Ctx::HasQuery(std::string_view name) const {
  for (const auto& [k, v] : req.query) {
    if (k == name) return true;
  }
  return false;
}

Response XmlResponse(int status, std::string body) {
  return Response::Text(status, std::move(body), "application/xml");
}

// --- targets --------------------------------------------------------------------------------

Result<bool> IsRepository(Services& s, const std::string& bucket) {
  auto b = s.buckets.GetBucket(bucket);
  if (b.ok()) return false;
  if (!b.status().IsNotFound() && b.status().code() != ErrorCode::kInvalidArgument) {
    return b.status();
  }
  auto r = s.repos.GetRepo(bucket);
  if (r.ok()) return true;
  if (r.status().IsNotFound() || r.status().code() == ErrorCode::kInvalidArgument) {
    return NotFound("the bucket '" + bucket + "' does not exist");
  }
  return r.status();
}

Result<Target> ResolveTarget(Services& s, const std::string& bucket, const std::string& key) {
  LM_ASSIGN_OR_RETURN(bool repo, IsRepository(s, bucket));
  Target t;
  t.repo = repo;
  t.bucket = bucket;
  if (!repo) {
    t.path = key;
    return t;
  }
  size_t slash = key.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == key.size()) {
    return InvalidArgument("keys in repository '" + bucket +
                           "' are '<ref>/<path>' (e.g. main/raw/file.csv); '" + key +
                           "' names no path");
  }
  t.ref = key.substr(0, slash);
  t.path = key.substr(slash + 1);
  return t;
}

std::optional<S3Error> CheckWritable(Services& s, const Target& t) {
  if (!t.repo) return std::nullopt;
  if (t.ref == catalog::kTablesRef) {
    return MakeError(403, "AccessDenied",
                     "table files under '" + t.bucket + "/" + catalog::kTablesRef +
                         "/' are written once with a plain PUT and never changed or deleted "
                         "(tables change through the Iceberg catalog)");
  }
  auto b = s.repos.GetBranch(t.bucket, t.ref);
  if (b.ok()) return std::nullopt;
  if (!b.status().IsNotFound() && b.status().code() != ErrorCode::kInvalidArgument) {
    return FromStatus(b.status());
  }
  // Say why: a tag or commit is read-only; anything else does not exist.
  if (s.repos.Resolve(t.bucket, t.ref).ok()) {
    return MakeError(403, "AccessDenied",
                     "'" + t.ref + "' in repository '" + t.bucket +
                         "' is a tag or commit, which is read-only; write to a branch");
  }
  return MakeError(404, "NoSuchBucket",
                   "repository '" + t.bucket + "' has no branch '" + t.ref +
                       "' (create it first: lakemesh branch create)");
}

Result<versioning::ObjectInfo> StatTarget(Services& s, const Target& t) {
  if (t.repo && t.ref == catalog::kTablesRef) return s.catalog.StatTableFile(t.bucket, t.path);
  if (t.repo) return s.repos.StatObject(t.bucket, t.ref, t.path);
  return s.buckets.StatObject(t.bucket, t.path);
}

Result<std::unique_ptr<storage::BlobReader>> OpenTarget(Services& s, const Target& t,
                                                        const versioning::ObjectInfo& o,
                                                        uint64_t offset,
                                                        std::optional<uint64_t> length) {
  if (t.repo) return s.repos.OpenObject(o.entry, offset, length);
  return s.buckets.OpenObject(o, offset, length);
}

Result<std::unique_ptr<versioning::ObjectUpload>> NewTargetUpload(Services& s, const Target& t,
                                                                  bool md5) {
  if (t.repo) return s.repos.NewUpload(md5);
  return s.buckets.NewUpload(md5);
}

std::optional<S3Error> CheckWritableOrNewTableFile(Services& s, const Target& t) {
  if (!(t.repo && t.ref == catalog::kTablesRef)) return CheckWritable(s, t);
  // A table file is written once: a multipart upload may create one, never replace one.
  if (Status v = versioning::ValidatePath(t.path); !v.ok()) {
    return MakeError(400, "InvalidArgument", v.message());
  }
  if (s.catalog.StatTableFile(t.bucket, t.path).ok()) {
    return MakeError(412, "PreconditionFailed",
                     "table file s3://" + t.bucket + "/" + catalog::kTablesRef + "/" + t.path +
                         " exists; table files are written once");
  }
  return std::nullopt;
}

Result<versioning::ObjectInfo> PutTarget(Services& s, const Target& t,
                                         std::unique_ptr<versioning::ObjectUpload> up,
                                         const versioning::PutOptions& opts) {
  if (t.repo && t.ref == catalog::kTablesRef) {
    return s.catalog.PutTableFile(t.bucket, t.path, std::move(up), opts);
  }
  if (t.repo) return s.repos.PutObject(t.bucket, t.ref, t.path, std::move(up), opts);
  return s.buckets.PutObject(t.bucket, t.path, std::move(up), opts);
}

Status DeleteTarget(Services& s, const Target& t) {
  if (t.repo) return s.repos.DeleteObject(t.bucket, t.ref, t.path);
  return s.buckets.DeleteObject(t.bucket, t.path);
}

// --- request bodies -------------------------------------------------------------------------

versioning::PutOptions OptionsFromHeaders(const Request& req) {
  versioning::PutOptions o;
  if (auto ct = req.Header("Content-Type")) o.content_type = std::string(*ct);
  static const char* const kStored[] = {"content-disposition", "content-language",
                                        "cache-control", "expires"};
  for (const char* h : kStored) {
    if (auto v = req.Header(h)) o.headers[h] = std::string(*v);
  }
  if (auto ce = req.Header("Content-Encoding")) {
    // "aws-chunked" describes the transfer, not the object: drop it.
    std::string kept;
    std::string_view v = *ce;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view part = v.substr(0, comma);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
      if (!part.empty() && part != "aws-chunked") {
        if (!kept.empty()) kept += ",";
        kept += part;
      }
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
    if (!kept.empty()) o.headers["content-encoding"] = kept;
  }
  for (const auto& [k, v] : req.headers.all()) {
    if (k.size() > 11 && strncasecmp(k.data(), "x-amz-meta-", 11) == 0) {
      std::string name = k.substr(11);
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      o.metadata[name] = v;
    }
  }
  return o;
}

Result<std::string> ReadSmallBody(Ctx& c, size_t limit, std::optional<S3Error>* err) {
  std::string out;
  char buf[16384];
  while (true) {
    auto n = c.body->Read(buf, sizeof(buf));
    if (!n.ok()) {
      *err = c.BodyError(n.status());
      return n.status();
    }
    if (*n == 0) break;
    out.append(buf, *n);
    if (out.size() > limit) {
      *err = MakeError(400, "MaxMessageLengthExceeded", "the request body is too large");
      return InvalidArgument("body too large");
    }
  }
  return out;
}

std::optional<S3Error> ReceiveBody(Ctx& c, versioning::ObjectUpload& up,
                                   std::optional<ChecksumResult>* checksum) {
  // Which checksum: one sent as a header, one promised as a trailer, or one only asked for.
  std::optional<Checksum> sum;
  std::string expected;  // base64; from the header now, or from the trailer at the end
  std::string trailer_name;
  for (const auto& [k, v] : c.req.headers.all()) {
    if (k.size() > 15 && strncasecmp(k.data(), "x-amz-checksum-", 15) == 0) {
      auto a = ParseChecksumAlgorithm(std::string_view(k).substr(15));
      if (!a) continue;  // x-amz-checksum-type, -mode: not checksums
      sum.emplace(*a);
      expected = v;
    }
  }
  if (auto t = c.req.Header("x-amz-trailer"); t && !sum) {
    std::string name(*t);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name.compare(0, 15, "x-amz-checksum-") == 0) {
      auto a = ParseChecksumAlgorithm(std::string_view(name).substr(15));
      if (!a) {
        return MakeError(400, "InvalidRequest", "unsupported trailer checksum '" + name + "'");
      }
      sum.emplace(*a);
      trailer_name = name;
    }
  }
  if (auto a = c.req.Header("x-amz-sdk-checksum-algorithm"); a && !sum) {
    auto alg = ParseChecksumAlgorithm(*a);
    if (!alg) {
      return MakeError(400, "InvalidRequest",
                       "unsupported checksum algorithm '" + std::string(*a) + "'");
    }
    sum.emplace(*alg);
  }

  auto content_length = c.body->content_length();
  if (content_length && *content_length > versioning::kMaxPartSize) {
    return MakeError(400, "EntityTooLarge",
                     "your proposed upload exceeds the maximum allowed size of 5 GiB; use a "
                     "multipart upload");
  }
  // Read in pieces of up to 1 MiB, but no bigger than the body needs (a small PUT must not pay
  // for faulting in a megabyte). One byte more than the announced length sees the end at once.
  uint64_t chunk_size = 1 << 20;
  if (content_length && *content_length < chunk_size) {
    chunk_size = std::max<uint64_t>(*content_length + 1, 4096);
  }
  auto buf = std::make_unique_for_overwrite<char[]>(chunk_size);
  while (true) {
    auto n = c.body->Read(buf.get(), chunk_size);
    if (!n.ok()) return c.BodyError(n.status());
    if (*n == 0) break;
    std::string_view chunk(buf.get(), *n);
    if (sum) sum->Update(chunk);
    if (Status st = up.Append(chunk); !st.ok()) return FromStatus(st);
    if (up.size() > versioning::kMaxPartSize) {
      return MakeError(400, "EntityTooLarge",
                       "your proposed upload exceeds the maximum allowed size of 5 GiB");
    }
  }
  if (content_length && *content_length != up.size()) {
    return MakeError(400, "IncompleteBody",
                     "the request body ended after " + std::to_string(up.size()) + " of " +
                         std::to_string(*content_length) + " bytes");
  }
  if (auto md5 = c.req.Header("Content-MD5")) {
    auto want = Base64Decode(*md5);
    if (!want || want->size() != 16) {
      return MakeError(400, "InvalidDigest", "the Content-MD5 you specified is not valid");
    }
    auto digests = up.Finish();
    if (!digests.ok()) return FromStatus(digests.status());
    const std::string& have = digests->md5_hex;
    if (!have.empty() && ToHex(*want) != have) {
      return MakeError(400, "BadDigest",
                       "the Content-MD5 you specified did not match what we received");
    }
  }
  if (sum) {
    if (!trailer_name.empty() && c.chunked) {
      for (const auto& [k, v] : c.chunked->trailers()) {
        if (k == trailer_name) expected = v;
      }
      if (expected.empty()) {
        return MakeError(400, "MalformedTrailerError",
                         "the body ended without the promised trailer " + trailer_name);
      }
    }
    std::string got = sum->FinishBase64();
    std::string name = ChecksumName(sum->algorithm());
    if (!expected.empty() && expected != got) {
      std::string upper = name;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      return MakeError(400, "BadDigest",
                       "the " + upper + " you specified did not match the calculated checksum");
    }
    *checksum = ChecksumResult{"x-amz-checksum-" + name, got};
  }
  return std::nullopt;
}

void StampRequestId(Response& r, const std::string& id) {
  r.headers.Set("x-amz-request-id", id);
  if (!r.headers.Get("x-amz-id-2")) r.headers.Set("x-amz-id-2", id);
}

std::optional<uint64_t> DeclaredSize(const Ctx& c) {
  if (c.chunked) {
    auto d = c.req.Header("x-amz-decoded-content-length");
    if (!d || d->empty() || d->size() >= 20 ||
        d->find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    return std::stoull(std::string(*d));
  }
  return c.req.body ? c.req.body->content_length() : std::nullopt;
}

}  // namespace internal

// --- dispatch -------------------------------------------------------------------------------

namespace {

using namespace internal;

// Sub-resources lakemesh does not implement; asking for them gets a clear NotImplemented.
bool UnsupportedSubresource(const Ctx& c, std::string* which) {
  static const char* const kNames[] = {
      "acl",       "policy",         "cors",        "lifecycle",  "tagging",     "website",
      "logging",   "notification",   "replication", "encryption", "object-lock", "retention",
      "legal-hold", "requestPayment", "accelerate",  "inventory",  "analytics",   "metrics",
      "ownershipControls", "publicAccessBlock", "intelligent-tiering", "restore", "select",
      "torrent",   "attributes"};
  for (const char* n : kNames) {
    if (c.HasQuery(n)) {
      *which = n;
      return true;
    }
  }
  return false;
}

// Read-only sub-resources tools ask for, answered as S3 answers a bucket without them.
std::optional<Response> AnswerEmptyConfiguration(Ctx& c) {
  if (c.req.method != "GET") return std::nullopt;
  if (c.HasQuery("acl")) {
    XmlWriter x("AccessControlPolicy");
    x.Open("Owner").Element("ID", c.OwnerId()).Element("DisplayName", c.OwnerId()).Close("Owner");
    x.Open("AccessControlList").Open("Grant");
    x.Open("Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"");
    x.Element("ID", c.OwnerId()).Element("DisplayName", c.OwnerId()).Close("Grantee");
    x.Element("Permission", "FULL_CONTROL").Close("Grant").Close("AccessControlList");
    return XmlResponse(200, x.Finish());
  }
  if (c.key.empty()) {
    if (c.HasQuery("policy")) {
      return c.Error(MakeError(404, "NoSuchBucketPolicy", "the bucket policy does not exist"));
    }
    if (c.HasQuery("cors")) {
      return c.Error(MakeError(404, "NoSuchCORSConfiguration", "the CORS configuration does not exist"));
    }
    if (c.HasQuery("lifecycle")) {
      return c.Error(MakeError(404, "NoSuchLifecycleConfiguration",
                               "the lifecycle configuration does not exist"));
    }
    if (c.HasQuery("tagging")) {
      return c.Error(MakeError(404, "NoSuchTagSet", "there is no tag set for this bucket"));
    }
    if (c.HasQuery("encryption")) {
      return c.Error(MakeError(404, "ServerSideEncryptionConfigurationNotFoundError",
                               "the server-side encryption configuration was not found"));
    }
    if (c.HasQuery("object-lock")) {
      return c.Error(MakeError(404, "ObjectLockConfigurationNotFoundError",
                               "object lock configuration does not exist for this bucket"));
    }
  } else if (c.HasQuery("tagging")) {
    return XmlResponse(200, XmlWriter("Tagging").Open("TagSet").Close("TagSet").Finish());
  }
  return std::nullopt;
}

Response Dispatch(Ctx& c) {
  const std::string& m = c.req.method;
  // On an event loop only PutObject may run (and it decides whether to); the rest block.
  if (c.req.can_defer &&
      (m != "PUT" || c.key.empty() || c.req.Header("x-amz-copy-source") ||
       c.HasQuery("uploadId") || c.HasQuery("partNumber"))) {
    return Response::Offload();
  }
  if (auto r = AnswerEmptyConfiguration(c)) return std::move(*r);
  std::string sub;
  if (UnsupportedSubresource(c, &sub)) {
    return c.Error(MakeError(501, "NotImplemented",
                             "the '" + sub + "' sub-resource is not supported by lakemesh"));
  }
  if (c.bucket.empty()) {
    if (m == "GET") return ListBuckets(c);
    return c.Error(MakeError(405, "MethodNotAllowed",
                             "the specified method is not allowed against this resource"));
  }
  if (c.key.empty()) {
    if (m == "GET") {
      if (c.HasQuery("location")) return GetBucketLocation(c);
      if (c.HasQuery("versioning")) return GetBucketVersioning(c);
      if (c.HasQuery("uploads")) return ListMultipartUploads(c);
      if (c.HasQuery("versions")) return ListObjectVersions(c);
      return ListObjects(c, c.req.Query("list-type").value_or("") == "2");
    }
    if (m == "HEAD") return HeadBucket(c);
    if (m == "PUT") {
      if (c.HasQuery("versioning")) {
        return c.Error(MakeError(501, "NotImplemented",
                                 "bucket versioning cannot be turned on; use a repository for "
                                 "versioned data"));
      }
      return CreateBucket(c);
    }
    if (m == "DELETE") return DeleteBucket(c);
    if (m == "POST" && c.HasQuery("delete")) return DeleteObjects(c);
  } else {
    if (m == "GET" || m == "HEAD") {
      if (c.HasQuery("uploadId") && m == "GET") return ListParts(c);
      return GetObject(c);
    }
    if (m == "PUT") {
      bool copy = c.req.Header("x-amz-copy-source").has_value();
      if (c.HasQuery("uploadId") || c.HasQuery("partNumber")) {
        return copy ? UploadPartCopy(c) : UploadPart(c);
      }
      return copy ? CopyObject(c) : PutObject(c);
    }
    if (m == "DELETE") {
      if (c.HasQuery("uploadId")) return AbortMultipartUpload(c);
      return DeleteObject(c);
    }
    if (m == "POST") {
      if (c.HasQuery("uploads")) return CreateMultipartUpload(c);
      if (c.HasQuery("uploadId")) return CompleteMultipartUpload(c);
    }
  }
  return c.Error(MakeError(405, "MethodNotAllowed",
                           "the specified method is not allowed against this resource"));
}

// Splits the request into bucket and key, path-style or virtual-host style.
bool Address(const Services& s, const Request& req, std::string* bucket, std::string* key) {
  auto path = server::PercentDecode(req.path, false);
  if (!path || path->empty() || (*path)[0] != '/') return false;
  std::string p = path->substr(1);
  if (!s.domain.empty()) {
    if (auto host = req.Header("Host")) {
      std::string h(*host);
      if (auto colon = h.rfind(':'); colon != std::string::npos && h.find(']') == std::string::npos) {
        h = h.substr(0, colon);
      }
      std::string suffix = "." + s.domain;
      if (h.size() > suffix.size() &&
          strcasecmp(h.c_str() + h.size() - suffix.size(), suffix.c_str()) == 0) {
        *bucket = h.substr(0, h.size() - suffix.size());
        *key = p;
        return true;
      }
    }
  }
  size_t slash = p.find('/');
  *bucket = p.substr(0, slash);
  *key = slash == std::string::npos ? "" : p.substr(slash + 1);
  return true;
}

// 16 uppercase hex digits, as Amazon's request ids look.
std::string RequestId() {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  uint64_t v = FastRandom64();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) id[i] = kDigits[v & 0xf];
  return id;
}

}  // namespace

server::Handler MakeS3Handler(Services& services) {
  auto authenticator = std::make_shared<Authenticator>(services.credentials);
  return [&services, authenticator](server::Request& req) -> server::Response {
    Ctx c{services, req, RequestId(), "", "", {}, req.body, nullptr, nullptr};
    server::Response r;
    if (!Address(services, req, &c.bucket, &c.key)) {
      r = c.Error(MakeError(400, "InvalidURI", "couldn't parse the specified URI"));
    } else if (auto err = authenticator->Authenticate(req, NowMicros(), &c.auth)) {
      r = c.Error(*err);
    } else {
      req.principal = c.auth.principal.name;
      std::unique_ptr<ChunkedReader> chunked;
      std::unique_ptr<Sha256VerifyingReader> verifying;
      std::optional<uint64_t> decoded;
      if (auto d = req.Header("x-amz-decoded-content-length")) {
        std::string v(*d);
        if (!v.empty() && v.size() < 20 && v.find_first_not_of("0123456789") == std::string::npos) {
          decoded = std::stoull(v);
        }
      }
      switch (c.auth.payload) {
        case PayloadMode::kUnsigned:
          break;
        case PayloadMode::kSha256:
          if (c.auth.payload_sha256 != kEmptyPayloadHash || req.body->content_length().value_or(0) > 0) {
            verifying = std::make_unique<Sha256VerifyingReader>(*req.body, c.auth.payload_sha256);
            c.body = c.verifying = verifying.get();
          }
          break;
        case PayloadMode::kStreamingSigned:
        case PayloadMode::kStreamingSignedTrailer:
        case PayloadMode::kStreamingUnsignedTrailer:
          chunked = std::make_unique<ChunkedReader>(
              *req.body, c.auth.signing,
              c.auth.payload == PayloadMode::kStreamingSignedTrailer, decoded);
          c.body = c.chunked = chunked.get();
          break;
      }
      r = Dispatch(c);
    }
    StampRequestId(r, c.request_id);
    return r;
  };
}

}  // namespace lakemesh::s3
