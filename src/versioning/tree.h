// Repository trees: persistent, ordered maps from path to Entry, stored as content-addressed nodes.
//
// Shape. Level 0 nodes (leaves) hold entries; a level k+1 node holds, for each child, the child's
// last key and its NodeId. A node ends after an item whose key is a *boundary* at that level
// (a 64-bit hash of the key, seeded by the level, is 0 modulo kTargetFanout) or at the end of the
// level. Boundaries depend only on keys, so the tree for a given set of entries is unique whatever
// history built it ("history independence", as in prolly trees). Hence equal subtrees have equal
// ids in any two trees, a diff skips them without reading them, and a change of N entries rewrites
// about N leaves plus their ancestors.
//
// NodeId is the SHA-256 of the node's encoding (32 raw bytes); the empty tree is the empty NodeId.
// Nodes are stored in the MetaStore under "n/<id>" by whoever commits the NodeBatch that
// ApplyMutations fills. Format: docs/formats.md.
//
// Thread-safety: NodeStore is thread-safe (its cache is locked); cursors are single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "meta/meta_store.h"
#include "versioning/entry.h"

namespace lakemesh::versioning {

using NodeId = std::string;  // 32 raw bytes, or empty for the empty tree

// Mean items per node. Smaller nodes rewrite less per change; larger ones make shallower trees.
inline constexpr uint64_t kTargetFanout = 32;

struct Node {
  int level = 0;
  std::vector<std::string> keys;   // ascending; for level > 0, each child's last key
  std::vector<Entry> entries;      // level 0
  std::vector<NodeId> children;    // level > 0

  size_t size() const { return keys.size(); }
};

std::string EncodeNode(const Node& node);
Result<Node> DecodeNode(std::string_view data);
bool IsBoundary(std::string_view key, int level);

// New nodes produced by a mutation, by id, encoded. Written by the caller in its transaction.
using NodeBatch = std::map<NodeId, std::string>;

std::string NodeKey(const NodeId& id);  // MetaStore key "n/<id>"

// Reads nodes from the MetaStore through an LRU cache of decoded nodes.
class NodeStore {
 public:
  explicit NodeStore(meta::MetaStore& meta, size_t cache_nodes = 65536)
      : meta_(meta), capacity_(cache_nodes) {}

  // kInternal if the node is missing or corrupt (a tree never points at a node that is not there).
  Result<std::shared_ptr<const Node>> Load(const NodeId& id);
  // Makes freshly built nodes visible to Load before their batch is written (used within a
  // single operation, e.g. to read back a tree just built).
  void AddToCache(const NodeId& id, std::shared_ptr<const Node> node);
  Status WriteBatch(meta::MetaTxn& txn, const NodeBatch& batch);

 private:
  std::shared_ptr<const Node> Lookup(const NodeId& id);

  meta::MetaStore& meta_;
  size_t capacity_;
  std::mutex mu_;
  std::list<std::pair<NodeId, std::shared_ptr<const Node>>> lru_;  // GUARDED_BY(mu_)
  std::unordered_map<NodeId, decltype(lru_)::iterator> index_;     // GUARDED_BY(mu_)
};

// A change to one path: set it to `entry`, or remove it when entry is nullopt.
struct Mutation {
  std::string path;
  std::optional<Entry> entry;
};

// Returns the root of the tree `root` with `mutations` applied (sorted by path, no duplicates).
// New nodes are added to `batch`; nothing is written. Removing an absent path is a no-op.
Result<NodeId> ApplyMutations(NodeStore& nodes, const NodeId& root,
                              const std::vector<Mutation>& mutations, NodeBatch* batch);

Result<std::optional<Entry>> GetEntry(NodeStore& nodes, const NodeId& root,
                                      std::string_view path);

// Iterates a tree's entries in path order.
class TreeCursor {
 public:
  TreeCursor(NodeStore& nodes, NodeId root) : nodes_(nodes), root_(std::move(root)) {}

  Status SeekFirst() { return Seek(""); }
  // Positions at the first entry with path >= target.
  Status Seek(std::string_view target);
  bool Valid() const { return !frames_.empty(); }
  const std::string& path() const { return leaf().keys[frames_.back().idx]; }
  const Entry& entry() const { return leaf().entries[frames_.back().idx]; }
  Status Next();

  // Ids of the subtrees (by depth, root-most first) whose first entry is the current one.
  std::vector<std::pair<size_t, NodeId>> SubtreesStartingHere() const;
  // Moves past every entry of the subtree at `depth` listed by SubtreesStartingHere.
  Status SkipSubtree(size_t depth);

 private:
  struct Frame {
    std::shared_ptr<const Node> node;
    size_t idx;
  };
  const Node& leaf() const { return *frames_.back().node; }
  // From frames_.back() (an internal node) down to a leaf, always taking the first child.
  Status DescendLeftmost();
  // Advances frame `depth` to its next item, popping exhausted frames; then descends.
  Status AdvanceAt(size_t depth);

  NodeStore& nodes_;
  NodeId root_;
  std::vector<Frame> frames_;
};

enum class ChangeType { kAdded, kRemoved, kChanged };

struct Change {
  std::string path;
  ChangeType type;
  std::optional<Entry> left;   // absent for kAdded
  std::optional<Entry> right;  // absent for kRemoved
};

// Calls `fn` for each path under `prefix` that differs between `left` and `right`, in path order,
// starting after `after` (exclusive, "" for the start). Stops when fn returns false.
Status DiffTrees(NodeStore& nodes, const NodeId& left, const NodeId& right,
                 std::string_view prefix, std::string_view after,
                 const std::function<bool(const Change&)>& fn);

}  // namespace lakemesh::versioning
