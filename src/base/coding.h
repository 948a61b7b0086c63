// Binary encoding helpers in the LevelDB style: varints and length-prefixed strings appended to a
// std::string, and a bounds-checked Decoder over a string_view that never reads past its end.
// Used by every on-disk format of lakemesh (tree nodes, commits, staged entries).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lakemesh {

void PutVarint64(std::string* dst, uint64_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutLengthPrefixed(std::string* dst, std::string_view s);
inline void PutVarintSigned(std::string* dst, int64_t v) {
  PutVarint64(dst, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// Reads what the Put* functions wrote. Every Get returns false (and leaves the decoder failed) on
// truncated or malformed input; callers turn that into a kInternal "corrupt ..." status.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool GetVarint64(uint64_t* v);
  bool GetVarintSigned(int64_t* v);
  bool GetFixed64(uint64_t* v);
  bool GetLengthPrefixed(std::string_view* s);
  bool GetBytes(size_t n, std::string_view* s);
  bool GetByte(uint8_t* b);
  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

// Standard base64 (RFC 4648, with padding). Decode accepts missing padding and returns nullopt
// for any character outside the alphabet.
// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);

std::string Base64Encode(std::string_view in);
std::optional<std::string> Base64Decode(std::string_view in);

// A size as people and DuckDB write it: "4GB", "512 MiB", "19.1 GiB", "1000" (bytes). KB, MB,
// GB and TB are powers of 1000, KiB, MiB, GiB and TiB of 1024; case does not matter. nullopt
// for anything else.
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace lakemesh
