// MemoryBlobStore: blobs in a map, for tests that need no disk. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "storage/blob_store.h"

namespace lakemesh::storage {

class MemoryBlobStore final : public BlobStore {
 public:
  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(const std::string& key, uint64_t offset,
                                           std::optional<uint64_t> length) override;
  Result<BlobInfo> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Status List(const std::string& prefix,
              const std::function<Status(const BlobInfo&)>& fn) override;

  // Used by the writer.
  void Put(const std::string& key, std::string data);

 private:
  struct Blob {
    std::shared_ptr<const std::string> data;
    int64_t mtime_micros;
  };
  std::mutex mu_;
  std::map<std::string, Blob> blobs_;  // GUARDED_BY(mu_)
};

}  // namespace lakemesh::storage
