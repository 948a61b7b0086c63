#include "versioning/tree.h"

#include <algorithm>

#include "base/coding.h"
#include "base/hash.h"
#include "base/random.h"

namespace lakemesh::versioning {

namespace {

constexpr uint8_t kNodeFormat = 1;
constexpr size_t kIdSize = 32;

}  // namespace

bool IsBoundary(std::string_view key, int level) {
  uint64_t fanout = level == 0 ? kLeafFanout : kInternalFanout;
  return (Hash64(key, static_cast<uint64_t>(level) + 1) & (fanout - 1)) == 0;
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
      EncodeEntry(&out, node.entries[i]);
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
      if (!DecodeEntry(d, &node.entries[i])) return Internal("corrupt tree node entry");
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

Result<std::shared_ptr<const ParsedNode>> ParsedNode::Parse(
    std::shared_ptr<const std::string> encoded) {
  std::shared_ptr<ParsedNode> out(new ParsedNode());
  ParsedNode& n = *out;
  n.encoded_ = std::move(encoded);
  const std::string& buf = *n.encoded_;
  Decoder d(buf);
  uint8_t format;
  uint64_t level, count;
  if (!d.GetByte(&format) || format != kNodeFormat || !d.GetVarint64(&level) || level > 64 ||
      !d.GetVarint64(&count) || count == 0 || count > d.remaining()) {
    return Internal("corrupt tree node header");
  }
  n.level_ = static_cast<int>(level);
  n.items_.reserve(count);
  std::vector<std::pair<size_t, size_t>> spans;  // (offset, length) in key_bytes_
  spans.reserve(count);
  n.key_bytes_.reserve(buf.size());
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t shared;
    std::string_view suffix;
    if (!d.GetVarint64(&shared) || (i == 0 ? shared != 0 : shared > spans.back().second) ||
        !d.GetLengthPrefixed(&suffix)) {
      return Internal("corrupt tree node key");
    }
    size_t start = n.key_bytes_.size();
    if (i > 0) n.key_bytes_.append(n.key_bytes_, spans.back().first, shared);
    n.key_bytes_.append(suffix);
    spans.emplace_back(start, n.key_bytes_.size() - start);
    if (i > 0) {
      std::string_view kb(n.key_bytes_);
      if (kb.substr(start) <= kb.substr(spans[i - 1].first, spans[i - 1].second)) {
        return Internal("corrupt tree node: keys out of order");
      }
    }
    size_t before = d.remaining();
    if (level == 0) {
      if (!SkipEntry(d)) return Internal("corrupt tree node entry");
    } else {
      std::string_view child;
      if (!d.GetBytes(kIdSize, &child)) return Internal("corrupt tree node child");
    }
    n.items_.push_back(std::string_view(buf).substr(buf.size() - before, before - d.remaining()));
  }
  if (!d.empty()) return Internal("corrupt tree node: trailing bytes");
  n.key_bytes_.shrink_to_fit();  // before the views below are taken
  n.keys_.reserve(count);
  for (const auto& [off, len] : spans) n.keys_.emplace_back(n.key_bytes_.data() + off, len);
  return std::shared_ptr<const ParsedNode>(std::move(out));
}

Entry ParsedNode::entry(size_t i) const {
  Entry e;
  Decoder d(items_[i]);
  LM_CHECK(DecodeEntry(d, &e));  // Parse checked every entry
  return e;
}

size_t ParsedNode::memory() const {
  return sizeof(ParsedNode) + encoded_->size() + key_bytes_.capacity() +
         (keys_.capacity() + items_.capacity()) * sizeof(std::string_view) + 64;
}

Status NodeStore::AddEncoded(const NodeId& id, std::shared_ptr<const std::string> encoded) {
  LM_ASSIGN_OR_RETURN(auto node, ParsedNode::Parse(std::move(encoded)));
  size_t bytes = node->memory();
  cache_.Put(id, std::move(node), bytes);
  return Status::OK();
}

// Index row: u8 kind | kInline: node bytes | kPacked: varint offset, varint length, pack key.
namespace {
constexpr uint8_t kInline = 0;
constexpr uint8_t kPacked = 1;
}  // namespace

Result<std::shared_ptr<const ParsedNode>> NodeStore::Load(const NodeId& id) {
  if (auto n = cache_.Get(id)) return n;
  LM_ASSIGN_OR_RETURN(auto enc, Fetch(id));
  LM_ASSIGN_OR_RETURN(auto node, ParsedNode::Parse(std::move(enc)));
  cache_.Put(id, node, node->memory());
  return node;
}

Result<std::shared_ptr<const std::string>> NodeStore::Fetch(const NodeId& id) {
  LM_ASSIGN_OR_RETURN(auto row, meta_.Get(NodeKey(id)));
  if (!row || row->empty()) return Internal("tree node " + ToHex(id) + " is missing");
  std::string packed;
  std::string_view data;
  if (static_cast<uint8_t>((*row)[0]) == kInline) {
    data = std::string_view(*row).substr(1);
  } else {
    Decoder d(std::string_view(*row).substr(1));
    uint64_t offset, length;
    if (static_cast<uint8_t>((*row)[0]) != kPacked || !d.GetVarint64(&offset) ||
        !d.GetVarint64(&length) || length > (64u << 20)) {
      return Internal("corrupt index row of tree node " + ToHex(id));
    }
    std::string_view key;
    d.GetBytes(d.remaining(), &key);
    LM_ASSIGN_OR_RETURN(auto reader, blobs_.Open(std::string(key), offset, length));
    packed.resize(length);
    size_t got = 0;
    while (got < length) {
      LM_ASSIGN_OR_RETURN(size_t n, reader->Read(packed.data() + got, length - got));
      if (n == 0) return Internal("pack of tree node " + ToHex(id) + " is truncated");
      got += n;
    }
    data = packed;
  }
  if (Sha256(data) != id) return Internal("tree node " + ToHex(id) + " is corrupt");
  return std::make_shared<const std::string>(data);
}

Result<PreparedNodes> NodeStore::PrepareBatch(const NodeBatch& batch) {
  PreparedNodes out;
  out.rows.reserve(batch.size());
  size_t total = 0;
  for (const auto& [id, data] : batch) total += data->size();
  if (total <= kInlineLimit) {
    for (const auto& [id, data] : batch) {
      std::string row(1, static_cast<char>(kInline));
      row += *data;
      out.rows.push_back(meta::KeyValue{NodeKey(id), std::move(row)});
    }
    return out;
  }
  std::string uuid = NewUuid();
  std::string key = "packs/" + uuid.substr(0, 2) + "/" + uuid;
  LM_ASSIGN_OR_RETURN(auto writer, blobs_.NewWriter());
  std::vector<std::shared_ptr<const std::string>> parts;
  parts.reserve(batch.size());
  uint64_t offset = 0;
  for (const auto& [id, data] : batch) {
    std::string row(1, static_cast<char>(kPacked));
    PutVarint64(&row, offset);
    PutVarint64(&row, data->size());
    row += key;
    out.rows.push_back(meta::KeyValue{NodeKey(id), std::move(row)});
    offset += data->size();
    parts.push_back(data);
  }
  out.pack_durable =
      std::async(std::launch::async,
                 [writer = std::move(writer), parts = std::move(parts), key]() -> Status {
                   std::string buf;
                   for (const auto& part : parts) {
                     buf += *part;
                     if (buf.size() >= (1 << 20)) {
                       LM_TRY(writer->Append(buf));
                       buf.clear();
                     }
                   }
                   LM_TRY(writer->Append(buf));
                   return writer->Commit(key);
                 })
          .share();
  return out;
}

Status NodeStore::WriteBatch(meta::MetaTxn& txn, const PreparedNodes& prepared) {
  for (const auto& row : prepared.rows) LM_TRY(txn.Put(row.key, row.value));
  if (prepared.pack_durable.valid()) {
    LM_TRY_CTX(prepared.pack_durable.get(), "writing a node pack");
  }
  return Status::OK();
}

namespace {

// An edited item of a level being rebuilt: its key and encoding (an entry, or a child id).
// Unchanged items are not copied into Items: their bytes go from the source node to the chunker.
struct Item {
  std::string key;
  std::string bytes;

  static Item Owned(std::string key, std::string bytes) { return Item{std::move(key), std::move(bytes)}; }
  std::string_view data() const { return bytes; }
};

using EditMap = std::map<std::string, std::optional<Item>>;

struct Produced {
  std::string last_key;
  NodeId id;
};

// Cuts a sequence of items of one level into nodes at boundary keys, encoding them directly.
class Chunker {
 public:
  Chunker(NodeStore& nodes, NodeBatch* batch, int level)
      : nodes_(nodes), batch_(batch), level_(level) {}

  void Add(std::string_view key, std::string_view data) {
    if (count_ == 0) {
      out_.clear();
      prev_.clear();
    }
    size_t shared = 0;
    while (shared < prev_.size() && shared < key.size() && prev_[shared] == key[shared]) ++shared;
    PutVarint64(&body_, shared);
    PutLengthPrefixed(&body_, key.substr(shared));
    body_.append(data);
    prev_ = key;
    ++count_;
    if (IsBoundary(key, level_)) Emit();
  }
  bool open() const { return count_ > 0; }
  void Finish() {
    if (count_ > 0) Emit();
  }
  // Not OK if a node this chunker built does not parse back (a bug).
  const Status& status() const { return status_; }
  std::vector<Produced>& produced() { return produced_; }

 private:
  void Emit() {
    out_.push_back(static_cast<char>(kNodeFormat));
    PutVarint64(&out_, static_cast<uint64_t>(level_));
    PutVarint64(&out_, count_);
    out_.append(body_);
    auto enc = std::make_shared<const std::string>(std::move(out_));
    NodeId id = Sha256(*enc);
    produced_.push_back(Produced{prev_, id});
    if (status_.ok()) status_ = nodes_.AddEncoded(id, enc);
    (*batch_)[id] = std::move(enc);
    out_ = std::string();
    out_.reserve(body_.size() + 16);
    body_.clear();
    count_ = 0;
  }

  NodeStore& nodes_;
  NodeBatch* batch_;
  int level_;
  std::string out_, body_, prev_;
  uint64_t count_ = 0;
  std::vector<Produced> produced_;
  Status status_;
};

struct Located {
  std::shared_ptr<const ParsedNode> node;  // null when there is no such node
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
      root_level = r->level();
      root_last_key = std::string(r->keys().back());
    }
    for (int level = 0;; ++level) {
      LevelResult res;
      if (level <= root_level) {
        LM_ASSIGN_OR_RETURN(res, RebuildLevel(level, edits));
      } else {
        // Above the old root. The level just above it holds one item, the old root itself:
        // edits may leave it in place (when it was rebuilt unchanged) and only add beside it.
        EditMap items;
        if (level == root_level + 1 && !root_.empty()) {
          items[root_last_key] = Item::Owned(root_last_key, root_);
        }
        for (auto& [key, item] : edits) {
          if (item) {
            items[key] = std::move(*item);
          } else {
            items.erase(key);
          }
        }
        LM_ASSIGN_OR_RETURN(res, ChunkAll(level, items));
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

 private:
  // The canonical root is the lowest level with a single node.
  Result<NodeId> Collapse(NodeId id) {
    while (true) {
      LM_ASSIGN_OR_RETURN(auto n, nodes_.Load(id));
      if (n->level() == 0 || n->size() != 1) return id;
      id = n->child(0);
    }
  }

  // The node at `level` whose range holds `key`: the first whose last key is >= key, else the last.
  Result<Located> FindCovering(int level, const std::string& key) {
    Located loc;
    loc.id = root_;
    LM_ASSIGN_OR_RETURN(loc.node, nodes_.Load(root_));
    while (loc.node->level() > level) {
      const auto& keys = loc.node->keys();
      size_t i = std::lower_bound(keys.begin(), keys.end(), key) - keys.begin();
      if (i >= keys.size()) i = keys.size() - 1;
      if (i + 1 < keys.size()) loc.is_last = false;
      loc.id = loc.node->child(i);
      LM_ASSIGN_OR_RETURN(loc.node, nodes_.Load(loc.id));
    }
    return loc;
  }

  // The node at `level` that follows the one whose last key is `after`.
  Result<Located> NextNode(int level, const std::string& after) {
    Located loc;
    loc.id = root_;
    LM_ASSIGN_OR_RETURN(loc.node, nodes_.Load(root_));
    while (loc.node->level() > level) {
      const auto& keys = loc.node->keys();
      size_t i = std::upper_bound(keys.begin(), keys.end(), after) - keys.begin();
      if (i >= keys.size()) return Located{};
      if (i + 1 < keys.size()) loc.is_last = false;
      loc.id = loc.node->child(i);
      LM_ASSIGN_OR_RETURN(loc.node, nodes_.Load(loc.id));
    }
    return loc;
  }

  Result<LevelResult> RebuildLevel(int level, const EditMap& edits) {
    LevelResult res;
    Chunker chunker(nodes_, batch_, level);
    std::map<std::string, NodeId> removed;  // last key -> id of consumed old nodes
    auto it = edits.begin();
    while (it != edits.end()) {
      LM_ASSIGN_OR_RETURN(Located loc, FindCovering(level, it->first));
      while (true) {
        const ParsedNode& node = *loc.node;
        ++res.consumed;
        removed[std::string(node.keys().back())] = loc.id;
        // Merge the node's items with the edits that fall in its range.
        auto edit_in_range = [&] {
          return it != edits.end() && (loc.is_last || it->first <= node.keys().back());
        };
        size_t i = 0;
        while (true) {
          bool have_item = i < node.size();
          bool have_edit = edit_in_range();
          if (!have_item && !have_edit) break;
          if (have_edit && (!have_item || it->first <= node.key(i))) {
            if (have_item && it->first == node.key(i)) ++i;  // replaced or removed
            if (it->second) chunker.Add(it->first, it->second->data());
            ++it;
          } else {
            chunker.Add(node.key(i), node.item(i));
            ++i;
          }
        }
        if (!chunker.open() || loc.is_last) break;
        // The node's closing boundary was removed: its tail joins the next node.
        LM_ASSIGN_OR_RETURN(loc, NextNode(level, std::string(node.keys().back())));
        if (!loc.node) break;
      }
    }
    chunker.Finish();
    LM_TRY(chunker.status());
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
    for (auto& [key, id] : added) res.next_edits[key] = Item::Owned(key, id);
    return res;
  }

  // A level above the old root: cuts `items` (all present) into nodes.
  Result<LevelResult> ChunkAll(int level, const EditMap& items) {
    LevelResult res;
    Chunker chunker(nodes_, batch_, level);
    for (const auto& [key, item] : items) chunker.Add(key, item->data());
    chunker.Finish();
    LM_TRY(chunker.status());
    res.produced = std::move(chunker.produced());
    for (const auto& p : res.produced) res.next_edits[p.last_key] = Item::Owned(p.last_key, p.id);
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
      std::string enc;
      EncodeEntry(&enc, *m.entry);
      edits[m.path] = Item::Owned(m.path, std::move(enc));
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
    const auto& keys = node->keys();
    size_t i = std::lower_bound(keys.begin(), keys.end(), path) - keys.begin();
    if (i >= keys.size()) return std::optional<Entry>();
    if (node->level() == 0) {
      if (keys[i] != path) return std::optional<Entry>();
      return std::optional<Entry>(node->entry(i));
    }
    LM_ASSIGN_OR_RETURN(node, nodes.Load(node->child(i)));
  }
}

Status TreeCursor::Seek(std::string_view target) {
  frames_.clear();
  if (root_.empty()) return Status::OK();
  current_.reset();
  LM_ASSIGN_OR_RETURN(auto node, nodes_.Load(root_));
  while (true) {
    const auto& keys = node->keys();
    size_t i = std::lower_bound(keys.begin(), keys.end(), target) - keys.begin();
    if (i >= keys.size()) {
      frames_.clear();  // every key is < target
      return Status::OK();
    }
    frames_.push_back(Frame{node, i});
    if (node->level() == 0) return Status::OK();
    LM_ASSIGN_OR_RETURN(node, nodes_.Load(node->child(i)));
  }
}

const Entry& TreeCursor::entry() const {
  if (!current_) current_ = leaf().entry(frames_.back().idx);
  return *current_;
}

void TreeCursor::AdvanceAt(size_t depth) {
  current_.reset();
  frames_.resize(depth + 1);
  while (!frames_.empty()) {
    Frame& f = frames_.back();
    if (++f.idx < f.node->size()) return;
    frames_.pop_back();
  }
}

Status TreeCursor::DescendOne() {
  const Frame& f = frames_.back();
  LM_ASSIGN_OR_RETURN(auto child, nodes_.Load(f.node->child(f.idx)));
  frames_.push_back(Frame{std::move(child), 0});
  return Status::OK();
}

Status TreeCursor::Materialize() {
  while (pending()) LM_TRY(DescendOne());
  return Status::OK();
}

Status TreeCursor::NextLazy() {
  AdvanceAt(frames_.size() - 1);
  return Status::OK();
}

void TreeCursor::SkipPending() { AdvanceAt(frames_.size() - 1); }

Status TreeCursor::Next() {
  AdvanceAt(frames_.size() - 1);
  return Materialize();
}

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
    // Skip what both trees share without loading it: two cursors before unloaded subtrees with
    // the same id stand at the same position (equal subtrees start with the same path).
    while (a.Valid() && b.Valid() && (a.pending() || b.pending())) {
      if (a.pending() && b.pending() && a.pending_level() == b.pending_level()) {
        if (a.pending_id() == b.pending_id()) {
          a.SkipPending();
          b.SkipPending();
        } else {
          LM_TRY(a.DescendOne());
          LM_TRY(b.DescendOne());
        }
      } else if (a.pending() && (!b.pending() || a.pending_level() > b.pending_level())) {
        LM_TRY(a.DescendOne());
      } else {
        LM_TRY(b.DescendOne());
      }
    }
    LM_TRY(a.Materialize());
    LM_TRY(b.Materialize());
    bool av = in_range(a), bv = in_range(b);
    if (!av && !bv) return Status::OK();
    int cmp = av && bv ? a.path().compare(b.path()) : (av ? -1 : 1);
    bool more;
    if (cmp == 0) {
      more = a.raw_entry() == b.raw_entry() ||
             fn(Change{std::string(a.path()), ChangeType::kChanged, a.entry(), b.entry()});
      LM_TRY(a.NextLazy());
      LM_TRY(b.NextLazy());
    } else if (cmp < 0) {
      more = fn(Change{std::string(a.path()), ChangeType::kRemoved, a.entry(), std::nullopt});
      LM_TRY(a.NextLazy());
    } else {
      more = fn(Change{std::string(b.path()), ChangeType::kAdded, std::nullopt, b.entry()});
      LM_TRY(b.NextLazy());
    }
    if (!more) return Status::OK();
  }
}

}  // namespace lakemesh::versioning
