// BlobStore: where the bytes of objects and table files live. Blobs are immutable: written once
// through a BlobWriter, made visible under a key by Commit() only after they are durable, never
// overwritten, and deleted only by garbage collection. Keys are chosen by the layer above (content
// hashes for raw objects, UUID paths for table files) and are validated here, so no key can name a
// file outside the store.
//
// Implementations: LocalBlobStore (a directory), MemoryBlobStore (tests); a remote S3 store slots in
// behind the same interface. All methods are thread-safe; a writer or reader is used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lakemesh::storage {

struct BlobInfo {
  std::string key;
  uint64_t size = 0;
  int64_t mtime_micros = 0;  // when the blob was last written or re-committed
};

class BlobWriter {
 public:
  virtual ~BlobWriter() = default;  // abandons the bytes unless Commit() succeeded
  virtual Status Append(std::string_view data) = 0;
  virtual uint64_t size() const = 0;
  // Makes the appended bytes durable and visible under `key`. Blobs are immutable: if `key` exists
  // already (same content under a content-addressed key), the existing blob is kept, its mtime is
  // refreshed so garbage collection's grace period starts again, and OK is returned.
  virtual Status Commit(const std::string& key) = 0;
};

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Reads up to `n` bytes; returns 0 at the end of the requested range.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Bytes left to read in the requested range.
  virtual uint64_t remaining() const = 0;
  // The local file and offset being read, when the store is a local directory (for sendfile).
  virtual std::optional<std::pair<int, uint64_t>> LocalFile() const { return std::nullopt; }
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Result<std::unique_ptr<BlobWriter>> NewWriter() = 0;
  // Opens `key` for reading `length` bytes from `offset` (to the end when length is nullopt).
  // kNotFound if the key does not exist; kInvalidArgument if offset is past the end.
  virtual Result<std::unique_ptr<BlobReader>> Open(const std::string& key, uint64_t offset = 0,
                                                   std::optional<uint64_t> length = {}) = 0;
  virtual Result<BlobInfo> Stat(const std::string& key) = 0;
  // kNotFound if the key does not exist.
  virtual Status Delete(const std::string& key) = 0;
  // Calls `fn` for every committed blob whose key starts with `prefix`, in no particular order.
  // Stops early and returns fn's status if fn returns an error.
  virtual Status List(const std::string& prefix,
                      const std::function<Status(const BlobInfo&)>& fn) = 0;
  // The file that holds `key`'s bytes when the store is a local directory (for engines that read
  // files in place); nullopt for other stores. The key is validated, not checked for existence.
  virtual std::optional<std::string> LocalPath(const std::string& key) const {
    (void)key;
    return std::nullopt;
  }
  // The directory under which LocalPath's files lie; nullopt for other stores.
  virtual std::optional<std::string> LocalRoot() const { return std::nullopt; }
};

// OK if `key` is usable: 1..512 bytes of '/'-separated segments of [A-Za-z0-9._-], no segment
// empty or starting with '.'. Everything else is kInvalidArgument.
Status ValidateBlobKey(std::string_view key);

// A reader over `length` bytes of `data` from `offset` (memory stores, and bytes kept in metadata).
std::unique_ptr<BlobReader> NewStringReader(std::shared_ptr<const std::string> data,
                                            uint64_t offset, uint64_t length);

// Reads a whole blob into memory (for small blobs and tests).
Result<std::string> ReadAll(BlobStore& store, const std::string& key);
// Writes `data` under `key` in one call.
Status WriteAll(BlobStore& store, const std::string& key, std::string_view data);

}  // namespace lakemesh::storage
