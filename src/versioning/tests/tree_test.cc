// Tree tests compare against a std::map model through random edit sequences, and check the
// property the rest of versioning relies on: the same entries give the same root, whatever the
// history.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "base/hash.h"
#include "meta/sqlite_meta_store.h"
#include "storage/memory_blob_store.h"
#include "versioning/tree.h"

namespace lakemesh::versioning {
namespace {

Entry MakeEntry(const std::string& path, int version) {
  Entry e;
  e.address = ContentAddress(ToHex(Sha256(path + std::to_string(version))));
  e.size = path.size() + static_cast<uint64_t>(version);
  e.etag = ToHex(Md5(path));
  e.mtime_micros = 1700000000000000 + version;
  if (version % 3 == 0) e.content_type = "text/csv";
  if (version % 5 == 0) e.metadata["owner"] = "sales";
  if (version % 7 == 0) e.headers["cache-control"] = "max-age=60";
  return e;
}

class TreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = meta::SqliteMetaStore::Open(":memory:");
    ASSERT_TRUE(m.ok());
    meta_ = std::move(*m);
    nodes_ = std::make_unique<NodeStore>(*meta_, blobs_, 1u << 30);
  }

  NodeId Apply(const NodeId& root, std::vector<Mutation> muts) {
    std::sort(muts.begin(), muts.end(),
              [](const Mutation& a, const Mutation& b) { return a.path < b.path; });
    NodeBatch batch;
    auto r = ApplyMutations(*nodes_, root, muts, &batch);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    auto prepared = nodes_->PrepareBatch(batch);
    EXPECT_TRUE(prepared.ok());
    EXPECT_TRUE(
        meta_->Write([&](meta::MetaTxn& t) { return nodes_->WriteBatch(t, *prepared); }).ok());
    return *r;
  }

  std::map<std::string, Entry> Scan(const NodeId& root) {
    std::map<std::string, Entry> out;
    TreeCursor c(*nodes_, root);
    EXPECT_TRUE(c.SeekFirst().ok());
    std::string prev;
    while (c.Valid()) {
      EXPECT_LT(prev, c.path());
      prev.assign(c.path());
      out[std::string(c.path())] = c.entry();
      EXPECT_TRUE(c.Next().ok());
    }
    return out;
  }

  // Builds the tree of `model` from scratch in one batch.
  NodeId Fresh(const std::map<std::string, Entry>& model) {
    std::vector<Mutation> muts;
    for (const auto& [k, v] : model) muts.push_back(Mutation{k, v});
    return Apply(NodeId(), muts);
  }

  std::unique_ptr<meta::MetaStore> meta_;
  storage::MemoryBlobStore blobs_;
  std::unique_ptr<NodeStore> nodes_;
};

TEST_F(TreeTest, NodeEncodingRoundTrips) {
  Node n;
  n.level = 0;
  for (int i = 0; i < 10; ++i) {
    n.keys.push_back("dir/file-" + std::to_string(i));
    n.entries.push_back(MakeEntry(n.keys.back(), i));
  }
  n.entries[3].address = "tables/some-uuid/data.parquet";  // not content addressed
  n.entries[4].etag = "d41d8cd98f00b204e9800998ecf8427e-3";  // multipart form
  auto d = DecodeNode(EncodeNode(n));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->keys, n.keys);
  EXPECT_EQ(d->entries, n.entries);
  // Truncated or garbled nodes are errors, never crashes.
  std::string enc = EncodeNode(n);
  for (size_t cut = 0; cut < enc.size(); cut += 7) {
    EXPECT_FALSE(DecodeNode(std::string_view(enc).substr(0, cut)).ok());
  }
}

TEST_F(TreeTest, EmptyTree) {
  NodeId root = Apply(NodeId(), {Mutation{"a", std::nullopt}});
  EXPECT_TRUE(root.empty());
  EXPECT_FALSE(GetEntry(*nodes_, root, "a")->has_value());
  NodeId one = Apply(root, {Mutation{"a", MakeEntry("a", 1)}});
  EXPECT_FALSE(one.empty());
  EXPECT_TRUE(Apply(one, {Mutation{"a", std::nullopt}}).empty());
}

TEST_F(TreeTest, RandomEditsMatchModelAndAreHistoryIndependent) {
  std::mt19937 rng(42);
  std::map<std::string, Entry> model;
  NodeId root;
  for (int round = 0; round < 40; ++round) {
    std::map<std::string, std::optional<Entry>> batch;
    int n = round < 5 ? 3000 : static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) {
      std::string key = "d" + std::to_string(rng() % 50) + "/f" + std::to_string(rng() % 400);
      if (rng() % 4 == 0) {
        batch[key] = std::nullopt;
      } else {
        batch[key] = MakeEntry(key, round);
      }
    }
    std::vector<Mutation> muts;
    for (auto& [k, v] : batch) {
      muts.push_back(Mutation{k, v});
      if (v) {
        model[k] = *v;
      } else {
        model.erase(k);
      }
    }
    root = Apply(root, muts);
    ASSERT_EQ(Scan(root), model) << "round " << round;
    ASSERT_EQ(root, Fresh(model)) << "history independence broken at round " << round;
  }
  ASSERT_GT(model.size(), 1000u);
  for (const auto& [k, v] : model) {
    auto got = GetEntry(*nodes_, root, k);
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_value()) << k;
    EXPECT_EQ(**got, v);
  }
  EXPECT_FALSE(GetEntry(*nodes_, root, "zzz")->has_value());
  EXPECT_FALSE(GetEntry(*nodes_, root, "d0/f")->has_value());
}

// Small batches appended near the end of the key space, as concurrent uploaders produce: this
// once lost early entries when the tree grew a level.
TEST_F(TreeTest, SmallAppendBatchesKeepEveryEntry) {
  std::map<std::string, Entry> model;
  NodeId root;
  std::mt19937 rng(3);
  int next[3] = {0, 0, 0};
  for (int round = 0; round < 3000; ++round) {
    std::vector<Mutation> muts;
    int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      int w = static_cast<int>(rng() % 3);
      char key[32];
      std::snprintf(key, sizeof(key), "w%d/%05d.bin", w, next[w]++);
      muts.push_back(Mutation{key, MakeEntry(key, round)});
      model[key] = *muts.back().entry;
    }
    root = Apply(root, muts);
    if (round % 100 == 99 || round < 200) {
      ASSERT_EQ(Scan(root).size(), model.size()) << "round " << round;
      ASSERT_EQ(root, Fresh(model)) << "round " << round;
    }
  }
}

// Regression: a root whose last key is a boundary, rebuilt unchanged while a new node is added
// beside it, was dropped from the level above (all its entries lost).
TEST_F(TreeTest, AppendAfterABoundaryTerminatedRootKeepsTheRoot) {
  std::vector<std::string> keys;
  for (int i = 0;; ++i) {
    char k[16];
    std::snprintf(k, sizeof(k), "k%05d", i);
    keys.push_back(k);
    if (IsBoundary(k, 0)) break;  // the first boundary: one leaf ending with it
  }
  std::map<std::string, Entry> model;
  for (const auto& k : keys) model[k] = MakeEntry(k, 1);
  NodeId root = Fresh(model);
  ASSERT_EQ((*nodes_->Load(root))->level(), 0);
  model["zzz"] = MakeEntry("zzz", 1);
  root = Apply(root, {Mutation{"zzz", model["zzz"]}});
  EXPECT_EQ(Scan(root), model);
  EXPECT_EQ(root, Fresh(model));
}

// Appending one key at a time grows the tree through every level transition.
TEST_F(TreeTest, AppendingOneKeyAtATimeKeepsEverything) {
  std::map<std::string, Entry> model;
  NodeId root;
  for (int i = 0; i < 6000; ++i) {
    char k[16];
    std::snprintf(k, sizeof(k), "a%06d", i);
    model[k] = MakeEntry(k, i);
    root = Apply(root, {Mutation{k, model[k]}});
    if (i % 500 == 499) {
      ASSERT_EQ(Scan(root).size(), model.size()) << i;
      ASSERT_EQ(root, Fresh(model)) << i;
    } else {
      ASSERT_TRUE(GetEntry(*nodes_, root, "a000000")->has_value()) << i;
    }
  }
}

// Tiny random batches of inserts and deletes, each result compared with a fresh build.
TEST_F(TreeTest, TinyRandomBatchesStayCanonical) {
  std::mt19937 rng(11);
  std::map<std::string, Entry> model;
  NodeId root;
  for (int round = 0; round < 800; ++round) {
    std::map<std::string, std::optional<Entry>> batch;
    int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      std::string key = "k" + std::to_string(rng() % 1000);
      if (rng() % 5 == 0 && !model.empty()) {
        batch[key] = std::nullopt;
      } else {
        batch[key] = MakeEntry(key, round);
      }
    }
    std::vector<Mutation> muts;
    for (auto& [k, v] : batch) {
      muts.push_back(Mutation{k, v});
      if (v) {
        model[k] = *v;
      } else {
        model.erase(k);
      }
    }
    root = Apply(root, muts);
    ASSERT_EQ(root, Fresh(model)) << "round " << round;
  }
  ASSERT_EQ(Scan(root), model);
}

TEST_F(TreeTest, LargeBatchesAreReadBackFromPacksWithAColdCache) {
  std::map<std::string, Entry> model;
  for (int i = 0; i < 20000; ++i) {
    std::string k = "p/" + std::to_string(i);
    model[k] = MakeEntry(k, i);
  }
  NodeId root = Fresh(model);  // well over kInlineLimit: written as a pack
  int packs = 0;
  ASSERT_TRUE(blobs_.List("packs/", [&](const storage::BlobInfo&) {
    ++packs;
    return Status::OK();
  }).ok());
  EXPECT_EQ(packs, 1);
  NodeStore cold(*meta_, blobs_, 4096);  // nearly no cache: every read goes to the pack
  TreeCursor c(cold, root);
  ASSERT_TRUE(c.SeekFirst().ok());
  size_t n = 0;
  while (c.Valid()) {
    ++n;
    ASSERT_TRUE(c.Next().ok());
  }
  EXPECT_EQ(n, model.size());
  // A damaged pack is reported, not trusted.
  std::string key;
  ASSERT_TRUE(blobs_.List("packs/", [&](const storage::BlobInfo& i) {
    key = i.key;
    return Status::OK();
  }).ok());
  auto data = storage::ReadAll(blobs_, key);
  ASSERT_TRUE(blobs_.Delete(key).ok());
  std::string bad = *data;
  bad[bad.size() / 2] ^= 1;
  ASSERT_TRUE(storage::WriteAll(blobs_, key, bad).ok());
  NodeStore cold2(*meta_, blobs_, 4096);
  TreeCursor c2(cold2, root);
  Status st = c2.SeekFirst();
  while (st.ok() && c2.Valid()) st = c2.Next();
  EXPECT_EQ(st.code(), ErrorCode::kInternal);
  EXPECT_NE(st.message().find("corrupt"), std::string::npos);
}

TEST_F(TreeTest, DeletingEverythingInBatchesEmptiesTheTree) {
  std::map<std::string, Entry> model;
  for (int i = 0; i < 5000; ++i) model["k" + std::to_string(i)] = MakeEntry("k", i);
  NodeId root = Fresh(model);
  std::vector<std::string> keys;
  for (auto& [k, v] : model) keys.push_back(k);
  for (size_t start = 0; start < keys.size(); start += 700) {
    std::vector<Mutation> muts;
    for (size_t i = start; i < std::min(keys.size(), start + 700); ++i) {
      muts.push_back(Mutation{keys[i], std::nullopt});
      model.erase(keys[i]);
    }
    root = Apply(root, muts);
    ASSERT_EQ(root, Fresh(model));
  }
  EXPECT_TRUE(root.empty());
}

TEST_F(TreeTest, SeekAndPrefixIteration) {
  std::map<std::string, Entry> model;
  for (int i = 0; i < 3000; ++i) {
    std::string k = "p" + std::to_string(i % 7) + "/" + std::to_string(i);
    model[k] = MakeEntry(k, i);
  }
  NodeId root = Fresh(model);
  TreeCursor c(*nodes_, root);
  ASSERT_TRUE(c.Seek("p3/").ok());
  auto it = model.lower_bound("p3/");
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(c.Valid());
    ASSERT_EQ(c.path(), it->first);
    ASSERT_TRUE(c.Next().ok());
    ++it;
  }
  ASSERT_TRUE(c.Seek("zz").ok());
  EXPECT_FALSE(c.Valid());
}

TEST_F(TreeTest, DiffReportsExactlyTheChanges) {
  std::map<std::string, Entry> a;
  for (int i = 0; i < 20000; ++i) {
    std::string k = "f/" + std::to_string(i);
    a[k] = MakeEntry(k, 0);
  }
  auto b = a;
  std::map<std::string, ChangeType> want;
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string k = "f/" + std::to_string(rng() % 20000);
    if (want.count(k)) continue;
    if (i % 3 == 0) {
      b.erase(k);
      want[k] = ChangeType::kRemoved;
    } else {
      b[k] = MakeEntry(k, 1);
      want[k] = ChangeType::kChanged;
    }
  }
  for (int i = 0; i < 100; ++i) {
    std::string k = "g/" + std::to_string(i);
    b[k] = MakeEntry(k, 2);
    want[k] = ChangeType::kAdded;
  }
  NodeId ra = Fresh(a), rb = Fresh(b);
  std::map<std::string, ChangeType> got;
  ASSERT_TRUE(DiffTrees(*nodes_, ra, rb, "", "", [&](const Change& c) {
    got[c.path] = c.type;
    return true;
  }).ok());
  EXPECT_EQ(got, want);
  // Prefix and pagination.
  std::vector<std::string> paged;
  std::string after;
  while (true) {
    size_t n = 0;
    std::string last;
    ASSERT_TRUE(DiffTrees(*nodes_, ra, rb, "g/", after, [&](const Change& c) {
      paged.push_back(c.path);
      last = c.path;
      return ++n < 30;
    }).ok());
    if (n == 0) break;
    after = last;
  }
  EXPECT_EQ(paged.size(), 100u);
  // Identical trees diff to nothing.
  int calls = 0;
  ASSERT_TRUE(DiffTrees(*nodes_, ra, Fresh(a), "", "", [&](const Change&) {
    ++calls;
    return true;
  }).ok());
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace lakemesh::versioning
