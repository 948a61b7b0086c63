// ObjectUpload: the bytes of one object on their way into the BlobStore. It hashes as it writes
// (MD5 for the S3 ETag, and SHA-256 when the object is to be content-addressed) and is handed,
// complete, to Repositories::PutObject or Buckets::PutObject, which commit the bytes before any
// metadata points at them. Destroying an upload that was not committed abandons its bytes.
// Used by one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/hash.h"
#include "base/status.h"
#include "storage/blob_store.h"

namespace lakemesh::versioning {

class ObjectUpload {
 public:
  struct Digests {
    std::string md5_hex;     // "" when not computed
    std::string sha256_hex;  // "" when not computed
  };

  ObjectUpload(std::unique_ptr<storage::BlobWriter> writer, bool md5, bool sha256);

  Status Append(std::string_view data);
  uint64_t size() const { return writer_->size(); }
  // Finishes the digests after the last Append; later calls return the same digests.
  const Digests& Finish();
  // Makes the bytes durable under `key` (BlobWriter::Commit).
  Status Commit(const std::string& key) { return writer_->Commit(key); }

 private:
  std::unique_ptr<storage::BlobWriter> writer_;
  std::optional<Hasher> md5_;
  std::optional<Hasher> sha_;
  std::optional<Digests> digests_;
};

}  // namespace lakemesh::versioning
