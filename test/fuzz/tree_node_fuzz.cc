// Tree nodes are read back from the metadata store: a damaged one must be an error, never a
// crash; a node that decodes must re-encode to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "versioning/tree.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto node = lakemesh::versioning::DecodeNode(in);
  if (node.ok()) {
    std::string again = lakemesh::versioning::EncodeNode(*node);
    auto back = lakemesh::versioning::DecodeNode(again);
    if (!back.ok() || back->keys != node->keys || back->entries != node->entries ||
        back->children != node->children) {
      std::abort();
    }
  }
  return 0;
}
