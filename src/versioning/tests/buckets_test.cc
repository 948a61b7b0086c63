// Plain buckets and multipart uploads: names shared with repositories, small objects kept in the
// metadata and large ones in blobs (and their blobs deleted when replaced), listings, multipart
// assembly rules and cleanup.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "base/hash.h"
#include "meta/sqlite_meta_store.h"
#include "storage/memory_blob_store.h"
#include "versioning/buckets.h"
#include "versioning/multipart.h"

namespace lakemesh::versioning {
namespace {

class BucketsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = meta::SqliteMetaStore::Open(":memory:");
    ASSERT_TRUE(m.ok());
    meta_ = std::move(*m);
    buckets_ = std::make_unique<Buckets>(*meta_, blobs_);
    uploads_ = std::make_unique<MultipartUploads>(*meta_, blobs_);
    repos_ = std::make_unique<Repositories>(*meta_, blobs_);
    ASSERT_TRUE(buckets_->CreateBucket("land", "alice").ok());
  }

  Result<ObjectInfo> Put(const std::string& key, const std::string& data, bool async = false) {
    LM_ASSIGN_OR_RETURN(auto up, buckets_->NewUpload());
    LM_TRY(up->Append(data));
    PutOptions opts;
    opts.content_type = "text/plain";
    if (!async) return buckets_->PutObject("land", key, std::move(up), opts);
    // PutObjectAsync, waited for.
    std::promise<Result<ObjectInfo>> done;
    auto got = done.get_future();
    buckets_->PutObjectAsync("land", key, std::move(up), opts,
                             [&](Result<ObjectInfo> o) { done.set_value(std::move(o)); });
    return got.get();
  }

  std::string Read(const std::string& key, uint64_t offset = 0, std::optional<uint64_t> len = {}) {
    auto o = buckets_->StatObject("land", key);
    if (!o.ok()) return "<" + o.status().ToString() + ">";
    auto r = buckets_->OpenObject(*o, offset, len);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::string out;
    char buf[70000];
    while (true) {
      auto n = (*r)->Read(buf, sizeof(buf));
      EXPECT_TRUE(n.ok());
      if (*n == 0) break;
      out.append(buf, *n);
    }
    return out;
  }

  size_t BlobCount(const std::string& prefix) {
    size_t n = 0;
    EXPECT_TRUE(blobs_.List(prefix, [&](const storage::BlobInfo&) -> Status {
                        ++n;
                        return Status::OK();
                      }).ok());
    return n;
  }

  std::unique_ptr<meta::SqliteMetaStore> meta_;
  storage::MemoryBlobStore blobs_;
  std::unique_ptr<Buckets> buckets_;
  std::unique_ptr<MultipartUploads> uploads_;
  std::unique_ptr<Repositories> repos_;
};

TEST_F(BucketsTest, NamesAreSharedWithRepositories) {
  EXPECT_TRUE(buckets_->CreateBucket("land", "bob").status().IsAlreadyExists());
  EXPECT_TRUE(repos_->CreateRepo("land", "main", "bob").status().IsAlreadyExists());
  ASSERT_TRUE(repos_->CreateRepo("sales", "main", "bob").ok());
  EXPECT_TRUE(buckets_->CreateBucket("sales", "bob").status().IsAlreadyExists());
  EXPECT_EQ(buckets_->CreateBucket("Bad_Name", "bob").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(buckets_->CreateBucket("1.2.3.4", "bob").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(buckets_->CreateBucket("with.dots-1", "bob").ok());
  auto all = buckets_->ListBuckets();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "land");
  EXPECT_EQ((*all)[0].creator, "alice");
}

TEST_F(BucketsTest, SmallObjectsStayInTheMetadataLargeOnesInBlobs) {
  std::string small(1000, 's'), large(Buckets::kInlineMax + 1, 'L');
  auto o = Put("k", small);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->entry.address.empty());
  EXPECT_EQ(o->entry.etag, ToHex(Md5(small)));
  EXPECT_EQ(BlobCount("buckets/"), 0u);
  EXPECT_EQ(Read("k"), small);
  EXPECT_EQ(Read("k", 10, 5), "sssss");
  // Replaced by a large object: a blob appears.
  ASSERT_TRUE(Put("k", large).ok());
  EXPECT_EQ(BlobCount("buckets/"), 1u);
  EXPECT_EQ(Read("k"), large);
  // Replaced by another large object: the old blob goes.
  std::string large2(300000, 'M');
  ASSERT_TRUE(Put("k", large2).ok());
  EXPECT_EQ(BlobCount("buckets/"), 1u);
  EXPECT_EQ(Read("k", 299990), std::string(10, 'M'));
  // Back to small: no blob left.
  ASSERT_TRUE(Put("k", "tiny").ok());
  EXPECT_EQ(BlobCount("buckets/"), 0u);
  EXPECT_EQ(Read("k"), "tiny");
  ASSERT_TRUE(buckets_->DeleteObject("land", "k").ok());
  EXPECT_TRUE(buckets_->StatObject("land", "k").status().IsNotFound());
  EXPECT_TRUE(buckets_->DeleteObject("land", "k").IsNotFound());
  ASSERT_TRUE(Put("big", large).ok());
  ASSERT_TRUE(buckets_->DeleteObject("land", "big").ok());
  EXPECT_EQ(BlobCount("buckets/"), 0u);
  auto empty = Put("empty", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Read("empty"), "");
}

TEST_F(BucketsTest, AsyncPutsStoreWhatPutsStore) {
  std::string large(Buckets::kInlineMax + 1, 'L');
  auto o = Put("k", "small", /*async=*/true);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->entry.etag, ToHex(Md5("small")));
  EXPECT_TRUE(o->entry.address.empty());
  EXPECT_EQ(Read("k"), "small");  // cached now
  // An upload too large to keep inline is stored as PutObject stores it.
  ASSERT_TRUE(Put("k", large, true).ok());
  EXPECT_EQ(BlobCount("buckets/"), 1u);
  EXPECT_EQ(Read("k"), large);
  // A small object replacing a blob deletes the blob once committed.
  ASSERT_TRUE(Put("k", "again", true).ok());
  EXPECT_EQ(BlobCount("buckets/"), 0u);
  EXPECT_EQ(Read("k"), "again");
  EXPECT_EQ(Put("bad\nkey", "x", true).status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(buckets_->DeleteObject("land", "k").ok());
  ASSERT_TRUE(buckets_->DeleteBucket("land").ok());
  EXPECT_TRUE(Put("k", "x", true).status().IsNotFound());
}

TEST_F(BucketsTest, CachedObjectsFollowEveryChange) {
  ASSERT_TRUE(Put("k", "one").ok());
  EXPECT_EQ(Read("k"), "one");  // now cached
  EXPECT_EQ(Read("k"), "one");
  ASSERT_TRUE(Put("k", "two").ok());
  EXPECT_EQ(Read("k"), "two");
  ASSERT_TRUE(buckets_->DeleteObject("land", "k").ok());
  auto gone = buckets_->Lookup("land", "k");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, nullptr);
  // A cached object does not outlive its bucket, nor leak into a bucket of the same name.
  ASSERT_TRUE(Put("k", "three").ok());
  EXPECT_EQ(Read("k"), "three");
  ASSERT_TRUE(buckets_->DeleteObject("land", "k").ok());
  ASSERT_TRUE(buckets_->GetBucket("land").ok());  // cached
  ASSERT_TRUE(buckets_->DeleteBucket("land").ok());
  EXPECT_TRUE(buckets_->GetBucket("land").status().IsNotFound());
  EXPECT_TRUE(buckets_->Lookup("land", "k").status().IsNotFound());
  // The name can now become a repository's.
  ASSERT_TRUE(repos_->CreateRepo("land", "main", "bob").ok());
  EXPECT_TRUE(buckets_->GetBucket("land").status().IsNotFound());
  ASSERT_TRUE(repos_->DeleteRepo("land").ok());
  ASSERT_TRUE(buckets_->CreateBucket("land", "alice").ok());
  EXPECT_TRUE(buckets_->StatObject("land", "k").status().IsNotFound());
}

TEST_F(BucketsTest, AnAcknowledgedWriteIsReadBackDespiteConcurrentReaders) {
  // Readers keep filling the cache while one writer replaces the object; every write, once
  // PutObject returns, must be what the next read sees (a read that overlapped the write must
  // not leave the old value cached).
  ASSERT_TRUE(Put("hot", "v0").ok());
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!stop) {
        auto o = buckets_->Lookup("land", "hot");
        ASSERT_TRUE(o.ok());
      }
    });
  }
  for (int v = 1; v <= 300; ++v) {
    std::string want = "v" + std::to_string(v);
    ASSERT_TRUE(Put("hot", want, /*async=*/v % 2 == 0).ok());
    auto o = buckets_->Lookup("land", "hot");
    ASSERT_TRUE(o.ok() && *o != nullptr);
    ASSERT_EQ(*(*o)->inline_data, want) << "stale read after write " << v;
  }
  stop = true;
  for (auto& t : readers) t.join();
}

TEST_F(BucketsTest, ListingAndDeletingTheBucket) {
  for (const char* k : {"a/1", "a/2", "a/b/3", "c", "d/4"}) ASSERT_TRUE(Put(k, k).ok());
  auto l = buckets_->ListObjects("land", {"", "/", "", 1000});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->common_prefixes, (std::vector<std::string>{"a/", "d/"}));
  ASSERT_EQ(l->objects.size(), 1u);
  EXPECT_EQ(l->objects[0].path, "c");
  std::vector<std::string> keys;
  std::string after;
  while (true) {
    auto page = buckets_->ListObjects("land", {"", "", after, 2});
    ASSERT_TRUE(page.ok());
    for (const auto& o : page->objects) keys.push_back(o.path);
    if (!page->truncated) break;
    after = page->next_after;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2", "a/b/3", "c", "d/4"}));
  EXPECT_EQ(buckets_->DeleteBucket("land").code(), ErrorCode::kPreconditionFailed);
  for (const auto& k : keys) ASSERT_TRUE(buckets_->DeleteObject("land", k).ok());
  EXPECT_TRUE(buckets_->DeleteBucket("land").ok());
  EXPECT_TRUE(buckets_->GetBucket("land").status().IsNotFound());
}

TEST_F(BucketsTest, MultipartAssemblyRulesAndCleanup) {
  auto u = uploads_->Create("land", "mp", PutOptions(), "alice");
  ASSERT_TRUE(u.ok());
  std::string p1(kMinPartSize, 'a'), p2 = "tail";
  auto put_part = [&](int n, const std::string& data) {
    auto up = uploads_->NewPartUpload();
    EXPECT_TRUE(up.ok());
    EXPECT_TRUE((*up)->Append(data).ok());
    return uploads_->PutPart("land", u->upload_id, n, std::move(*up));
  };
  auto a = put_part(1, p1), b = put_part(2, p2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(put_part(0, "x").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(put_part(10001, "x").status().code(), ErrorCode::kInvalidArgument);
  auto dest = buckets_->NewUpload(false);
  ASSERT_TRUE(dest.ok());
  MultipartUploads::PartProblem why;
  EXPECT_FALSE(uploads_->Assemble(*u, {{2, b->etag}, {1, a->etag}}, **dest, &why).ok());
  EXPECT_EQ(why, MultipartUploads::PartProblem::kInvalidPartOrder);
  EXPECT_FALSE(uploads_->Assemble(*u, {{1, a->etag}, {3, b->etag}}, **dest, &why).ok());
  EXPECT_EQ(why, MultipartUploads::PartProblem::kInvalidPart);
  auto etag = uploads_->Assemble(*u, {{1, a->etag}, {2, b->etag}}, **dest, &why);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*etag, ToHex(Md5(*FromHex(a->etag) + *FromHex(b->etag))) + "-2");
  PutOptions opts;
  opts.etag = *etag;
  auto o = buckets_->PutObject("land", "mp", std::move(*dest), opts);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->entry.etag, *etag);
  EXPECT_EQ(Read("mp"), p1 + p2);
  ASSERT_TRUE(uploads_->Finish("land", u->upload_id).ok());
  EXPECT_EQ(BlobCount("mpu/"), 0u);
  EXPECT_TRUE(uploads_->Get("land", u->upload_id).status().IsNotFound());
  // An abandoned upload is collected once old enough.
  auto old = uploads_->Create("land", "old", PutOptions(), "alice");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*uploads_->CollectAbandoned(3600LL * 1000000), 0u);
  EXPECT_EQ(*uploads_->CollectAbandoned(0), 1u);
  EXPECT_TRUE(uploads_->List("land", "", "", "", 10)->uploads.empty());
}

}  // namespace
}  // namespace lakemesh::versioning
