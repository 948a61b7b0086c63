#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "meta/sqlite_meta_store.h"
#include "storage/memory_blob_store.h"

namespace lakemesh::catalog {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = meta::SqliteMetaStore::Open(":memory:");
    ASSERT_TRUE(m.ok());
    meta_ = std::move(*m);
    repos_ = std::make_unique<versioning::Repositories>(*meta_, blobs_);
    catalog_ = std::make_unique<Catalog>(*repos_, blobs_);
    ASSERT_TRUE(catalog_->CreateNamespace("main", {"sales"}, Json::object(), "alice").ok());
  }

  static Json CreateRequest(const std::string& name) {
    return {{"name", name},
            {"schema",
             {{"type", "struct"},
              {"fields",
               {{{"id", 1}, {"name", "id"}, {"required", true}, {"type", "long"}},
                {{"id", 2}, {"name", "day"}, {"required", false}, {"type", "date"}}}}}},
            {"partition-spec",
             {{"fields", {{{"source-id", 2}, {"name", "day_month"}, {"transform", "month"}}}}}}};
  }

  static Json Append(int64_t id, int64_t seq, const Json& parent) {
    Json snap = {{"snapshot-id", id},
                 {"sequence-number", seq},
                 {"timestamp-ms", 1000 + id},
                 {"manifest-list", "s3://sales/_tables/x/metadata/snap.avro"},
                 {"summary", {{"operation", "append"}}}};
    if (!parent.is_null()) snap["parent-snapshot-id"] = parent;
    return Json::array({{{"action", "add-snapshot"}, {"snapshot", snap}},
                        {{"action", "set-snapshot-ref"},
                         {"ref-name", "main"},
                         {"type", "branch"},
                         {"snapshot-id", id}}});
  }

  storage::MemoryBlobStore blobs_;
  std::unique_ptr<meta::MetaStore> meta_;
  std::unique_ptr<versioning::Repositories> repos_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, NamespacesNestAndHoldProperties) {
  EXPECT_EQ(catalog_->CreateNamespace("main", {"sales"}, nullptr, "a").status().code(),
            ErrorCode::kAlreadyExists);
  ASSERT_TRUE(catalog_->CreateNamespace("main", {"sales", "raw"}, {{"owner", "bob"}}, "a").ok());
  EXPECT_EQ(catalog_->CreateNamespace("main", {"sales", "nope", "x"}, nullptr, "a").status().code(),
            ErrorCode::kNotFound);
  auto list = catalog_->ListNamespaces("main", {"sales"});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0], (Namespace{"sales", "raw"}));
  auto top = catalog_->ListNamespaces("main", {});
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->size(), 1u);
  EXPECT_EQ(catalog_->LoadNamespace("main", {"sales", "raw"})->value("owner", ""), "bob");
  auto upd = catalog_->UpdateNamespaceProperties("main", {"sales", "raw"}, {"owner", "gone"},
                                                 {{"team", "t1"}}, "a");
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->removed, std::vector<std::string>{"owner"});
  EXPECT_EQ(upd->missing, std::vector<std::string>{"gone"});
  EXPECT_EQ(*catalog_->LoadNamespace("main", {"sales", "raw"}), (Json{{"team", "t1"}}));
  // Namespaces are versioned like everything else: a branch from before sees no "raw".
  ASSERT_TRUE(repos_->CreateBranch("sales", "old", "main~2").ok());
  EXPECT_EQ(catalog_->LoadNamespace("old", {"sales", "raw"}).status().code(), ErrorCode::kNotFound);
  // Not empty: a table inside.
  ASSERT_TRUE(catalog_->CreateTable("main", {"sales", "raw"}, CreateRequest("t"), false, "a").ok());
  EXPECT_EQ(catalog_->DropNamespace("main", {"sales", "raw"}, "a").code(), ErrorCode::kConflict);
  ASSERT_TRUE(catalog_->DropTable("main", {{"sales", "raw"}, "t"}, "a").ok());
  ASSERT_TRUE(catalog_->DropNamespace("main", {"sales", "raw"}, "a").ok());
  EXPECT_EQ(catalog_->LoadNamespace("main", {"sales", "raw"}).status().code(), ErrorCode::kNotFound);
}

TEST_F(CatalogTest, TablesAreVersionedByBranch) {
  auto t = catalog_->CreateTable("main", {"sales"}, CreateRequest("orders"), false, "alice");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->metadata["location"].get<std::string>().rfind("s3://sales/_tables/", 0), 0u);
  EXPECT_EQ(catalog_->CreateTable("main", {"sales"}, CreateRequest("orders"), false, "a")
                .status().code(),
            ErrorCode::kAlreadyExists);
  ASSERT_TRUE(repos_->CreateBranch("sales", "dev", "main").ok());
  TableIdent id{{"sales"}, "orders"};
  auto c = catalog_->CommitTable("dev", {id, Json::array(), Append(1, 1, nullptr)}, "bob");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->metadata["current-snapshot-id"], 1);
  ASSERT_EQ(c->metadata["metadata-log"].size(), 1u);
  EXPECT_EQ(c->metadata["metadata-log"][0]["metadata-file"], t->metadata_location);
  // main still has the empty table; dev has the snapshot.
  EXPECT_EQ(catalog_->LoadTable("main", id)->metadata["current-snapshot-id"], -1);
  EXPECT_EQ(catalog_->LoadTable("dev", id)->metadata["current-snapshot-id"], 1);
  // The metadata file is where metadata-location says, and it is the table's content.
  auto key = Catalog::BlobKeyForLocation(c->metadata_location);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(Json::parse(*storage::ReadAll(blobs_, *key)), c->metadata);
  // Every table change is a commit with a message.
  bool more = false;
  auto log = repos_->Log("sales", "dev", "", "", 1, &more);
  ASSERT_TRUE(log.ok());
  EXPECT_NE((*log)[0].message.find("sales.orders: append"), std::string::npos);
  EXPECT_EQ((*log)[0].author, "bob");
  // Merging dev fast-forwards the table on main.
  auto merged = repos_->Merge("sales", "dev", "main", versioning::MergeStrategy::kFail,
                              versioning::CommitOptions{"merge", "a", {}, false, ""});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(catalog_->LoadTable("main", id)->metadata["current-snapshot-id"], 1);
  // Tags are read-only.
  ASSERT_TRUE(repos_->CreateTag("sales", "v1", "main").ok());
  EXPECT_EQ(catalog_->LoadTable("v1", id)->metadata["current-snapshot-id"], 1);
  EXPECT_EQ(catalog_->CommitTable("v1", {id, Json::array(), Append(2, 2, 1)}, "a").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(catalog_->LoadTable("nosuchref", id).status().code(), ErrorCode::kNotFound);
}

TEST_F(CatalogTest, StaleRequirementsFailAndConcurrentCommitsLoseNothing) {
  ASSERT_TRUE(catalog_->CreateTable("main", {"sales"}, CreateRequest("a"), false, "x").ok());
  ASSERT_TRUE(catalog_->CreateTable("main", {"sales"}, CreateRequest("b"), false, "x").ok());
  TableIdent a{{"sales"}, "a"}, b{{"sales"}, "b"};
  Json fresh = Json::array({{{"type", "assert-ref-snapshot-id"}, {"ref", "main"},
                             {"snapshot-id", nullptr}}});
  ASSERT_TRUE(catalog_->CommitTable("main", {a, fresh, Append(1, 1, nullptr)}, "x").ok());
  // A second writer that read the table before the first commit fails with a conflict.
  EXPECT_EQ(catalog_->CommitTable("main", {a, fresh, Append(2, 1, nullptr)}, "x").status().code(),
            ErrorCode::kConflict);
  // Writers on two tables of one branch race on the branch head; both land.
  std::atomic<int> failures{0};
  auto writer = [&](TableIdent t, int base) {
    int64_t parent = -1;
    for (int i = 1; i <= 10; ++i) {
      int64_t id = base + i;
      Json req = Json::array({{{"type", "assert-ref-snapshot-id"}, {"ref", "main"},
                               {"snapshot-id", parent < 0 ? Json(nullptr) : Json(parent)}}});
      auto r = catalog_->CommitTable("main", {t, req, Append(id, i + (base == 100 ? 0 : 1),
                                                              parent < 0 ? Json(nullptr)
                                                                         : Json(parent))},
                                     "x");
      if (!r.ok()) ++failures;
      parent = id;
    }
  };
  std::thread t1([&] { writer(b, 100); });
  std::thread t2([&] { writer(a, 200); });
  t1.join();
  t2.join();
  // Table a already had snapshot 1 on main, so its first requirement (no main) fails once and
  // every later one names a snapshot that never landed: count only b's, which all must land.
  auto lb = catalog_->LoadTable("main", b);
  ASSERT_TRUE(lb.ok());
  EXPECT_EQ(lb->metadata["snapshots"].size(), 10u);
  EXPECT_EQ(lb->metadata["current-snapshot-id"], 110);
}

TEST_F(CatalogTest, TransactionsCommitSeveralTablesAtOnce) {
  ASSERT_TRUE(catalog_->CreateTable("main", {"sales"}, CreateRequest("a"), false, "x").ok());
  ASSERT_TRUE(catalog_->CreateTable("main", {"sales"}, CreateRequest("b"), false, "x").ok());
  TableIdent a{{"sales"}, "a"}, b{{"sales"}, "b"};
  bool more = false;
  size_t before = repos_->Log("sales", "main", "", "", 100, &more)->size();
  Json props = Json::array({{{"action", "set-properties"}, {"updates", {{"k", "v"}}}}});
  ASSERT_TRUE(catalog_->CommitTransaction("main", {{a, Json::array(), props},
                                                   {b, Json::array(), Append(7, 1, nullptr)}},
                                          "x").ok());
  EXPECT_EQ(repos_->Log("sales", "main", "", "", 100, &more)->size(), before + 1);
  EXPECT_EQ(catalog_->LoadTable("main", a)->metadata["properties"]["k"], "v");
  EXPECT_EQ(catalog_->LoadTable("main", b)->metadata["current-snapshot-id"], 7);
  // One failing requirement and nothing is committed.
  Json bad = Json::array({{{"type", "assert-table-uuid"}, {"uuid", "nope"}}});
  EXPECT_EQ(catalog_->CommitTransaction("main", {{a, Json::array(), props},
                                                 {b, bad, props}}, "x").code(),
            ErrorCode::kConflict);
  EXPECT_EQ(repos_->Log("sales", "main", "", "", 100, &more)->size(), before + 1);
  // Rename within the domain keeps the metadata.
  ASSERT_TRUE(catalog_->RenameTable("main", a, {{"sales"}, "a2"}, "x").ok());
  EXPECT_EQ(catalog_->LoadTable("main", a).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->LoadTable("main", {{"sales"}, "a2"})->metadata["properties"]["k"], "v");
  auto tables = catalog_->ListTables("main", {"sales"});
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, (std::vector<std::string>{"a2", "b"}));
}

}  // namespace
}  // namespace lakemesh::catalog
