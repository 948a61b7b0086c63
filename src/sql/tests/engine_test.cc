#include "sql/engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <fstream>

#include "base/random.h"
#include "catalog/catalog.h"
#include "meta/sqlite_meta_store.h"
#include "sql/data_files.h"
#include "sql/pg_catalog.h"
#include "sql/statements.h"
#include "storage/local_blob_store.h"
#include "versioning/buckets.h"
#include "table/metadata.h"

namespace lakemesh::sql {
namespace {

using Json = nlohmann::json;

struct Collect : ResultSink {
  std::vector<ResultColumn> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  Status Columns(const std::vector<ResultColumn>& c) override {
    columns = c;
    return Status::OK();
  }
  Status Row(const std::vector<std::optional<std::string_view>>& values) override {
    std::vector<std::optional<std::string>> row;
    for (const auto& v : values) row.push_back(v ? std::optional<std::string>(*v) : std::nullopt);
    rows.push_back(std::move(row));
    return Status::OK();
  }
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lm-engine-" + RandomHex(6));
    std::filesystem::create_directories(dir_ / "scratch");
    auto m = meta::SqliteMetaStore::Open((dir_ / "meta.db").string());
    ASSERT_TRUE(m.ok());
    meta_ = std::move(*m);
    auto b = storage::LocalBlobStore::Open((dir_ / "blobs").string());
    ASSERT_TRUE(b.ok());
    blobs_ = std::move(*b);
    repos_ = std::make_unique<versioning::Repositories>(*meta_, *blobs_);
    catalog_ = std::make_unique<catalog::Catalog>(*repos_, *blobs_);
    for (const char* d : {"sales", "crm"}) {
      ASSERT_TRUE(catalog_->CreateNamespace("main", {d}, Json::object(), "t").ok());
    }
    Create("sales", "orders", R"j([{"id": 1, "name": "id", "required": true, "type": "long"},
        {"id": 2, "name": "customer", "required": false, "type": "long"},
        {"id": 3, "name": "amount", "required": false, "type": "decimal(9,2)"},
        {"id": 4, "name": "paid", "required": false, "type": "boolean"}])j");
    Create("crm", "customers", R"j([{"id": 1, "name": "id", "required": true, "type": "long"},
        {"id": 2, "name": "name", "required": false, "type": "string"}])j");
    Append("sales", "orders", "main", "id,customer,amount,paid\n1,10,5.50,true\n2,11,7.25,false\n"
                                      "3,10,1.00,\n");
    Append("crm", "customers", "main", "id,name\n10,Ada\n11,Grace\n");
    buckets_ = std::make_unique<versioning::Buckets>(*meta_, *blobs_);
    auto e = Engine::Open(*catalog_, EngineOptions{(dir_ / "scratch").string(), 2, "1GB"},
                          ObjectSources{repos_.get(), buckets_.get(), blobs_.get()});
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
    auto s = engine_->Connect("tester");
    ASSERT_TRUE(s.ok());
    session_ = std::move(*s);
  }
  void TearDown() override {
    session_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Create(const std::string& domain, const std::string& name, const std::string& fields) {
    Json req = {{"name", name},
                {"schema", {{"type", "struct"}, {"fields", Json::parse(fields)}}}};
    auto t = catalog_->CreateTable("main", {domain}, req, false, "t");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
  }

  void Append(const std::string& domain, const std::string& name, const std::string& ref,
              const std::string& csv) {
    catalog::TableIdent ident{{domain}, name};
    auto t = catalog_->LoadTable(ref, ident);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    std::string in = (dir_ / ("in-" + RandomHex(4) + ".csv")).string();
    std::ofstream(in) << csv;
    auto spec = table::TableSpec(t->metadata, 0);
    ASSERT_TRUE(spec.ok());
    auto written = WriteDataFiles(in, InputFormat::kCsv, *table::FindSchema(t->metadata), *spec,
                                  (dir_ / "scratch").string());
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    std::vector<table::DataFile> files;
    for (auto& w : *written) {
      ASSERT_TRUE(catalog_->StoreDataFile(t->metadata, w.local_path, &w.file).ok());
      files.push_back(w.file);
    }
    ASSERT_TRUE(catalog_->AppendFiles(ref, ident, files, "t").ok());
  }

  Collect Query(const std::string& sql) {
    Collect c;
    Outcome o = session_->Execute(sql, c);
    EXPECT_FALSE(o.error) << sql << ": " << o.error->sqlstate << " " << o.error->message;
    return c;
  }
  SqlError Fails(const std::string& sql) {
    Collect c;
    Outcome o = session_->Execute(sql, c);
    EXPECT_TRUE(o.error) << sql;
    return o.error.value_or(SqlError{});
  }

  std::filesystem::path dir_;
  std::unique_ptr<meta::MetaStore> meta_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<versioning::Repositories> repos_;
  std::unique_ptr<versioning::Buckets> buckets_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Session> session_;
};

TEST_F(EngineTest, QueriesTablesOfDomainsAndJoinsAcrossThem) {
  Collect c = Query("SELECT c.name, sum(o.amount) AS total, bool_or(o.paid) AS any_paid "
                    "FROM sales.orders o JOIN crm.customers c ON o.customer = c.id "
                    "GROUP BY c.name ORDER BY c.name");
  ASSERT_EQ(c.columns.size(), 3u);
  EXPECT_EQ(c.columns[0].name, "name");
  EXPECT_EQ(c.columns[0].type, ColumnType::kText);
  EXPECT_EQ(c.columns[1].type, ColumnType::kNumeric);
  EXPECT_EQ(c.columns[2].type, ColumnType::kBool);
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[0], (std::vector<std::optional<std::string>>{"Ada", "6.50", "t"}));
  EXPECT_EQ(c.rows[1], (std::vector<std::optional<std::string>>{"Grace", "7.25", "f"}));
  Collect nulls = Query("SELECT paid FROM sales.orders WHERE id = 3");
  ASSERT_EQ(nulls.rows.size(), 1u);
  EXPECT_FALSE(nulls.rows[0][0].has_value());
  // A new commit is seen by the next statement.
  Append("sales", "orders", "main", "id,customer,amount,paid\n4,11,2.00,true\n");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "4");
}

TEST_F(EngineTest, ReadsAnyRefAndTheSessionsRef) {
  ASSERT_TRUE(repos_->CreateBranch("sales", "dev", "main").ok());
  Append("sales", "orders", "dev", "id,customer,amount,paid\n9,10,100.00,true\n");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "3");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.\"orders@dev\"").rows[0][0], "4");
  EXPECT_EQ(Query("SELECT max(d.id) - max(m.id) FROM sales.\"orders@dev\" d, sales.orders m")
                .rows[0][0],
            "6");
  // SET lakemesh.ref: unqualified names read dev (domains without the branch fail clearly).
  Query("SET lakemesh.ref = 'dev'");
  EXPECT_EQ(session_->ref(), "dev");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "4");
  EXPECT_EQ(Query("SHOW lakemesh.ref").rows[0][0], "dev");
  EXPECT_EQ(Fails("SELECT * FROM crm.customers").sqlstate, "42P01");
  EXPECT_EQ(Query("SELECT count(*) FROM crm.\"customers@main\"").rows[0][0], "2");
  Query("RESET lakemesh.ref");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "3");
  // Reading a table at other refs does not add tables to the catalogs: each is listed once.
  for (const char* q :
       {"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'sales'",
        "SELECT count(DISTINCT table_name) FROM information_schema.columns WHERE "
        "table_schema = 'sales'",
        "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON c.relnamespace = n.oid WHERE n.nspname = 'sales'"}) {
    EXPECT_EQ(Query(q).rows[0][0], "1") << q;
  }
  auto shown = Query("SHOW TABLES").rows;
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[1][1], "orders");
}

TEST_F(EngineTest, TimeTravelsBySnapshotTimestampAndCommit) {
  auto t = catalog_->LoadTable("main", {{"sales"}, "orders"});
  ASSERT_TRUE(t.ok());
  const int64_t first = t->metadata["current-snapshot-id"].get<int64_t>();
  const int64_t first_ms = t->metadata["snapshots"][0]["timestamp-ms"].get<int64_t>();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Append("sales", "orders", "main", "id,customer,amount,paid\n4,11,2.00,true\n");
  Query("ALTER TABLE sales.orders RENAME COLUMN amount TO price");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "4");
  // Trino's syntax, by snapshot id: the rows and the columns of that snapshot.
  Collect v = Query("SELECT count(*), sum(amount) FROM sales.orders FOR VERSION AS OF " +
                    std::to_string(first));
  EXPECT_EQ(v.rows[0], (std::vector<std::optional<std::string>>{"3", "13.75"}));
  // By time: the snapshot current then (the timestamp in UTC).
  std::string at = Query("SELECT CAST(make_timestamp(" + std::to_string(first_ms * 1000) +
                         ") AS VARCHAR)").rows[0][0].value();
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders FOR TIMESTAMP AS OF TIMESTAMP '" + at +
                  "' o WHERE o.id > 0").rows[0][0],
            "3");
  EXPECT_EQ(Fails("SELECT * FROM sales.orders FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01 00:00:00'")
                .sqlstate,
            "22023");
  // By repository ref expression: the commit before the last two.
  EXPECT_EQ(Query("SELECT count(*) FROM sales.\"orders@main~2\"").rows[0][0], "3");
  // The current table is unchanged by all that.
  EXPECT_EQ(Query("SELECT sum(price) FROM sales.orders").rows[0][0], "15.75");
}

TEST_F(EngineTest, UnnamedColumnsAreNamedAsPostgresNamesThem) {
  Collect c = Query("SELECT count(*), sum(amount), max(id) AS top, id::VARCHAR, 1 + 1, customer "
                    "FROM sales.orders GROUP BY id, customer ORDER BY id LIMIT 1");
  std::vector<std::string> names;
  for (const auto& col : c.columns) names.push_back(col.name);
  EXPECT_EQ(names, (std::vector<std::string>{"count", "sum", "top", "id", "?column?", "customer"}));
}

TEST_F(EngineTest, ShowAllListsTheSettings) {
  Query("SET application_name = 'notebook'");
  Query("SET lakemesh.ref = 'dev'");
  Collect c = Query("SHOW ALL");
  ASSERT_EQ(c.columns.size(), 3u);
  EXPECT_EQ(c.columns[0].name, "name");
  std::map<std::string, std::string> settings;
  for (const auto& row : c.rows) settings[row[0].value_or("")] = row[1].value_or("NULL");
  EXPECT_EQ(settings["application_name"], "notebook");
  EXPECT_EQ(settings["lakemesh.ref"], "dev");
  EXPECT_EQ(settings["lakemesh.eager_aggregation"], "auto");
  EXPECT_EQ(settings["search_path"], "\"$user\", public");
  EXPECT_EQ(settings.count("sales.orders"), 0u);  // DuckDB's SHOW ALL listed tables
  EXPECT_EQ(Query("SHOW statement_timeout").rows[0][0], "0");
}

TEST_F(EngineTest, ErrorsCarryPostgresSqlStates) {
  EXPECT_EQ(Fails("SELECT * FROM sales.nope").sqlstate, "42P01");
  EXPECT_EQ(Fails("SELECT nope FROM sales.orders").sqlstate, "42703");
  EXPECT_EQ(Fails("SELEC 1").sqlstate, "42601");
  EXPECT_EQ(Fails("SELECT * FROM").sqlstate, "42601");
  EXPECT_EQ(Fails("SELECT 1/0::INTEGER + 'x'::INTEGER").sqlstate, "22P02");
  EXPECT_EQ(Fails("COMMENT ON TABLE sales.orders IS 'x'").sqlstate, "0A000");
}

TEST_F(EngineTest, SqlReachesNothingButTables) {
  for (const char* q : {"SELECT * FROM read_csv('/etc/passwd')",
                        "SELECT * FROM read_text('/etc/hostname')",
                        "SELECT * FROM glob('/*')",
                        "SELECT * FROM query_table('sales.orders')",
                        "SELECT (SELECT count(*) FROM read_parquet('/tmp/x.parquet'))"}) {
    SqlError e = Fails(q);
    EXPECT_EQ(e.sqlstate, "42501") << q << ": " << e.message;
  }
  for (const char* q : {"ATTACH '/tmp/x.db'", "INSTALL httpfs", "LOAD httpfs",
                        "COPY (SELECT 1) TO '/tmp/lakemesh-sql-x.csv'",
                        "PRAGMA database_list", "SET enable_external_access = true",
                        "SET allowed_directories = ['/']"}) {
    EXPECT_EQ(Fails(q).sqlstate, "42501") << q;
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/lakemesh-sql-x.csv"));
  // Two statements in one call are refused (the wire protocol splits them first).
  EXPECT_EQ(Fails("SELECT 1; SELECT 2").sqlstate, "42601");
}

TEST_F(EngineTest, CatalogsListTheDomainsTables) {
  Collect c = Query("SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema IN ('sales', 'crm') ORDER BY 1, 2");
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.rows[0], (std::vector<std::optional<std::string>>{"crm", "customers"}));
  EXPECT_EQ(c.rows[1], (std::vector<std::optional<std::string>>{"sales", "orders"}));
  Collect cols = Query("SELECT column_name, data_type FROM information_schema.columns "
                       "WHERE table_schema = 'sales' AND table_name = 'orders' "
                       "ORDER BY ordinal_position");
  ASSERT_EQ(cols.rows.size(), 4u);
  EXPECT_EQ(cols.rows[2][0], "amount");
  EXPECT_EQ(cols.rows[2][1], "DECIMAL(9,2)");
  Collect d = Query("DESCRIBE sales.orders");
  EXPECT_EQ(d.rows.size(), 4u);
  EXPECT_EQ(Query("EXPLAIN SELECT * FROM sales.orders").rows.size(), 1u);
  // EXPLAIN ANALYZE runs the query: its profile names the Parquet scan of the table's file.
  // (A table this test has not read yet: a version read again may already come from the table
  // cache's in-memory copy.)
  Collect analyzed = Query("EXPLAIN ANALYZE SELECT count(*) FROM crm.customers WHERE id > 10");
  ASSERT_FALSE(analyzed.rows.empty());
  std::string plan;
  for (const auto& row : analyzed.rows) {
    for (const auto& v : row) plan += v.value_or("");
  }
  EXPECT_NE(plan.find("READ_PARQUET"), std::string::npos) << plan;
  Collect shown = Query("SHOW TABLES");
  ASSERT_EQ(shown.rows.size(), 2u);
  EXPECT_EQ(shown.rows[0], (std::vector<std::optional<std::string>>{"crm", "customers",
                                                                    "BASE TABLE"}));
  EXPECT_EQ(Query("SHOW TABLES FROM sales").rows.size(), 1u);
}

TEST_F(EngineTest, WritesCreateInsertDeleteUpdateAlterAndDrop) {
  EXPECT_EQ(session_->Execute("CREATE SCHEMA ops", *std::make_unique<Collect>()).tag,
            "CREATE SCHEMA");
  Query("CREATE TABLE ops.events (id BIGINT NOT NULL, name VARCHAR, ts TIMESTAMPTZ, "
        "amount DECIMAL(9,2), tags VARCHAR[]) "
        "WITH (partitioning = ARRAY['day(ts)', 'bucket(id, 4)'])");
  auto run = [&](const std::string& sql) {
    Collect c;
    Outcome o = session_->Execute(sql, c);
    EXPECT_FALSE(o.error) << sql << ": " << (o.error ? o.error->message : "");
    return o.tag;
  };
  EXPECT_EQ(run("INSERT INTO ops.events VALUES (1, 'a', TIMESTAMPTZ '2026-11-01 10:00:00+00', "
                "1.50, ['x']), (2, 'b', TIMESTAMPTZ '2026-11-02 10:00:00+00', 2.25, [])"),
            "INSERT 0 2");
  EXPECT_EQ(run("INSERT INTO ops.events (id, name) SELECT id, name FROM crm.customers"),
            "INSERT 0 2");
  Collect all = Query("SELECT id, name, amount, tags FROM ops.events ORDER BY id");
  ASSERT_EQ(all.rows.size(), 4u);
  EXPECT_EQ(all.rows[0], (std::vector<std::optional<std::string>>{"1", "a", "1.50", "{x}"}));
  EXPECT_EQ(all.rows[2], (std::vector<std::optional<std::string>>{"10", "Ada", std::nullopt,
                                                                  std::nullopt}));
  // The files are partitioned as declared.
  auto t = catalog_->LoadTable("main", {{"ops"}, "events"});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->metadata["partition-specs"][0]["fields"].size(), 2u);
  EXPECT_EQ(Fails("INSERT INTO ops.events (name) VALUES ('no id')").sqlstate, "23502");
  EXPECT_EQ(Fails("INSERT INTO ops.events VALUES (1, 'a', NULL, 1, [], 'extra')").sqlstate, "42601");
  EXPECT_EQ(Fails("INSERT INTO ops.nope VALUES (1)").sqlstate, "42P01");

  EXPECT_EQ(run("DELETE FROM ops.events WHERE id = 10"), "DELETE 1");
  EXPECT_EQ(run("UPDATE ops.events SET name = upper(name), amount = 9 WHERE id IN "
                "(SELECT id FROM crm.customers)"),
            "UPDATE 1");
  EXPECT_EQ(Query("SELECT name, amount FROM ops.events WHERE id = 11").rows[0],
            (std::vector<std::optional<std::string>>{"GRACE", "9.00"}));
  EXPECT_EQ(run("DELETE FROM ops.events WHERE false"), "DELETE 0");

  // CREATE TABLE AS, across domains.
  EXPECT_EQ(run("CREATE TABLE ops.totals AS SELECT c.name, sum(o.amount) AS total "
                "FROM sales.orders o JOIN crm.customers c ON o.customer = c.id GROUP BY c.name"),
            "SELECT 2");
  EXPECT_EQ(Query("SELECT total FROM ops.totals WHERE name = 'Ada'").rows[0][0], "6.50");

  // Schema evolution.
  run("ALTER TABLE ops.events ADD COLUMN qty INTEGER");
  // Files older than the column read it as NULL.
  run("INSERT INTO ops.events (id, qty) VALUES (30, 3)");
  EXPECT_EQ(Query("SELECT count(*), count(qty), sum(qty) FROM ops.events").rows[0],
            (std::vector<std::optional<std::string>>{"4", "1", "3"}));
  run("DELETE FROM ops.events WHERE id = 30");
  run("ALTER TABLE ops.events RENAME COLUMN name TO label");
  run("ALTER TABLE ops.events DROP COLUMN tags");
  Collect evolved = Query("SELECT * FROM ops.events ORDER BY id");
  EXPECT_EQ(evolved.columns.size(), 5u);
  EXPECT_EQ(evolved.columns[1].name, "label");
  EXPECT_EQ(evolved.rows[0][1], "a");
  EXPECT_FALSE(evolved.rows[0][4].has_value());
  run("INSERT INTO ops.events (id, qty) VALUES (20, 7)");
  EXPECT_EQ(Query("SELECT qty FROM ops.events WHERE id = 20").rows[0][0], "7");

  // Writes at a tag are refused; DROP TABLE removes the table.
  ASSERT_TRUE(repos_->CreateTag("ops", "v1", "main").ok());
  SqlError at_tag = Fails("INSERT INTO ops.\"events@v1\" VALUES (3, 'c', NULL, 1, 1)");
  EXPECT_EQ(at_tag.sqlstate, "25006") << at_tag.message;
  EXPECT_EQ(run("DROP TABLE ops.totals"), "DROP TABLE");
  EXPECT_EQ(Fails("SELECT * FROM ops.totals").sqlstate, "42P01");
  EXPECT_EQ(run("DROP TABLE IF EXISTS ops.totals"), "DROP TABLE");
}

TEST_F(EngineTest, MergeRewritesOnlyTheFilesWhoseRowsItMatches) {
  Query("CREATE SCHEMA inv");
  Query("CREATE TABLE inv.stock (id BIGINT, qty INTEGER)");
  Query("INSERT INTO inv.stock VALUES (1, 10), (2, 20)");  // one data file per INSERT
  Query("INSERT INTO inv.stock VALUES (3, 30), (4, 40)");
  Query("INSERT INTO inv.stock VALUES (5, 50)");
  auto summary = [&]() {
    auto t = catalog_->LoadTable("main", {{"inv"}, "stock"});
    EXPECT_TRUE(t.ok());
    const int64_t id = t->metadata["current-snapshot-id"].get<int64_t>();
    for (const auto& snap : t->metadata["snapshots"]) {
      if (snap["snapshot-id"] == id) return snap["summary"];
    }
    return Json();
  };
  auto rows = [&]() {
    std::string out;
    for (const auto& r : Query("SELECT id, qty FROM inv.stock ORDER BY id").rows) out += *r[0] + ":" + *r[1] + " ";
    return out;
  };
  // Row 3 matches (its file is rewritten with it), row 9 is new; the other two files stay.
  EXPECT_EQ(session_->Execute("MERGE INTO inv.stock AS s USING (SELECT * FROM (VALUES (3, 1), (9, 90)) "
                              "v(id, qty)) AS n ON s.id = n.id WHEN MATCHED THEN UPDATE SET qty = s.qty + n.qty "
                              "WHEN NOT MATCHED THEN INSERT VALUES (n.id, n.qty)",
                              *std::make_unique<Collect>()).tag,
            "MERGE 2");
  EXPECT_EQ(rows(), "1:10 2:20 3:31 4:40 5:50 9:90 ");
  Json s1 = summary();
  EXPECT_EQ(s1.value("deleted-data-files", ""), "1") << s1.dump();
  EXPECT_EQ(s1.value("total-data-files", ""), "3") << s1.dump();
  // Nothing matches: the new rows are appended, no file is rewritten.
  Query("MERGE INTO inv.stock USING (SELECT 7 AS id, 70 AS qty) AS n ON stock.id = n.id "
        "WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (n.id, n.qty)");
  EXPECT_EQ(rows(), "1:10 2:20 3:31 4:40 5:50 7:70 9:90 ");
  Json s2 = summary();
  EXPECT_EQ(s2.value("deleted-data-files", "0"), "0") << s2.dump();
  EXPECT_EQ(s2.value("total-data-files", ""), "4") << s2.dump();
  // An ON condition with a CASE (its WHEN is not the MERGE's) and a comment that says WHEN.
  Query("MERGE INTO inv.stock AS s USING (SELECT 1 AS id) AS n ON s.id = CASE WHEN n.id > 100 THEN 0 "
        "ELSE n.id END /* WHEN */ WHEN MATCHED THEN DELETE");
  EXPECT_EQ(rows(), "2:20 3:31 4:40 5:50 7:70 9:90 ");
  EXPECT_EQ(summary().value("deleted-data-files", ""), "1");
  // WHEN NOT MATCHED BY SOURCE changes rows in every file: the whole table is merged.
  Query("MERGE INTO inv.stock AS s USING (SELECT 2 AS id) AS n ON s.id = n.id "
        "WHEN MATCHED THEN UPDATE SET qty = 0 WHEN NOT MATCHED BY SOURCE THEN DELETE");
  EXPECT_EQ(rows(), "2:0 ");
}

TEST_F(EngineTest, TableVersionsReadAgainAreServedFromMemory) {
  const std::string q = "SELECT sum(amount), count(*), min(customer) FROM sales.orders";
  auto first = Query(q).rows;
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NEAR(static_cast<double>(engine_->TableCacheStats().budget), 250e6, 2.5e6);  // 1GB / 4
  EXPECT_EQ(Query(q).rows, first);  // read again: the version is copied in the background
  for (int i = 0; i < 250 && engine_->TableCacheStats().tables == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto stats = engine_->TableCacheStats();
  ASSERT_EQ(stats.tables, 1u);
  EXPECT_GT(stats.bytes, 0u);
  EXPECT_EQ(Query(q).rows, first);  // now from memory, the same rows
  EXPECT_EQ(Query("SELECT o.id, c.name FROM sales.orders o JOIN crm.customers c "
                  "ON o.customer = c.id ORDER BY o.id").rows.size(), 3u);
  // A new version is read from its own files, never from the copy of the last one.
  ASSERT_FALSE(Query("INSERT INTO sales.orders VALUES (4, 12, 2.00, true)").rows.size());
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "4");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "4");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.\"orders@main~1\"").rows[0][0], "3");
  // The copies are the engine's own: SQL can neither name nor list them.
  EXPECT_FALSE(Fails("SELECT * FROM __lm_cache.t1").sqlstate.empty());
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.tables WHERE table_schema LIKE "
                  "'%lm_cache%'").rows[0][0], "0");
  EXPECT_EQ(Query("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname LIKE "
                  "'%lm_cache%'").rows[0][0], "0");
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.columns WHERE table_schema LIKE "
                  "'%lm_cache%' OR table_schema = 'lakemesh_pg'").rows[0][0], "0");
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'sales' "
                  "AND table_name = 'orders'").rows[0][0], "4");
}

TEST_F(EngineTest, GroupsByDimensionIdsWithoutHashing) {
  // A key whose statistics span 200,000 values (a dimension's ids) is aggregated by indexing
  // an array; a wider one is hashed as before. Both give the same groups.
  Query("CREATE TABLE sales.facts AS SELECT CAST(i % 200000 AS INTEGER) AS customer, "
        "CAST(i AS BIGINT) * 1000 AS wide FROM range(0, 400000) t(i)");
  auto plan = [&](const std::string& q) {
    std::string text;
    for (const auto& row : Query("EXPLAIN " + q).rows) {
      for (const auto& v : row) text += v.value_or("");
    }
    return text;
  };
  const std::string narrow = "SELECT customer, count(*) FROM sales.facts GROUP BY 1";
  EXPECT_NE(plan(narrow).find("PERFECT_HASH_GROUP_BY"), std::string::npos) << plan(narrow);
  const std::string wide = "SELECT wide, count(*) FROM sales.facts GROUP BY 1";
  EXPECT_EQ(plan(wide).find("PERFECT_HASH_GROUP_BY"), std::string::npos) << plan(wide);
  auto counts = Query("SELECT count(*), min(n), max(n) FROM (" + narrow + ") t(c, n)").rows;
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0], (std::vector<std::optional<std::string>>{"200000", "2", "2"}));
}

TEST_F(EngineTest, EagerAggregationGivesTheSameRowsAsAggregatingAfterTheJoins) {
  // Facts with NULL keys and values; a dimension with a missing id, a duplicated id (its facts
  // count once per match) and a NULL id.
  Query("CREATE TABLE sales.facts AS SELECT CAST(CASE WHEN i % 97 = 0 THEN NULL ELSE hash(i) % 50 "
        "END AS INTEGER) AS a_id, CAST(hash(i * 3) % 20 AS INTEGER) AS b_id, CAST(hash(i * 5) % "
        "1000 AS INTEGER) AS c_id, CAST(CASE WHEN i % 13 = 0 THEN NULL ELSE hash(i * 7) % 10 END "
        "AS INTEGER) AS qty, CAST(CASE WHEN i % 11 = 0 THEN NULL ELSE (hash(i * 11) % 100000) / "
        "100.0 END AS DECIMAL(10,2)) AS price, CAST(hash(i * 13) % 1000000 AS BIGINT) AS big "
        "FROM range(0, 30000) t(i)");
  Query("CREATE TABLE sales.dim_a AS SELECT CAST(i AS INTEGER) AS id, 'cat' || (i % 7) AS cat, "
        "CAST(i * 1.5 AS DECIMAL(6,1)) AS weight FROM range(0, 45) t(i) UNION ALL "
        "SELECT 3, 'dup', 0.5 UNION ALL SELECT NULL, 'none', 1.0");
  Query("CREATE TABLE sales.dim_b AS SELECT CAST(i AS INTEGER) AS id, 'r' || (i % 4) AS region "
        "FROM range(0, 20) t(i)");
  const std::string fa = " FROM sales.facts f JOIN sales.dim_a a ON f.a_id = a.id ";
  const std::string fab = fa + "JOIN sales.dim_b b ON f.b_id = b.id ";
  const std::vector<std::string> rewritten = {
      "SELECT a.cat, sum(f.qty), count(*), count(f.price), min(f.price), max(f.qty), avg(f.qty), "
      "avg(f.price), avg(f.big), sum(f.price)" + fa + "GROUP BY a.cat ORDER BY 1",
      "SELECT a.cat, b.region, sum(f.qty * f.price) AS v" + fab +
          "WHERE f.qty > 2 GROUP BY 1, 2 HAVING count(*) > 3 ORDER BY v DESC, 1, 2",
      "SELECT a.cat, count(DISTINCT f.c_id), sum(f.qty)" + fa + "GROUP BY 1 ORDER BY 1",
      "SELECT a.cat, count(DISTINCT f.c_id)" + fa + "GROUP BY 1 ORDER BY 1",
      "SELECT sum(f.qty), count(*), avg(f.price), min(f.big)" + fa + "WHERE f.qty > 1000",
      "SELECT count(*), sum(f.price)" + fab + "AND f.price > 10",
      "SELECT a.cat, sum(f.price) AS s, rank() OVER (ORDER BY sum(f.price) DESC)" + fa +
          "GROUP BY a.cat ORDER BY 1",
      "SELECT f.a_id, a.cat, sum(f.qty)" + fa + "GROUP BY f.a_id, a.cat ORDER BY 1 NULLS FIRST, 2",
      "SELECT cat, sum(qty) FROM sales.facts JOIN sales.dim_a ON a_id = id GROUP BY cat ORDER BY cat",
      "WITH t AS (SELECT a.cat, sum(f.qty) AS q" + fa + "GROUP BY 1) SELECT * FROM t ORDER BY 1",
      "SELECT b.region, max(a.cat), min(a.weight), sum(f.qty)" + fab + "GROUP BY 1 ORDER BY 1",
      "SELECT a.cat, avg(f.price) AS m, count(*) AS n" + fa +
          "GROUP BY a.cat ORDER BY m DESC, n LIMIT 3",
      "SELECT DISTINCT a.cat IS NULL, count(*) > 0" + fa + "GROUP BY a.cat",
      // The aggregated table may be the one named second: the dimension, aggregated by its id
      // (and the column grouped by) before it meets the facts.
      "SELECT a.cat, count(a.weight)" + fa + "GROUP BY 1 ORDER BY 1",
  };
  const std::vector<std::string> unchanged = {
      "SELECT a.cat, sum(a.weight), sum(f.qty)" + fa + "GROUP BY 1 ORDER BY 1",  // two tables
      "SELECT a.cat, string_agg(CAST(f.qty AS VARCHAR), ',' ORDER BY f.c_id, f.qty)" + fa +
          "GROUP BY 1 ORDER BY 1",
      "SELECT a.cat, sum(f.qty) FROM sales.facts f LEFT JOIN sales.dim_a a ON f.a_id = a.id "
      "GROUP BY 1 ORDER BY 1 NULLS FIRST",
      "SELECT a.cat, avg(f.qty * 2)" + fa + "GROUP BY 1 ORDER BY 1",
      "SELECT a.cat, sum(f.qty) FILTER (WHERE f.price > 5)" + fa + "GROUP BY 1 ORDER BY 1",
      "SELECT f.qty, sum(f.price)" + fa + "GROUP BY ROLLUP (f.qty) ORDER BY 1 NULLS FIRST, 2",
      "SELECT a.cat, sum(f.qty)" + fa + "AND f.qty < a.id GROUP BY 1 ORDER BY 1",
      "SELECT a.cat, sum(f.qty)" + fa +
          "WHERE f.c_id IN (SELECT id FROM sales.dim_b) GROUP BY 1 ORDER BY 1",
  };
  auto rows = [&](const std::string& mode, const std::string& q) {
    Query("SET lakemesh.eager_aggregation = '" + mode + "'");
    Collect c = Query(q);
    std::vector<std::string> names;
    for (const auto& col : c.columns) names.push_back(col.name + ":" + std::to_string(static_cast<int>(col.type)));
    return std::make_pair(names, c.rows);
  };
  for (const auto& q : rewritten) {
    auto before = engine_->EagerAggregations();
    auto eager = rows("on", q);
    EXPECT_EQ(engine_->EagerAggregations(), before + 1) << "not rewritten: " << q;
    auto plain = rows("off", q);
    EXPECT_EQ(engine_->EagerAggregations(), before + 1) << q;
    EXPECT_EQ(eager, plain) << q;
    EXPECT_FALSE(plain.second.empty()) << q;
  }
  for (const auto& q : unchanged) {
    auto before = engine_->EagerAggregations();
    auto eager = rows("on", q);
    EXPECT_EQ(engine_->EagerAggregations(), before) << "rewritten: " << q;
    EXPECT_EQ(eager, rows("off", q)) << q;
  }

  // By default (auto), only where the statistics promise fewer rows: at least a million facts,
  // four times as many as the keys' combinations, and no filter on the other tables (which
  // would let DuckDB skip most facts).
  Query("RESET lakemesh.eager_aggregation");
  EXPECT_EQ(Query("SHOW lakemesh.eager_aggregation").rows[0][0], "auto");
  auto before = engine_->EagerAggregations();
  Query("SELECT a.cat, sum(f.qty)" + fa + "GROUP BY 1");
  EXPECT_EQ(engine_->EagerAggregations(), before) << "30,000 rows";
  Query("CREATE TABLE sales.many AS SELECT CAST(hash(i) % 50 AS INTEGER) AS a_id, "
        "CAST(hash(i * 3) % 20 AS INTEGER) AS b_id, CAST(i % 7 AS INTEGER) AS qty, "
        "CAST(i AS INTEGER) AS serial "
        "FROM range(0, 1200000) t(i)");
  const std::string many = " FROM sales.many f JOIN sales.dim_a a ON f.a_id = a.id ";
  Query("SELECT a.cat, sum(f.qty)" + many + "GROUP BY 1");
  EXPECT_EQ(engine_->EagerAggregations(), before + 1) << "50 keys for 1.2 M rows";
  Query("SELECT a.cat, sum(f.qty)" + many + "WHERE a.cat = 'cat1' GROUP BY 1");
  EXPECT_EQ(engine_->EagerAggregations(), before + 1) << "a filter on the dimension";
  Query("SELECT a.cat, b.region, sum(f.qty)" + many +
        "JOIN sales.dim_b b ON f.b_id = b.id GROUP BY 1, 2");
  EXPECT_EQ(engine_->EagerAggregations(), before + 2) << "1,000 key pairs";
  Query("SELECT a.cat, sum(f.qty) FROM sales.many f JOIN sales.dim_a a ON f.serial = a.id "
        "GROUP BY 1");
  EXPECT_EQ(engine_->EagerAggregations(), before + 2) << "a key of 1.2 M values";
  EXPECT_EQ(Fails("SET lakemesh.eager_aggregation = 'sometimes'").sqlstate, "22023");
}

TEST_F(EngineTest, ValuesAreWrittenAsDuckDbWritesThemAsText) {
  // Integers, decimals, dates and booleans are written as text by lakemesh itself from DuckDB's
  // vectors; they must read exactly as DuckDB's own cast to VARCHAR writes them (which is how
  // the other types are written).
  const std::string columns[] = {
      "CAST(h % 256 AS INTEGER) - 128 AS TINYINT",
      "CAST(h % 65536 AS INTEGER) - 32768 AS SMALLINT",
      "CAST(h % 4294967296 AS BIGINT) - 2147483648 AS INTEGER",
      "CAST(h >> 1 AS BIGINT) * (1 - 2 * (i % 2)) AS BIGINT",
      "h % 256 AS UTINYINT", "h % 65536 AS USMALLINT", "h % 4294967296 AS UINTEGER",
      "h AS UBIGINT",
      "(CAST(h % 20001 AS INTEGER) - 10000) / 1000.0 AS DECIMAL(4,2)",
      "(CAST(h % 199 AS INTEGER) - 99) / 100.0 AS DECIMAL(2,2)",
      "(CAST(h % 2000001 AS INTEGER) - 1000000) / 1000.0 AS DECIMAL(9,3)",
      "(CAST(h % 200000001 AS BIGINT) - 100000000) / 7.0 AS DECIMAL(18,6)",
      "CAST(h % 1000000007 AS BIGINT) - 500000000 AS DECIMAL(18,0)",
      "CAST(h % 1999 AS INTEGER) - 999 AS DECIMAL(3,0)",
      "DATE '1970-01-01' + (CAST(h % 7300000 AS INTEGER) - 3650000) AS DATE",
      "h % 2 = 0 AS BOOLEAN"};
  std::string typed, texts;
  for (size_t c = 0; c < std::size(columns); ++c) {
    const std::string& col = columns[c];
    size_t as = col.rfind(" AS ");
    std::string expr = "CAST(CASE WHEN i % 97 = 0 THEN NULL ELSE " + col.substr(0, as) +
                       " END AS " + col.substr(as + 4) + ")";
    typed += (c ? ", " : "") + expr;
    texts += (c ? ", " : "") + std::string("CAST(") + expr + " AS VARCHAR)";
  }
  const std::string from =
      " FROM (SELECT i, hash(i) AS h FROM range(0, 3000) t(i)) ORDER BY i";
  auto native = Query("SELECT " + typed + from).rows;
  auto cast = Query("SELECT " + texts + from).rows;
  ASSERT_EQ(native.size(), 3000u);
  ASSERT_EQ(native.size(), cast.size());
  for (size_t r = 0; r < native.size(); ++r) {
    for (size_t c = 0; c < native[r].size(); ++c) {
      if (c == std::size(columns) - 1 && cast[r][c]) {  // booleans: PostgreSQL's t and f
        EXPECT_EQ(native[r][c], *cast[r][c] == "true" ? "t" : "f") << "row " << r;
        continue;
      }
      ASSERT_EQ(native[r][c], cast[r][c]) << "row " << r << " column " << columns[c];
    }
  }
  // The extremes of each type, and dates DuckDB writes specially.
  auto edges = Query("SELECT CAST(-128 AS TINYINT), CAST(-9223372036854775808 AS BIGINT), "
                     "CAST(18446744073709551615 AS UBIGINT), CAST(-0.05 AS DECIMAL(4,2)), "
                     "CAST(0.5 AS DECIMAL(2,2)), CAST(-999999999999.999999 AS DECIMAL(18,6)), "
                     "DATE 'infinity', DATE '-infinity', DATE '0044-03-15 (BC)', "
                     "DATE '0001-01-01', DATE '12345-06-07'").rows;
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0], (std::vector<std::optional<std::string>>{
                          "-128", "-9223372036854775808", "18446744073709551615", "-0.05",
                          ".50", "-999999999999.999999", "infinity", "-infinity",
                          "0044-03-15 (BC)", "0001-01-01", "12345-06-07"}));
}

TEST_F(EngineTest, CopyFromStdinTakesRowsInPiecesOfAnySize) {
  // COPY's text format, sent one byte at a time (pieces split lines and escapes): a header line
  // skipped, escapes, a NULL, a line end of \r\n, a last line without its line end.
  const std::string text =
      "id\tname\n40\ta\\tb\\\\c\n41\t\\N\r\n42\t\\x41\\102\n43\tlast";
  std::unique_ptr<CopyIn> in;
  auto err = session_->BeginCopyIn("COPY crm.customers FROM STDIN WITH (HEADER)", &in);
  ASSERT_FALSE(err) << err->message;
  EXPECT_EQ(in->columns(), 2u);
  for (char ch : text) ASSERT_TRUE(in->Write(std::string_view(&ch, 1)).ok());
  Outcome o = in->Finish();
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.tag, "COPY 4");
  auto rows = Query("SELECT id, name FROM crm.customers WHERE id >= 40 ORDER BY id").rows;
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][1], "a\tb\\c");
  EXPECT_EQ(rows[1][1], std::nullopt);
  EXPECT_EQ(rows[2][1], "AB");
  EXPECT_EQ(rows[3][1], "last");
  // CSV; the end marker of the text format ends it; an abandoned COPY writes nothing.
  ASSERT_FALSE(session_->BeginCopyIn("COPY crm.customers (name, id) FROM STDIN CSV", &in));
  ASSERT_TRUE(in->Write("\"x,\"\"y\"\"\",50\n").ok());
  EXPECT_EQ(in->Finish().tag, "COPY 1");
  EXPECT_EQ(Query("SELECT name FROM crm.customers WHERE id = 50").rows[0][0], "x,\"y\"");
  ASSERT_FALSE(session_->BeginCopyIn("COPY crm.customers FROM STDIN", &in));
  ASSERT_TRUE(in->Write("51\tkept\n\\.\n52\tafter the end\n").ok());
  EXPECT_EQ(in->Finish().tag, "COPY 1");
  ASSERT_FALSE(session_->BeginCopyIn("COPY crm.customers FROM STDIN", &in));
  ASSERT_TRUE(in->Write("60\tabandoned\n").ok());
  in.reset();
  EXPECT_EQ(Query("SELECT count(*) FROM crm.customers WHERE id >= 51").rows[0][0], "1");
  // What is checked before any row is sent, and what only the rows can show.
  EXPECT_EQ(session_->BeginCopyIn("COPY crm.nope FROM STDIN", &in)->sqlstate, "42P01");
  EXPECT_EQ(session_->BeginCopyIn("COPY crm.customers (nope) FROM STDIN", &in)->sqlstate,
            "42703");
  EXPECT_EQ(session_->BeginCopyIn("COPY crm.customers FROM STDIN (FORMAT parquet)", &in)->sqlstate,
            "0A000");
  ASSERT_FALSE(session_->BeginCopyIn("COPY crm.customers FROM STDIN", &in));
  ASSERT_TRUE(in->Write("70\tok\nseventy\tno\n").ok());
  Outcome bad = in->Finish();
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->sqlstate, "22P02") << bad.error->message;
  EXPECT_EQ(bad.error->message,
            "invalid input syntax for type BIGINT: \"seventy\" (COPY line 2, column id)");
  EXPECT_EQ(Query("SELECT count(*) FROM crm.customers WHERE id = 70").rows[0][0], "0");
  // Over Execute (no client to send rows) it is refused, clearly.
  EXPECT_EQ(Fails("COPY crm.customers FROM STDIN").sqlstate, "0A000");
}

TEST_F(EngineTest, TheTableCacheEvictsTheLeastRecentlyReadVersion) {
  // A budget that holds one small table's copy: reading a second table twice makes it the one.
  EngineOptions o{(dir_ / "scratch2").string(), 2, "1GB"};
  o.table_cache_bytes = 1;
  std::filesystem::create_directories(dir_ / "scratch2");
  {
    // How much one copy takes here: measured with room for it.
    EngineOptions probe = o;
    probe.table_cache_bytes = 100 << 20;
    auto e = Engine::Open(*catalog_, probe, ObjectSources{repos_.get(), buckets_.get(), blobs_.get()});
    ASSERT_TRUE(e.ok());
    auto s = (*e)->Connect("tester");
    for (int i = 0; i < 2; ++i) {
      Collect c;
      ASSERT_FALSE((*s)->Execute("SELECT count(*) FROM crm.customers", c).error);
    }
    for (int i = 0; i < 250 && (*e)->TableCacheStats().tables == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ((*e)->TableCacheStats().tables, 1u);
    o.table_cache_bytes = static_cast<int64_t>((*e)->TableCacheStats().bytes * 3 / 2);
  }
  auto e = Engine::Open(*catalog_, o, ObjectSources{repos_.get(), buckets_.get(), blobs_.get()});
  ASSERT_TRUE(e.ok());
  auto s = (*e)->Connect("tester");
  auto count = [&](const std::string& table) {
    Collect c;
    auto out = (*s)->Execute("SELECT count(*) FROM " + table, c);
    EXPECT_FALSE(out.error) << out.error->message;
    return c.rows.empty() ? std::string() : *c.rows[0][0];
  };
  auto settle = [&](uint64_t copies) {  // until that many copies were made
    for (int i = 0; i < 250 && (*e)->TableCacheStats().copies < copies; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ((*e)->TableCacheStats().copies, copies);
  };
  EXPECT_EQ(count("crm.customers"), "2");
  EXPECT_EQ(count("crm.customers"), "2");
  settle(1);
  EXPECT_EQ((*e)->TableCacheStats().tables, 1u);
  EXPECT_EQ(count("sales.orders"), "3");
  EXPECT_EQ(count("sales.orders"), "3");  // its copy pushes the customers' out
  settle(2);
  auto stats = (*e)->TableCacheStats();
  EXPECT_EQ(stats.tables, 1u);
  EXPECT_LE(stats.bytes, stats.budget);
  // Both still read right, the evicted one from its files again.
  EXPECT_EQ(count("crm.customers"), "2");
  EXPECT_EQ(count("sales.orders"), "3");
}

TEST_F(EngineTest, TheTableCacheCanBeTurnedOff) {
  EngineOptions o{(dir_ / "scratch2").string(), 2, "1GB"};
  o.table_cache_bytes = 0;
  std::filesystem::create_directories(dir_ / "scratch2");
  auto e = Engine::Open(*catalog_, o, ObjectSources{repos_.get(), buckets_.get(), blobs_.get()});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto s = (*e)->Connect("tester");
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 3; ++i) {
    Collect c;
    ASSERT_FALSE((*s)->Execute("SELECT count(*) FROM sales.orders", c).error);
    EXPECT_EQ(c.rows[0][0], "3");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ((*e)->TableCacheStats().tables, 0u);
  EXPECT_EQ((*e)->TableCacheStats().budget, 0u);
}

TEST_F(EngineTest, TransactionsCommitTogetherOrNotAtAll) {
  auto run = [&](const std::string& sql) {
    Collect c;
    Outcome o = session_->Execute(sql, c);
    EXPECT_FALSE(o.error) << sql << ": " << (o.error ? o.error->message : "");
    return o.tag;
  };
  Query("CREATE TABLE sales.returns (id BIGINT, reason VARCHAR)");
  run("BEGIN");
  run("INSERT INTO sales.orders (id, amount) VALUES (50, 1)");
  run("INSERT INTO sales.returns VALUES (50, 'late')");
  EXPECT_EQ(run("ROLLBACK"), "ROLLBACK");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "3");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.returns").rows[0][0], "0");
  auto before = repos_->GetBranch("sales", "main");
  ASSERT_TRUE(before.ok());
  run("BEGIN");
  run("INSERT INTO sales.orders (id, amount) VALUES (51, 1)");
  run("INSERT INTO sales.returns VALUES (51, 'broken')");
  run("INSERT INTO sales.returns VALUES (52, 'lost')");
  EXPECT_EQ(run("DELETE FROM sales.orders WHERE id = 1"), "DELETE 1");
  run("UPDATE sales.returns SET reason = upper(reason) WHERE id = 52");
  // The transaction reads what it wrote; another session does not see it yet.
  EXPECT_EQ(Query("SELECT count(*) FROM sales.returns").rows[0][0], "2");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "3");
  auto other = engine_->Connect("other");
  ASSERT_TRUE(other.ok());
  Collect seen;
  (*other)->Execute("SELECT count(*) FROM sales.returns", seen);
  EXPECT_EQ(seen.rows[0][0], "0");
  // Another domain in the same transaction is refused.
  EXPECT_EQ(Fails("INSERT INTO crm.customers VALUES (99, 'x')").sqlstate, "0A000");
  EXPECT_EQ(run("COMMIT"), "COMMIT");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders").rows[0][0], "3");
  EXPECT_EQ(Query("SELECT id, reason FROM sales.returns ORDER BY id").rows,
            (std::vector<std::vector<std::optional<std::string>>>{{"51", "broken"},
                                                                   {"52", "LOST"}}));
  // The transaction's branch is gone, and so are the engine's views of it.
  auto branches = repos_->ListBranches("sales", "", 100);
  ASSERT_TRUE(branches.ok());
  EXPECT_EQ(branches->size(), 1u);
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE "
                  "'%lm-txn-%'").rows[0][0],
            "0");
  // One repository commit for the whole transaction.
  auto after = repos_->GetBranch("sales", "main");
  // A transaction whose branch moved meanwhile in another table commits on top of that.
  run("BEGIN");
  run("INSERT INTO sales.returns VALUES (60, 'x')");
  Append("sales", "orders", "main", "id,customer,amount,paid\n70,10,1.00,true\n");
  EXPECT_EQ(run("COMMIT"), "COMMIT");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.returns WHERE id = 60").rows[0][0], "1");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders WHERE id = 70").rows[0][0], "1");
  // One whose table changed meanwhile fails to commit (40001) and changes nothing.
  run("BEGIN");
  run("INSERT INTO sales.orders VALUES (61, 10, 2.00, true)");
  Append("sales", "orders", "main", "id,customer,amount,paid\n71,10,1.00,true\n");
  Collect c;
  Outcome failed = session_->Execute("COMMIT", c);
  ASSERT_TRUE(failed.error);
  EXPECT_EQ(failed.error->sqlstate, "40001");
  EXPECT_EQ(Query("SELECT count(*) FROM sales.orders WHERE id = 61").rows[0][0], "0");
  ASSERT_TRUE(after.ok());
  auto head = repos_->GetCommit("sales", after->head);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->parents.at(0), before->head);
}

TEST(Statements, SplitsOnSemicolonsOutsideQuotesAndComments) {
  EXPECT_EQ(SplitStatements("SELECT 1; SELECT 'a;b'; -- c;\n SELECT $$x;y$$ ;;"),
            (std::vector<std::string>{"SELECT 1", "SELECT 'a;b'", "-- c;\n SELECT $$x;y$$"}));
  EXPECT_EQ(SplitStatements("SELECT \"a;\"\"b\" /* ; /* nested; */ */ FROM t"),
            (std::vector<std::string>{"SELECT \"a;\"\"b\" /* ; /* nested; */ */ FROM t"}));
  EXPECT_EQ(SplitStatements("SELECT E'\\';'; SELECT 2"),
            (std::vector<std::string>{"SELECT E'\\';'", "SELECT 2"}));
  EXPECT_TRUE(SplitStatements(" ; -- only a comment\n").empty());
  EXPECT_EQ(LeadingKeywords("/* x */ ((select 1))", 2), (std::vector<std::string>{"SELECT"}));
  EXPECT_EQ(LeadingKeywords("explain  analyze select", 2),
            (std::vector<std::string>{"EXPLAIN", "ANALYZE"}));
  EXPECT_EQ(AfterKeywords("EXPLAIN -- c\n ANALYZE SELECT 1", 2), "SELECT 1");
}

TEST(Statements, RewritesPostgresCatalogQueriesForDuckDb) {
  EXPECT_EQ(RewritePgCatalog("SELECT c.oid::pg_catalog.regclass, pg_catalog.pg_get_userbyid(c.relowner), "
                             "pg_catalog.lower(c.relname) FROM pg_catalog.pg_class c, "
                             "pg_catalog.pg_settings s WHERE c.relname OPERATOR(pg_catalog.~) "
                             "'^(pg_catalog.pg_class)$' COLLATE pg_catalog.default"),
            "SELECT c.oid::VARCHAR, lakemesh_pg.pg_get_userbyid(c.relowner), lower(c.relname) "
            "FROM lakemesh_pg.pg_class c, pg_catalog.pg_settings s WHERE c.relname ~ "
            "'^(pg_catalog.pg_class)$'");
  EXPECT_TRUE(MentionsPgCatalog("select * from pg_class"));
  EXPECT_FALSE(MentionsPgCatalog("SELECT * FROM sales.orders"));
}

TEST(Statements, ReadsPostgresArrayTextAsDuckDbListText) {
  EXPECT_EQ(PgArrayAsListText(R"({a,"b c",NULL,"NULL", null ,"it's","q\"x",back\\slash})"),
            R"(['a', 'b c', NULL, 'NULL', NULL, 'it\'s', 'q"x', 'back\\slash'])");
  EXPECT_EQ(PgArrayAsListText("{{1,2},{3,4}}"), "[['1', '2'], ['3', '4']]");
  EXPECT_EQ(PgArrayAsListText(" { } "), "[]");
  EXPECT_EQ(PgArrayAsListText("[1, 2]"), "[1, 2]");  // DuckDB's own: as it is
  // A write's array parameter (int4[] from a client) is read as such.
  std::string error;
  EXPECT_EQ(BindParameters("INSERT INTO t VALUES ($1, $2)", {std::string("{1,2}"), std::nullopt},
                           {"INTEGER[]", "INTEGER[]"}, &error),
            "INSERT INTO t VALUES (CAST(pg_array_as_list('{1,2}') AS INTEGER[]), NULL)");
  EXPECT_EQ(error, "");
  for (const char* bad : {"{", "{a", "{a,}", "{,a}", "{\"a}", "{a}x", "{a\"b}"}) {
    EXPECT_FALSE(PgArrayAsListText(bad)) << bad;
  }
}

TEST(Statements, RewritesTrinoTimeTravelAsDuckDbAtClauses) {
  EXPECT_EQ(RewriteAsOf("SELECT * FROM t FOR VERSION AS OF 42"),
            "SELECT * FROM t AT (VERSION => 42)");
  EXPECT_EQ(RewriteAsOf("SELECT * FROM t for system_time as of TIMESTAMP '2026-01-01' AS x "
                        "WHERE x.a = 'FOR VERSION AS OF 1'"),
            "SELECT * FROM t x AT (TIMESTAMP => TIMESTAMP '2026-01-01') "
            "WHERE x.a = 'FOR VERSION AS OF 1'");
  EXPECT_EQ(RewriteAsOf("SELECT * FROM a FOR VERSION AS OF 1 JOIN b FOR VERSION AS OF 2 y ON true"),
            "SELECT * FROM a AT (VERSION => 1) JOIN b y AT (VERSION => 2) ON true");
  // Not time travel: left alone.
  EXPECT_EQ(RewriteAsOf("SELECT 1 FOR UPDATE"), "SELECT 1 FOR UPDATE");
  EXPECT_EQ(RewriteAsOf("SELECT * FROM t FOR VERSION AS OF x"), "SELECT * FROM t FOR VERSION AS OF x");
}

}  // namespace
}  // namespace lakemesh::sql
