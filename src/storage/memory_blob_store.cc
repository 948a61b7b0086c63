#include "storage/memory_blob_store.h"

#include <vector>

#include "base/time.h"

namespace lakemesh::storage {
namespace {

class MemoryWriter final : public BlobWriter {
 public:
  explicit MemoryWriter(MemoryBlobStore* store) : store_(store) {}
  Status Append(std::string_view data) override {
    if (done_) return Internal("append to a finished blob writer");
    data_.append(data);
    return Status::OK();
  }
  uint64_t size() const override { return data_.size(); }
  Status Commit(const std::string& key) override {
    LM_TRY(ValidateBlobKey(key));
    if (done_) return Internal("blob writer committed twice");
    done_ = true;
    store_->Put(key, std::move(data_));
    return Status::OK();
  }

 private:
  MemoryBlobStore* store_;
  std::string data_;
  bool done_ = false;
};

}  // namespace


void MemoryBlobStore::Put(const std::string& key, std::string data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(key);
  if (it != blobs_.end()) {
    it->second.mtime_micros = NowMicros();
    return;
  }
  blobs_[key] = Blob{std::make_shared<const std::string>(std::move(data)), NowMicros()};
}

Result<std::unique_ptr<BlobWriter>> MemoryBlobStore::NewWriter() {
  return std::unique_ptr<BlobWriter>(new MemoryWriter(this));
}

Result<std::unique_ptr<BlobReader>> MemoryBlobStore::Open(const std::string& key, uint64_t offset,
                                                          std::optional<uint64_t> length) {
  LM_TRY(ValidateBlobKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(key);
  if (it == blobs_.end()) return NotFound("blob '" + key + "' not found");
  uint64_t size = it->second.data->size();
  if (offset > size) return InvalidArgument("offset past the end of blob '" + key + "'");
  uint64_t n = size - offset;
  if (length && *length < n) n = *length;
  return NewStringReader(it->second.data, offset, n);
}

Result<BlobInfo> MemoryBlobStore::Stat(const std::string& key) {
  LM_TRY(ValidateBlobKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(key);
  if (it == blobs_.end()) return NotFound("blob '" + key + "' not found");
  return BlobInfo{key, it->second.data->size(), it->second.mtime_micros};
}

Status MemoryBlobStore::Delete(const std::string& key) {
  LM_TRY(ValidateBlobKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  if (blobs_.erase(key) == 0) return NotFound("blob '" + key + "' not found");
  return Status::OK();
}

Status MemoryBlobStore::List(const std::string& prefix,
                             const std::function<Status(const BlobInfo&)>& fn) {
  std::vector<BlobInfo> infos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = blobs_.lower_bound(prefix);
         it != blobs_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      infos.push_back(BlobInfo{it->first, it->second.data->size(), it->second.mtime_micros});
    }
  }
  for (const auto& info : infos) LM_TRY(fn(info));
  return Status::OK();
}

}  // namespace lakemesh::storage
