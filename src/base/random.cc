#include "base/random.h"

#include <openssl/rand.h>

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

}  // namespace lakemesh
