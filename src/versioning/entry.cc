#include "versioning/entry.h"

#include "base/coding.h"
#include "base/hash.h"

namespace lakemesh::versioning {

std::string ContentAddress(const std::string& hex) {
  return "objects/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex;
}

namespace {

// An address of the form ContentAddress(hex) is stored as its 32 digest bytes.
bool IsContentAddress(const std::string& a) {
  if (a.size() != 8 + 3 + 3 + 64 || a.compare(0, 8, "objects/") != 0) return false;
  std::string_view hex(a.data() + 14, 64);
  return IsLowerHex(hex) && a[10] == '/' && a[13] == '/' && a.compare(8, 2, a, 14, 2) == 0 &&
         a.compare(11, 2, a, 16, 2) == 0;
}

void PutTaggedHex(std::string* dst, const std::string& s, size_t hex_len) {
  if (s.size() == hex_len && IsLowerHex(s)) {
    dst->push_back(1);
    dst->append(*FromHex(s));
  } else {
    dst->push_back(0);
    PutLengthPrefixed(dst, s);
  }
}

bool GetTaggedHex(Decoder& d, size_t hex_len, std::string* out) {
  uint8_t tag;
  if (!d.GetByte(&tag)) return false;
  std::string_view v;
  if (tag == 1) {
    if (!d.GetBytes(hex_len / 2, &v)) return false;
    *out = ToHex(v);
    return true;
  }
  if (tag != 0 || !d.GetLengthPrefixed(&v)) return false;
  *out = std::string(v);
  return true;
}

}  // namespace

void EncodeEntry(std::string* dst, const Entry& e) {
  if (IsContentAddress(e.address)) {
    dst->push_back(1);
    dst->append(*FromHex(std::string_view(e.address).substr(14)));
  } else {
    dst->push_back(0);
    PutLengthPrefixed(dst, e.address);
  }
  PutVarint64(dst, e.size);
  PutTaggedHex(dst, e.etag, 32);
  PutVarintSigned(dst, e.mtime_micros);
  PutLengthPrefixed(dst, e.content_type);
  PutVarint64(dst, e.metadata.size());
  for (const auto& [k, v] : e.metadata) {
    PutLengthPrefixed(dst, k);
    PutLengthPrefixed(dst, v);
  }
}

bool DecodeEntry(Decoder& d, Entry* e) {
  uint8_t tag;
  std::string_view v;
  if (!d.GetByte(&tag)) return false;
  if (tag == 1) {
    if (!d.GetBytes(32, &v)) return false;
    e->address = ContentAddress(ToHex(v));
  } else {
    if (tag != 0 || !d.GetLengthPrefixed(&v)) return false;
    e->address = std::string(v);
  }
  uint64_t n;
  if (!d.GetVarint64(&e->size) || !GetTaggedHex(d, 32, &e->etag) ||
      !d.GetVarintSigned(&e->mtime_micros) || !d.GetLengthPrefixed(&v)) {
    return false;
  }
  e->content_type = std::string(v);
  if (!d.GetVarint64(&n) || n > d.remaining()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k, val;
    if (!d.GetLengthPrefixed(&k) || !d.GetLengthPrefixed(&val)) return false;
    e->metadata.emplace(std::string(k), std::string(val));
  }
  return true;
}


}  // namespace lakemesh::versioning
