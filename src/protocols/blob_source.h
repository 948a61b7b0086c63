// A stored blob as an HTTP response body: streamed with Read, or sent with sendfile when the
// blob store is a local directory. Shared by the protocols that serve object bytes.
#pragma once

#include <memory>

#include "server/http.h"
#include "storage/blob_store.h"

namespace lakemesh::protocols {

class BlobSource final : public server::BodySource {
 public:
  explicit BlobSource(std::unique_ptr<storage::BlobReader> r)
      : r_(std::move(r)), size_(r_->remaining()) {}
  Result<size_t> Read(char* buf, size_t n) override { return r_->Read(buf, n); }
  uint64_t size() const override { return size_; }
  std::optional<std::pair<int, uint64_t>> LocalFile() const override { return r_->LocalFile(); }

 private:
  std::unique_ptr<storage::BlobReader> r_;
  uint64_t size_;
};

}  // namespace lakemesh::protocols
