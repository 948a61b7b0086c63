// Hashing: SHA-256, SHA-1 and MD5 (OpenSSL, streaming), hex conversion, and a fast 64-bit non-cryptographic
// hash for chunk boundaries. Hasher objects are not thread-safe; the free functions are.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace lakemesh {

std::string ToHex(std::string_view bytes);
// Lowercase or uppercase hex to bytes; nullopt on odd length or a non-hex character.
std::optional<std::string> FromHex(std::string_view hex);
bool IsLowerHex(std::string_view s);
// Appends the bytes of lowercase `hex` to *dst; false (dst unchanged) if it is not lowercase hex.
bool AppendFromLowerHex(std::string* dst, std::string_view hex);
// Appends the lowercase hex of `bytes` to *dst.
void AppendHex(std::string* dst, std::string_view bytes);

// Incremental digest. Kind decides the algorithm.
class Hasher {
 public:
  enum class Kind { kSha256, kMd5, kSha1 };
  explicit Hasher(Kind kind);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void Update(std::string_view data);
  // Raw digest bytes. The hasher cannot be updated afterwards.
  std::string Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256(std::string_view data);  // raw 32 bytes
std::string Md5(std::string_view data);     // raw 16 bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes

// Fast, well-mixed 64-bit hash (FNV-1a followed by a splitmix64 finalizer). Not for security.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

}  // namespace lakemesh
