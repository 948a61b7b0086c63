// Synthetic repository contents shared by the benchmarks: object i lives at
// data/dNNNN/fNNNNNN.parquet (1,000 per folder) with a content-addressed entry per version.
#pragma once

#include <cstdio>
#include <string>

#include "base/hash.h"
#include "versioning/entry.h"

namespace lakemesh::bench {

inline std::string PathOf(int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "data/d%04d/f%06d.parquet", i / 1000, i);
  return buf;
}

inline versioning::Entry EntryOf(int i, int version) {
  versioning::Entry e;
  std::string seed = std::to_string(i) + "/" + std::to_string(version);
  e.address = versioning::ContentAddress(ToHex(Sha256(seed)));
  e.size = 1000 + static_cast<uint64_t>(i % 5000);
  e.etag = ToHex(Md5(seed));
  e.mtime_micros = 1790000000000000 + version;
  e.content_type = "application/vnd.apache.parquet";
  return e;
}

}  // namespace lakemesh::bench
