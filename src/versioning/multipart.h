// Multipart uploads (S3's CreateMultipartUpload, UploadPart, CompleteMultipartUpload, ...), for
// plain buckets and repositories alike: `bucket` is the S3 bucket and `key` the S3 key as the
// client sent them. Each part is a blob of its own ("mpu/<upload id>/<random>"); completing an
// upload streams the parts, in order, into the final object's upload, and the caller commits that
// to the bucket or branch before calling Finish(), which deletes the parts. Uploads not completed
// within a retention window are aborted by CollectAbandoned().
//
// Metadata layout: docs/formats.md. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "meta/meta_store.h"
#include "storage/blob_store.h"
#include "versioning/object_upload.h"
#include "versioning/repository.h"

namespace lakemesh::versioning {

inline constexpr int kMaxParts = 10000;
inline constexpr uint64_t kMinPartSize = 5ull << 20;     // every part but the last
inline constexpr uint64_t kMaxPartSize = 5ull << 30;
// Uploads neither completed nor aborted within this time are aborted by garbage collection.
inline constexpr int64_t kAbandonedUploadMicros = 7LL * 24 * 3600 * 1000000;

struct MultipartUpload {
  std::string bucket;
  std::string key;
  std::string upload_id;
  int64_t created_micros = 0;
  std::string initiator;
  PutOptions options;  // content type, metadata and headers of the object to be
};

struct PartInfo {
  int number = 0;
  uint64_t size = 0;
  std::string etag;  // hex MD5 of the part
  int64_t mtime_micros = 0;
  std::string address;
};

struct CompletedPart {
  int number = 0;
  std::string etag;  // as the client sent it, quotes removed
};

struct UploadListing {
  std::vector<MultipartUpload> uploads;
  bool truncated = false;
};

class MultipartUploads {
 public:
  MultipartUploads(meta::MetaStore& meta, storage::BlobStore& blobs) : meta_(meta), blobs_(blobs) {}

  Result<MultipartUpload> Create(const std::string& bucket, const std::string& key,
                                 const PutOptions& options, const std::string& initiator);
  // kNotFound if no upload `id` is in progress for `bucket`.
  Result<MultipartUpload> Get(const std::string& bucket, const std::string& upload_id);

  // An upload for one part (MD5 only).
  Result<std::unique_ptr<ObjectUpload>> NewPartUpload();
  // Commits the part's bytes and records them as part `number`, replacing an earlier upload of
  // the same number. kInvalidArgument for a number outside 1..10000 or a part over 5 GiB.
  Result<PartInfo> PutPart(const std::string& bucket, const std::string& upload_id, int number,
                           std::unique_ptr<ObjectUpload> part);
  // Parts in number order, after part `after`.
  Result<std::vector<PartInfo>> ListParts(const std::string& bucket, const std::string& upload_id,
                                          int after, size_t limit, bool* truncated);
  // Uploads in progress in `bucket` whose key starts with `prefix`, by key and then age,
  // starting after (key_marker, upload_id_marker).
  Result<UploadListing> List(const std::string& bucket, const std::string& prefix,
                             const std::string& key_marker, const std::string& upload_id_marker,
                             size_t limit);

  // Checks `parts` against the uploaded ones, streams their bytes into `dest` and returns the
  // object's ETag, "<hex MD5 of the part MD5s>-<count>". A list that does not fit fails with
  // kInvalidArgument and `*why` set to the reason, in S3's terms.
  enum class PartProblem { kNone, kInvalidPartOrder, kInvalidPart, kEntityTooSmall };
  Result<std::string> Assemble(const MultipartUpload& upload,
                               const std::vector<CompletedPart>& parts, ObjectUpload& dest,
                               PartProblem* why);
  // Removes the upload and its parts (after the assembled object is committed, or to abort).
  // kNotFound if there is no such upload.
  Status Finish(const std::string& bucket, const std::string& upload_id);

  // Aborts uploads started more than `max_age_micros` ago; returns how many.
  Result<size_t> CollectAbandoned(int64_t max_age_micros);

 private:
  meta::MetaStore& meta_;
  storage::BlobStore& blobs_;
};

}  // namespace lakemesh::versioning
