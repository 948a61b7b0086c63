// Shared by the S3 operation handlers (bucket_ops.cc, object_ops.cc, multipart_ops.cc) and the
// dispatcher (s3.cc). Private to protocols/s3.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/s3/auth.h"
#include "protocols/s3/checksum.h"
#include "protocols/s3/chunked.h"
#include "protocols/s3/errors.h"
#include "protocols/s3/s3.h"
#include "protocols/s3/xml.h"
#include "server/http.h"

namespace lakemesh::s3::internal {

using server::Request;
using server::Response;

// Checks a plain body against the SHA-256 its signature committed to.
class Sha256VerifyingReader final : public server::BodyReader {
 public:
  Sha256VerifyingReader(server::BodyReader& inner, std::string expected_hex)
      : inner_(inner), expected_(std::move(expected_hex)), hasher_(Hasher::Kind::kSha256) {}
  Result<size_t> Read(char* buf, size_t n) override;
  std::optional<uint64_t> content_length() const override { return inner_.content_length(); }
  uint64_t bytes_read() const override { return inner_.bytes_read(); }
  const std::optional<S3Error>& error() const { return error_; }

 private:
  server::BodyReader& inner_;
  std::string expected_;
  Hasher hasher_;
  bool done_ = false;
  std::optional<S3Error> error_;
};

// One request being served.
struct Ctx {
  Services& s;
  Request& req;
  std::string request_id;
  std::string bucket;  // decoded; "" for service-level requests
  std::string key;     // decoded; "" for bucket-level requests
  AuthResult auth;
  server::BodyReader* body = nullptr;  // the decoded, verified body
  ChunkedReader* chunked = nullptr;
  Sha256VerifyingReader* verifying = nullptr;

  Response Error(const S3Error& e) const;
  Response Error(const Status& st, Missing missing = Missing::kGeneric) const;
  // The S3 error for a failed body read.
  S3Error BodyError(const Status& st) const;
  bool HasQuery(std::string_view name) const;
  // The request's owner element for listings.
  std::string OwnerId() const { return auth.principal.name; }
};

// Where a bucket and key live.
struct Target {
  bool repo = false;
  std::string bucket;
  std::string ref;   // repositories: the ref, the key's first segment
  std::string path;  // the object path within the bucket or ref
};

// kNotFound (NoSuchBucket) when the bucket is neither a plain bucket nor a repository.
Result<bool> IsRepository(Services& s, const std::string& bucket);
// Splits a repository key into ref and path; kInvalidArgument for a key without a path.
Result<Target> ResolveTarget(Services& s, const std::string& bucket, const std::string& key);
// For writes: the target's ref must be a branch. Returns the S3 error if not.
std::optional<S3Error> CheckWritable(Services& s, const Target& t);
// CheckWritable, except that under a repository's _tables/ a new table file may be created (a
// multipart upload of a data file; table files are written once, never replaced).
std::optional<S3Error> CheckWritableOrNewTableFile(Services& s, const Target& t);

Result<versioning::ObjectInfo> StatTarget(Services& s, const Target& t);
Result<std::unique_ptr<storage::BlobReader>> OpenTarget(Services& s, const Target& t,
                                                        const versioning::ObjectInfo& o,
                                                        uint64_t offset,
                                                        std::optional<uint64_t> length);
// An upload for the target: content-addressed for repositories.
Result<std::unique_ptr<versioning::ObjectUpload>> NewTargetUpload(Services& s, const Target& t,
                                                                  bool md5);
Result<versioning::ObjectInfo> PutTarget(Services& s, const Target& t,
                                         std::unique_ptr<versioning::ObjectUpload> up,
                                         const versioning::PutOptions& opts);
// kNotFound if there was nothing to delete.
Status DeleteTarget(Services& s, const Target& t);

// Object options from request headers: Content-Type, stored headers and x-amz-meta-*.
versioning::PutOptions OptionsFromHeaders(const Request& req);
// Reads a small body (XML requests) of at most `limit` bytes.
Result<std::string> ReadSmallBody(Ctx& c, size_t limit, std::optional<S3Error>* err);

// An upload checksum the client asked for or sent (header or trailer).
struct ChecksumResult {
  std::string header;  // "x-amz-checksum-crc32"
  std::string value;   // base64
};
// Streams the request body into `up`, verifying Content-MD5, the signed payload hash and any
// x-amz-checksum-*. On failure returns the S3 error; the caller drops the upload.
std::optional<S3Error> ReceiveBody(Ctx& c, versioning::ObjectUpload& up,
                                   std::optional<ChecksumResult>* checksum);

Response XmlResponse(int status, std::string body);
// Sets the request id headers every S3 response carries.
void StampRequestId(Response& r, const std::string& id);
// The object size the request declares (x-amz-decoded-content-length for a chunked upload).
std::optional<uint64_t> DeclaredSize(const Ctx& c);
inline std::string QuotedEtag(const std::string& etag) { return "\"" + etag + "\""; }

// Handlers.
Response ListBuckets(Ctx& c);
Response CreateBucket(Ctx& c);
Response DeleteBucket(Ctx& c);
Response HeadBucket(Ctx& c);
Response GetBucketLocation(Ctx& c);
Response GetBucketVersioning(Ctx& c);
Response ListObjects(Ctx& c, bool v2);
Response ListObjectVersions(Ctx& c);
Response DeleteObjects(Ctx& c);

Response GetObject(Ctx& c);  // GET and HEAD
Response PutObject(Ctx& c);
Response CopyObject(Ctx& c);
Response DeleteObject(Ctx& c);

Response CreateMultipartUpload(Ctx& c);
Response UploadPart(Ctx& c);
Response UploadPartCopy(Ctx& c);
Response CompleteMultipartUpload(Ctx& c);
Response AbortMultipartUpload(Ctx& c);
Response ListParts(Ctx& c);
Response ListMultipartUploads(Ctx& c);

}  // namespace lakemesh::s3::internal
