// ObjectUpload: the bytes of one object on their way into the BlobStore. It hashes as it writes
// (MD5 for the S3 ETag, and SHA-256 when the object is to be content-addressed) and is handed,
// complete, to Repositories::PutObject or Buckets::PutObject, which commit the bytes before any
// metadata points at them. Destroying an upload that was not committed abandons its bytes.
//
// Small objects (up to 256 KiB) stay in memory, are hashed on the caller's thread and written
// only by Commit, so a caller may keep them elsewhere (Buckets stores them inline). Past the first
// 256 KiB the upload becomes a pipeline: the caller only copies bytes into buffers while one
// thread hashes them and another writes them, with at most a few buffers in flight, so a large
// upload uses three cores' worth of work at the speed of the slowest stage and bounded memory.
// One caller thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <map>

#include "base/hash.h"
#include "base/status.h"
#include "storage/blob_store.h"
#include "versioning/entry.h"

namespace lakemesh::versioning {

// What an object is stored with besides its bytes.
struct PutOptions {
  std::string content_type;
  std::map<std::string, std::string> metadata;  // user metadata
  std::map<std::string, std::string> headers;   // stored headers (Entry::headers)
  std::string etag;  // set for multipart objects ("<md5 of part md5s>-N"); else the MD5
};

class ObjectUpload {
 public:
  struct Digests {
    std::string md5_hex;     // "" when not computed
    std::string sha256_hex;  // "" when not computed
  };

  ObjectUpload(std::unique_ptr<storage::BlobWriter> writer, bool md5, bool sha256);
  ~ObjectUpload();

  // Fails with the first write error of the pipeline, if any.
  Status Append(std::string_view data);
  // Appends everything `reader` has left (copies, multipart assembly).
  Status AppendFrom(storage::BlobReader& reader);
  uint64_t size() const { return size_; }
  // Waits for every byte to be hashed and written, and finishes the digests; later calls return
  // the same digests. Fails if a write failed.
  Result<Digests> Finish();
  // Makes the bytes durable under `key` (BlobWriter::Commit), after Finish().
  Status Commit(const std::string& key);
  // After Finish(), the whole object when it is small enough to have stayed in memory (it is
  // then written to the blob only by Commit); null otherwise.
  const std::string* InMemory() const;
  // The entry for these bytes stored at `address`, after Finish(): size, ETag (opts.etag or the
  // MD5), the time now, and the options' content type, metadata and headers.
  Entry MakeEntry(std::string address, const PutOptions& opts) const;

 private:
  struct Pipeline;
  static constexpr size_t kBufferSize = 256 * 1024;
  Status Submit();                      // hands `pending_` to the pipeline

  std::unique_ptr<storage::BlobWriter> writer_;
  std::optional<Hasher> md5_;
  std::optional<Hasher> sha_;
  std::string pending_;
  uint64_t size_ = 0;
  Status write_error_;
  std::unique_ptr<Pipeline> pipe_;
  std::optional<Digests> digests_;
};

}  // namespace lakemesh::versioning
