// LocalBlobStore: blobs as files under a root directory. A writer streams into root/.tmp/<random>;
// Commit() fsyncs the file, renames it to root/<key> and fsyncs the directory, so a blob is either
// wholly there or absent after a crash. Open() removes temp files left by a previous crash.
#pragma once

#include <memory>
#include <string>

#include "storage/blob_store.h"

namespace lakemesh::storage {

class LocalBlobStore final : public BlobStore {
 public:
  static Result<std::unique_ptr<LocalBlobStore>> Open(const std::string& root);

  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(const std::string& key, uint64_t offset,
                                           std::optional<uint64_t> length) override;
  Result<BlobInfo> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Status List(const std::string& prefix,
              const std::function<Status(const BlobInfo&)>& fn) override;

  std::optional<std::string> LocalPath(const std::string& key) const override;
  std::optional<std::string> LocalRoot() const override { return root_; }
  const std::string& root() const { return root_; }

 private:
  explicit LocalBlobStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace lakemesh::storage
