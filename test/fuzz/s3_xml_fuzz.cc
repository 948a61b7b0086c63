// S3 request bodies (DeleteObjects, CompleteMultipartUpload, CreateBucket) come from the network.
#include <cstdint>
#include <string_view>

#include "protocols/s3/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  lakemesh::s3::ParseDeleteRequest(in).status().IgnoreError();
  lakemesh::s3::ParseCompleteMultipartUpload(in).status().IgnoreError();
  lakemesh::s3::ParseCreateBucketConfiguration(in).status().IgnoreError();
  return 0;
}
