#include "base/random.h"

#include <openssl/rand.h>

#include <cstring>

#include "base/hash.h"
#include "base/status.h"

namespace lakemesh {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  LM_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1);
  return out;
}

std::string RandomHex(size_t n_bytes) { return ToHex(RandomBytes(n_bytes)); }

static std::string RandomFrom(std::string_view alphabet, size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    for (char c : RandomBytes(n)) {
      auto b = static_cast<uint8_t>(c);
      // Rejection sampling keeps the distribution uniform.
      if (b < 256 - (256 % alphabet.size())) out.push_back(alphabet[b % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}

std::string RandomAlnum(size_t n) {
  return RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", n);
}

std::string RandomUpperAlnum(size_t n) {
  return RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n);
}

std::string NewUuid() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = ToHex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

uint64_t FastRandom64() {
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    std::string b = RandomBytes(sizeof(seed));
    std::memcpy(&seed, b.data(), sizeof(seed));
    return seed;
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace lakemesh
