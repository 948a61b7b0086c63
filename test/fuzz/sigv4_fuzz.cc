// The Authorization header and request pieces come straight from the network.
#include <cstdint>
#include <string>

#include "protocols/s3/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  auto auth = lakemesh::s3::ParseAuthorization(in);
  lakemesh::s3::SignedRequest req{"GET", in, {{in, in}}, {{"host", in}, {"x-amz-date", in}}, in};
  if (auth.ok()) {
    lakemesh::s3::ComputeSignature(req, *auth, "20150830T123600Z", "secret").status().IgnoreError();
  }
  lakemesh::s3::CanonicalRequest(req, {"host", "x-amz-date"}).status().IgnoreError();
  return 0;
}
