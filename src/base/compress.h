// Deflate compression (zlib): raw deflate streams (Avro's deflate codec) and gzip members (HTTP
// Content-Encoding).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace lakemesh {

enum class DeflateFormat { kRaw, kGzip };

// `level` is zlib's: 1 (fastest) to 9 (smallest), -1 its default (6).
Result<std::string> Deflate(std::string_view in, DeflateFormat format, int level = -1);

}  // namespace lakemesh
