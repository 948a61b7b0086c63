// Contract tests: every MetaStore implementation must pass the same suite.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdlib>
#include <thread>

#include "meta/sqlite_meta_store.h"

namespace lakemesh::meta {
namespace {

struct Factory {
  std::string name;
  std::function<std::unique_ptr<MetaStore>(const std::string& dir)> make;
};

class MetaStoreContract : public ::testing::TestWithParam<Factory> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lm-meta-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = GetParam().make(dir_);
  }
  void TearDown() override {
    store_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  std::string dir_;
  std::unique_ptr<MetaStore> store_;
};

TEST_P(MetaStoreContract, PutGetDelete) {
  ASSERT_TRUE(store_->Put("a", "1").ok());
  EXPECT_EQ(store_->Get("a")->value(), "1");
  EXPECT_FALSE(store_->Get("b")->has_value());
  ASSERT_TRUE(store_->Write([](MetaTxn& t) { return t.Delete("a"); }).ok());
  EXPECT_FALSE(store_->Get("a")->has_value());
  // Binary keys and values, including NUL bytes and empty values.
  std::string k("k\0\xff", 3), v("\0\0", 2);
  ASSERT_TRUE(store_->Put(k, v).ok());
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(store_->Get(k)->value(), v);
  EXPECT_EQ(store_->Get("empty")->value(), "");
}

TEST_P(MetaStoreContract, ScanIsOrderedAndBounded) {
  for (const char* k : {"p/c", "p/a", "q/x", "p/b", "o"}) ASSERT_TRUE(store_->Put(k, k).ok());
  auto all = store_->Scan("p/", PrefixEnd("p/"), 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "p/a");
  EXPECT_EQ((*all)[2].key, "p/c");
  auto two = store_->Scan("p/", PrefixEnd("p/"), 2);
  EXPECT_EQ(two->size(), 2u);
  auto to_end = store_->Scan("p/c", "", 0);
  EXPECT_EQ(to_end->size(), 2u);
}

TEST_P(MetaStoreContract, FailedWriteRollsBack) {
  ASSERT_TRUE(store_->Put("x", "old").ok());
  Status s = store_->Write([](MetaTxn& t) -> Status {
    LM_TRY(t.Put("x", "new"));
    LM_TRY(t.Put("y", "new"));
    return Conflict("changed my mind");
  });
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->Get("x")->value(), "old");
  EXPECT_FALSE(store_->Get("y")->has_value());
}

TEST_P(MetaStoreContract, DeleteIfEqualsComparesTheWholeValue) {
  ASSERT_TRUE(store_->Put("a", "v1").ok());
  ASSERT_TRUE(store_->Write([](MetaTxn& t) { return t.DeleteIfEquals("a", "v2"); }).ok());
  EXPECT_EQ(store_->Get("a")->value(), "v1");
  ASSERT_TRUE(store_->Write([](MetaTxn& t) { return t.DeleteIfEquals("a", "v"); }).ok());
  EXPECT_TRUE(store_->Get("a")->has_value());
  ASSERT_TRUE(store_->Write([](MetaTxn& t) { return t.DeleteIfEquals("a", "v1"); }).ok());
  EXPECT_FALSE(store_->Get("a")->has_value());
  ASSERT_TRUE(store_->Write([](MetaTxn& t) { return t.DeleteIfEquals("absent", "x"); }).ok());
}

TEST_P(MetaStoreContract, DeleteRange) {
  for (const char* k : {"s/1/a", "s/1/b", "s/2/a"}) ASSERT_TRUE(store_->Put(k, "v").ok());
  ASSERT_TRUE(store_->Write([](MetaTxn& t) { return t.DeleteRange("s/1/", PrefixEnd("s/1/")); })
                  .ok());
  EXPECT_EQ(store_->Scan("s/", PrefixEnd("s/"), 0)->size(), 1u);
}

TEST_P(MetaStoreContract, ReadOnlyTransactionRejectsWrites) {
  Status s = store_->Read([](MetaTxn& t) { return t.Put("a", "b"); });
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
}

TEST_P(MetaStoreContract, ConcurrentIncrementsAreSerializable) {
  ASSERT_TRUE(store_->Put("counter", "0").ok());
  constexpr int kThreads = 4, kPer = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPer; ++i) {
        Status s = store_->Write([](MetaTxn& txn) -> Status {
          LM_ASSIGN_OR_RETURN(auto v, txn.Get("counter"));
          return txn.Put("counter", std::to_string(std::stoi(*v) + 1));
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->Get("counter")->value(), std::to_string(kThreads * kPer));
}

TEST_P(MetaStoreContract, ConcurrentWritersFailIndependently) {
  // Writes that run together (a backend may commit them as one group) keep their own outcomes:
  // a failing function's changes vanish, its neighbours' stay, and each caller gets its result.
  constexpr int kThreads = 16, kPer = 40;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        std::string key = "w/" + std::to_string(t) + "/" + std::to_string(i);
        bool fail = (t + i) % 3 == 0;
        Status s = store_->Write([&](MetaTxn& txn) -> Status {
          LM_TRY(txn.Put(key, "v"));
          LM_TRY(txn.Put("shared/" + key, "v"));
          if (fail) return Conflict("deliberate");
          return Status::OK();
        });
        if (s.ok() == fail) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  int present = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPer; ++i) {
      std::string key = "w/" + std::to_string(t) + "/" + std::to_string(i);
      bool fail = (t + i) % 3 == 0;
      auto v = store_->Get(key);
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(v->has_value(), !fail) << key;
      EXPECT_EQ(store_->Get("shared/" + key)->has_value(), !fail) << key;
      present += v->has_value();
    }
  }
  EXPECT_GT(present, 0);
}

TEST_P(MetaStoreContract, AsyncWritesReportTheirOwnOutcomeAfterCommitting) {
  // Asynchronous writes mixed with synchronous ones: each callback runs once, with its own
  // function's result, and a reader started from the callback already sees the write.
  constexpr int kAsync = 300, kSyncThreads = 4, kSyncPer = 30;
  std::atomic<int> called{0}, wrong{0}, unseen{0};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::thread> sync;
  for (int t = 0; t < kSyncThreads; ++t) {
    sync.emplace_back([&, t] {
      for (int i = 0; i < kSyncPer; ++i) {
        if (!store_->Put("s/" + std::to_string(t) + "/" + std::to_string(i), "v").ok()) ++wrong;
      }
    });
  }
  for (int i = 0; i < kAsync; ++i) {
    std::string key = "a/" + std::to_string(i);
    bool fail = i % 5 == 0;
    store_->WriteAsync(
        [key, fail](MetaTxn& txn) -> Status {
          LM_TRY(txn.Put(key, std::string(key.size() * 100, 'x')));
          if (fail) return Conflict("deliberate");
          return Status::OK();
        },
        [&, key, fail](Status st) {
          if (st.ok() == fail) ++wrong;
          if (st.ok()) {
            auto v = store_->Get(key);
            if (!v.ok() || !v->has_value()) ++unseen;
          }
          std::lock_guard<std::mutex> lock(mu);
          ++called;
          cv.notify_all();
        });
  }
  for (auto& th : sync) th.join();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return called == kAsync; }));
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(unseen.load(), 0);
  for (int i = 0; i < kAsync; ++i) {
    EXPECT_EQ(store_->Get("a/" + std::to_string(i))->has_value(), i % 5 != 0) << i;
  }
  EXPECT_EQ(store_->Scan("s/", PrefixEnd("s/"), 0)->size(), size_t{kSyncThreads * kSyncPer});
}

TEST_P(MetaStoreContract, LongValuesBehaveLikeShortOnes) {
  // Values of every size round-trip through every operation, including replacing a long value
  // by a short one and back (a backend may keep long values elsewhere).
  const std::string long1(5000, 'a'), long2 = std::string(700, '\0') + "tail", short1 = "s";
  ASSERT_TRUE(store_->Put("l/1", long1).ok());
  ASSERT_TRUE(store_->Put("l/2", short1).ok());
  ASSERT_TRUE(store_->Put("l/3", long2).ok());
  EXPECT_EQ(store_->Get("l/1")->value(), long1);
  EXPECT_EQ(store_->Get("l/3")->value(), long2);
  auto all = store_->Scan("l/", PrefixEnd("l/"), 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].value, long1);
  EXPECT_EQ((*all)[1].value, short1);
  EXPECT_EQ((*all)[2].value, long2);

  ASSERT_TRUE(store_->Put("l/1", short1).ok());
  EXPECT_EQ(store_->Get("l/1")->value(), short1);
  ASSERT_TRUE(store_->Put("l/2", long2).ok());
  EXPECT_EQ(store_->Get("l/2")->value(), long2);
  ASSERT_TRUE(store_->Put("l/2", long1).ok());
  EXPECT_EQ(store_->Get("l/2")->value(), long1);

  // Compare-and-delete compares the whole long value.
  ASSERT_TRUE(store_->Write([&](MetaTxn& t) { return t.DeleteIfEquals("l/2", long1 + "x"); }).ok());
  EXPECT_TRUE(store_->Get("l/2")->has_value());
  ASSERT_TRUE(store_->Write([&](MetaTxn& t) { return t.DeleteIfEquals("l/2", long1); }).ok());
  EXPECT_FALSE(store_->Get("l/2")->has_value());

  // A failed write leaves the long value it would have replaced.
  Status s = store_->Write([&](MetaTxn& t) -> Status {
    LM_TRY(t.Put("l/3", long1));
    return Conflict("no");
  });
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->Get("l/3")->value(), long2);

  ASSERT_TRUE(store_->Write([](MetaTxn& t) { return t.DeleteRange("l/", PrefixEnd("l/")); }).ok());
  EXPECT_TRUE(store_->Scan("l/", PrefixEnd("l/"), 0)->empty());
}

TEST_P(MetaStoreContract, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff", 1)), "");
}

INSTANTIATE_TEST_SUITE_P(
    All, MetaStoreContract,
    ::testing::Values(Factory{"sqlite_file",
                              [](const std::string& dir) -> std::unique_ptr<MetaStore> {
                                auto s = SqliteMetaStore::Open(dir + "/meta.db");
                                LM_CHECK(s.ok());
                                return std::move(*s);
                              }},
                      Factory{"sqlite_memory",
                              [](const std::string&) -> std::unique_ptr<MetaStore> {
                                auto s = SqliteMetaStore::Open(":memory:");
                                LM_CHECK(s.ok());
                                return std::move(*s);
                              }}),
    [](const auto& info) { return info.param.name; });

TEST(SqliteMetaStore, DataSurvivesReopen) {
  char tmpl[] = "/tmp/lm-meta-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    auto s = SqliteMetaStore::Open(dir + "/m.db");
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Put("k", "v").ok());
  }
  auto s = SqliteMetaStore::Open(dir + "/m.db");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Get("k")->value(), "v");
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

TEST(SqliteMetaStore, ClosingRunsQueuedAsyncWritesFirst) {
  char tmpl[] = "/tmp/lm-meta-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::atomic<int> ok{0};
  {
    auto s = SqliteMetaStore::Open(dir + "/m.db");
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 50; ++i) {
      (*s)->WriteAsync([i](MetaTxn& txn) { return txn.Put("k" + std::to_string(i), "v"); },
                       [&](Status st) { ok += st.ok(); });
    }
  }  // closed with writes still queued
  EXPECT_EQ(ok.load(), 50);
  auto s = SqliteMetaStore::Open(dir + "/m.db");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Scan("k", PrefixEnd("k"), 0)->size(), 50u);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

// Rows of one table of a closed SQLite metadata file.
int64_t CountRows(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  LM_CHECK(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  LM_CHECK(sqlite3_prepare_v2(db, ("SELECT count(*) FROM " + table).c_str(), -1, &st, nullptr) ==
           SQLITE_OK);
  LM_CHECK(sqlite3_step(st) == SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

TEST(SqliteMetaStore, ReplacedAndDeletedLongValuesLeaveNoRows) {
  char tmpl[] = "/tmp/lm-meta-XXXXXX";
  std::string dir = mkdtemp(tmpl), path = dir + "/m.db";
  {
    auto s = SqliteMetaStore::Open(path);
    ASSERT_TRUE(s.ok());
    MetaStore& m = **s;
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(m.Put("k" + std::to_string(i), std::string(2000, 'a' + i)).ok());
    }
    for (int i = 0; i < 10; ++i) {  // long over long
      ASSERT_TRUE(m.Put("k" + std::to_string(i), std::string(3000, 'z')).ok());
    }
    ASSERT_TRUE(m.Put("k0", "short").ok());
    ASSERT_TRUE(m.Write([](MetaTxn& t) { return t.Delete("k1"); }).ok());
    ASSERT_TRUE(m.Write([](MetaTxn& t) { return t.DeleteIfEquals("k2", std::string(3000, 'z')); })
                    .ok());
    ASSERT_TRUE(m.Write([](MetaTxn& t) { return t.DeleteRange("k3", "k6"); }).ok());
  }
  EXPECT_EQ(CountRows(path, "kv"), 5);      // k0 and k6..k9
  EXPECT_EQ(CountRows(path, "kv_ext"), 4);  // k6..k9; k0 is short now
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

TEST(SqliteMetaStore, UpgradesAVersion1Database) {
  char tmpl[] = "/tmp/lm-meta-XXXXXX";
  std::string dir = mkdtemp(tmpl), path = dir + "/m.db";
  const std::string old_long(4000, 'o');
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
                           "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                           "INSERT INTO schema_version VALUES (1);"
                           "INSERT INTO kv VALUES (x'61', x'31');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO kv VALUES (CAST('long' AS BLOB), ?1)", -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_blob(st, 1, old_long.data(), static_cast<int>(old_long.size()), SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  {
    auto s = SqliteMetaStore::Open(path);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    MetaStore& m = **s;
    EXPECT_EQ(m.Get("a")->value(), "1");
    EXPECT_EQ(m.Get("long")->value(), old_long);  // kept in place by version 1
    ASSERT_TRUE(m.Put("long", std::string(4000, 'n')).ok());
    EXPECT_EQ(m.Get("long")->value(), std::string(4000, 'n'));
  }
  EXPECT_EQ(CountRows(path, "kv_ext"), 1);
  // Opening again does not upgrade twice.
  auto again = SqliteMetaStore::Open(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->Get("long")->value(), std::string(4000, 'n'));
  again->reset();
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

}  // namespace
}  // namespace lakemesh::meta
