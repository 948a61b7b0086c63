#include "base/compress.h"

#include <zlib.h>

namespace lakemesh {

Result<std::string> Deflate(std::string_view in, DeflateFormat format, int level) {
  z_stream zs{};
  const int window_bits = format == DeflateFormat::kGzip ? 15 + 16 : -15;
  if (deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Internal("deflate failed");
  return out;
}

}  // namespace lakemesh
