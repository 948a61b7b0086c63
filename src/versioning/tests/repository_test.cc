#include "versioning/repository.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "base/time.h"
#include "meta/sqlite_meta_store.h"
#include "storage/memory_blob_store.h"

namespace lakemesh::versioning {
namespace {

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = meta::SqliteMetaStore::Open(":memory:");
    ASSERT_TRUE(m.ok());
    meta_ = std::move(*m);
    repos_ = std::make_unique<Repositories>(*meta_, blobs_);
    ASSERT_TRUE(repos_->CreateRepo("sales", "main", "alice").ok());
  }

  void Put(const std::string& branch, const std::string& path, const std::string& data,
           const std::string& repo = "sales") {
    auto up = repos_->NewUpload();
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Append(data).ok());
    PutOptions opts;
    opts.content_type = "text/plain";
    auto r = repos_->PutObject(repo, branch, path, std::move(*up), opts);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::string Read(const std::string& ref, const std::string& path) {
    auto info = repos_->StatObject("sales", ref, path);
    if (!info.ok()) return "<" + info.status().ToString() + ">";
    auto reader = repos_->OpenObject(info->entry);
    EXPECT_TRUE(reader.ok());
    std::string out(info->entry.size, '\0');
    size_t off = 0;
    while (off < out.size()) {
      auto n = (*reader)->Read(out.data() + off, out.size() - off);
      EXPECT_TRUE(n.ok());
      off += *n;
    }
    return out;
  }

  Commit MustCommit(const std::string& branch, const std::string& msg) {
    auto c = repos_->CommitBranch("sales", branch, CommitOptions{msg, "alice", {}, false, ""});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Commit{};
  }

  std::vector<std::string> Paths(const std::string& ref, ListOptions opts = {}) {
    auto l = repos_->ListObjects("sales", ref, opts);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    std::vector<std::string> out;
    for (const auto& p : l->common_prefixes) out.push_back(p);
    for (const auto& o : l->objects) out.push_back(o.path);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<meta::MetaStore> meta_;
  storage::MemoryBlobStore blobs_;
  std::unique_ptr<Repositories> repos_;
};

TEST_F(RepositoryTest, RepositoryLifecycle) {
  EXPECT_EQ(repos_->CreateRepo("sales", "main", "bob").status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(repos_->CreateRepo("Bad_Name", "main", "bob").status().code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(repos_->CreateRepo("customers", "main", "bob").ok());
  auto list = repos_->ListRepos("", 100);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "customers");
  EXPECT_EQ(repos_->ListRepos("customers", 100)->size(), 1u);
  ASSERT_TRUE(repos_->DeleteRepo("customers").ok());
  EXPECT_EQ(repos_->GetRepo("customers").status().code(), ErrorCode::kNotFound);
  // The first commit exists and the branch points at it.
  auto main = repos_->GetCommit("sales", "main");
  ASSERT_TRUE(main.ok());
  EXPECT_EQ(main->message, "Repository created");
  EXPECT_TRUE(main->parents.empty());
}

TEST_F(RepositoryTest, LargeUploadsArePipelinedAndExact) {
  // Past 256 KiB an upload hashes and writes on other threads; bytes and digests must not change.
  std::string data;
  for (int i = 0; data.size() < (3u << 20) + 12345; ++i) data += std::to_string(i * 7919) + ",";
  auto up = repos_->NewUpload();
  ASSERT_TRUE(up.ok());
  for (size_t off = 0, step = 1; off < data.size(); off += step, step = step * 3 % 100003 + 1) {
    ASSERT_TRUE((*up)->Append(std::string_view(data).substr(off, step)).ok());
  }
  EXPECT_EQ((*up)->size(), data.size());
  auto o = repos_->PutObject("sales", "main", "big.csv", std::move(*up), PutOptions());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->entry.etag, ToHex(Md5(data)));
  EXPECT_EQ(o->entry.address, ContentAddress(ToHex(Sha256(data))));
  EXPECT_EQ(Read("main", "big.csv"), data);
  // An upload dropped half-way leaves nothing behind and no thread running.
  auto dropped = repos_->NewUpload();
  ASSERT_TRUE(dropped.ok());
  ASSERT_TRUE((*dropped)->Append(data).ok());
  dropped->reset();
}

TEST_F(RepositoryTest, StagedWritesAreVisibleOnTheBranchOnly) {
  ASSERT_TRUE(repos_->CreateBranch("sales", "dev", "main").ok());
  Put("dev", "raw/orders.csv", "id,amount\n1,10\n");
  EXPECT_EQ(Read("dev", "raw/orders.csv"), "id,amount\n1,10\n");
  EXPECT_EQ(repos_->StatObject("sales", "main", "raw/orders.csv").status().code(),
            ErrorCode::kNotFound);
  auto changes = repos_->Changes("sales", "dev", {});
  ASSERT_EQ(changes->changes.size(), 1u);
  EXPECT_EQ(changes->changes[0].type, ChangeType::kAdded);
  Commit c = MustCommit("dev", "load orders");
  EXPECT_EQ(repos_->Changes("sales", "dev", {})->changes.size(), 0u);
  EXPECT_EQ(Read(c.id, "raw/orders.csv"), "id,amount\n1,10\n");
  EXPECT_EQ(Read(c.id.substr(0, 8), "raw/orders.csv"), "id,amount\n1,10\n");
  // Nothing left to commit.
  EXPECT_EQ(repos_->CommitBranch("sales", "dev", {"again", "alice", {}, false, ""}).status().code(),
            ErrorCode::kPreconditionFailed);
  // Deletion is staged too, and put-then-delete of a new path is no change at all.
  ASSERT_TRUE(repos_->DeleteObject("sales", "dev", "raw/orders.csv").ok());
  EXPECT_EQ(repos_->StatObject("sales", "dev", "raw/orders.csv").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(repos_->DeleteObject("sales", "dev", "raw/orders.csv").code(), ErrorCode::kNotFound);
  Put("dev", "tmp/x", "x");
  ASSERT_TRUE(repos_->DeleteObject("sales", "dev", "tmp/x").ok());
  auto ch = repos_->Changes("sales", "dev", {});
  ASSERT_EQ(ch->changes.size(), 1u);
  EXPECT_EQ(ch->changes[0].type, ChangeType::kRemoved);
  EXPECT_EQ(*repos_->DiscardChanges("sales", "dev", ""), 2u);
  EXPECT_EQ(Read("dev", "raw/orders.csv"), "id,amount\n1,10\n");
}

TEST_F(RepositoryTest, ListingWithDelimiterAndPagination) {
  for (const char* p : {"a.csv", "raw/2026/01.csv", "raw/2026/02.csv", "raw/2025/12.csv",
                        "raw/readme.md", "zeta/x"}) {
    Put("main", p, p);
  }
  MustCommit("main", "files");
  Put("main", "raw/2027/01.csv", "staged");
  ASSERT_TRUE(repos_->DeleteObject("sales", "main", "zeta/x").ok());
  EXPECT_EQ(Paths("main", {"", "/", "", 1000}),
            (std::vector<std::string>{"a.csv", "raw/"}));
  EXPECT_EQ(Paths("main", {"raw/", "/", "", 1000}),
            (std::vector<std::string>{"raw/2025/", "raw/2026/", "raw/2027/", "raw/readme.md"}));
  EXPECT_EQ(Paths("main~0", {"raw/", "/", "", 1000}).size(), 3u);  // without the staged 2027/
  // Pages of 2 cover everything exactly once.
  std::vector<std::string> all;
  ListOptions o{"", "", "", 2};
  while (true) {
    auto l = repos_->ListObjects("sales", "main", o);
    ASSERT_TRUE(l.ok());
    for (const auto& obj : l->objects) all.push_back(obj.path);
    if (!l->truncated) break;
    o.after = l->next_after;
  }
  EXPECT_EQ(all, (std::vector<std::string>{"a.csv", "raw/2025/12.csv", "raw/2026/01.csv",
                                           "raw/2026/02.csv", "raw/2027/01.csv",
                                           "raw/readme.md"}));
  // Paging over common prefixes.
  auto p1 = repos_->ListObjects("sales", "main", {"raw/", "/", "", 1});
  ASSERT_TRUE(p1->truncated);
  EXPECT_EQ(p1->common_prefixes, std::vector<std::string>{"raw/2025/"});
  auto p2 = repos_->ListObjects("sales", "main", {"raw/", "/", p1->next_after, 1});
  EXPECT_EQ(p2->common_prefixes, std::vector<std::string>{"raw/2026/"});
}

TEST_F(RepositoryTest, RefExpressions) {
  Commit c1 = (Put("main", "f", "1"), MustCommit("main", "one"));
  Commit c2 = (Put("main", "f", "2"), MustCommit("main", "two"));
  Commit c3 = (Put("main", "f", "3"), MustCommit("main", "three"));
  EXPECT_EQ(repos_->GetCommit("sales", "main")->id, c3.id);
  EXPECT_EQ(repos_->GetCommit("sales", "main~1")->id, c2.id);
  EXPECT_EQ(repos_->GetCommit("sales", "main~2")->id, c1.id);
  EXPECT_EQ(repos_->GetCommit("sales", "main^^")->id, c1.id);
  EXPECT_EQ(Read("main~2", "f"), "1");
  EXPECT_EQ(repos_->GetCommit("sales", "main~10").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repos_->GetCommit("sales", "main^2").status().code(), ErrorCode::kNotFound);
  std::string at = "main@{" + FormatRfc3339(c2.created_micros) + "}";
  EXPECT_EQ(repos_->GetCommit("sales", at)->id, c2.id);
  EXPECT_EQ(repos_->GetCommit("sales", "main@{2000-01-01T00:00:00Z}").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(repos_->GetCommit("sales", "main@{yesterday}").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(repos_->GetCommit("sales", "nope").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repos_->GetCommit("sales", "../x").status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(repos_->CreateTag("sales", "v1", "main~1").ok());
  EXPECT_EQ(repos_->GetCommit("sales", "v1")->id, c2.id);
  EXPECT_EQ(Read("v1", "f"), "2");
  // A tag is read-only.
  auto up = repos_->NewUpload();
  EXPECT_EQ(repos_->PutObject("sales", "v1", "g", std::move(*up), {}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(repos_->CreateBranch("sales", "v1", "main").status().code(),
            ErrorCode::kAlreadyExists);
}

TEST_F(RepositoryTest, LogWithPaginationAndPathFilter) {
  for (int i = 0; i < 5; ++i) {
    Put("main", i % 2 ? "odd" : "even", std::to_string(i));
    MustCommit("main", "c" + std::to_string(i));
  }
  bool more;
  auto all = repos_->Log("sales", "main", "", "", 100, &more);
  ASSERT_EQ(all->size(), 6u);  // plus the first commit
  EXPECT_EQ((*all)[0].message, "c4");
  auto page = repos_->Log("sales", "main", "", "", 2, &more);
  EXPECT_TRUE(more);
  auto page2 = repos_->Log("sales", "main", "", (*page)[1].id, 2, &more);
  EXPECT_EQ((*page2)[0].message, "c2");
  auto odd = repos_->Log("sales", "main", "odd", "", 100, &more);
  ASSERT_EQ(odd->size(), 2u);
  EXPECT_EQ((*odd)[0].message, "c3");
  EXPECT_EQ((*odd)[1].message, "c1");
}

TEST_F(RepositoryTest, MergeCleanConflictAndStrategies) {
  Put("main", "shared.csv", "base");
  Put("main", "keep.csv", "keep");
  MustCommit("main", "base");
  ASSERT_TRUE(repos_->CreateBranch("sales", "dev", "main").ok());
  Put("dev", "new.csv", "from dev");
  Put("dev", "shared.csv", "dev version");
  MustCommit("dev", "dev work");
  Put("main", "main-only.csv", "main");
  MustCommit("main", "main work");

  auto m = repos_->Merge("sales", "dev", "main", MergeStrategy::kFail, {"", "alice", {}, false, ""});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->conflicts.empty());
  EXPECT_EQ(Read("main", "new.csv"), "from dev");
  EXPECT_EQ(Read("main", "shared.csv"), "dev version");
  EXPECT_EQ(Read("main", "main-only.csv"), "main");
  auto merged = repos_->GetCommit("sales", "main");
  EXPECT_EQ(merged->parents.size(), 2u);
  // Merging again changes nothing.
  auto again = repos_->Merge("sales", "dev", "main", MergeStrategy::kFail, {"", "alice", {}, false, ""});
  EXPECT_TRUE(again->already_up_to_date);

  // Now both sides change shared.csv differently.
  Put("dev", "shared.csv", "dev again");
  MustCommit("dev", "dev 2");
  Put("main", "shared.csv", "main again");
  MustCommit("main", "main 2");
  std::string head_before = repos_->GetBranch("sales", "main")->head;
  auto conflict = repos_->Merge("sales", "dev", "main", MergeStrategy::kFail, {"", "a", {}, false, ""});
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->conflicts, std::vector<std::string>{"shared.csv"});
  EXPECT_EQ(repos_->GetBranch("sales", "main")->head, head_before);

  ASSERT_TRUE(repos_->CreateBranch("sales", "m2", "main").ok());
  auto dw = repos_->Merge("sales", "dev", "m2", MergeStrategy::kDestWins, {"", "a", {}, false, ""});
  ASSERT_TRUE(dw.ok());
  EXPECT_EQ(Read("m2", "shared.csv"), "main again");
  auto sw = repos_->Merge("sales", "dev", "main", MergeStrategy::kSourceWins, {"", "a", {}, false, ""});
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(Read("main", "shared.csv"), "dev again");

  // A destination with uncommitted changes is refused.
  Put("main", "dirty", "x");
  EXPECT_EQ(repos_->Merge("sales", "dev", "main", MergeStrategy::kFail, {}).status().code(),
            ErrorCode::kPreconditionFailed);
}

TEST_F(RepositoryTest, DiffBetweenRefs) {
  Put("main", "a", "1");
  Put("main", "b", "1");
  MustCommit("main", "one");
  Put("main", "a", "2");
  ASSERT_TRUE(repos_->DeleteObject("sales", "main", "b").ok());
  Put("main", "c", "1");
  MustCommit("main", "two");
  auto d = repos_->Diff("sales", "main~1", "main", {});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->changes.size(), 3u);
  EXPECT_EQ(d->changes[0].type, ChangeType::kChanged);
  EXPECT_EQ(d->changes[1].type, ChangeType::kRemoved);
  EXPECT_EQ(d->changes[2].type, ChangeType::kAdded);
  auto page = repos_->Diff("sales", "main~1", "main", {"", "", 2});
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(repos_->Diff("sales", "main~1", "main", {"", page->next_after, 2})->changes.size(), 1u);
}

TEST_F(RepositoryTest, RevertUndoesACommit) {
  Put("main", "a", "1");
  MustCommit("main", "one");
  Put("main", "a", "2");
  Put("main", "b", "new");
  Commit bad = MustCommit("main", "bad change");
  Put("main", "c", "unrelated");
  MustCommit("main", "later");
  auto r = repos_->Revert("sales", "main", bad.id, 0, {"", "alice", {}, false, ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Read("main", "a"), "1");
  EXPECT_EQ(repos_->StatObject("sales", "main", "b").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Read("main", "c"), "unrelated");
  EXPECT_EQ(r->metadata.at("reverts"), bad.id);
  // Reverting the first commit makes no sense.
  bool more;
  auto first = repos_->Log("sales", "main", "", "", 100, &more);
  EXPECT_EQ(repos_->Revert("sales", "main", first->back().id, 0, {}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(RepositoryTest, RacingCommitsNeverLoseWork) {
  constexpr int kWriters = 4, kFiles = 25;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kFiles; ++i) {
        std::string path = "w" + std::to_string(w) + "/" + std::to_string(i);
        auto up = repos_->NewUpload();
        ASSERT_TRUE((*up)->Append(path).ok());
        ASSERT_TRUE(repos_->PutObject("sales", "main", path, std::move(*up), {}).ok());
        while (true) {
          auto c = repos_->CommitBranch("sales", "main", {path, "w", {}, true, ""});
          if (c.ok()) break;
          ASSERT_EQ(c.status().code(), ErrorCode::kConflict) << c.status().ToString();
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto l = repos_->ListObjects("sales", "main~0", {"", "", "", 10000});
  EXPECT_EQ(l->objects.size(), static_cast<size_t>(kWriters * kFiles));
  EXPECT_EQ(repos_->Changes("sales", "main", {})->changes.size(), 0u);
}

// Uploads staged while commits run must all end up committed, none lost.
TEST_F(RepositoryTest, CommitsConcurrentWithUploadsLoseNothing) {
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::vector<std::thread> uploaders;
  for (int w = 0; w < 3; ++w) {
    uploaders.emplace_back([&, w] {
      for (int i = 0; i < 150; ++i) {
        char path[32];
        std::snprintf(path, sizeof(path), "w%d/%05d.bin", w, i);
        auto up = repos_->NewUpload();
        ASSERT_TRUE((*up)->Append(path).ok());
        ASSERT_TRUE(repos_->PutObject("sales", "main", path, std::move(*up), {}).ok());
        ++acked;
      }
    });
  }
  std::thread committer([&] {
    size_t last = 0;
    while (!stop) {
      auto c = repos_->CommitBranch("sales", "main", {"batch", "c", {}, true, ""});
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      auto l = repos_->ListObjects("sales", c->id, {"", "", "", 100000});
      ASSERT_GE(l->objects.size(), last) << "a commit lost committed objects";
      last = l->objects.size();
    }
  });
  for (auto& t : uploaders) t.join();
  stop = true;
  committer.join();
  ASSERT_TRUE(repos_->CommitBranch("sales", "main", {"last", "c", {}, true, ""}).ok());
  EXPECT_EQ(repos_->ListObjects("sales", "main~0", {"", "", "", 100000})->objects.size(),
            static_cast<size_t>(acked.load()));
}

TEST_F(RepositoryTest, CommitChangesIsAtomicAndLeavesStagingAlone) {
  Put("main", "staged.csv", "staged");
  Entry e;
  e.address = "tables/t1/data-1.parquet";
  e.size = 10;
  auto c = repos_->CommitChanges("sales", "main",
                                 {Mutation{"tables/t1/data-1.parquet", e},
                                  Mutation{"tables/t1/metadata.json", e}},
                                 {"table commit", "alice", {}, false, ""});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(repos_->StatObject("sales", c->id, "tables/t1/metadata.json")->entry.size, 10u);
  EXPECT_EQ(repos_->StatObject("sales", c->id, "staged.csv").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(Read("main", "staged.csv"), "staged");  // still staged, still visible
  EXPECT_EQ(repos_->CommitChanges("sales", "main", {Mutation{"b", e}, Mutation{"a", e}},
                                  {"x", "a", {}, false, ""}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(repos_->CommitChanges("sales", "main", {Mutation{"../x", e}}, {"x", "a", {}, false, ""})
                .status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(RepositoryTest, LargeCommitsReadBackThroughAColdService) {
  std::vector<Mutation> changes;
  for (int i = 0; i < 20000; ++i) {
    char path[32];
    std::snprintf(path, sizeof(path), "bulk/%06d.csv", i);
    Entry e;
    e.address = ContentAddress(ToHex(Sha256(path)));
    e.size = static_cast<uint64_t>(i);
    e.etag = ToHex(Md5(path));
    changes.push_back(Mutation{path, e});
  }
  auto c = repos_->CommitChanges("sales", "main", changes, {"bulk", "alice", {}, false, ""});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Repositories cold(*meta_, blobs_);  // nothing cached: every node comes from the stores
  auto l = cold.ListObjects("sales", "main", {"bulk/", "", "", 100000});
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->objects.size(), 20000u);
  EXPECT_EQ(l->objects[12345].entry.size, 12345u);
  auto d = cold.Diff("sales", "main~1", "main", {"", "", 100000});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->changes.size(), 20000u);
}

TEST_F(RepositoryTest, GarbageCollectionKeepsWhatIsReachable) {
  Put("main", "kept", "committed bytes");
  MustCommit("main", "one");
  ASSERT_TRUE(repos_->CreateBranch("sales", "tmp", "main").ok());
  Put("tmp", "dropped", "only on a deleted branch");
  MustCommit("tmp", "two");
  Put("main", "staged", "staged bytes");
  Put("main", "kept", "overwritten later, old version only in history");
  MustCommit("main", "three");
  ASSERT_TRUE(repos_->DeleteBranch("sales", "tmp").ok());
  Put("main", "staged", "staged bytes");  // staged, uncommitted

  GcOptions opts;
  opts.retention_micros = 0;  // keep only heads and tags
  opts.grace_micros = -1000000;  // treat every blob as old enough
  auto r = repos_->CollectGarbage(opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->blobs_deleted, 2u);  // the deleted branch's file, the overwritten version
  EXPECT_EQ(Read("main", "kept"), "overwritten later, old version only in history");
  EXPECT_EQ(Read("main", "staged"), "staged bytes");
  // With a grace period, fresh blobs are never deleted even when unreferenced.
  Put("main", "g", "fresh");
  ASSERT_TRUE(repos_->DiscardChanges("sales", "main", "g").ok());
  GcOptions graceful;
  graceful.retention_micros = 0;
  auto r2 = repos_->CollectGarbage(graceful);
  EXPECT_EQ(r2->blobs_deleted, 0u);
}

TEST(Names, Rules) {
  EXPECT_TRUE(ValidateRepoName("sales-eu").ok());
  for (const char* bad : {"ab", "-sales", "Sales", "sa_les", "sales-", ""}) {
    EXPECT_FALSE(ValidateRepoName(bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateRefName("feature_1.2-x").ok());
  for (const char* bad : {"", ".hidden", "-x", "a..b", "a/b", "a~1", "a b", "a@b"}) {
    EXPECT_FALSE(ValidateRefName(bad).ok()) << bad;
  }
  std::string long_name(129, 'a');
  EXPECT_FALSE(ValidateRefName(long_name).ok());
  EXPECT_TRUE(ValidatePath("raw/2026/orders.csv").ok());
  EXPECT_TRUE(ValidatePath("folder/").ok());
  EXPECT_TRUE(ValidatePath("données/été.csv").ok());
  for (std::string bad : {std::string(""), std::string("/abs"), std::string("a/../b"),
                          std::string(".."), std::string("a/./b"), std::string("a\0b", 3),
                          std::string("a\nb"), std::string("\xff\xfe"), std::string(1025, 'x')}) {
    EXPECT_FALSE(ValidatePath(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace lakemesh::versioning
