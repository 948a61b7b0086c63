#include "versioning/entry.h"

#include "base/coding.h"
#include "base/hash.h"

namespace lakemesh::versioning {

std::string ContentAddress(const std::string& hex) {
  std::string a;
  a.reserve(14 + hex.size());
  a += "objects/";
  a.append(hex, 0, 2);
  a += '/';
  a.append(hex, 2, 2);
  a += '/';
  a += hex;
  return a;
}

namespace {

enum : uint8_t {
  kContentAddressed = 1,  // address is ContentAddress(hex): 32 digest bytes follow
  kHexEtag = 2,           // etag is 32 lowercase hex characters: 16 bytes follow
  kHasMetadata = 4,       // user metadata follows
  kHasHeaders = 8,        // stored HTTP headers follow
  kAllFlags = 15,
};

constexpr size_t kAddressLen = 8 + 3 + 3 + 64;  // "objects/ab/cd/" + 64 hex

// The shape of ContentAddress(hex), without checking that the digest is hex.
bool LooksContentAddressed(const std::string& a) {
  return a.size() == kAddressLen && a.compare(0, 8, "objects/") == 0 && a[10] == '/' &&
         a[13] == '/' && a[8] == a[14] && a[9] == a[15] && a[11] == a[16] && a[12] == a[17];
}

void PutMap(std::string* dst, const std::map<std::string, std::string>& m) {
  PutVarint64(dst, m.size());
  for (const auto& [k, v] : m) {
    PutLengthPrefixed(dst, k);
    PutLengthPrefixed(dst, v);
  }
}

// A non-empty map; `out` null to skip it.
bool GetMap(Decoder& d, std::map<std::string, std::string>* out) {
  uint64_t n;
  if (!d.GetVarint64(&n) || n == 0 || n > d.remaining()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k, v;
    if (!d.GetLengthPrefixed(&k) || !d.GetLengthPrefixed(&v)) return false;
    if (out) out->emplace(std::string(k), std::string(v));
  }
  return true;
}

}  // namespace

void EncodeEntry(std::string* dst, const Entry& e) {
  size_t flags_at = dst->size();
  dst->push_back(0);
  uint8_t flags = 0;
  if (LooksContentAddressed(e.address) &&
      AppendFromLowerHex(dst, std::string_view(e.address).substr(14))) {
    flags |= kContentAddressed;
  } else {
    PutLengthPrefixed(dst, e.address);
  }
  PutVarint64(dst, e.size);
  if (e.etag.size() == 32 && AppendFromLowerHex(dst, e.etag)) {
    flags |= kHexEtag;
  } else {
    PutLengthPrefixed(dst, e.etag);
  }
  if (!e.metadata.empty()) flags |= kHasMetadata;
  if (!e.headers.empty()) flags |= kHasHeaders;
  (*dst)[flags_at] = static_cast<char>(flags);
  PutVarintSigned(dst, e.mtime_micros);
  PutLengthPrefixed(dst, e.content_type);
  if (flags & kHasMetadata) PutMap(dst, e.metadata);
  if (flags & kHasHeaders) PutMap(dst, e.headers);
}

bool DecodeEntry(Decoder& d, Entry* e) {
  uint8_t flags;
  std::string_view v;
  if (!d.GetByte(&flags) || flags > kAllFlags) return false;
  if (flags & kContentAddressed) {
    if (!d.GetBytes(32, &v)) return false;
    e->address.clear();
    e->address.reserve(kAddressLen);
    e->address += "objects/";
    AppendHex(&e->address, v.substr(0, 1));
    e->address += '/';
    AppendHex(&e->address, v.substr(1, 1));
    e->address += '/';
    AppendHex(&e->address, v);
  } else {
    if (!d.GetLengthPrefixed(&v)) return false;
    e->address.assign(v);
  }
  if (!d.GetVarint64(&e->size)) return false;
  if (flags & kHexEtag) {
    if (!d.GetBytes(16, &v)) return false;
    e->etag.clear();
    AppendHex(&e->etag, v);
  } else {
    if (!d.GetLengthPrefixed(&v)) return false;
    e->etag.assign(v);
  }
  if (!d.GetVarintSigned(&e->mtime_micros) || !d.GetLengthPrefixed(&v)) return false;
  e->content_type.assign(v);
  e->metadata.clear();
  e->headers.clear();
  if ((flags & kHasMetadata) && !GetMap(d, &e->metadata)) return false;
  if ((flags & kHasHeaders) && !GetMap(d, &e->headers)) return false;
  return true;
}

bool SkipEntry(Decoder& d) {
  uint8_t flags;
  std::string_view v;
  uint64_t u;
  int64_t i;
  if (!d.GetByte(&flags) || flags > kAllFlags) return false;
  if (!((flags & kContentAddressed) ? d.GetBytes(32, &v) : d.GetLengthPrefixed(&v))) return false;
  if (!d.GetVarint64(&u)) return false;
  if (!((flags & kHexEtag) ? d.GetBytes(16, &v) : d.GetLengthPrefixed(&v))) return false;
  if (!d.GetVarintSigned(&i) || !d.GetLengthPrefixed(&v)) return false;
  if ((flags & kHasMetadata) && !GetMap(d, nullptr)) return false;
  if ((flags & kHasHeaders) && !GetMap(d, nullptr)) return false;
  return true;
}

}  // namespace lakemesh::versioning
