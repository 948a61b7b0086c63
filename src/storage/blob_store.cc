#include "storage/blob_store.h"

#include <cstring>

namespace lakemesh::storage {

Status ValidateBlobKey(std::string_view key) {
  if (key.empty() || key.size() > 512) {
    return InvalidArgument("blob key must be 1 to 512 bytes long");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty() || seg[0] == '.') {
      return InvalidArgument("blob key '" + std::string(key) + "' has an empty or hidden segment");
    }
    for (char c : seg) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
      if (!ok) return InvalidArgument("blob key '" + std::string(key) + "' has a bad character");
    }
    start = end + 1;
  }
  return Status::OK();
}

Result<std::string> ReadAll(BlobStore& store, const std::string& key) {
  LM_ASSIGN_OR_RETURN(auto reader, store.Open(key));
  std::string out;
  out.resize(reader->remaining());
  size_t off = 0;
  while (off < out.size()) {
    LM_ASSIGN_OR_RETURN(size_t n, reader->Read(out.data() + off, out.size() - off));
    if (n == 0) return Internal("blob '" + key + "' ended early");
    off += n;
  }
  return out;
}

Status WriteAll(BlobStore& store, const std::string& key, std::string_view data) {
  LM_ASSIGN_OR_RETURN(auto writer, store.NewWriter());
  LM_TRY(writer->Append(data));
  return writer->Commit(key);
}

std::unique_ptr<BlobReader> NewStringReader(std::shared_ptr<const std::string> data,
                                            uint64_t offset, uint64_t length) {
  class StringReader final : public BlobReader {
   public:
    StringReader(std::shared_ptr<const std::string> data, uint64_t off, uint64_t n)
        : data_(std::move(data)), off_(off), remaining_(n) {}
    Result<size_t> Read(char* buf, size_t n) override {
      if (n > remaining_) n = static_cast<size_t>(remaining_);
      std::memcpy(buf, data_->data() + off_, n);
      off_ += n;
      remaining_ -= n;
      return n;
    }
    uint64_t remaining() const override { return remaining_; }

   private:
    std::shared_ptr<const std::string> data_;
    uint64_t off_;
    uint64_t remaining_;
  };
  return std::make_unique<StringReader>(std::move(data), offset, length);
}

}  // namespace lakemesh::storage
