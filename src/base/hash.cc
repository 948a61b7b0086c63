#include "base/hash.h"

#include <openssl/evp.h>

#include <cstring>

#include "base/status.h"

namespace lakemesh {

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

namespace {
// Value of a lowercase hex digit, or 0xff.
struct LowerHexTable {
  uint8_t v[256];
  constexpr LowerHexTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = 0xff;
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<uint8_t>(i);
    for (int i = 0; i < 6; ++i) v['a' + i] = static_cast<uint8_t>(10 + i);
  }
};
constexpr LowerHexTable kLowerHex;
}  // namespace

bool AppendFromLowerHex(std::string* dst, std::string_view hex) {
  if (hex.size() % 2 != 0) return false;
  size_t start = dst->size();
  dst->resize(start + hex.size() / 2);
  char* out = dst->data() + start;
  uint8_t bad = 0;
  for (size_t i = 0; i < hex.size(); i += 2) {
    uint8_t hi = kLowerHex.v[static_cast<uint8_t>(hex[i])];
    uint8_t lo = kLowerHex.v[static_cast<uint8_t>(hex[i + 1])];
    bad |= (hi | lo) & 0xf0;
    out[i / 2] = static_cast<char>((hi << 4) | (lo & 0x0f));
  }
  if (bad) {
    dst->resize(start);
    return false;
  }
  return true;
}

void AppendHex(std::string* dst, std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t start = dst->size();
  dst->resize(start + bytes.size() * 2);
  char* out = dst->data() + start;
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
}

bool IsLowerHex(std::string_view s) {
  uint8_t bad = 0;
  for (char c : s) bad |= kLowerHex.v[static_cast<uint8_t>(c)] & 0xf0;
  return bad == 0;
}

namespace {
// Algorithms fetched once: OpenSSL 3 otherwise looks each one up (under a lock) on every
// EVP_DigestInit_ex with EVP_sha256() and friends, which costs more than hashing a short string.
const EVP_MD* FetchedMd(Hasher::Kind kind) {
  static EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  const EVP_MD* md = kind == Hasher::Kind::kSha256 ? sha256
                     : kind == Hasher::Kind::kSha1 ? sha1
                                                   : md5;
  LM_CHECK(md != nullptr);
  return md;
}

// One digest context per thread for the one-shot functions.
EVP_MD_CTX* ThreadCtx() {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder h;
  LM_CHECK(h.ctx != nullptr);
  return h.ctx;
}

// SHA-256 of the concatenation of `a` and `b` into out[32].
void Sha256Into(std::string_view a, std::string_view b, unsigned char* out) {
  EVP_MD_CTX* ctx = ThreadCtx();
  unsigned int n = 0;
  LM_CHECK(EVP_DigestInit_ex(ctx, FetchedMd(Hasher::Kind::kSha256), nullptr) == 1);
  LM_CHECK(EVP_DigestUpdate(ctx, a.data(), a.size()) == 1);
  if (!b.empty()) LM_CHECK(EVP_DigestUpdate(ctx, b.data(), b.size()) == 1);
  LM_CHECK(EVP_DigestFinal_ex(ctx, out, &n) == 1);
}
}  // namespace

struct Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Hasher::Hasher(Kind kind) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  LM_CHECK(impl_->ctx != nullptr);
  LM_CHECK(EVP_DigestInit_ex(impl_->ctx, FetchedMd(kind), nullptr) == 1);
}

Hasher::~Hasher() {
  if (impl_ && impl_->ctx) EVP_MD_CTX_free(impl_->ctx);
}
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::string_view data) {
  LM_CHECK(EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) == 1);
}

std::string Hasher::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  LM_CHECK(EVP_DigestFinal_ex(impl_->ctx, out, &n) == 1);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string Sha256(std::string_view data) {
  unsigned char out[32];
  Sha256Into(data, {}, out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

std::string Md5(std::string_view data) {
  Hasher h(Hasher::Kind::kMd5);
  h.Update(data);
  return h.Finish();
}

// HMAC (RFC 2104) over SHA-256, written out so that it uses the fetched digest: OpenSSL's HMAC()
// fetches the MAC implementation on every call.
std::string HmacSha256(std::string_view key, std::string_view data) {
  constexpr size_t kBlock = 64;
  unsigned char k0[kBlock] = {0};
  if (key.size() > kBlock) {
    Sha256Into(key, {}, k0);
  } else {
    std::memcpy(k0, key.data(), key.size());
  }
  char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<char>(k0[i] ^ 0x36);
  unsigned char inner[32];
  Sha256Into(std::string_view(pad, kBlock), data, inner);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<char>(k0[i] ^ 0x5c);
  unsigned char out[32];
  Sha256Into(std::string_view(pad, kBlock),
             std::string_view(reinterpret_cast<char*>(inner), sizeof(inner)), out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

uint64_t Hash64(std::string_view data, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
  for (char c : data) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace lakemesh
