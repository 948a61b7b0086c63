// Entry: what a repository tree maps a logical path to. The bytes live in the BlobStore under
// `address`; everything else is the object's metadata as S3 reports it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/coding.h"

namespace lakemesh::versioning {

struct Entry {
  std::string address;       // BlobStore key of the bytes
  uint64_t size = 0;
  std::string etag;          // S3 ETag without quotes: hex MD5 for single-part objects
  int64_t mtime_micros = 0;  // when the object was written
  std::string content_type;
  std::map<std::string, std::string> metadata;  // user metadata (x-amz-meta-*)
  // HTTP headers stored with the object and returned on reads, lowercase names:
  // content-encoding, content-disposition, content-language, cache-control, expires.
  std::map<std::string, std::string> headers;

  bool operator==(const Entry&) const = default;
};

// BlobStore key of content-addressed bytes with the given lowercase hex SHA-256:
// "objects/ab/cd/abcd...". Two levels of fan-out keep directories small.
std::string ContentAddress(const std::string& sha256_hex);

// Binary form used in tree nodes and staged changes (docs/formats.md). Content addresses and
// hex MD5 ETags are stored as raw digest bytes. Each encoding stands alone, so a rebuilt node can
// copy an unchanged entry's bytes. DecodeEntry and SkipEntry return false on malformed input.
void EncodeEntry(std::string* dst, const Entry& e);
bool DecodeEntry(Decoder& d, Entry* e);
bool SkipEntry(Decoder& d);

}  // namespace lakemesh::versioning
