// An aws-chunked upload body comes straight from the network: decode it signed and unsigned.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "protocols/s3/chunked.h"
#include "protocols/s3/sigv4.h"

namespace {

class MemoryBody final : public lakemesh::server::BodyReader {
 public:
  MemoryBody(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  lakemesh::Result<size_t> Read(char* buf, size_t n) override {
    n = std::min(n, size_ - pos_);
    std::memcpy(buf, data_ + pos_, n);
    pos_ += n;
    return n;
  }
  std::optional<uint64_t> content_length() const override { return size_; }
  uint64_t bytes_read() const override { return pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void Drain(lakemesh::s3::ChunkedReader& r) {
  char buf[4096];
  for (int i = 0; i < 100000; ++i) {
    auto n = r.Read(buf, sizeof(buf));
    if (!n.ok() || *n == 0) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    MemoryBody raw(data, size);
    lakemesh::s3::ChunkedReader r(raw, std::nullopt, false, std::nullopt);
    Drain(r);
  }
  {
    MemoryBody raw(data, size);
    lakemesh::s3::CredentialScope scope{"AKID", "20130524", "us-east-1", "s3"};
    lakemesh::s3::ChunkSigning signing{lakemesh::s3::SigningKey("secret", scope),
                                       "20130524T000000Z", scope.Scope(), std::string(64, '0')};
    lakemesh::s3::ChunkedReader r(raw, signing, true, 100);
    Drain(r);
  }
  return 0;
}
