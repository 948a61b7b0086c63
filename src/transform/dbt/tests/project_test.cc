// Loading a dbt project: the project file, models in folders with configuration by folder,
// seeds, singular tests, macro files, schema YAML with columns, tests and sources; and the
// errors of broken projects.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/random.h"
#include "transform/dbt/project.h"

namespace lakemesh::dbt {
namespace {

namespace fs = std::filesystem;

class ProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lm-dbt-" + RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  std::string Str(const jinja::Value& d, const char* key) {
    const jinja::Value* v = d.dict().Find(std::string_view(key));
    return v ? v->Str() : "<none>";
  }
  fs::path dir_;
};

TEST_F(ProjectTest, LoadsModelsConfigSchemaAndSources) {
  Write("dbt_project.yml", R"(
name: shop
version: '1.0'
profile: lakemesh
vars:
  start_date: '2026-01-01'
  limit: 10
models:
  +materialized: view
  shop:
    +tags: [nightly]
    marts:
      +materialized: table
      +tags: finance
      core:
        schema: core_marts
)");
  Write("models/staging/stg_orders.sql", "select * from {{ source('raw', 'orders') }}");
  Write("models/marts/orders.sql", "select * from {{ ref('stg_orders') }}");
  Write("models/marts/core/customers.sql", "{{ config(materialized='incremental') }} select 1");
  Write("models/schema.yml", R"(
version: 2
models:
  - name: orders
    description: One row per order.
    config:
      unique_key: order_id
    columns:
      - name: order_id
        description: The key.
        tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values:
              values: ['placed', 'shipped']
              config:
                severity: warn
    tests:
      - relationships:
          to: ref('customers')
          field: id
sources:
  - name: raw
    schema: landing
    tables:
      - name: orders
        identifier: orders_v2
      - name: payments
)");
  Write("seeds/countries.csv", "code,name\nDE,Germany\n");
  Write("tests/no_negative_amounts.sql", "select * from {{ ref('orders') }} where amount < 0");
  Write("macros/cents.sql", "{% macro cents(x) %}{{ x }} / 100{% endmacro %}");
  Write("models/.hidden.sql", "not a model");

  auto p = LoadProject(dir_.string());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "shop");
  EXPECT_EQ(p->version, "1.0");
  EXPECT_EQ(Str(p->vars, "start_date"), "2026-01-01");
  EXPECT_TRUE(p->vars.dict().Find(std::string_view("limit"))->is_int());
  EXPECT_EQ(p->nodes.size(), 5u);

  const Node* stg = p->FindByName(NodeKind::kModel, "stg_orders");
  ASSERT_TRUE(stg);
  EXPECT_EQ(stg->unique_id, "model.shop.stg_orders");
  EXPECT_EQ(stg->file, "models/staging/stg_orders.sql");
  EXPECT_EQ(stg->fqn, (std::vector<std::string>{"shop", "staging", "stg_orders"}));
  EXPECT_EQ(Str(stg->config, "materialized"), "view");
  EXPECT_EQ(Str(stg->config, "tags"), "['nightly']");

  const Node* orders = p->FindByName(NodeKind::kModel, "orders");
  ASSERT_TRUE(orders);
  EXPECT_EQ(Str(orders->config, "materialized"), "table");  // the folder's, over the project's
  EXPECT_EQ(Str(orders->config, "tags"), "['nightly', 'finance']");  // tags add up
  EXPECT_EQ(Str(orders->config, "unique_key"), "order_id");  // from schema YAML
  EXPECT_EQ(orders->description, "One row per order.");
  ASSERT_EQ(orders->columns.size(), 2u);
  EXPECT_EQ(orders->columns[0].tests.size(), 2u);
  EXPECT_EQ(orders->columns[0].tests[1].name, "not_null");
  EXPECT_EQ(orders->columns[0].tests[1].column, "order_id");
  const TestSpec& av = orders->columns[1].tests[0];
  EXPECT_EQ(av.name, "accepted_values");
  EXPECT_EQ(Str(av.args, "values"), "['placed', 'shipped']");
  EXPECT_EQ(Str(av.config, "severity"), "warn");
  ASSERT_EQ(orders->tests.size(), 1u);
  EXPECT_EQ(orders->tests[0].name, "relationships");
  EXPECT_EQ(Str(orders->tests[0].args, "to"), "ref('customers')");

  const Node* customers = p->FindByName(NodeKind::kModel, "customers");
  ASSERT_TRUE(customers);
  EXPECT_EQ(Str(customers->config, "schema"), "core_marts");  // a config key without '+'
  EXPECT_EQ(Str(customers->config, "materialized"), "table");

  EXPECT_TRUE(p->FindByName(NodeKind::kSeed, "countries"));
  const Node* singular = p->FindByName(NodeKind::kTest, "no_negative_amounts");
  ASSERT_TRUE(singular);
  EXPECT_NE(singular->raw_code.find("ref('orders')"), std::string::npos);
  EXPECT_EQ(p->macro_files, (std::vector<std::string>{"macros/cents.sql"}));

  ASSERT_EQ(p->sources.size(), 2u);
  EXPECT_EQ(p->sources[0].unique_id, "source.shop.raw.orders");
  EXPECT_EQ(p->sources[0].schema, "landing");
  EXPECT_EQ(p->sources[0].identifier, "orders_v2");
  EXPECT_EQ(p->sources[1].identifier, "payments");
}

TEST_F(ProjectTest, ErrorsNameTheFileAndProblem) {
  auto p = LoadProject(dir_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no dbt_project.yml"), std::string::npos);

  Write("dbt_project.yml", "name: [unclosed");
  p = LoadProject(dir_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message().rfind("dbt_project.yml:1", 0), 0u) << p.status().message();

  Write("dbt_project.yml", "name: shop\n");
  Write("models/a/orders.sql", "select 1");
  Write("models/b/orders.sql", "select 2");
  p = LoadProject(dir_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("two models are named 'orders'"), std::string::npos);

  fs::remove_all(dir_ / "models" / "b");
  Write("models/schema.yml", "version: 2\nmodels:\n  - name: nope\n");
  p = LoadProject(dir_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "models/schema.yml:3: model 'nope' is described here but there is no such model");

  Write("models/schema.yml", "version: 2\nmodels:\n  - name: orders\n    tests:\n      - 42: x\n");
  p = LoadProject(dir_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("models/schema.yml:5"), std::string::npos) << p.status().message();
}

TEST_F(ProjectTest, SnapshotsVersionsAndHooks) {
  Write("dbt_project.yml", R"(
name: shop
on-run-start: "create schema if not exists audit"
on-run-end:
  - "select 1"
  - "select 2"
snapshots:
  shop:
    +target_schema: history
)");
  Write("snapshots/two.sql",
        "{% snapshot orders_snap %}\n{{ config(unique_key='id', strategy='check', check_cols='all') }}\n"
        "select * from {{ ref('orders') }}\n{% endsnapshot %}\n"
        "{%- snapshot customers_snap -%} select 1 as id {%- endsnapshot -%}\n");
  Write("snapshots/yaml.yml",
        "snapshots:\n  - name: stock_snap\n    relation: source('erp', 'stock')\n"
        "    config: {unique_key: sku, strategy: timestamp, updated_at: changed}\n");
  Write("models/orders.sql", "select 1 as id");
  Write("models/dim_v1.sql", "select 1 as id");
  Write("models/dim_new.sql", "select 2 as id");
  Write("models/schema.yml", R"(
models:
  - name: dim
    latest_version: 1
    columns: [{name: id, tests: [unique]}]
    versions:
      - v: 1
      - v: 2
        defined_in: dim_new
        config: {alias: dim_two}
)");
  auto p = LoadProject(dir_.string());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->on_run_start, std::vector<std::string>{"create schema if not exists audit"});
  EXPECT_EQ(p->on_run_end.size(), 2u);
  // Two snapshot blocks in one file, each a node named by its block; one more from YAML.
  const Node& orders = p->nodes.at("snapshot.shop.orders_snap");
  EXPECT_EQ(orders.file, "snapshots/two.sql");
  EXPECT_NE(orders.raw_code.find("check_cols='all'"), std::string::npos);
  EXPECT_EQ(orders.raw_code.find("endsnapshot"), std::string::npos);
  EXPECT_EQ(Str(orders.config, "target_schema"), "history");
  EXPECT_EQ(p->nodes.at("snapshot.shop.customers_snap").raw_code, " select 1 as id ");
  const Node& stock = p->nodes.at("snapshot.shop.stock_snap");
  EXPECT_EQ(stock.raw_code, "select * from {{ source('erp', 'stock') }}");
  EXPECT_EQ(Str(stock.config, "updated_at"), "changed");
  // Versioned models: one node per version, named as the model.
  EXPECT_EQ(p->nodes.count("model.shop.dim_v1"), 0u);
  const Node& v1 = p->nodes.at("model.shop.dim.v1");
  const Node& v2 = p->nodes.at("model.shop.dim.v2");
  EXPECT_EQ(v1.name, "dim");
  EXPECT_EQ(v1.version, "1");
  EXPECT_EQ(Str(v1.config, "alias"), "dim_v1");
  EXPECT_EQ(Str(v2.config, "alias"), "dim_two");
  EXPECT_EQ(v2.file, "models/dim_new.sql");
  EXPECT_EQ(v2.fqn, (std::vector<std::string>{"shop", "dim", "v2"}));
  EXPECT_EQ(v2.columns.size(), 1u);
  EXPECT_EQ(p->latest_version.at("dim"), "1");

  Write("snapshots/bad.sql", "{% snapshot broken %} select 1");
  auto bad = LoadProject(dir_.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("snapshots/bad.sql: the snapshot 'broken' has no {% endsnapshot %}"),
            std::string::npos) << bad.status().message();
  fs::remove(dir_ / "snapshots/bad.sql");
  Write("models/schema.yml", "models:\n  - name: dim\n    versions: [{v: 3}]\n");
  bad = LoadProject(dir_.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("version 3 of model 'dim' is defined in dim_v3.sql"),
            std::string::npos) << bad.status().message();
}

TEST(DbtYaml, Values) {
  auto v = ParseYamlValue("{a: 1, b: 'x', c: [true, null, 2.5], d: '1'}");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->Repr(), "{'a': 1, 'b': 'x', 'c': [True, None, 2.5], 'd': '1'}");
  EXPECT_FALSE(ParseYamlValue("{a: [").ok());
}

}  // namespace
}  // namespace lakemesh::dbt
