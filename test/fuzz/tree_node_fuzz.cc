// Tree nodes are read back from the metadata store and pack files: a damaged one must be an
// error, never a crash. Both parsers (the full decoder and the parser that navigation and
// rebuilds use) must agree on what a node says, and a decoded node must re-encode to itself.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "versioning/tree.h"

using lakemesh::versioning::DecodeNode;
using lakemesh::versioning::EncodeNode;
using lakemesh::versioning::ParsedNode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  auto node = DecodeNode(in);
  if (node.ok()) {
    std::string again = EncodeNode(*node);
    auto back = DecodeNode(again);
    if (!back.ok() || back->keys != node->keys || back->entries != node->entries ||
        back->children != node->children) {
      std::abort();
    }
  }
  auto parsed = ParsedNode::Parse(std::make_shared<const std::string>(in));
  if (parsed.ok()) {
    if (!node.ok() || node->size() != (*parsed)->size()) std::abort();
    for (size_t i = 0; i < (*parsed)->size(); ++i) {
      if ((*parsed)->key(i) != node->keys[i]) std::abort();
      if ((*parsed)->level() == 0 && !((*parsed)->entry(i) == node->entries[i])) std::abort();
      if ((*parsed)->level() > 0 && (*parsed)->child(i) != node->children[i]) std::abort();
    }
  }
  return 0;
}
