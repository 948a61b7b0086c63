// Buckets: plain S3 buckets without history (the MinIO role), for landing zones, exports and
// anything a tool expects plain S3 for. Bucket and repository names share one namespace, since
// both are S3 buckets.
//
// An object of at most 64 KiB is kept in the metadata itself, beside its row (as MinIO keeps
// small objects inline): one metadata commit stores it, and reading it opens no file. A larger
// object's bytes are written to a blob of their own ("buckets/<uu>/<random>") and committed
// before the metadata row that points at them; overwriting or deleting an object deletes its old
// blob after the metadata change commits (a crash in between leaves an unreferenced blob that
// CollectGarbage removes). Readers that opened the old blob keep reading it on a local store.
//
// Recently read objects (their metadata, and the bytes of small ones) and buckets are cached, so
// that a hot object is served without a metadata read. Every change to an object erases its
// entry after the change commits, and a read that overlapped a change is not cached (LruCache's
// generation protocol). This is sound because the process is the only writer of its buckets'
// metadata.
//
// Metadata layout: docs/formats.md. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/lru_cache.h"
#include "base/status.h"
#include "meta/meta_store.h"
#include "storage/blob_store.h"
#include "versioning/object_upload.h"
#include "versioning/repository.h"

namespace lakemesh::versioning {

struct BucketInfo {
  std::string name;
  int64_t created_micros = 0;
  std::string creator;
};

class Buckets {
 public:
  static constexpr uint64_t kInlineMax = 64 * 1024;
  static constexpr size_t kObjectCacheBytes = 32 << 20;
  static constexpr size_t kBucketCacheBytes = 2 << 20;

  Buckets(meta::MetaStore& meta, storage::BlobStore& blobs)
      : meta_(meta), blobs_(blobs), cache_(kObjectCacheBytes), bucket_cache_(kBucketCacheBytes) {}

  // kAlreadyExists if a bucket or repository has the name; kInvalidArgument for a bad name.
  Result<BucketInfo> CreateBucket(const std::string& name, const std::string& creator);
  // kNotFound if there is no such bucket.
  Result<BucketInfo> GetBucket(const std::string& name);
  Result<std::vector<BucketInfo>> ListBuckets();
  // kPreconditionFailed if the bucket holds objects.
  Status DeleteBucket(const std::string& name);

  // An upload for PutObject (MD5 unless `md5` is false; SHA-256 when `sha256`).
  Result<std::unique_ptr<ObjectUpload>> NewUpload(bool md5 = true, bool sha256 = false);
  // Commits the bytes and makes them the object at `key`, replacing any object there.
  Result<ObjectInfo> PutObject(const std::string& bucket, const std::string& key,
                               std::unique_ptr<ObjectUpload> upload, const PutOptions& opts);
  // PutObject for an upload whose bytes are in memory and small enough to keep inline
  // (FitsInline): the metadata commit runs on the committer thread, which then calls `done`
  // (which must not block). Other uploads are stored by PutObject before this returns.
  void PutObjectAsync(const std::string& bucket, const std::string& key,
                      std::unique_ptr<ObjectUpload> upload, const PutOptions& opts,
                      std::function<void(Result<ObjectInfo>)> done);
  // kNotFound if the bucket or the object does not exist.
  Result<ObjectInfo> StatObject(const std::string& bucket, const std::string& key);
  // One read for both questions: kNotFound if there is no such bucket, null if the bucket has
  // no object at `key`. The object is shared with the cache.
  Result<std::shared_ptr<const ObjectInfo>> Lookup(const std::string& bucket,
                                                   const std::string& key);
  // Reads what StatObject returned (small objects come with their bytes).
  Result<std::unique_ptr<storage::BlobReader>> OpenObject(const ObjectInfo& object,
                                                          uint64_t offset = 0,
                                                          std::optional<uint64_t> length = {});
  // kNotFound if there is no object at `key` (the bucket existing).
  Status DeleteObject(const std::string& bucket, const std::string& key);
  Result<Listing> ListObjects(const std::string& bucket, const ListOptions& opts);

  // Deletes blobs under "buckets/" that no object refers to and that are older than
  // `grace_micros` (left by a crash between a metadata change and the blob's deletion).
  Result<size_t> CollectGarbage(int64_t grace_micros);

 private:
  Status CheckBucket(meta::MetaTxn& txn, const std::string& bucket);
  // The metadata change that makes `e` the object at `key` (its bytes inline when
  // `inline_data`); *replaced receives the blob address of the object it replaces, if any.
  std::function<Status(meta::MetaTxn&)> PutRow(const std::string& bucket, const std::string& key,
                                               const Entry& e,
                                               std::shared_ptr<const std::string> inline_data,
                                               std::shared_ptr<std::string> replaced);

  meta::MetaStore& meta_;
  storage::BlobStore& blobs_;
  LruCache<ObjectInfo> cache_;         // keyed "<bucket>/<key>"
  LruCache<BucketInfo> bucket_cache_;  // existing buckets, keyed by name
};

}  // namespace lakemesh::versioning
