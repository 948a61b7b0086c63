#include "table/metadata.h"
#include "table/view.h"

#include <gtest/gtest.h>

namespace lakemesh::table {
namespace {

Json Schema() {
  // Ids as a client sends them (they are replaced by fresh ones).
  return Json::parse(R"j({
    "type": "struct", "schema-id": 7, "identifier-field-ids": [10],
    "fields": [
      {"id": 10, "name": "id", "required": true, "type": "long"},
      {"id": 11, "name": "ts", "required": false, "type": "timestamptz"},
      {"id": 12, "name": "tags", "required": false,
       "type": {"type": "list", "element-id": 20, "element-required": false, "element": "string"}},
      {"id": 13, "name": "attrs", "required": false,
       "type": {"type": "map", "key-id": 21, "key": "string", "value-id": 22,
                "value-required": true,
                "value": {"type": "struct", "fields": [
                  {"id": 30, "name": "v", "required": true, "type": "decimal(10, 2)"}]}}},
      {"id": 14, "name": "region", "required": false, "type": "string"}
    ]})j");
}

Result<Json> NewTableFor(Json spec = nullptr, Json order = nullptr) {
  NewTable t;
  t.schema = Schema();
  t.partition_spec = std::move(spec);
  t.write_order = std::move(order);
  t.location = "s3://sales/_tables/u1";
  t.uuid = "u1";
  t.now_ms = 1000;
  return NewTableMetadata(t);
}

TEST(TableMetadata, NewTableAssignsFreshIdsBreadthFirst) {
  auto m = NewTableFor(
      Json::parse(R"j({"fields": [{"source-id": 11, "name": "ts_day", "transform": "day"},
                                 {"source-id": 14, "name": "region_b", "transform": "bucket[16]"}]})j"),
      Json::parse(R"j({"fields": [{"source-id": 10, "transform": "identity", "direction": "asc",
                                  "null-order": "nulls-first"}]})j"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const Json& s = (*m)["schemas"][0];
  // Top-level fields 1..5, then the list element (6), map key/value (7, 8), struct field (9).
  EXPECT_EQ(s["fields"][0]["id"], 1);
  EXPECT_EQ(s["fields"][4]["id"], 5);
  EXPECT_EQ(s["fields"][2]["type"]["element-id"], 6);
  EXPECT_EQ(s["fields"][3]["type"]["key-id"], 7);
  EXPECT_EQ(s["fields"][3]["type"]["value-id"], 8);
  EXPECT_EQ(s["fields"][3]["type"]["value"]["fields"][0]["id"], 9);
  EXPECT_EQ(s["identifier-field-ids"], Json::array({1}));
  EXPECT_EQ(s["schema-id"], 0);
  EXPECT_EQ((*m)["last-column-id"], 9);
  const Json& spec = (*m)["partition-specs"][0];
  EXPECT_EQ(spec["fields"][0]["source-id"], 2);
  EXPECT_EQ(spec["fields"][0]["field-id"], 1000);
  EXPECT_EQ(spec["fields"][1]["source-id"], 5);
  EXPECT_EQ(spec["fields"][1]["field-id"], 1001);
  EXPECT_EQ((*m)["last-partition-id"], 1001);
  EXPECT_EQ((*m)["default-sort-order-id"], 1);
  EXPECT_EQ((*m)["sort-orders"].size(), 2u);  // unsorted (0) and the write order (1)
  EXPECT_EQ((*m)["sort-orders"][1]["fields"][0]["source-id"], 1);
  EXPECT_EQ((*m)["format-version"], 2);
  EXPECT_EQ((*m)["current-snapshot-id"], -1);
  EXPECT_TRUE(ValidateMetadata(*m).ok());
}

TEST(TableMetadata, RejectsBadSchemasAndSpecs) {
  NewTable t;
  t.location = "s3://x/_tables/u";
  t.uuid = "u";
  t.schema = Json::parse(R"j({"type": "struct", "fields": [
      {"id": 1, "name": "a", "required": true, "type": "varchar"}]})j");
  EXPECT_EQ(NewTableMetadata(t).status().code(), ErrorCode::kInvalidArgument);
  t.schema = Json::parse(R"j({"type": "struct", "fields": [
      {"id": 1, "name": "a", "required": true, "type": "int"},
      {"id": 1, "name": "b", "required": true, "type": "int"}]})j");
  EXPECT_EQ(NewTableMetadata(t).status().code(), ErrorCode::kInvalidArgument);
  t.schema = Json::parse(R"j({"type": "struct", "fields": [
      {"id": 1, "name": "a", "required": true, "type": "decimal(40, 2)"}]})j");
  EXPECT_EQ(NewTableMetadata(t).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(NewTableFor(Json::parse(R"j({"fields": [{"source-id": 99, "name": "x",
                                                    "transform": "identity"}]})j")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(NewTableFor(Json::parse(R"j({"fields": [{"source-id": 10, "name": "x",
                                                    "transform": "bucket[0]"}]})j")).status().code(),
            ErrorCode::kInvalidArgument);
  // A partition on a list column is not allowed.
  EXPECT_EQ(NewTableFor(Json::parse(R"j({"fields": [{"source-id": 12, "name": "x",
                                                    "transform": "identity"}]})j")).status().code(),
            ErrorCode::kInvalidArgument);
}

Json Snapshot(int64_t id, int64_t seq, Json parent = nullptr) {
  Json s = {{"snapshot-id", id},
            {"sequence-number", seq},
            {"timestamp-ms", 5000 + id},
            {"manifest-list", "s3://sales/_tables/u1/metadata/snap-" + std::to_string(id) + ".avro"},
            {"summary", {{"operation", "append"}}},
            {"schema-id", 0}};
  if (!parent.is_null()) s["parent-snapshot-id"] = parent;
  return s;
}

TEST(TableMetadata, AppendsMoveMainAndTheSnapshotLog) {
  auto m = NewTableFor();
  ASSERT_TRUE(m.ok());
  Json updates = Json::array(
      {{{"action", "add-snapshot"}, {"snapshot", Snapshot(1, 1)}},
       {{"action", "set-snapshot-ref"}, {"ref-name", "main"}, {"type", "branch"},
        {"snapshot-id", 1}}});
  ASSERT_TRUE(ApplyUpdates(*m, updates, 9000).ok());
  EXPECT_EQ((*m)["current-snapshot-id"], 1);
  EXPECT_EQ((*m)["last-sequence-number"], 1);
  EXPECT_EQ((*m)["refs"]["main"]["snapshot-id"], 1);
  ASSERT_EQ((*m)["snapshot-log"].size(), 1u);
  EXPECT_EQ((*m)["last-updated-ms"], 5001);

  // The same requirement a client sends with its next append.
  Json req = Json::array({{{"type", "assert-ref-snapshot-id"}, {"ref", "main"},
                           {"snapshot-id", 1}}});
  EXPECT_TRUE(CheckRequirements(&*m, req).ok());
  Json stale = Json::array({{{"type", "assert-ref-snapshot-id"}, {"ref", "main"},
                             {"snapshot-id", nullptr}}});
  EXPECT_EQ(CheckRequirements(&*m, stale).code(), ErrorCode::kConflict);

  // A sequence number that does not advance is refused.
  Json bad = Json::array({{{"action", "add-snapshot"}, {"snapshot", Snapshot(2, 1, 1)}}});
  Json copy = *m;
  EXPECT_EQ(ApplyUpdates(copy, bad, 9000).code(), ErrorCode::kInvalidArgument);
  // A ref to a snapshot that does not exist is refused.
  Json dangling = Json::array({{{"action", "set-snapshot-ref"}, {"ref-name", "b"},
                                {"type", "branch"}, {"snapshot-id", 42}}});
  EXPECT_EQ(ApplyUpdates(copy, dangling, 9000).code(), ErrorCode::kInvalidArgument);

  // Removing the snapshot drops main with it.
  Json rm = Json::array({{{"action", "remove-snapshots"}, {"snapshot-ids", {1}}}});
  ASSERT_TRUE(ApplyUpdates(*m, rm, 9000).ok());
  EXPECT_EQ((*m)["current-snapshot-id"], -1);
  EXPECT_FALSE((*m)["refs"].contains("main"));
  EXPECT_TRUE((*m)["snapshots"].empty());
}

TEST(TableMetadata, SchemaEvolutionAndLastAddedIds) {
  auto m = NewTableFor();
  ASSERT_TRUE(m.ok());
  Json schema = (*m)["schemas"][0];
  schema["fields"].push_back({{"id", 10}, {"name", "added"}, {"required", false},
                              {"type", "string"}});
  Json updates = Json::array({{{"action", "add-schema"}, {"schema", schema}},
                              {{"action", "set-current-schema"}, {"schema-id", -1}},
                              {{"action", "add-spec"},
                               {"spec", {{"fields", {{{"source-id", 10}, {"name", "a"},
                                                      {"transform", "truncate[4]"}}}}}}},
                              {{"action", "set-default-spec"}, {"spec-id", -1}},
                              {{"action", "set-properties"}, {"updates", {{"k", "v"}}}}});
  ASSERT_TRUE(ApplyUpdates(*m, updates, 9000).ok());
  EXPECT_EQ((*m)["current-schema-id"], 1);
  EXPECT_EQ((*m)["last-column-id"], 10);
  EXPECT_EQ((*m)["default-spec-id"], 1);
  EXPECT_EQ((*m)["partition-specs"][1]["fields"][0]["field-id"], 1000);
  EXPECT_EQ((*m)["last-partition-id"], 1000);
  EXPECT_EQ((*m)["properties"]["k"], "v");
  EXPECT_EQ((*m)["last-updated-ms"], 9000);

  Json req = Json::array({{{"type", "assert-current-schema-id"}, {"current-schema-id", 0}}});
  EXPECT_EQ(CheckRequirements(&*m, req).code(), ErrorCode::kConflict);
  req = Json::array({{{"type", "assert-last-assigned-field-id"}, {"last-assigned-field-id", 10}},
                     {{"type", "assert-default-spec-id"}, {"default-spec-id", 1}},
                     {{"type", "assert-table-uuid"}, {"uuid", "u1"}}});
  EXPECT_TRUE(CheckRequirements(&*m, req).ok());
  EXPECT_EQ(CheckRequirements(&*m, Json::array({{{"type", "assert-create"}}})).code(),
            ErrorCode::kConflict);
  EXPECT_TRUE(CheckRequirements(nullptr, Json::array({{{"type", "assert-create"}}})).ok());

  // Adding an identical schema again reuses its id; the current one cannot be removed.
  Json again = Json::array({{{"action", "add-schema"}, {"schema", schema}},
                            {{"action", "set-current-schema"}, {"schema-id", -1}}});
  ASSERT_TRUE(ApplyUpdates(*m, again, 9001).ok());
  EXPECT_EQ((*m)["schemas"].size(), 2u);
  Json rm = Json::array({{{"action", "remove-schemas"}, {"schema-ids", {1}}}});
  EXPECT_EQ(ApplyUpdates(*m, rm, 9002).code(), ErrorCode::kInvalidArgument);
  Json unknown = Json::array({{{"action", "frobnicate"}}});
  EXPECT_EQ(ApplyUpdates(*m, unknown, 9002).code(), ErrorCode::kInvalidArgument);
  Json minus = Json::array({{{"action", "set-default-sort-order"}, {"sort-order-id", -1}}});
  EXPECT_EQ(ApplyUpdates(*m, minus, 9002).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakemesh::table

namespace lakemesh::table {
namespace {

Json ViewVersion(const std::string& sql) {
  return {{"version-id", 1},
          {"timestamp-ms", 10},
          {"schema-id", 0},
          {"summary", {{"engine-name", "t"}}},
          {"representations", {{{"type", "sql"}, {"sql", sql}, {"dialect", "spark"}}}},
          {"default-namespace", {"sales"}}};
}

TEST(ViewMetadata, CreateReplaceAndKeepHistory) {
  Json schema = Json::parse(R"j({"type": "struct", "fields": [
      {"id": 1, "name": "id", "required": true, "type": "long"}]})j");
  auto m = NewViewMetadata({{"name", "v"}, {"schema", schema}, {"view-version", ViewVersion("SELECT 1")},
                            {"properties", {{"version.history.num-entries", "2"}}}},
                           "s3://sales/_tables/v1", "v1", 100);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["current-version-id"], 1);
  EXPECT_EQ((*m)["version-log"].size(), 1u);
  EXPECT_TRUE(ValidateViewMetadata(*m).ok());
  for (int i = 2; i <= 4; ++i) {
    Json v = ViewVersion("SELECT " + std::to_string(i));
    Json updates = Json::array({{{"action", "add-view-version"}, {"view-version", v}},
                                {{"action", "set-current-view-version"}, {"view-version-id", -1}}});
    ASSERT_TRUE(ApplyViewUpdates(*m, updates, 100 + i).ok());
  }
  EXPECT_EQ((*m)["current-version-id"], 4);
  EXPECT_EQ((*m)["versions"].size(), 2u);  // history limited to two versions, current kept
  EXPECT_EQ((*m)["version-log"].size(), 4u);
  EXPECT_TRUE(ValidateViewMetadata(*m).ok());
  // The same version again is that version, not a new one.
  Json again = Json::array({{{"action", "add-view-version"}, {"view-version", ViewVersion("SELECT 4")}},
                            {{"action", "set-current-view-version"}, {"view-version-id", -1}}});
  ASSERT_TRUE(ApplyViewUpdates(*m, again, 200).ok());
  EXPECT_EQ((*m)["current-version-id"], 4);
  EXPECT_EQ(CheckViewRequirements(*m, Json::array({{{"type", "assert-view-uuid"}, {"uuid", "x"}}})).code(),
            ErrorCode::kConflict);
  EXPECT_TRUE(CheckViewRequirements(*m, Json::array({{{"type", "assert-view-uuid"}, {"uuid", "v1"}}})).ok());
  // Two representations for one dialect, a missing schema, an unknown action: refused.
  Json dup = ViewVersion("SELECT 5");
  dup["representations"].push_back({{"type", "sql"}, {"sql", "x"}, {"dialect", "SPARK"}});
  EXPECT_EQ(ApplyViewUpdates(*m, Json::array({{{"action", "add-view-version"}, {"view-version", dup}}}), 1).code(),
            ErrorCode::kInvalidArgument);
  Json noschema = ViewVersion("SELECT 6");
  noschema["schema-id"] = 7;
  EXPECT_EQ(ApplyViewUpdates(*m, Json::array({{{"action", "add-view-version"}, {"view-version", noschema}}}), 1).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ApplyViewUpdates(*m, Json::array({{{"action", "nope"}}}), 1).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakemesh::table
