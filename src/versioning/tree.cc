#include "versioning/tree.h"

#include <algorithm>

#include "base/coding.h"
#include "base/hash.h"

namespace lakemesh::versioning {

namespace {

constexpr uint8_t kNodeFormat = 1;
constexpr size_t kIdSize = 32;

}  // namespace

bool IsBoundary(std::string_view key, int level) {
  return (Hash64(key, static_cast<uint64_t>(level) + 1) & (kTargetFanout - 1)) == 0;
}

std::string EncodeNode(const Node& node) {
  std::string out;
  out.reserve(node.size() * 96 + 8);
  out.push_back(static_cast<char>(kNodeFormat));
  PutVarint64(&out, static_cast<uint64_t>(node.level));
  PutVarint64(&out, node.size());
  std::string_view prev;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string& key = node.keys[i];
    size_t shared = 0;
    while (shared < prev.size() && shared < key.size() && prev[shared] == key[shared]) ++shared;
    PutVarint64(&out, shared);
    PutLengthPrefixed(&out, std::string_view(key).substr(shared));
    if (node.level == 0) {
      EncodeEntry(&out, node.entries[i], i > 0 ? &node.entries[i - 1] : nullptr);
    } else {
      out.append(node.children[i]);
    }
    prev = key;
  }
  return out;
}

Result<Node> DecodeNode(std::string_view data) {
  Decoder d(data);
  uint8_t format;
  uint64_t level, count;
  if (!d.GetByte(&format) || format != kNodeFormat || !d.GetVarint64(&level) || level > 64 ||
      !d.GetVarint64(&count) || count > d.remaining()) {
    return Internal("corrupt tree node header");
  }
  Node node;
  node.level = static_cast<int>(level);
  node.keys.reserve(count);
  if (level == 0) {
    node.entries.resize(count);
  } else {
    node.children.reserve(count);
  }
  std::string prev;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t shared;
    std::string_view suffix;
    if (!d.GetVarint64(&shared) || shared > prev.size() || !d.GetLengthPrefixed(&suffix)) {
      return Internal("corrupt tree node key");
    }
    std::string key = prev.substr(0, shared);
    key.append(suffix);
    if (i > 0 && key <= prev) return Internal("corrupt tree node: keys out of order");
    if (level == 0) {
      if (!DecodeEntry(d, &node.entries[i], i > 0 ? &node.entries[i - 1] : nullptr)) {
        return Internal("corrupt tree node entry");
      }
    } else {
      std::string_view child;
      if (!d.GetBytes(kIdSize, &child)) return Internal("corrupt tree node child");
      node.children.emplace_back(child);
    }
    prev = key;
    node.keys.push_back(std::move(key));
  }
  if (!d.empty()) return Internal("corrupt tree node: trailing bytes");
  return node;
}

std::string NodeKey(const NodeId& id) { return "n/" + id; }

std::shared_ptr<const Node> NodeStore::Lookup(const NodeId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void NodeStore::AddToCache(const NodeId& id, std::shared_ptr<const Node> node) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(id);
  if (it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(id, std::move(node));
  index_[id] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

Result<std::shared_ptr<const Node>> NodeStore::Load(const NodeId& id) {
  if (auto n = Lookup(id)) return n;
  LM_ASSIGN_OR_RETURN(auto data, meta_.Get(NodeKey(id)));
  if (!data) return Internal("tree node " + ToHex(id) + " is missing");
  LM_ASSIGN_OR_RETURN(Node node, DecodeNode(*data));
  auto shared = std::make_shared<const Node>(std::move(node));
  AddToCache(id, shared);
  return std::shared_ptr<const Node>(shared);
}

Status NodeStore::WriteBatch(meta::MetaTxn& txn, const NodeBatch& batch) {
  for (const auto& [id, data] : batch) LM_TRY(txn.Put(NodeKey(id), data));
  return Status::OK();
}

namespace {

struct Item {
  std::string key;
  Entry entry;    // level 0
  NodeId child;   // level > 0
};

using EditMap = std::map<std::string, std::optional<Item>>;

struct Produced {
  std::string last_key;
  NodeId id;
};

// Cuts a sequence of items of one level into nodes at boundary keys.
class Chunker {
 public:
  Chunker(NodeStore& nodes, NodeBatch* batch, int level)
      : nodes_(nodes), batch_(batch), level_(level) {}

  void Add(Item item) {
    bool boundary = IsBoundary(item.key, level_);
    buf_.push_back(std::move(item));
    if (boundary) Emit();
  }
  bool open() const { return !buf_.empty(); }
  void Finish() {
    if (!buf_.empty()) Emit();
  }
  std::vector<Produced>& produced() { return produced_; }

 private:
  void Emit() {
    Node node;
    node.level = level_;
    node.keys.reserve(buf_.size());
    for (auto& item : buf_) {
      node.keys.push_back(std::move(item.key));
      if (level_ == 0) {
        node.entries.push_back(std::move(item.entry));
      } else {
        node.children.push_back(std::move(item.child));
      }
    }
    buf_.clear();
    std::string enc = EncodeNode(node);
    NodeId id = Sha256(enc);
    produced_.push_back(Produced{node.keys.back(), id});
    nodes_.AddToCache(id, std::make_shared<const Node>(std::move(node)));
    (*batch_)[id] = std::move(enc);
  }

  NodeStore& nodes_;
  NodeBatch* batch_;
  int level_;
  std::vector<Item> buf_;
  std::vector<Produced> produced_;
};

struct Located {
  std::shared_ptr<const Node> node;  // null when there is no such node
  NodeId id;
  bool is_last = true;  // the last node of its level
};

struct LevelResult {
  size_t consumed = 0;
  std::vector<Produced> produced;
  EditMap next_edits;  // edits to the items of the level above
};

class Rebuilder {
 public:
  Rebuilder(NodeStore& nodes, NodeId root, NodeBatch* batch)
      : nodes_(nodes), root_(std::move(root)), batch_(batch) {}

  Result<NodeId> Run(EditMap edits) {
    int root_level = -1;
    std::string root_last_key;
    if (!root_.empty()) {
      LM_ASSIGN_OR_RETURN(auto r, nodes_.Load(root_));
      root_level = r->level;
      root_last_key = r->keys.back();
    }
    for (int level = 0;; ++level) {
      LevelResult res;
      if (level <= root_level) {
        LM_ASSIGN_OR_RETURN(res, RebuildLevel(level, edits));
      } else {
        // Above the old root. The level just above it holds one item, the old root itself:
        // edits may leave it in place (when it was rebuilt unchanged) and only add beside it.
        EditMap items;
        if (level == root_level + 1 && !root_.empty()) items[root_last_key] = Item{root_last_key, Entry{}, root_};
        for (auto& [key, item] : edits) {
          if (item) {
            items[key] = std::move(*item);
          } else {
            items.erase(key);
          }
        }
        res = ChunkAll(level, items);
      }
      if (level >= root_level) {
        int64_t count = (level == root_level ? 1 : 0) - static_cast<int64_t>(res.consumed) +
                        static_cast<int64_t>(res.produced.size());
        if (count <= 0) return NodeId();
        if (count == 1) {
          NodeId id = res.produced.size() == 1 ? res.produced[0].id : root_;
          return Collapse(id);
        }
      }
      if (res.next_edits.empty()) return root_;
      edits = std::move(res.next_edits);
    }
  }

  // The canonical root is the lowest level with a single node.
  Result<NodeId> Collapse(NodeId id) {
    while (true) {
      LM_ASSIGN_OR_RETURN(auto n, nodes_.Load(id));
      if (n->level == 0 || n->size() != 1) return id;
      id = n->children[0];
    }
  }

  // The node at `level` whose range holds `key`: the first whose last key is >= key, else the last.
  Result<Located> FindCovering(int level, const std::string& key) {
    Located loc;
    loc.id = root_;
    LM_ASSIGN_OR_RETURN(loc.node, nodes_.Load(root_));
    while (loc.node->level > level) {
      const auto& keys = loc.node->keys;
      size_t i = std::lower_bound(keys.begin(), keys.end(), key) - keys.begin();
      if (i >= keys.size()) i = keys.size() - 1;
      if (i + 1 < keys.size()) loc.is_last = false;
      loc.id = loc.node->children[i];
      LM_ASSIGN_OR_RETURN(loc.node, nodes_.Load(loc.id));
    }
    return loc;
  }

  // The node at `level` that follows the one whose last key is `after`.
  Result<Located> NextNode(int level, const std::string& after) {
    Located loc;
    loc.id = root_;
    LM_ASSIGN_OR_RETURN(loc.node, nodes_.Load(root_));
    while (loc.node->level > level) {
      const auto& keys = loc.node->keys;
      size_t i = std::upper_bound(keys.begin(), keys.end(), after) - keys.begin();
      if (i >= keys.size()) return Located{};
      if (i + 1 < keys.size()) loc.is_last = false;
      loc.id = loc.node->children[i];
      LM_ASSIGN_OR_RETURN(loc.node, nodes_.Load(loc.id));
    }
    return loc;
  }

  static Item ItemAt(const Node& n, size_t i) {
    Item item;
    item.key = n.keys[i];
    if (n.level == 0) {
      item.entry = n.entries[i];
    } else {
      item.child = n.children[i];
    }
    return item;
  }

  Result<LevelResult> RebuildLevel(int level, const EditMap& edits) {
    LevelResult res;
    Chunker chunker(nodes_, batch_, level);
    std::map<std::string, NodeId> removed;  // last key -> id of consumed old nodes
    auto it = edits.begin();
    while (it != edits.end()) {
      LM_ASSIGN_OR_RETURN(Located loc, FindCovering(level, it->first));
      while (true) {
        const Node& node = *loc.node;
        ++res.consumed;
        removed[node.keys.back()] = loc.id;
        // Merge the node's items with the edits that fall in its range.
        auto edit_in_range = [&] {
          return it != edits.end() && (loc.is_last || it->first <= node.keys.back());
        };
        size_t i = 0;
        while (true) {
          bool have_item = i < node.size();
          bool have_edit = edit_in_range();
          if (!have_item && !have_edit) break;
          if (have_edit && (!have_item || it->first <= node.keys[i])) {
            if (have_item && it->first == node.keys[i]) ++i;  // replaced or removed
            if (it->second) chunker.Add(*it->second);
            ++it;
          } else {
            chunker.Add(ItemAt(node, i));
            ++i;
          }
        }
        if (!chunker.open() || loc.is_last) break;
        // The node's closing boundary was removed: its tail joins the next node.
        LM_ASSIGN_OR_RETURN(loc, NextNode(level, node.keys.back()));
        if (!loc.node) break;
      }
    }
    chunker.Finish();
    res.produced = std::move(chunker.produced());
    std::map<std::string, NodeId> added;
    for (const auto& p : res.produced) added[p.last_key] = p.id;
    for (const auto& [key, old_id] : removed) {
      auto a = added.find(key);
      if (a != added.end() && a->second == old_id) {
        added.erase(a);  // rebuilt identically: no change above
        continue;
      }
      res.next_edits[key] = std::nullopt;
    }
    for (auto& [key, id] : added) res.next_edits[key] = Item{key, Entry{}, id};
    return res;
  }

  // A level above the old root: cuts `items` (all present) into nodes.
  LevelResult ChunkAll(int level, const EditMap& items) {
    LevelResult res;
    Chunker chunker(nodes_, batch_, level);
    for (const auto& [key, item] : items) chunker.Add(*item);
    chunker.Finish();
    res.produced = std::move(chunker.produced());
    for (const auto& p : res.produced) res.next_edits[p.last_key] = Item{p.last_key, Entry{}, p.id};
    return res;
  }

  NodeStore& nodes_;
  NodeId root_;
  NodeBatch* batch_;
};

}  // namespace

Result<NodeId> ApplyMutations(NodeStore& nodes, const NodeId& root,
                              const std::vector<Mutation>& mutations, NodeBatch* batch) {
  if (mutations.empty()) return root;
  EditMap edits;
  for (const auto& m : mutations) {
    if (m.entry) {
      edits[m.path] = Item{m.path, *m.entry, NodeId()};
    } else {
      edits[m.path] = std::nullopt;
    }
  }
  Rebuilder r(nodes, root, batch);
  return r.Run(std::move(edits));
}

Result<std::optional<Entry>> GetEntry(NodeStore& nodes, const NodeId& root,
                                      std::string_view path) {
  if (root.empty()) return std::optional<Entry>();
  LM_ASSIGN_OR_RETURN(auto node, nodes.Load(root));
  while (true) {
    const auto& keys = node->keys;
    size_t i = std::lower_bound(keys.begin(), keys.end(), path) - keys.begin();
    if (i >= keys.size()) return std::optional<Entry>();
    if (node->level == 0) {
      if (keys[i] != path) return std::optional<Entry>();
      return std::optional<Entry>(node->entries[i]);
    }
    LM_ASSIGN_OR_RETURN(node, nodes.Load(node->children[i]));
  }
}

Status TreeCursor::Seek(std::string_view target) {
  frames_.clear();
  if (root_.empty()) return Status::OK();
  LM_ASSIGN_OR_RETURN(auto node, nodes_.Load(root_));
  while (true) {
    const auto& keys = node->keys;
    size_t i = std::lower_bound(keys.begin(), keys.end(), target) - keys.begin();
    if (i >= keys.size()) {
      frames_.clear();  // every key is < target
      return Status::OK();
    }
    frames_.push_back(Frame{node, i});
    if (node->level == 0) return Status::OK();
    LM_ASSIGN_OR_RETURN(node, nodes_.Load(node->children[i]));
  }
}

Status TreeCursor::DescendLeftmost() {
  while (!frames_.empty() && frames_.back().node->level > 0) {
    const Frame& f = frames_.back();
    LM_ASSIGN_OR_RETURN(auto child, nodes_.Load(f.node->children[f.idx]));
    frames_.push_back(Frame{std::move(child), 0});
  }
  return Status::OK();
}

Status TreeCursor::AdvanceAt(size_t depth) {
  frames_.resize(depth + 1);
  while (!frames_.empty()) {
    Frame& f = frames_.back();
    if (++f.idx < f.node->size()) break;
    frames_.pop_back();
  }
  return DescendLeftmost();
}

Status TreeCursor::Next() { return AdvanceAt(frames_.size() - 1); }

std::vector<std::pair<size_t, NodeId>> TreeCursor::SubtreesStartingHere() const {
  std::vector<std::pair<size_t, NodeId>> out;
  if (frames_.empty() || frames_.back().idx != 0) return out;
  for (size_t d = frames_.size() - 1; d-- > 0;) {
    out.emplace_back(d, frames_[d].node->children[frames_[d].idx]);
    if (frames_[d].idx != 0) break;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Status TreeCursor::SkipSubtree(size_t depth) { return AdvanceAt(depth); }

Status DiffTrees(NodeStore& nodes, const NodeId& left, const NodeId& right,
                 std::string_view prefix, std::string_view after,
                 const std::function<bool(const Change&)>& fn) {
  if (left == right) return Status::OK();
  TreeCursor a(nodes, left), b(nodes, right);
  std::string start(prefix);
  if (!after.empty() && std::string_view(after) >= prefix) {
    start = std::string(after);
    start.push_back('\0');
  }
  LM_TRY(a.Seek(start));
  LM_TRY(b.Seek(start));
  auto in_range = [&](const TreeCursor& c) {
    return c.Valid() && c.path().compare(0, prefix.size(), prefix) == 0;
  };
  while (true) {
    bool av = in_range(a), bv = in_range(b);
    if (!av && !bv) return Status::OK();
    if (av && bv) {
      int cmp = a.path().compare(b.path());
      if (cmp == 0) {
        bool skipped = false;
        auto sa = a.SubtreesStartingHere();
        if (!sa.empty()) {
          auto sb = b.SubtreesStartingHere();
          for (const auto& [da, ida] : sa) {
            for (const auto& [db, idb] : sb) {
              if (ida == idb) {
                LM_TRY(a.SkipSubtree(da));
                LM_TRY(b.SkipSubtree(db));
                skipped = true;
                break;
              }
            }
            if (skipped) break;
          }
        }
        if (skipped) continue;
        if (!(a.entry() == b.entry())) {
          if (!fn(Change{a.path(), ChangeType::kChanged, a.entry(), b.entry()})) {
            return Status::OK();
          }
        }
        LM_TRY(a.Next());
        LM_TRY(b.Next());
      } else if (cmp < 0) {
        if (!fn(Change{a.path(), ChangeType::kRemoved, a.entry(), std::nullopt})) {
          return Status::OK();
        }
        LM_TRY(a.Next());
      } else {
        if (!fn(Change{b.path(), ChangeType::kAdded, std::nullopt, b.entry()})) {
          return Status::OK();
        }
        LM_TRY(b.Next());
      }
    } else if (av) {
      if (!fn(Change{a.path(), ChangeType::kRemoved, a.entry(), std::nullopt})) {
        return Status::OK();
      }
      LM_TRY(a.Next());
    } else {
      if (!fn(Change{b.path(), ChangeType::kAdded, std::nullopt, b.entry()})) {
        return Status::OK();
      }
      LM_TRY(b.Next());
    }
  }
}

}  // namespace lakemesh::versioning
