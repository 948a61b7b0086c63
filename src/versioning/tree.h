// Repository trees: persistent, ordered maps from path to Entry, stored as content-addressed nodes.
//
// Shape. Level 0 nodes (leaves) hold entries; a level k+1 node holds, for each child, the child's
// last key and its NodeId. A node ends after an item whose key is a *boundary* at that level
// (a 64-bit hash of the key, seeded by the level, is 0 modulo the level's fanout) or at the end of the
// level. Boundaries depend only on keys, so the tree for a given set of entries is unique whatever
// history built it ("history independence", as in prolly trees). Hence equal subtrees have equal
// ids in any two trees, a diff skips them without reading them, and a change of N entries rewrites
// about N leaves plus their ancestors.
//
// NodeId is the SHA-256 of the node's encoding (32 raw bytes); the empty tree is the empty NodeId.
// The MetaStore indexes every node under "n/<id>": small batches of new nodes are stored inline in
// their index rows; a large batch (a big commit) is written as one *pack* blob in the BlobStore
// before its index rows are committed, so a commit costs one sequential write instead of many
// B-tree inserts. Format: docs/formats.md.
//
// Thread-safety: NodeStore is thread-safe (its cache is locked); cursors are single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/lru_cache.h"
#include "base/status.h"
#include "meta/meta_store.h"
#include "storage/blob_store.h"
#include "versioning/entry.h"

namespace lakemesh::versioning {

using NodeId = std::string;  // 32 raw bytes, or empty for the empty tree

// Mean items per node, as a power of two. Small leaves keep the bytes rewritten per changed path
// low; internal items are cheap (a key and an id), so internal nodes are wider.
inline constexpr uint64_t kLeafFanout = 16;
inline constexpr uint64_t kInternalFanout = 32;

struct Node {
  int level = 0;
  std::vector<std::string> keys;   // ascending; for level > 0, each child's last key
  std::vector<Entry> entries;      // level 0
  std::vector<NodeId> children;    // level > 0

  size_t size() const { return keys.size(); }
};

std::string EncodeNode(const Node& node);
Result<Node> DecodeNode(std::string_view data);

// A node as stored, parsed only as far as navigation needs: its keys and each item's encoded
// bytes (an entry, or a 32-byte child id). Entries are decoded on demand; equal entries have
// equal bytes, so comparisons and rebuilds need no decoding. Immutable, shared by the cache.
class ParsedNode {
 public:
  // kInternal for malformed bytes. Every entry is checked, so entry(i) cannot fail afterwards.
  static Result<std::shared_ptr<const ParsedNode>> Parse(
      std::shared_ptr<const std::string> encoded);

  int level() const { return level_; }
  size_t size() const { return keys_.size(); }
  const std::vector<std::string_view>& keys() const { return keys_; }
  std::string_view key(size_t i) const { return keys_[i]; }
  std::string_view item(size_t i) const { return items_[i]; }  // level 0: an encoded entry
  NodeId child(size_t i) const { return NodeId(items_[i]); }   // level > 0
  Entry entry(size_t i) const;                                 // level 0: decodes
  size_t memory() const;                                       // approximate bytes held

 private:
  ParsedNode() = default;
  int level_ = 0;
  std::shared_ptr<const std::string> encoded_;  // owns the bytes `items_` point into
  std::string key_bytes_;                       // owns the bytes `keys_` point into; never moved
  std::vector<std::string_view> keys_;
  std::vector<std::string_view> items_;
};
bool IsBoundary(std::string_view key, int level);

// New nodes produced by a mutation, by id, encoded. Written by the caller in its transaction.
using NodeBatch = std::map<NodeId, std::shared_ptr<const std::string>>;

std::string NodeKey(const NodeId& id);  // MetaStore key "n/<id>"

// Index rows for a batch of new nodes, ready to be written in a metadata transaction, and, for
// a packed batch, the pending write of its pack.
struct PreparedNodes {
  std::vector<meta::KeyValue> rows;
  std::shared_future<Status> pack_durable;  // valid when the batch went to a pack
};

// Reads and writes nodes through a cache of parsed nodes (about twice their encoded size, so a
// tree of millions of objects stays in memory). Thread-safe.
class NodeStore {
 public:
  // `cache_bytes` bounds the memory of cached nodes (approximately).
  NodeStore(meta::MetaStore& meta, storage::BlobStore& blobs, size_t cache_bytes = 256u << 20)
      : meta_(meta), blobs_(blobs), cache_(cache_bytes) {}

  // kInternal if the node is missing or corrupt (a tree never points at a node that is not there).
  Result<std::shared_ptr<const ParsedNode>> Load(const NodeId& id);
  // Makes a freshly built node visible to Load before its batch is written.
  Status AddEncoded(const NodeId& id, std::shared_ptr<const std::string> encoded);
  // Step one of writing a batch, outside any transaction: a large batch starts being written to
  // a pack blob on another thread. Step two, WriteBatch, writes the index rows in the caller's
  // transaction and then waits until the pack is durable, failing if it could not be written, so
  // the transaction never commits rows that point at bytes a crash could lose. Call it last in
  // the transaction, so the pack's fsyncs overlap the transaction's other writes. A pack whose
  // transaction never commits is garbage, invisible to readers.
  Result<PreparedNodes> PrepareBatch(const NodeBatch& batch);
  Status WriteBatch(meta::MetaTxn& txn, const PreparedNodes& prepared);

  // Batches larger than this many encoded bytes go to a pack blob.
  static constexpr size_t kInlineLimit = 256 * 1024;

 private:
  // The verified encoding of `id` from the index row (inline) or its pack.
  Result<std::shared_ptr<const std::string>> Fetch(const NodeId& id);

  meta::MetaStore& meta_;
  storage::BlobStore& blobs_;
  LruCache<ParsedNode> cache_;
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
//
// Besides the usual Seek/Next/path/entry, a cursor can stand *before an unloaded subtree*
// ("pending"): NextLazy() and SkipPending() move without loading the next subtree, and
// DescendOne() loads one level. DiffTrees uses this to skip subtrees two trees share without
// reading them. path() and entry() need a materialized cursor (Materialize()).
class TreeCursor {
 public:
  TreeCursor(NodeStore& nodes, NodeId root) : nodes_(nodes), root_(std::move(root)) {}

  Status SeekFirst() { return Seek(""); }
  // Positions at the first entry with path >= target.
  Status Seek(std::string_view target);
  bool Valid() const { return !frames_.empty(); }
  std::string_view path() const { return leaf().key(frames_.back().idx); }
  // The current entry, decoded on first use.
  const Entry& entry() const;
  // The current entry's encoding: equal bytes, equal entries.
  std::string_view raw_entry() const { return leaf().item(frames_.back().idx); }
  Status Next();

  // Lazy movement.
  bool pending() const { return !frames_.empty() && frames_.back().node->level() > 0; }
  int pending_level() const { return frames_.back().node->level() - 1; }
  std::string_view pending_id() const { return frames_.back().node->item(frames_.back().idx); }
  Status NextLazy();     // like Next(), but stops before the next unloaded subtree
  void SkipPending();    // moves past the pending subtree without loading it
  Status DescendOne();   // loads the pending subtree's root
  Status Materialize();  // descends to the first entry of the pending subtree

 private:
  struct Frame {
    std::shared_ptr<const ParsedNode> node;
    size_t idx;
  };
  const ParsedNode& leaf() const { return *frames_.back().node; }
  // Advances frame `depth` to its next item, popping exhausted frames.
  void AdvanceAt(size_t depth);

  NodeStore& nodes_;
  NodeId root_;
  std::vector<Frame> frames_;
  mutable std::optional<Entry> current_;  // entry() of the current position, once decoded
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
