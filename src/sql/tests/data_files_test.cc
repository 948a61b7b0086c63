#include "sql/data_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/random.h"
#include "sql/connection.h"

namespace lakemesh::sql {
namespace {

using Json = nlohmann::json;

Json Schema() {
  return Json::parse(R"j({"type": "struct", "schema-id": 0, "fields": [
      {"id": 1, "name": "id", "required": true, "type": "long"},
      {"id": 2, "name": "ts", "required": false, "type": "timestamptz"},
      {"id": 3, "name": "region", "required": false, "type": "string"},
      {"id": 4, "name": "amount", "required": false, "type": "decimal(9,2)"},
      {"id": 5, "name": "score", "required": false, "type": "double"}]})j");
}

class DataFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lm-datafiles-" + RandomHex(6));
    std::filesystem::create_directories(dir_ / "out");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::string Out() { return (dir_ / "out").string(); }
  std::filesystem::path dir_;
};

table::PartitionSpec Spec(const char* json) {
  auto s = table::BindPartitionSpec(Json::parse(json), Schema());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST_F(DataFilesTest, WritesOneFilePerPartitionWithFieldIdsAndStatistics) {
  std::string csv = Write("in.csv",
                          "id,ts,region,amount,score\n"
                          "1,2026-01-05 10:00:00+00,eu,10.50,1.5\n"
                          "2,2026-01-20 11:00:00+00,eu,3.25,nan\n"
                          "3,2026-02-01 00:00:00+00,us,,2.5\n"
                          "4,2026-02-03 00:00:00+00,,7.00,\n");
  auto spec = Spec(R"j({"spec-id": 0, "fields": [
      {"source-id": 2, "field-id": 1000, "name": "ts_month", "transform": "month"},
      {"source-id": 3, "field-id": 1001, "name": "region", "transform": "identity"}]})j");
  auto files = WriteDataFiles(csv, InputFormat::kCsv, Schema(), spec, Out());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);  // (Jan, eu), (Feb, us), (Feb, null)
  std::map<std::string, const WrittenFile*> by;
  for (const auto& f : *files) {
    std::string key = std::to_string(f.file.partition[0]->i) + "/" +
                      (f.file.partition[1] ? f.file.partition[1]->s : "null");
    by[key] = &f;
  }
  // Months since 1970-01: 2026-01 = 56 * 12.
  const WrittenFile* jan = by["672/eu"];
  ASSERT_NE(jan, nullptr);
  EXPECT_EQ(jan->file.record_count, 2);
  EXPECT_EQ(*table::Lookup(jan->file.lower_bounds, 1), table::ToBytes(table::Literal::Long(1)));
  EXPECT_EQ(*table::Lookup(jan->file.upper_bounds, 1), table::ToBytes(table::Literal::Long(2)));
  EXPECT_EQ(*table::Lookup(jan->file.nan_value_counts, 5), 1);
  // The NaN is not a bound.
  auto hi = table::FromBytes(*table::ParsePrimitiveType("double"),
                             *table::Lookup(jan->file.upper_bounds, 5));
  EXPECT_EQ(hi->d, 1.5);
  auto amount_lo = table::FromBytes(*table::ParsePrimitiveType("decimal(9,2)"),
                                    *table::Lookup(jan->file.lower_bounds, 4));
  EXPECT_EQ(table::ToJson(*amount_lo), "3.25");
  ASSERT_NE(by["673/null"], nullptr);
  EXPECT_EQ(*table::Lookup(by["673/null"]->file.null_value_counts, 3), 1);
  ASSERT_NE(by["673/us"], nullptr);
  EXPECT_EQ(*table::Lookup(by["673/us"]->file.null_value_counts, 4), 1);
  EXPECT_EQ(table::Lookup(by["673/us"]->file.lower_bounds, 4), nullptr);  // only nulls

  // The Parquet files carry the Iceberg field ids.
  auto db = Connection::OpenInMemory(1);
  ASSERT_TRUE(db.ok());
  QueryResult r;
  ASSERT_TRUE((*db)->Query("SELECT name, field_id FROM parquet_schema(" +
                               Literal(jan->local_path) + ") WHERE field_id IS NOT NULL "
                               "ORDER BY field_id", &r).ok());
  ASSERT_EQ(r.rows(), 5u);
  EXPECT_EQ(*r.Text(0, 0), "id");
  EXPECT_EQ(*r.Text(0, 4), "score");
  EXPECT_EQ(r.Int(1, 4), 5);
}

TEST_F(DataFilesTest, RejectsInputThatDoesNotFitTheTable) {
  table::PartitionSpec none = Spec(R"j({"spec-id": 0, "fields": []})j");
  auto extra = WriteDataFiles(Write("a.csv", "id,colour\n1,red\n"), InputFormat::kCsv, Schema(),
                              none, Out());
  EXPECT_NE(extra.status().message().find("input column 'colour' is not a column"),
            std::string::npos) << extra.status().ToString();
  auto missing = WriteDataFiles(Write("b.csv", "region\neu\n"), InputFormat::kCsv, Schema(), none,
                                Out());
  EXPECT_NE(missing.status().message().find("required column 'id' is missing"), std::string::npos);
  auto nulls = WriteDataFiles(Write("c.json", "{\"id\": 1}\n{\"id\": null}\n"), InputFormat::kJson,
                              Schema(), none, Out());
  EXPECT_NE(nulls.status().message().find("required column 'id' has 1 null"), std::string::npos)
      << nulls.status().ToString();
  auto bad = WriteDataFiles(Write("d.csv", "id\nabc\n"), InputFormat::kCsv, Schema(), none, Out());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  auto absent = WriteDataFiles((dir_ / "nope.csv").string(), InputFormat::kCsv, Schema(), none,
                               Out());
  EXPECT_EQ(absent.status().code(), ErrorCode::kInvalidArgument);
  // Nothing is left behind by the failures.
  EXPECT_TRUE(std::filesystem::is_empty(Out()));
  // Columns match case-insensitively; an unpartitioned table gets one file.
  auto ok = WriteDataFiles(Write("e.csv", "ID,Region\n7,eu\n8,us\n"), InputFormat::kCsv, Schema(),
                           none, Out());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].file.record_count, 2);
  EXPECT_TRUE((*ok)[0].file.partition.empty());
}

TEST_F(DataFilesTest, DeletesRowsByCopyOnWriteReadingFilesByFieldId) {
  auto spec = Spec(R"j({"spec-id": 0, "fields": [
      {"source-id": 3, "field-id": 1000, "name": "region", "transform": "identity"}]})j");
  auto files = WriteDataFiles(Write("in.csv", "id,region,amount\n1,eu,1.00\n2,eu,9.00\n"
                                              "3,us,2.00\n4,apac,8.00\n5,apac,9.50\n"),
                              InputFormat::kCsv, Schema(), spec, Out());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  LocalScan local;
  for (const auto& w : *files) {
    LocalDataFile l{w.local_path, w.file};
    l.file.file_path = "s3://t/" + w.file.partition[0]->s + ".parquet";
    local.data.push_back(l);
  }
  // The table renamed `region` to `area` since: files are read by field id.
  Json renamed = Schema();
  renamed["fields"][2]["name"] = "area";
  auto result = DeleteRows(local, "amount > 5 AND area <> 'us'", renamed, spec, Out());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows, 3);
  std::sort(result->removed.begin(), result->removed.end());
  EXPECT_EQ(result->removed, (std::vector<std::string>{"s3://t/apac.parquet", "s3://t/eu.parquet"}));
  ASSERT_EQ(result->added.size(), 1u);  // eu keeps id 1; apac lost both rows; us untouched
  EXPECT_EQ(result->added[0].file.record_count, 1);
  EXPECT_EQ(result->added[0].file.partition[0]->s, "eu");
  auto db = Connection::OpenInMemory(1);
  QueryResult r;
  ASSERT_TRUE((*db)->Query("SELECT area, id FROM read_parquet(" +
                               Literal(result->added[0].local_path) + ")", &r).ok());
  EXPECT_EQ(*r.Text(0, 0), "eu");
  EXPECT_EQ(r.Int(1, 0), 1);

  // Conditions DuckDB rejects, and conditions that reach outside the table's files.
  EXPECT_EQ(DeleteRows(local, "nope > 1", renamed, spec, Out()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(DeleteRows(local, "   ", renamed, spec, Out()).status().code(),
            ErrorCode::kInvalidArgument);
  auto outside = DeleteRows(local, "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
                            renamed, spec, Out());
  EXPECT_FALSE(outside.ok());
  auto two = DeleteRows(local, "true); COPY (SELECT 1) TO '/tmp/lakemesh-x.csv'; SELECT (1",
                        renamed, spec, Out());
  EXPECT_FALSE(two.ok());
  EXPECT_FALSE(std::filesystem::exists("/tmp/lakemesh-x.csv"));
}

TEST_F(DataFilesTest, UpdatesRowsByCopyOnWriteAndRepartitions) {
  auto spec = Spec(R"j({"spec-id": 0, "fields": [
      {"source-id": 3, "field-id": 1000, "name": "region", "transform": "identity"}]})j");
  auto files = WriteDataFiles(Write("u.csv", "id,region,amount\n1,eu,1.00\n2,eu,9.00\n3,us,2.00\n"),
                              InputFormat::kCsv, Schema(), spec, Out());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  LocalScan local;
  for (const auto& w : *files) {
    LocalDataFile l{w.local_path, w.file};
    l.file.file_path = "s3://t/" + w.file.partition[0]->s + ".parquet";
    local.data.push_back(l);
  }
  // Row 2 moves from eu to apac and doubles its amount; row 1 stays in eu.
  auto r = UpdateRows(local, {{"region", "'apac'"}, {"AMOUNT", "amount * 2"}}, "id = 2", Schema(),
                      spec, Out());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 1);
  EXPECT_EQ(r->removed, std::vector<std::string>{"s3://t/eu.parquet"});
  ASSERT_EQ(r->added.size(), 2u);
  std::map<std::string, std::string> by_region;
  for (const auto& w : r->added) by_region[w.file.partition[0]->s] = w.local_path;
  ASSERT_EQ(by_region.size(), 2u);
  auto db = Connection::OpenInMemory(1);
  QueryResult q;
  ASSERT_TRUE((*db)->Query("SELECT id, amount FROM read_parquet(" + Literal(by_region["apac"]) + ")",
                           &q).ok());
  EXPECT_EQ(q.Int(0, 0), 2);
  EXPECT_EQ(*q.Text(1, 0), "18.00");
  EXPECT_EQ(UpdateRows(local, {{"nope", "1"}}, "true", Schema(), spec, Out()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(UpdateRows(local, {{"id", "(SELECT count(*) FROM read_csv('/etc/passwd'))"}},
                          "true", Schema(), spec, Out()).ok());
  // A value that does not fit the column is an error, not a silent truncation.
  EXPECT_FALSE(UpdateRows(local, {{"id", "'not a number'"}}, "true", Schema(), spec, Out()).ok());
}

// Bucket partitions computed in DuckDB (iceberg_bucket_*) agree with table::Apply for every type
// of source the test covers.
TEST_F(DataFilesTest, BucketPartitionsMatchTheSpecsHash) {
  Json schema = Json::parse(R"j({"type": "struct", "schema-id": 0, "fields": [
      {"id": 1, "name": "id", "required": true, "type": "long"},
      {"id": 2, "name": "name", "required": false, "type": "string"},
      {"id": 3, "name": "amount", "required": false, "type": "decimal(9,2)"},
      {"id": 4, "name": "ts", "required": false, "type": "timestamptz"},
      {"id": 5, "name": "key", "required": false, "type": "uuid"}]})j");
  auto spec = table::BindPartitionSpec(Json::parse(R"j({"spec-id": 0, "fields": [
      {"source-id": 1, "field-id": 1000, "name": "id_b", "transform": "bucket[4]"},
      {"source-id": 2, "field-id": 1001, "name": "name_b", "transform": "bucket[3]"},
      {"source-id": 3, "field-id": 1002, "name": "amount_b", "transform": "bucket[5]"},
      {"source-id": 4, "field-id": 1003, "name": "ts_b", "transform": "bucket[2]"},
      {"source-id": 5, "field-id": 1004, "name": "key_b", "transform": "bucket[7]"}]})j"),
      schema);
  ASSERT_TRUE(spec.ok());
  std::string csv = "id,name,amount,ts,key\n";
  const char* names[] = {"iceberg", "lakemesh", "é", ""};
  for (int i = 0; i < 12; ++i) {
    csv += std::to_string(i * 7919 - 30) + "," + names[i % 4] + "," + std::to_string(i) + "." +
           std::to_string(10 + i) + ",2017-11-16 22:31:0" + std::to_string(i % 10) +
           "+00,f79c3e09-677c-4bbd-a479-3f349cb785e" + std::to_string(i % 10) + "\n";
  }
  auto files = WriteDataFiles(Write("b.csv", csv), InputFormat::kCsv, schema, *spec, Out());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto db = Connection::OpenInMemory(1);
  int rows = 0;
  for (const auto& f : *files) {
    QueryResult r;
    ASSERT_TRUE((*db)->Query("SELECT id, name, CAST(amount AS VARCHAR), epoch_us(ts), "
                             "CAST(key AS VARCHAR) FROM read_parquet(" + Literal(f.local_path) +
                             ")", &r).ok());
    for (size_t i = 0; i < r.rows(); ++i, ++rows) {
      std::vector<table::Literal> src = {
          table::Literal::Long(r.Int(0, i)),
          *table::FromJson(*table::ParsePrimitiveType("string"), r.Text(1, i).value_or("")),
          *table::FromJson(*table::ParsePrimitiveType("decimal(9,2)"), *r.Text(2, i)),
          *table::FromJson(*table::ParsePrimitiveType("timestamptz"), r.Int(3, i)),
          *table::FromJson(*table::ParsePrimitiveType("uuid"), *r.Text(4, i))};
      for (size_t p = 0; p < src.size(); ++p) {
        if (r.IsNull(p, i)) {  // an empty CSV field reads as NULL: so is its bucket
          EXPECT_FALSE(f.file.partition[p].has_value());
          continue;
        }
        auto want = table::Apply(spec->fields[p].transform, src[p]);
        ASSERT_TRUE(want.ok() && want->has_value());
        ASSERT_TRUE(f.file.partition[p].has_value()) << p;
        EXPECT_EQ(f.file.partition[p]->i, (*want)->i) << "field " << p << " row " << i;
      }
    }
  }
  EXPECT_EQ(rows, 12);
}

// Hand-made delete files, as other engines write them (merge-on-read): a position delete file
// naming rows of the data file (and of another file), an equality delete file on `region`.
TEST_F(DataFilesTest, ReadsRowsApplyingPositionAndEqualityDeletes) {
  table::PartitionSpec none = Spec(R"j({"spec-id": 0, "fields": []})j");
  auto files = WriteDataFiles(
      Write("r.csv", "id,region,amount\n1,eu,1.00\n2,eu,2.00\n3,us,3.00\n4,,4.00\n5,eu,5.00\n"),
      InputFormat::kCsv, Schema(), none, Out());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  LocalDataFile data{(*files)[0].local_path, (*files)[0].file};
  data.file.file_path = "s3://t/_tables/x/data/d1.parquet";
  auto db = Connection::OpenInMemory(1);
  std::string pos = Out() + "/pos.parquet", eq = Out() + "/eq.parquet", eqn = Out() + "/eqn.parquet";
  ASSERT_TRUE((*db)->Run("COPY (SELECT * FROM (VALUES ('" + data.file.file_path + "', 1::BIGINT), "
                         "('s3://t/other.parquet', 0::BIGINT)) v(file_path, pos)) TO " +
                         Literal(pos) + " (FORMAT parquet, FIELD_IDS {file_path: 2147483546, "
                         "pos: 2147483545})").ok());
  ASSERT_TRUE((*db)->Run("COPY (SELECT 'us' AS region) TO " + Literal(eq) +
                         " (FORMAT parquet, FIELD_IDS {region: 3})").ok());
  ASSERT_TRUE((*db)->Run("COPY (SELECT NULL::VARCHAR AS region) TO " + Literal(eqn) +
                         " (FORMAT parquet, FIELD_IDS {region: 3})").ok());
  LocalDataFile pos_file{pos, {}}, eq_file{eq, {}}, null_file{eqn, {}};
  pos_file.file.content = table::FileContent::kPositionDeletes;
  eq_file.file.content = null_file.file.content = table::FileContent::kEqualityDeletes;
  eq_file.file.equality_ids = null_file.file.equality_ids = {3};
  auto ids = [](const Rows& r) {
    std::vector<int64_t> out;
    for (const auto& row : r.rows) out.push_back(row[0].get<int64_t>());
    return out;
  };
  auto all = ReadRows({{data}, {{}}, {}}, Schema(), "", 100, Out());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(ids(*all), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(all->columns[2], "region");
  EXPECT_EQ((*all).rows[0][3], "1.00");  // decimals as exact text
  LocalScan with_deletes{{data}, {{0, 1, 2}}, {pos_file, eq_file, null_file}};
  auto r = ReadRows(with_deletes, Schema(), "", 100, Out());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Position 1 (id 2) deleted; region 'us' (id 3) and region NULL (id 4: nulls are equal).
  EXPECT_EQ(ids(*r), (std::vector<int64_t>{1, 5}));
  auto filtered = ReadRows({{data}, {{0}}, {pos_file}}, Schema(), "amount > 2", 1, Out());
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(filtered->rows.size(), 1u);
  EXPECT_TRUE(filtered->truncated);
  EXPECT_FALSE(ReadRows({{data}, {{}}, {}}, Schema(), "(SELECT 1 FROM read_csv('/etc/passwd'))",
                        10, Out()).ok());

  // Copy-on-write over the same merge-on-read file: the rewrite holds exactly the live rows
  // that do not match (ids 1 and 5 live; deleting id 5 leaves id 1), and the delete files'
  // rows do not come back.
  auto d = DeleteRows(with_deletes, "id = 5", Schema(), none, Out());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->rows, 1);
  EXPECT_EQ(d->removed, std::vector<std::string>{data.file.file_path});
  ASSERT_EQ(d->added.size(), 1u);
  EXPECT_EQ(d->added[0].file.record_count, 1);
  auto rewritten = ReadRows({{{d->added[0].local_path, d->added[0].file}}, {}, {}}, Schema(), "",
                            100, Out());
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(ids(*rewritten), (std::vector<int64_t>{1}));
  // A condition only deleted rows match changes nothing; an update sees live rows only.
  auto none_live = DeleteRows(with_deletes, "id = 2", Schema(), none, Out());
  ASSERT_TRUE(none_live.ok());
  EXPECT_EQ(none_live->rows, 0);
  EXPECT_TRUE(none_live->removed.empty());
  auto u = UpdateRows(with_deletes, {{"amount", "amount + 100"}}, "true", Schema(), none, Out());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->rows, 2);
  ASSERT_EQ(u->added.size(), 1u);
  EXPECT_EQ(u->added[0].file.record_count, 2);
}

// Truncate partitions of decimals (on the unscaled value, rounding toward negative infinity) and
// binary (to the first W bytes) agree with table::Apply.
TEST_F(DataFilesTest, DecimalAndBinaryTruncatePartitionsMatchTheSpec) {
  Json schema = Json::parse(R"j({"type": "struct", "schema-id": 0, "fields": [
      {"id": 1, "name": "id", "required": true, "type": "long"},
      {"id": 2, "name": "amount", "required": false, "type": "decimal(9,2)"},
      {"id": 3, "name": "whole", "required": false, "type": "decimal(5,0)"},
      {"id": 4, "name": "payload", "required": false, "type": "binary"}]})j");
  auto spec = table::BindPartitionSpec(Json::parse(R"j({"spec-id": 0, "fields": [
      {"source-id": 2, "field-id": 1000, "name": "amount_t", "transform": "truncate[50]"},
      {"source-id": 3, "field-id": 1001, "name": "whole_t", "transform": "truncate[10]"},
      {"source-id": 4, "field-id": 1002, "name": "payload_t", "transform": "truncate[2]"}]})j"),
      schema);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  std::string csv = "id,amount,whole,payload\n"
                    "1,10.65,-1,\\x01\\x02\\x03\n"
                    "2,-0.05,99999,\\xFF\n"
                    "3,-12.34,-99999,\n"
                    "4,0.49,0,\\xAB\\xCD\\xEF\\x00\n"
                    "5,,7,\\x01\\x02\n";
  auto files = WriteDataFiles(Write("t.csv", csv), InputFormat::kCsv, schema, *spec, Out());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto db = Connection::OpenInMemory(1);
  int rows = 0;
  for (const auto& f : *files) {
    QueryResult r;
    ASSERT_TRUE((*db)->Query("SELECT CAST(amount AS VARCHAR), CAST(whole AS VARCHAR), "
                             "hex(payload) FROM read_parquet(" + Literal(f.local_path) + ")",
                             &r).ok());
    for (size_t i = 0; i < r.rows(); ++i, ++rows) {
      const char* types[] = {"decimal(9,2)", "decimal(5,0)", "binary"};
      for (size_t p = 0; p < 3; ++p) {
        if (r.IsNull(p, i)) {
          EXPECT_FALSE(f.file.partition[p].has_value());
          continue;
        }
        auto src = table::FromJson(*table::ParsePrimitiveType(types[p]), *r.Text(p, i));
        ASSERT_TRUE(src.ok()) << src.status().ToString();
        auto want = table::Apply(spec->fields[p].transform, *src);
        ASSERT_TRUE(want.ok() && want->has_value());
        ASSERT_TRUE(f.file.partition[p].has_value()) << p;
        EXPECT_EQ(table::ToBytes(*f.file.partition[p]), table::ToBytes(**want))
            << "field " << p << " value " << *r.Text(p, i);
      }
    }
  }
  EXPECT_EQ(rows, 5);
  // Types DuckDB's Parquet writer cannot give the physical type the spec requires are refused.
  Json fixed = schema;
  fixed["fields"][3]["type"] = "fixed[4]";
  auto unpartitioned = table::BindPartitionSpec(Json::parse(R"({"spec-id": 0, "fields": []})"), fixed);
  ASSERT_TRUE(unpartitioned.ok());
  auto refused = WriteDataFiles(Write("f.csv", "id\n1\n"), InputFormat::kCsv, fixed,
                                *unpartitioned, Out());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("fixed-length"), std::string::npos);
}

TEST_F(DataFilesTest, NestedColumnsCarryFieldIdsAtEveryLevel) {
  Json schema = Json::parse(R"j({"type": "struct", "schema-id": 0, "fields": [
      {"id": 1, "name": "id", "required": true, "type": "long"},
      {"id": 2, "name": "who", "required": false, "type": {"type": "struct", "fields": [
        {"id": 5, "name": "name", "required": false, "type": "string"},
        {"id": 6, "name": "age", "required": false, "type": "int"}]}},
      {"id": 3, "name": "tags", "required": false,
       "type": {"type": "list", "element-id": 7, "element-required": false, "element": "string"}},
      {"id": 4, "name": "attrs", "required": false,
       "type": {"type": "map", "key-id": 8, "key": "string", "value-id": 9,
                "value-required": false, "value": "long"}}]})j");
  table::PartitionSpec none = Spec(R"j({"spec-id": 0, "fields": []})j");
  auto files = WriteDataFiles(
      Write("n.json",
            "{\"id\": 1, \"who\": {\"name\": \"ann\", \"age\": 30}, \"tags\": [\"a\", \"b\"]}\n"
            "{\"id\": 2, \"who\": {\"name\": \"bob\", \"age\": 41}, \"tags\": []}\n"),
      InputFormat::kJson, schema, none, Out());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  const WrittenFile& f = (*files)[0];
  EXPECT_EQ(f.file.record_count, 2);
  EXPECT_NE(table::Lookup(f.file.lower_bounds, 1), nullptr);  // primitives keep their bounds
  auto db = Connection::OpenInMemory(1);
  QueryResult r;
  ASSERT_TRUE((*db)->Query("SELECT name, field_id FROM parquet_schema(" + Literal(f.local_path) +
                               ") WHERE field_id IS NOT NULL ORDER BY field_id", &r).ok());
  std::vector<std::string> got;
  for (size_t i = 0; i < r.rows(); ++i) got.push_back(*r.Text(0, i) + "=" + *r.Text(1, i));
  EXPECT_EQ(got, (std::vector<std::string>{"id=1", "who=2", "tags=3", "attrs=4", "name=5",
                                           "age=6", "element=7", "key=8", "value=9"}));
  // Deleting by a nested field, reading by field id.
  LocalScan local{{{f.local_path, f.file}}, {}, {}};
  local.data[0].file.file_path = "s3://t/n.parquet";
  auto d = DeleteRows(local, "who.age > 40", schema, none, Out());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->rows, 1);
  ASSERT_EQ(d->added.size(), 1u);
  EXPECT_EQ(d->added[0].file.record_count, 1);
}

}  // namespace
}  // namespace lakemesh::sql
