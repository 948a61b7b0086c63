// Shared by the in-process benchmarks: timing helpers, and synthetic repository contents
// (object i lives at data/dNNNN/fNNNNNN.parquet, 1,000 per folder, with a content-addressed
// entry per version).
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "base/time.h"
#include "versioning/entry.h"

namespace lakemesh::bench {

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

template <typename F>
double TimeMs(F&& f) {
  int64_t t0 = MonotonicMicros();
  f();
  return static_cast<double>(MonotonicMicros() - t0) / 1000.0;
}

// Exits with the message when a setup step fails: a benchmark cannot go on without it.
inline void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

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
