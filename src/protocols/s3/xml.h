// XML as S3 speaks it: a writer for response bodies (escaped, with S3's namespace on the root)
// and parsers for the request bodies S3 operations take (DeleteObjects, CompleteMultipartUpload,
// CreateBucketConfiguration), built on pugixml. Parsers return kInvalidArgument, naming what is
// wrong, for anything malformed ("MalformedXML" on the wire).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lakemesh::s3 {

class XmlWriter {
 public:
  // Starts the document with `root` in S3's namespace.
  explicit XmlWriter(std::string_view root);
  XmlWriter& Open(std::string_view name);
  XmlWriter& Close(std::string_view name);
  XmlWriter& Element(std::string_view name, std::string_view text);
  // Closes the root and returns the document.
  std::string Finish();

 private:
  std::string root_;
  std::string out_;
};

void AppendXmlEscaped(std::string* out, std::string_view text);

struct ObjectToDelete {
  std::string key;
  std::string version_id;
};
struct DeleteRequest {
  bool quiet = false;
  std::vector<ObjectToDelete> objects;
};
// <Delete><Quiet>true</Quiet><Object><Key>k</Key></Object>...</Delete>; at most 1000 objects.
Result<DeleteRequest> ParseDeleteRequest(std::string_view xml);

struct PartRef {
  int number = 0;
  std::string etag;  // quotes removed
};
// <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"…"</ETag></Part>…
Result<std::vector<PartRef>> ParseCompleteMultipartUpload(std::string_view xml);

// <CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>…; "" when the
// body is empty or names no location.
Result<std::string> ParseCreateBucketConfiguration(std::string_view xml);

}  // namespace lakemesh::s3
