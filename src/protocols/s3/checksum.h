// The additional checksums S3 clients may send with an upload (x-amz-checksum-<algorithm>, as a
// header or a trailer): CRC32, CRC32C, CRC64NVME, SHA1 and SHA256, each carried as base64 of the
// big-endian value or digest. A Checksum computes one of them incrementally.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace lakemesh::s3 {

enum class ChecksumAlgorithm { kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256 };

// "crc32" / "CRC32" ... -> algorithm; nullopt for anything else.
std::optional<ChecksumAlgorithm> ParseChecksumAlgorithm(std::string_view name);
// "crc32", "crc32c", ... as in the header name x-amz-checksum-<name>.
const char* ChecksumName(ChecksumAlgorithm a);

class Checksum {
 public:
  explicit Checksum(ChecksumAlgorithm a);
  void Update(std::string_view data);
  // Base64 of the result; once.
  std::string FinishBase64();
  ChecksumAlgorithm algorithm() const { return algo_; }

 private:
  ChecksumAlgorithm algo_;
  uint64_t crc_ = 0;
  std::optional<Hasher> hasher_;
};

}  // namespace lakemesh::s3
