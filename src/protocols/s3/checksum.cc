#include "protocols/s3/checksum.h"

#include <zlib.h>

#include <array>

#include "base/coding.h"

namespace lakemesh::s3 {
namespace {

// Table-driven reflected CRC for the polynomials zlib does not provide.
template <typename T>
std::array<T, 256> MakeTable(T reflected_poly) {
  std::array<T, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    T c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ reflected_poly : c >> 1;
    t[i] = c;
  }
  return t;
}

const std::array<uint32_t, 256>& Crc32cTable() {
  static const auto t = MakeTable<uint32_t>(0x82F63B78u);
  return t;
}
const std::array<uint64_t, 256>& Crc64NvmeTable() {
  static const auto t = MakeTable<uint64_t>(0x9A6C9329AC4BC9B5ull);
  return t;
}

std::string BigEndian(uint64_t v, int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  for (int i = bytes - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

}  // namespace

std::optional<ChecksumAlgorithm> ParseChecksumAlgorithm(std::string_view name) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (n == "crc32") return ChecksumAlgorithm::kCrc32;
  if (n == "crc32c") return ChecksumAlgorithm::kCrc32c;
  if (n == "crc64nvme") return ChecksumAlgorithm::kCrc64Nvme;
  if (n == "sha1") return ChecksumAlgorithm::kSha1;
  if (n == "sha256") return ChecksumAlgorithm::kSha256;
  return std::nullopt;
}

const char* ChecksumName(ChecksumAlgorithm a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32: return "crc32";
    case ChecksumAlgorithm::kCrc32c: return "crc32c";
    case ChecksumAlgorithm::kCrc64Nvme: return "crc64nvme";
    case ChecksumAlgorithm::kSha1: return "sha1";
    case ChecksumAlgorithm::kSha256: return "sha256";
  }
  return "crc32";
}

Checksum::Checksum(ChecksumAlgorithm a) : algo_(a) {
  switch (a) {
    case ChecksumAlgorithm::kCrc32: crc_ = crc32(0L, Z_NULL, 0); break;
    case ChecksumAlgorithm::kCrc32c: crc_ = 0xFFFFFFFFu; break;
    case ChecksumAlgorithm::kCrc64Nvme: crc_ = ~0ull; break;
    case ChecksumAlgorithm::kSha1: hasher_.emplace(Hasher::Kind::kSha1); break;
    case ChecksumAlgorithm::kSha256: hasher_.emplace(Hasher::Kind::kSha256); break;
  }
}

void Checksum::Update(std::string_view data) {
  switch (algo_) {
    case ChecksumAlgorithm::kCrc32: {
      // zlib takes uInt lengths: feed large buffers in pieces.
      while (!data.empty()) {
        size_t n = std::min<size_t>(data.size(), 1u << 30);
        crc_ = crc32(static_cast<uLong>(crc_), reinterpret_cast<const Bytef*>(data.data()),
                     static_cast<uInt>(n));
        data.remove_prefix(n);
      }
      break;
    }
    case ChecksumAlgorithm::kCrc32c: {
      const auto& t = Crc32cTable();
      uint32_t c = static_cast<uint32_t>(crc_);
      for (unsigned char b : data) c = t[(c ^ b) & 0xff] ^ (c >> 8);
      crc_ = c;
      break;
    }
    case ChecksumAlgorithm::kCrc64Nvme: {
      const auto& t = Crc64NvmeTable();
      for (unsigned char b : data) crc_ = t[(crc_ ^ b) & 0xff] ^ (crc_ >> 8);
      break;
    }
    case ChecksumAlgorithm::kSha1:
    case ChecksumAlgorithm::kSha256:
      hasher_->Update(data);
      break;
  }
}

std::string Checksum::FinishBase64() {
  switch (algo_) {
    case ChecksumAlgorithm::kCrc32: return Base64Encode(BigEndian(crc_, 4));
    case ChecksumAlgorithm::kCrc32c: return Base64Encode(BigEndian(~crc_ & 0xFFFFFFFFu, 4));
    case ChecksumAlgorithm::kCrc64Nvme: return Base64Encode(BigEndian(~crc_, 8));
    case ChecksumAlgorithm::kSha1:
    case ChecksumAlgorithm::kSha256:
      return Base64Encode(hasher_->Finish());
  }
  return "";
}

}  // namespace lakemesh::s3
