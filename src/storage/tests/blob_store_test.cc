// Contract tests: every BlobStore implementation must pass the same suite.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

#include "base/files.h"
#include "storage/local_blob_store.h"
#include "storage/memory_blob_store.h"

namespace lakemesh::storage {
namespace {

struct Factory {
  std::string name;
  std::function<std::unique_ptr<BlobStore>(const std::string& dir)> make;
};

class BlobStoreContract : public ::testing::TestWithParam<Factory> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lm-blob-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = GetParam().make(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::string cmd = "rm -rf " + dir_;
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string dir_;
  std::unique_ptr<BlobStore> store_;
};

TEST_P(BlobStoreContract, WriteReadStatDelete) {
  ASSERT_TRUE(WriteAll(*store_, "a/b/c.bin", "hello world").ok());
  auto data = ReadAll(*store_, "a/b/c.bin");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello world");
  auto info = store_->Stat("a/b/c.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 11u);
  EXPECT_GT(info->mtime_micros, 0);
  ASSERT_TRUE(store_->Delete("a/b/c.bin").ok());
  EXPECT_EQ(store_->Stat("a/b/c.bin").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Delete("a/b/c.bin").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Open("a/b/c.bin").status().code(), ErrorCode::kNotFound);
}

TEST_P(BlobStoreContract, RangedRead) {
  ASSERT_TRUE(WriteAll(*store_, "r", "0123456789").ok());
  auto r = store_->Open("r", 3, 4);
  ASSERT_TRUE(r.ok());
  char buf[16];
  auto n = (*r)->Read(buf, sizeof(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "3456");
  EXPECT_EQ((*r)->remaining(), 0u);
  EXPECT_EQ(store_->Open("r", 11).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(BlobStoreContract, UncommittedWriterLeavesNothing) {
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("partial").ok());
  }
  int count = 0;
  ASSERT_TRUE(store_->List("", [&](const BlobInfo&) { ++count; return Status::OK(); }).ok());
  EXPECT_EQ(count, 0);
}

TEST_P(BlobStoreContract, CommitOfExistingKeyKeepsFirstBlob) {
  ASSERT_TRUE(WriteAll(*store_, "k", "first").ok());
  ASSERT_TRUE(WriteAll(*store_, "k", "second").ok());
  EXPECT_EQ(*ReadAll(*store_, "k"), "first");
}

TEST_P(BlobStoreContract, ListByPrefix) {
  for (const char* k : {"objects/aa/1", "objects/ab/2", "tables/x", "objects/aa/3"}) {
    ASSERT_TRUE(WriteAll(*store_, k, k).ok());
  }
  std::set<std::string> got;
  ASSERT_TRUE(store_->List("objects/aa/", [&](const BlobInfo& i) {
    got.insert(i.key);
    return Status::OK();
  }).ok());
  EXPECT_EQ(got, (std::set<std::string>{"objects/aa/1", "objects/aa/3"}));
  got.clear();
  ASSERT_TRUE(store_->List("", [&](const BlobInfo& i) {
    got.insert(i.key);
    return Status::OK();
  }).ok());
  EXPECT_EQ(got.size(), 4u);
}

TEST_P(BlobStoreContract, RejectsKeysThatEscape) {
  for (const char* bad : {"../etc/passwd", "a/../../b", "", "/abs", "a//b", ".hidden", "a/.tmp/x",
                          "sp ace", "nul\x01"}) {
    EXPECT_EQ(WriteAll(*store_, bad, "x").code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Open(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, BlobStoreContract,
    ::testing::Values(
        Factory{"local",
                [](const std::string& dir) -> std::unique_ptr<BlobStore> {
                  auto s = LocalBlobStore::Open(dir + "/blobs");
                  LM_CHECK(s.ok());
                  return std::move(*s);
                }},
        Factory{"memory",
                [](const std::string&) -> std::unique_ptr<BlobStore> {
                  return std::make_unique<MemoryBlobStore>();
                }}),
    [](const auto& info) { return info.param.name; });

TEST(LocalBlobStore, OpenRemovesInterruptedWrites) {
  char tmpl[] = "/tmp/lm-blob-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    auto s = LocalBlobStore::Open(dir);
    ASSERT_TRUE(s.ok());
    auto w = (*s)->NewWriter();
    ASSERT_TRUE((*w)->Append("x").ok());
    // Simulate a crash: the temp file is left behind by not running the destructor's cleanup.
    ASSERT_TRUE(WriteFileAtomic(dir + "/.tmp/leftover", "junk").ok());
  }
  auto s = LocalBlobStore::Open(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(PathExists(dir + "/.tmp/leftover"));
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

}  // namespace
}  // namespace lakemesh::storage
