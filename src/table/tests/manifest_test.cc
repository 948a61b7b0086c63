#include "table/manifest.h"

#include <gtest/gtest.h>

#include <map>

#include "table/avro.h"
#include "table/expression.h"
#include "table/metadata.h"
#include "table/operations.h"
#include "table/scan.h"

namespace lakemesh::table {
namespace {

using Json = nlohmann::json;

Json Schema() {
  return Json::parse(R"j({
    "type": "struct", "schema-id": 0,
    "fields": [
      {"id": 1, "name": "id", "required": true, "type": "long"},
      {"id": 2, "name": "ts", "required": false, "type": "timestamptz"},
      {"id": 3, "name": "region", "required": false, "type": "string"},
      {"id": 4, "name": "amount", "required": false, "type": "decimal(9,2)"},
      {"id": 5, "name": "score", "required": false, "type": "double"},
      {"id": 6, "name": "ok", "required": false, "type": "boolean"},
      {"id": 7, "name": "key", "required": false, "type": "uuid"},
      {"id": 8, "name": "day", "required": false, "type": "date"},
      {"id": 9, "name": "blob", "required": false, "type": "binary"}
    ]})j");
}

Literal Of(const char* type, const Json& v) { return *FromJson(*ParsePrimitiveType(type), v); }

// A table, its files kept in memory.
struct Table {
  Json metadata;
  std::map<std::string, std::string> files;

  FileReader Reader() {
    return [this](const std::string& loc) -> Result<std::shared_ptr<const std::string>> {
      auto it = files.find(loc);
      if (it == files.end()) return NotFound("no file " + loc);
      return std::make_shared<const std::string>(it->second);
    };
  }
  void Commit(const PreparedCommit& c) {
    for (const auto& f : c.files) files[f.location] = f.bytes;
    ASSERT_TRUE(CheckRequirements(&metadata, c.requirements).ok());
    Status st = ApplyUpdates(metadata, c.updates, 2000);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void Append(const std::vector<DataFile>& fs, const std::string& branch = "main") {
    AppendOptions o;
    o.branch = branch;
    o.now_ms = 2000;
    auto c = PrepareAppend(metadata, fs, o, Reader());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Commit(*c);
  }
};

Table MakeTable(const char* spec_json) {
  table::NewTable t;
  t.schema = Schema();
  t.partition_spec = Json::parse(spec_json);
  t.location = "s3://sales/_tables/t1";
  t.uuid = "t1";
  t.now_ms = 1000;
  auto m = NewTableMetadata(t);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return Table{*m, {}};
}

DataFile File(const std::string& path, PartitionTuple partition, int64_t id_lo, int64_t id_hi,
              int64_t rows = 100) {
  DataFile f;
  f.file_path = path;
  f.partition = std::move(partition);
  f.record_count = rows;
  f.file_size_in_bytes = rows * 10;
  f.value_counts = {{1, rows}, {3, rows}};
  f.null_value_counts = {{1, 0}, {3, 0}};
  f.lower_bounds = {{1, ToBytes(Literal::Long(id_lo))}};
  f.upper_bounds = {{1, ToBytes(Literal::Long(id_hi))}};
  return f;
}

// Metrics for the region column (id 3) that agree with its value in every row.
DataFile WithRegion(DataFile f, const std::optional<std::string>& region) {
  if (region) {
    f.lower_bounds.emplace_back(3, *region);
    f.upper_bounds.emplace_back(3, *region);
  } else {
    f.null_value_counts = {{1, 0}, {3, f.record_count}};
  }
  return f;
}

std::vector<std::string> Paths(const ScanPlan& p) {
  std::vector<std::string> out;
  for (const auto& t : p.tasks) out.push_back(t.file.file_path);
  std::sort(out.begin(), out.end());
  return out;
}

Result<ScanPlan> Scan(Table& t, const Json& filter, ScanOptions o = {}) {
  auto e = ParseExpression(filter);
  if (!e.ok()) return e.status();
  o.filter = *e;
  return PlanScan(t.metadata, o, t.Reader());
}

TEST(Manifest, WritesAndReadsEveryPartitionType) {
  const char* spec = R"j({"fields": [
      {"source-id": 1, "name": "id_bucket", "transform": "bucket[8]"},
      {"source-id": 2, "name": "ts_hour", "transform": "hour"},
      {"source-id": 3, "name": "region", "transform": "identity"},
      {"source-id": 4, "name": "amount_t", "transform": "truncate[100]"},
      {"source-id": 5, "name": "score", "transform": "identity"},
      {"source-id": 6, "name": "ok", "transform": "identity"},
      {"source-id": 7, "name": "key", "transform": "identity"},
      {"source-id": 8, "name": "day-of", "transform": "day"},
      {"source-id": 9, "name": "blob", "transform": "identity"}]})j";
  Table t = MakeTable(spec);
  auto bound = TableSpec(t.metadata, 0);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  const PartitionSpec& ps = *bound;
  ASSERT_EQ(ps.fields.size(), 9u);
  EXPECT_EQ(ps.fields[1].type.id, TypeId::kInt);
  EXPECT_EQ(ps.fields[7].type.id, TypeId::kDate);

  PartitionTuple values = {Literal::Int(3),
                           Of("int", 420000),
                           Literal::String("eu-west"),
                           Of("decimal(9,2)", "12.00"),
                           Of("double", 2.5),
                           Of("boolean", true),
                           Of("uuid", "f79c3e09-677c-4bbd-a479-3f349cb785e7"),
                           Of("date", "2026-11-30"),
                           Of("binary", "00ff")};
  PartitionTuple nulls(9);
  std::vector<ManifestEntry> entries(2);
  entries[0].snapshot_id = 42;
  entries[0].file = File("s3://sales/_tables/t1/data/a.parquet", values, 1, 50);
  entries[0].file.split_offsets = {4, 1000};
  entries[0].file.sort_order_id = 0;
  entries[1].status = EntryStatus::kExisting;
  entries[1].snapshot_id = 41;
  entries[1].sequence_number = 3;
  entries[1].file_sequence_number = 4;
  entries[1].file = File("s3://sales/_tables/t1/data/b.parquet", nulls, 51, 99, 7);

  ManifestFile mf;
  auto bytes = WriteManifest(Schema(), ps, ManifestContent::kData, entries, &mf);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*mf.added_files_count, 1);
  EXPECT_EQ(*mf.existing_files_count, 1);
  EXPECT_EQ(*mf.added_rows_count, 100);
  EXPECT_EQ(*mf.existing_rows_count, 7);
  ASSERT_EQ(mf.partitions.size(), 9u);
  EXPECT_TRUE(mf.partitions[2].contains_null);
  EXPECT_EQ(*mf.partitions[2].lower_bound, "eu-west");
  EXPECT_EQ(mf.partitions[4].contains_nan, std::optional<bool>(false));

  // The header carries what the spec requires.
  auto r = avro::Reader::Open(*bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*(*r)->Meta("format-version"), "2");
  EXPECT_EQ(*(*r)->Meta("content"), "data");
  EXPECT_EQ(*(*r)->Meta("partition-spec-id"), "0");
  EXPECT_EQ(Json::parse(*(*r)->Meta("partition-spec")).size(), 9u);
  EXPECT_EQ(Json::parse(*(*r)->Meta("schema"))["fields"].size(), 9u);
  // Partition field names are made Avro-compatible as Iceberg does it; ids stay.
  const Json& part = (*r)->schema()["fields"][4]["type"]["fields"][3]["type"];
  EXPECT_EQ(part["fields"][7]["name"], "day_x2Dof");
  EXPECT_EQ(part["fields"][7]["field-id"], 1007);

  mf.manifest_path = "m.avro";
  mf.sequence_number = 9;
  mf.added_snapshot_id = 42;
  auto back = ReadManifest(*bytes, mf, ps);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  const ManifestEntry& a = (*back)[0];
  EXPECT_EQ(a.status, EntryStatus::kAdded);
  EXPECT_EQ(a.sequence_number, 9);  // inherited
  EXPECT_EQ(a.file_sequence_number, 9);
  EXPECT_EQ(a.file.file_path, "s3://sales/_tables/t1/data/a.parquet");
  EXPECT_EQ(a.file.record_count, 100);
  EXPECT_EQ(a.file.split_offsets, (std::vector<int64_t>{4, 1000}));
  EXPECT_EQ(a.file.sort_order_id, 0);
  ASSERT_EQ(a.file.partition.size(), 9u);
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(a.file.partition[i].has_value()) << i;
    EXPECT_EQ(Compare(*a.file.partition[i], *values[i]), 0) << i;
  }
  EXPECT_EQ(*Lookup(a.file.lower_bounds, 1), ToBytes(Literal::Long(1)));
  EXPECT_EQ(*Lookup(a.file.value_counts, 3), 100);
  const ManifestEntry& b = (*back)[1];
  EXPECT_EQ(b.status, EntryStatus::kExisting);
  EXPECT_EQ(b.sequence_number, 3);  // explicit, not inherited
  EXPECT_EQ(b.file_sequence_number, 4);
  for (const auto& v : b.file.partition) EXPECT_FALSE(v.has_value());

  // The partition filter skips entries before decoding the rest.
  auto some = ReadManifest(*bytes, mf, ps, [](const PartitionTuple& p) { return !p[2]; });
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 1u);
  EXPECT_EQ((*some)[0].file.record_count, 7);
}

TEST(Manifest, ListRoundTrips) {
  ManifestFile a;
  a.manifest_path = "s3://x/_tables/t/metadata/a.avro";
  a.manifest_length = 1234;
  a.partition_spec_id = 1;
  a.content = ManifestContent::kDeletes;
  a.sequence_number = 5;
  a.min_sequence_number = 2;
  a.added_snapshot_id = 77;
  a.added_files_count = 3;
  a.existing_files_count = 0;
  a.deleted_files_count = 1;
  a.added_rows_count = 30;
  a.existing_rows_count = 0;
  a.deleted_rows_count = 10;
  a.partitions = {FieldSummary{true, false, ToBytes(Literal::Int(1)), ToBytes(Literal::Int(9))},
                  FieldSummary{false, std::nullopt, std::nullopt, std::nullopt}};
  auto bytes = WriteManifestList(77, 76, 5, {a});
  ASSERT_TRUE(bytes.ok());
  auto r = avro::Reader::Open(*bytes);
  EXPECT_EQ(*(*r)->Meta("parent-snapshot-id"), "76");
  auto back = ReadManifestList(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 1u);
  const ManifestFile& b = (*back)[0];
  EXPECT_EQ(b.manifest_path, a.manifest_path);
  EXPECT_EQ(b.manifest_length, 1234);
  EXPECT_EQ(b.partition_spec_id, 1);
  EXPECT_EQ(b.content, ManifestContent::kDeletes);
  EXPECT_EQ(b.sequence_number, 5);
  EXPECT_EQ(b.min_sequence_number, 2);
  EXPECT_EQ(b.deleted_files_count, 1);
  EXPECT_EQ(b.deleted_rows_count, 10);
  ASSERT_EQ(b.partitions.size(), 2u);
  EXPECT_TRUE(b.partitions[0].contains_null);
  EXPECT_EQ(b.partitions[0].contains_nan, std::optional<bool>(false));
  EXPECT_EQ(b.partitions[0].upper_bound, ToBytes(Literal::Int(9)));
  EXPECT_FALSE(b.partitions[1].lower_bound.has_value());
  EXPECT_FALSE(b.partitions[1].contains_nan.has_value());
}

// A manifest as an older engine writes it: v1 layout (no content, no sequence numbers), other
// field order, an extra field, a string-keyed map for counts, no codec entry.
TEST(Manifest, ReadsForeignLayouts) {
  Json schema = Json::parse(R"j({"type": "record", "name": "manifest_entry", "fields": [
      {"name": "snapshot_id", "type": "long", "field-id": 1},
      {"name": "status", "type": "int", "field-id": 0},
      {"name": "data_file", "field-id": 2, "type": {"type": "record", "name": "r2", "fields": [
        {"name": "file_path", "type": "string", "field-id": 100},
        {"name": "file_format", "type": "string", "field-id": 101},
        {"name": "partition", "field-id": 102, "type": {"type": "record", "name": "r102",
          "fields": [{"name": "region", "type": ["null", "string"], "field-id": 1000}]}},
        {"name": "record_count", "type": "long", "field-id": 103},
        {"name": "file_size_in_bytes", "type": "long", "field-id": 104},
        {"name": "block_size_in_bytes", "type": "long", "field-id": 105},
        {"name": "value_counts", "type": ["null", {"type": "map", "values": "long"}],
         "field-id": 109}]}}]})j");
  auto w = avro::Writer::Create(schema, {}, avro::Codec::kNull);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  avro_value_t* rec = (*w)->record();
  ASSERT_TRUE(avro::SetLong(rec, "snapshot_id", 5).ok());
  ASSERT_TRUE(avro::SetLong(rec, "status", 1).ok());
  avro_value_t df;
  avro_value_get_by_name(rec, "data_file", &df, nullptr);
  ASSERT_TRUE(avro::SetString(&df, "file_path", "s3://x/a.parquet").ok());
  ASSERT_TRUE(avro::SetString(&df, "file_format", "PARQUET").ok());
  avro_value_t part;
  avro_value_get_by_name(&df, "partition", &part, nullptr);
  ASSERT_TRUE(avro::SetString(&part, "region", "eu").ok());
  ASSERT_TRUE(avro::SetLong(&df, "record_count", 10).ok());
  ASSERT_TRUE(avro::SetLong(&df, "file_size_in_bytes", 99).ok());
  ASSERT_TRUE(avro::SetLong(&df, "block_size_in_bytes", 64).ok());
  avro_value_t u, m, v;
  avro_value_get_by_name(&df, "value_counts", &u, nullptr);
  avro_value_set_branch(&u, 1, &m);
  avro_value_add(&m, "3", &v, nullptr, nullptr);
  avro_value_set_long(&v, 10);
  ASSERT_TRUE((*w)->Append().ok());
  auto bytes = (*w)->Finish();
  ASSERT_TRUE(bytes.ok());

  auto spec = BindPartitionSpec(
      Json::parse(R"j({"spec-id": 0, "fields": [{"source-id": 3, "field-id": 1000,
                       "name": "region", "transform": "identity"}]})j"),
      Schema());
  ASSERT_TRUE(spec.ok());
  ManifestFile mf;
  mf.sequence_number = 8;
  auto entries = ReadManifest(*bytes, mf, *spec);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 1u);
  const ManifestEntry& e = (*entries)[0];
  EXPECT_EQ(e.file.content, FileContent::kData);
  EXPECT_EQ(e.sequence_number, 0);  // v1: sequence numbers default to 0
  EXPECT_EQ(e.snapshot_id, 5);
  EXPECT_EQ(e.file.partition[0]->s, "eu");
  EXPECT_EQ(*Lookup(e.file.value_counts, 3), 10);
}

TEST(Manifest, RejectsCorruptFiles) {
  ManifestFile mf;
  auto spec = BindPartitionSpec(Json::parse(R"j({"spec-id": 0, "fields": []})j"), Schema());
  ASSERT_TRUE(spec.ok());
  std::vector<ManifestEntry> entries(1);
  entries[0].file = File("s3://x/a.parquet", {}, 1, 2);
  auto good = WriteManifest(Schema(), *spec, ManifestContent::kData, entries, nullptr);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(ReadManifest(*good, mf, *spec).ok());
  for (size_t cut : {size_t{0}, size_t{3}, size_t{40}, good->size() / 2, good->size() - 1}) {
    auto r = ReadManifest(good->substr(0, cut), mf, *spec);
    EXPECT_FALSE(r.ok()) << "cut at " << cut;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().ToString();
    }
  }
  std::string flipped = *good;
  flipped[flipped.size() - 20] ^= 0x5a;  // inside the compressed block
  EXPECT_FALSE(ReadManifest(flipped, mf, *spec).ok());
  // A delete file does not go into a data manifest.
  entries[0].file.content = FileContent::kPositionDeletes;
  EXPECT_FALSE(WriteManifest(Schema(), *spec, ManifestContent::kData, entries, nullptr).ok());
}

TEST(Expression, ParsesBindsAndPrints) {
  auto e = ParseExpression(Json::parse(R"j({"type": "and",
      "left": {"type": "gt-eq", "term": "id", "value": 10},
      "right": {"type": "not", "child": {"type": "in", "term": "region",
                                          "values": ["eu", "us"]}}})j"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto b = Bind(*e, Schema());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(ToString(*b), "(id >= 10 and region not in ('eu', 'us'))");
  // The newer reference/literal form.
  auto n = ParseExpression(Json::parse(
      R"j({"type": "lt", "left": {"type": "reference", "name": "ts"},
           "right": {"type": "literal", "value": "2026-01-01T00:00:00+00:00"}})j"));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  auto nb = Bind(*n, Schema());
  ASSERT_TRUE(nb.ok()) << nb.status().ToString();
  EXPECT_EQ(nb->type.id, TypeId::kTimestamptz);
  // Errors name the problem.
  auto unknown = Bind(*ParseExpression(Json::parse(R"j({"type":"eq","term":"nope","value":1})j")),
                      Schema());
  EXPECT_NE(unknown.status().message().find("unknown column 'nope'"), std::string::npos);
  auto wrong = Bind(*ParseExpression(Json::parse(R"j({"type":"eq","term":"id","value":"x"})j")),
                    Schema());
  EXPECT_NE(wrong.status().message().find("'id' (long)"), std::string::npos);
  EXPECT_FALSE(ParseExpression(Json::parse(R"j({"type":"between"})j")).ok());
  EXPECT_FALSE(ParseExpression(Json::parse(R"j({"type":"lt","term":"id"})j")).ok());
  EXPECT_TRUE(Bind(*ParseExpression(Json::parse(R"j({"type":"eq","term":"ID","value":1})j")),
                   Schema(), /*case_sensitive=*/false)
                  .ok());
}

TEST(Scan, PrunesByPartitionAndMetrics) {
  Table t = MakeTable(R"j({"fields": [{"source-id": 2, "name": "ts_day", "transform": "day"},
                                     {"source-id": 3, "name": "region", "transform": "identity"}]})j");
  // Three appends: days 100/101 x regions eu/us.
  t.Append({WithRegion(File("s3://sales/_tables/t1/data/1.parquet",
                            {Of("date", 100), Literal::String("eu")}, 0, 99), "eu"),
            WithRegion(File("s3://sales/_tables/t1/data/2.parquet",
                            {Of("date", 100), Literal::String("us")}, 100, 199), "us")});
  t.Append({WithRegion(File("s3://sales/_tables/t1/data/3.parquet",
                            {Of("date", 101), Literal::String("eu")}, 200, 299), "eu")});
  t.Append({WithRegion(File("s3://sales/_tables/t1/data/4.parquet",
                            {Of("date", 101), std::nullopt}, 300, 399), std::nullopt)});

  auto all = Scan(t, true);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->tasks.size(), 4u);
  EXPECT_EQ(all->stats.manifests, 3);
  EXPECT_EQ(t.metadata["snapshots"].back()["summary"]["total-data-files"], "4");
  EXPECT_EQ(t.metadata["snapshots"].back()["summary"]["total-records"], "400");

  // Partition projection of a timestamp range onto day(ts): manifests of day 100 are skipped.
  auto day = Scan(t, Json::parse(
      R"j({"type":"gt-eq","term":"ts","value":"1970-04-12T00:00:00+00:00"})j"));  // day 101
  ASSERT_TRUE(day.ok()) << day.status().ToString();
  EXPECT_EQ(Paths(*day), (std::vector<std::string>{"s3://sales/_tables/t1/data/3.parquet",
                                                   "s3://sales/_tables/t1/data/4.parquet"}));
  EXPECT_EQ(day->stats.manifests_skipped, 1);

  auto region = Scan(t, Json::parse(R"j({"type":"eq","term":"region","value":"eu"})j"));
  EXPECT_EQ(Paths(*region), (std::vector<std::string>{"s3://sales/_tables/t1/data/1.parquet",
                                                      "s3://sales/_tables/t1/data/3.parquet"}));
  auto nulls = Scan(t, Json::parse(R"j({"type":"is-null","term":"region"})j"));
  EXPECT_EQ(Paths(*nulls), (std::vector<std::string>{"s3://sales/_tables/t1/data/4.parquet"}));

  // Column metrics: id bounds.
  auto ids = Scan(t, Json::parse(R"j({"type":"and",
      "left": {"type":"gt","term":"id","value":150},
      "right": {"type":"lt","term":"id","value":250}})j"));
  EXPECT_EQ(Paths(*ids), (std::vector<std::string>{"s3://sales/_tables/t1/data/2.parquet",
                                                   "s3://sales/_tables/t1/data/3.parquet"}));
  EXPECT_EQ(ids->stats.data_files_skipped, 2);
  auto none = Scan(t, Json::parse(R"j({"type":"eq","term":"id","value":1000})j"));
  EXPECT_TRUE(none->tasks.empty());
  auto either = Scan(t, Json::parse(R"j({"type":"or",
      "left": {"type":"eq","term":"id","value":5},
      "right": {"type":"eq","term":"region","value":"us"}})j"));
  EXPECT_EQ(Paths(*either), (std::vector<std::string>{"s3://sales/_tables/t1/data/1.parquet",
                                                      "s3://sales/_tables/t1/data/2.parquet"}));
  // not (id < 300) keeps only the file with ids 300..399.
  auto negated = Scan(t, Json::parse(
      R"j({"type":"not","child":{"type":"lt","term":"id","value":300}})j"));
  EXPECT_EQ(Paths(*negated), (std::vector<std::string>{"s3://sales/_tables/t1/data/4.parquet"}));

  // Time travel: the first snapshot has two files.
  ScanOptions first;
  first.snapshot_id = t.metadata["snapshots"][0]["snapshot-id"].get<int64_t>();
  auto old = Scan(t, true, first);
  EXPECT_EQ(old->tasks.size(), 2u);
  ScanOptions missing;
  missing.snapshot_id = 1;
  EXPECT_EQ(Scan(t, true, missing).status().code(), ErrorCode::kNotFound);
}

TEST(Scan, AppendsOnBranchesAndRejectsWrongPartitions) {
  Table t = MakeTable(R"j({"fields": [{"source-id": 3, "name": "region", "transform": "identity"}]})j");
  t.Append({File("s3://sales/_tables/t1/data/1.parquet", {Literal::String("eu")}, 0, 9)});
  // A table branch starting from main's snapshot.
  Json branch = Json::array({{{"action", "set-snapshot-ref"}, {"ref-name", "audit"},
                              {"type", "branch"},
                              {"snapshot-id", t.metadata["current-snapshot-id"]}}});
  ASSERT_TRUE(ApplyUpdates(t.metadata, branch, 3000).ok());
  t.Append({File("s3://sales/_tables/t1/data/2.parquet", {Literal::String("us")}, 10, 19)},
           "audit");
  ScanOptions on_branch;
  on_branch.ref = "audit";
  EXPECT_EQ(Scan(t, true, on_branch)->tasks.size(), 2u);
  EXPECT_EQ(Scan(t, true)->tasks.size(), 1u);

  AppendOptions o;
  auto wrong = PrepareAppend(t.metadata, {File("s3://x/3.parquet", {}, 0, 1)}, o, t.Reader());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidArgument);
  auto typed = PrepareAppend(t.metadata, {File("s3://x/3.parquet", {Literal::Int(1)}, 0, 1)}, o,
                             t.Reader());
  EXPECT_NE(typed.status().message().find("is a int, not a string"), std::string::npos);
  // A stale commit (prepared against an old snapshot) fails its requirement.
  Table stale = t;
  auto c = PrepareAppend(stale.metadata, {File("s3://x/5.parquet", {std::nullopt}, 0, 1)}, o,
                         stale.Reader());
  ASSERT_TRUE(c.ok());
  t.Append({File("s3://sales/_tables/t1/data/6.parquet", {std::nullopt}, 0, 1)});
  EXPECT_EQ(CheckRequirements(&t.metadata, c->requirements).code(), ErrorCode::kConflict);
}

TEST(Snapshots, CopyOnWriteRewriteKeepsSequenceNumbersOfUntouchedFiles) {
  Table t = MakeTable(R"j({"fields": [{"source-id": 3, "name": "region", "transform": "identity"}]})j");
  t.Append({File("s3://t/1.parquet", {Literal::String("eu")}, 0, 9),
            File("s3://t/2.parquet", {Literal::String("us")}, 10, 19)});  // seq 1
  t.Append({File("s3://t/3.parquet", {Literal::String("eu")}, 20, 29)});  // seq 2
  AppendOptions o;
  o.now_ms = 3000;
  DataFile survivor = File("s3://t/2b.parquet", {Literal::String("us")}, 10, 14, 50);
  auto c = PrepareRewrite(t.metadata, {"s3://t/2.parquet"}, {survivor}, o, t.Reader());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->summary["operation"], "overwrite");
  EXPECT_EQ(c->summary["deleted-records"], "100");
  EXPECT_EQ(c->summary["added-records"], "50");
  EXPECT_EQ(c->summary["total-records"], "250");
  EXPECT_EQ(c->summary["total-data-files"], "3");
  t.Commit(*c);
  auto plan = Scan(t, true);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::map<std::string, int64_t> seq;
  for (const auto& task : plan->tasks) seq[task.file.file_path] = task.data_sequence_number;
  EXPECT_EQ(seq, (std::map<std::string, int64_t>{
                     {"s3://t/1.parquet", 1}, {"s3://t/2b.parquet", 3}, {"s3://t/3.parquet", 2}}));
  // The rewritten manifest marks the removed file DELETED and keeps the other as EXISTING.
  auto list = ReadManifestList(t.files[t.metadata["snapshots"].back()["manifest-list"]]);
  ASSERT_TRUE(list.ok());
  int deleted = 0, existing = 0;
  for (const auto& mf : *list) {
    deleted += mf.deleted_files_count.value_or(0);
    existing += mf.existing_files_count.value_or(0);
  }
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(existing, 1);
  // Removing only: a "delete"; a path that is not live: refused; a stale rewrite: conflict.
  auto d = PrepareRewrite(t.metadata, {"s3://t/3.parquet"}, {}, o, t.Reader());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->summary["operation"], "delete");
  EXPECT_EQ(PrepareRewrite(t.metadata, {"s3://t/2.parquet"}, {}, o, t.Reader()).status().code(),
            ErrorCode::kInvalidArgument);
  t.Append({File("s3://t/4.parquet", {std::nullopt}, 0, 1)});
  EXPECT_EQ(CheckRequirements(&t.metadata, d->requirements).code(), ErrorCode::kConflict);
}

TEST(Snapshots, ExpiryKeepsBranchHeadsRecentAncestorsAndTags) {
  Table t = MakeTable(R"j({"fields": []})j");
  for (int i = 0; i < 5; ++i) {
    t.Append({File("s3://t/" + std::to_string(i) + ".parquet", {}, i, i)});
  }
  std::vector<int64_t> ids;
  for (size_t i = 0; i < 5; ++i) {
    t.metadata["snapshots"][i]["timestamp-ms"] = 1000 * (i + 1);  // 1000 .. 5000
    ids.push_back(t.metadata["snapshots"][i]["snapshot-id"].get<int64_t>());
  }
  t.metadata["refs"]["v1"] = {{"snapshot-id", ids[0]}, {"type", "tag"}};
  ExpireOptions o;
  o.older_than_ms = 4000;
  o.retain_last = 1;
  // 5000 is the head, 4000 is not older than the cutoff, v1 tags the first: 2000 and 3000 go.
  EXPECT_EQ(SnapshotsToExpire(t.metadata, o), (std::vector<int64_t>{ids[1], ids[2]}));
  o.retain_last = 4;
  EXPECT_EQ(SnapshotsToExpire(t.metadata, o), (std::vector<int64_t>{}));
  o.retain_last = 1;
  o.older_than_ms = 100000;  // everything is old: only the head and the tag stay
  auto gone = SnapshotsToExpire(t.metadata, o);
  EXPECT_EQ(gone, (std::vector<int64_t>{ids[1], ids[2], ids[3]}));
  Json up = Json::array({{{"action", "remove-snapshots"}, {"snapshot-ids", gone}}});
  ASSERT_TRUE(ApplyUpdates(t.metadata, up, 9).ok());
  EXPECT_EQ(t.metadata["snapshots"].size(), 2u);
  EXPECT_EQ(Scan(t, true)->tasks.size(), 5u);  // the head still lists every file
}

// Delete files (as another engine writes them) apply by sequence number and partition.
TEST(Scan, AppliesDeleteFilesByTheSpecsScopeRules) {
  Table t = MakeTable(R"j({"fields": [{"source-id": 3, "name": "region", "transform": "identity"}]})j");
  t.Append({File("s3://t/d1.parquet", {Literal::String("eu")}, 0, 9),
            File("s3://t/d2.parquet", {Literal::String("us")}, 0, 9)});  // seq 1
  auto spec = TableSpec(t.metadata, 0);
  ASSERT_TRUE(spec.ok());

  auto add_deletes = [&](std::vector<DataFile> deletes) {
    // A snapshot adding a delete manifest beside the parent's manifests.
    ManifestFile mf;
    std::vector<ManifestEntry> entries;
    for (auto& d : deletes) {
      ManifestEntry e;
      e.file = std::move(d);
      entries.push_back(std::move(e));
    }
    auto bytes = WriteManifest(Schema(), *spec, ManifestContent::kDeletes, entries, &mf);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    int64_t seq = t.metadata["last-sequence-number"].get<int64_t>() + 1;
    int64_t id = NewSnapshotId(t.metadata);
    mf.manifest_path = "s3://t/del-" + std::to_string(seq) + ".avro";
    mf.sequence_number = mf.min_sequence_number = seq;
    mf.added_snapshot_id = id;
    t.files[mf.manifest_path] = *bytes;
    std::string parent_list = t.metadata["snapshots"].back()["manifest-list"];
    auto list = *ReadManifestList(t.files[parent_list]);
    list.push_back(mf);
    std::string loc = "s3://t/list-" + std::to_string(seq) + ".avro";
    t.files[loc] = *WriteManifestList(id, std::nullopt, seq, list);
    Json up = Json::array(
        {{{"action", "add-snapshot"},
          {"snapshot", {{"snapshot-id", id}, {"sequence-number", seq}, {"timestamp-ms", 5},
                        {"manifest-list", loc}, {"summary", {{"operation", "delete"}}},
                        {"parent-snapshot-id", t.metadata["current-snapshot-id"]}}}},
         {{"action", "set-snapshot-ref"}, {"ref-name", "main"}, {"type", "branch"},
          {"snapshot-id", id}}});
    Status st = ApplyUpdates(t.metadata, up, 5);
    ASSERT_TRUE(st.ok()) << st.ToString();
  };
  DataFile pos;
  pos.content = FileContent::kPositionDeletes;
  pos.file_path = "s3://t/pos-eu.parquet";
  pos.partition = {Literal::String("eu")};
  pos.record_count = 1;
  DataFile eq;
  eq.content = FileContent::kEqualityDeletes;
  eq.file_path = "s3://t/eq-us.parquet";
  eq.partition = {Literal::String("us")};
  eq.record_count = 1;
  eq.equality_ids = {1};
  add_deletes({pos, eq});  // seq 2
  t.Append({File("s3://t/d3.parquet", {Literal::String("eu")}, 0, 9),
            File("s3://t/d4.parquet", {Literal::String("us")}, 0, 9)});  // seq 3
  DataFile targeted = pos;
  targeted.file_path = "s3://t/pos-d3.parquet";
  targeted.referenced_data_file = "s3://t/d3.parquet";
  add_deletes({targeted});  // seq 4

  auto plan = Scan(t, true);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->stats.delete_files, 3);
  std::map<std::string, std::vector<std::string>> applied;
  for (const auto& task : plan->tasks) {
    auto& v = applied[task.file.file_path];
    for (size_t i : task.deletes) v.push_back(plan->delete_files[i].file_path);
  }
  ASSERT_EQ(applied.size(), 4u);
  // Position deletes: same partition, data sequence number <= the delete's.
  EXPECT_EQ(applied["s3://t/d1.parquet"], std::vector<std::string>{"s3://t/pos-eu.parquet"});
  // Equality deletes: same partition, data sequence number < the delete's.
  EXPECT_EQ(applied["s3://t/d2.parquet"], std::vector<std::string>{"s3://t/eq-us.parquet"});
  // Added after the deletes: untouched, except by the delete that names it.
  EXPECT_EQ(applied["s3://t/d3.parquet"], std::vector<std::string>{"s3://t/pos-d3.parquet"});
  EXPECT_TRUE(applied["s3://t/d4.parquet"].empty());

  Json content = ContentFileJson(plan->delete_files[1], 0, Schema());
  EXPECT_EQ(content["content"], "equality-deletes");
  EXPECT_EQ(content["equality-ids"], Json::array({1}));
  EXPECT_EQ(content["partition"], Json::array({"us"}));
}

}  // namespace
}  // namespace lakemesh::table
