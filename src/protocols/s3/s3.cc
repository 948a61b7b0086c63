#include "protocols/s3/s3.h"

#include "base/random.h"

namespace lakemesh::s3 {

server::Handler MakeS3Handler() {
  return [](server::Request& req) {
    std::string id = RandomHex(8);
    std::string body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NotImplemented</Code>"
        "<Message>The S3 API is not available in this version of lakemesh; use the REST API "
        "(/api/v1) or the lakemesh CLI.</Message><Resource>" +
        req.path + "</Resource><RequestId>" + id + "</RequestId></Error>\n";
    server::Response r = server::Response::Text(501, std::move(body), "application/xml");
    r.headers.Set("x-amz-request-id", id);
    return r;
  };
}

}  // namespace lakemesh::s3
