// Compiling a dbt project: ref/source/config/var/this/target in models, the project's macros,
// adapter.dispatch, ephemeral models inlined as CTEs, custom schemas, dependency order, and
// the errors dbt reports (missing refs, missing vars, cycles).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/random.h"
#include "transform/dbt/compiler.h"
#include "transform/dbt/runner.h"

namespace lakemesh::dbt {
namespace {

namespace fs = std::filesystem;

class CompilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lm-dbtc-" + RandomHex(6));
    fs::create_directories(dir_);
    Write("dbt_project.yml", "name: shop\nvars:\n  min_amount: 0\nmodels:\n  shop:\n    marts:\n      +materialized: table\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  Result<Project> Load() { return LoadProject(dir_.string()); }
  fs::path dir_;
};

TEST_F(CompilerTest, CompilesModelsWithDbtContext) {
  Write("models/sources.yml", "version: 2\nsources:\n  - name: raw\n    schema: landing\n    tables:\n      - name: orders\n");
  Write("models/staging/stg_orders.sql",
        "select id, amount from {{ source('raw', 'orders') }} where amount > {{ var('min_amount') }}");
  Write("models/staging/stg_helper.sql",
        "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('stg_orders') }}");
  Write("models/marts/orders.sql",
        "{{ config(tags=['daily'], alias='fct_orders') }}\n"
        "with o as (select * from {{ ref('stg_orders') }})\n"
        "select o.id, {{ cents('o.amount') }} as dollars, '{{ this }}' as me, '{{ target.schema }}' as t\n"
        "from o join {{ ref('stg_helper') }} h on h.id = o.id");
  Write("models/marts/finance/revenue.sql",
        "{{ config(schema='finance') }}select sum(dollars) from {{ ref('orders') }}"
        "{% if config.get('materialized') == 'table' %} -- table{% endif %}");
  Write("macros/cents.sql",
        "{% macro cents(col) %}{{ return(adapter.dispatch('cents')(col)) }}{% endmacro %}\n"
        "{% macro default__cents(col) %}({{ col }} / 100){% endmacro %}");
  Write("tests/positive.sql", "select * from {{ ref('orders') }} where dollars < 0");
  auto p = Load();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Target target;
  target.schema = "sales";
  Compiler c(*p, target);
  Status st = c.CompileAll();
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto& nodes = c.nodes();

  const CompiledNode& stg = nodes.at("model.shop.stg_orders");
  EXPECT_EQ(stg.compiled_code, "select id, amount from landing.orders where amount > 0");
  EXPECT_EQ(stg.materialized, "view");
  EXPECT_EQ(stg.relation(), "sales.stg_orders");
  EXPECT_EQ(stg.depends_on, (std::vector<std::string>{"source.shop.raw.orders"}));

  const CompiledNode& orders = nodes.at("model.shop.orders");
  EXPECT_EQ(orders.materialized, "table");
  EXPECT_EQ(orders.relation(), "sales.fct_orders");
  EXPECT_EQ(orders.tags, (std::vector<std::string>{"daily"}));
  EXPECT_EQ(orders.compiled_code,
            "with __dbt__cte__stg_helper as (\nselect id from sales.stg_orders\n),\n"
            " o as (select * from sales.stg_orders)\n"
            "select o.id, (o.amount / 100) as dollars, 'sales.fct_orders' as me, 'sales' as t\n"
            "from o join __dbt__cte__stg_helper h on h.id = o.id");
  EXPECT_EQ(orders.depends_on,
            (std::vector<std::string>{"model.shop.stg_orders", "model.shop.stg_helper"}));

  const CompiledNode& revenue = nodes.at("model.shop.revenue");
  EXPECT_EQ(revenue.relation(), "sales-finance.revenue");  // dbt's default, with a domain's '-'
  EXPECT_EQ(revenue.schema, "sales-finance");
  EXPECT_EQ(revenue.compiled_code, "select sum(dollars) from sales.fct_orders -- table");

  const CompiledNode& test = nodes.at("test.shop.positive");
  EXPECT_EQ(test.materialized, "test");
  EXPECT_EQ(test.compiled_code, "select * from sales.fct_orders where dollars < 0");

  auto order = c.Order();
  ASSERT_TRUE(order.ok());
  auto pos = [&](const std::string& uid) {
    return std::find(order->begin(), order->end(), uid) - order->begin();
  };
  EXPECT_LT(pos("model.shop.stg_orders"), pos("model.shop.stg_helper"));
  EXPECT_LT(pos("model.shop.stg_helper"), pos("model.shop.orders"));
  EXPECT_LT(pos("model.shop.orders"), pos("model.shop.revenue"));
  EXPECT_LT(pos("model.shop.orders"), pos("test.shop.positive"));
}

TEST_F(CompilerTest, DataTestsFromSchemaYaml) {
  Write("models/customers.sql", "select 1 as id");
  Write("models/orders.sql", "select 1 as id, 1 as customer_id, 'placed' as status");
  Write("models/schema.yml", R"(
version: 2
models:
  - name: orders
    columns:
      - name: id
        tests: [unique, not_null]
      - name: status
        tests:
          - accepted_values:
              values: ['placed', 'shipped']
              config: {severity: warn}
      - name: customer_id
        tests:
          - relationships: {to: ref('customers'), field: id}
          - positive
)");
  Write("macros/positive.sql",
        "{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}");
  auto p = Load();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Compiler c(*p, Target{"dev", "sales", "main", 1});
  Status st = c.CompileAll();
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto& nodes = c.nodes();
  const CompiledNode& unique = nodes.at("test.shop.unique_orders_id");
  EXPECT_EQ(unique.materialized, "test");
  EXPECT_EQ(unique.tested, "model.shop.orders");
  EXPECT_EQ(unique.depends_on, (std::vector<std::string>{"model.shop.orders"}));
  EXPECT_NE(unique.compiled_code.find("from sales.orders\nwhere id is not null\ngroup by id\nhaving count(*) > 1"),
            std::string::npos) << unique.compiled_code;
  EXPECT_NE(nodes.at("test.shop.not_null_orders_id").compiled_code.find("where id is null"), std::string::npos);
  const CompiledNode& av = nodes.at("test.shop.accepted_values_orders_status");
  EXPECT_NE(av.compiled_code.find("'placed','shipped'"), std::string::npos) << av.compiled_code;
  EXPECT_EQ(av.config.dict().Find(std::string_view("severity"))->Str(), "warn");
  const CompiledNode& rel = nodes.at("test.shop.relationships_orders_customer_id");
  EXPECT_NE(rel.compiled_code.find("select id as to_field\n    from sales.customers"), std::string::npos)
      << rel.compiled_code;
  EXPECT_NE(std::find(rel.depends_on.begin(), rel.depends_on.end(), "model.shop.customers"),
            rel.depends_on.end());
  EXPECT_EQ(nodes.at("test.shop.positive_orders_customer_id").compiled_code,
            "select * from sales.orders where customer_id <= 0");

  Write("models/schema.yml", "version: 2\nmodels:\n  - name: orders\n    tests: [nonexistent]\n");
  p = Load();
  Compiler c2(*p, Target{});
  st = c2.CompileAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no such generic test (a macro test_nonexistent)"), std::string::npos)
      << st.message();
}

TEST_F(CompilerTest, GenerateSchemaNameMacroAndVars) {
  Write("models/a.sql", "{{ config(schema='x') }}select {{ var('n', 7) }}, '{{ var('s') }}'");
  Write("macros/schema.sql",
        "{% macro generate_schema_name(custom_schema_name, node) %}"
        "{{ custom_schema_name if custom_schema_name else target.schema }}{% endmacro %}");
  auto p = Load();
  ASSERT_TRUE(p.ok());
  auto vars = ParseYamlValue("{s: hello}");
  ASSERT_TRUE(vars.ok());
  Compiler c(*p, Target{"dev", "sales", "main", 1}, *vars);
  ASSERT_TRUE(c.CompileAll().ok());
  EXPECT_EQ(c.nodes().at("model.shop.a").relation(), "x.a");
  EXPECT_EQ(c.nodes().at("model.shop.a").compiled_code, "select 7, 'hello'");
}

TEST_F(CompilerTest, Errors) {
  Write("models/a.sql", "select * from {{ ref('missing') }}");
  auto p = Load();
  ASSERT_TRUE(p.ok());
  Compiler c1(*p, Target{});
  Status st = c1.CompileAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("models/a.sql:1:"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("'model.shop.a' depends on a node named 'missing' which was not found"),
            std::string::npos) << st.message();

  Write("models/a.sql", "select {{ var('nope') }}");
  p = Load();
  Compiler c2(*p, Target{});
  st = c2.CompileAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Required var 'nope' not found"), std::string::npos) << st.message();

  Write("models/a.sql", "select * from {{ ref('b') }}");
  Write("models/b.sql", "select * from {{ ref('a') }}");
  p = Load();
  Compiler c3(*p, Target{});
  st = c3.CompileAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cycle: model.shop.a, model.shop.b"), std::string::npos) << st.message();

  Write("models/b.sql", "{{ config(enabled=false) }}select 1");
  p = Load();
  Compiler c4(*p, Target{});
  st = c4.CompileAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("which is disabled"), std::string::npos) << st.message();

  Write("models/b.sql", "select {{ exceptions.raise_compiler_error('bad input') }}");
  Write("models/a.sql", "select 1");
  p = Load();
  Compiler c5(*p, Target{});
  st = c5.CompileAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Compilation Error in model.shop.b: bad input"), std::string::npos)
      << st.message();
}

TEST_F(CompilerTest, VersionsCrossDatabaseMacrosGraphAndHooks) {
  Write("models/dim_v1.sql", "select 1 as id");
  Write("models/dim_v2.sql", "select 2 as id");
  Write("models/schema.yml", "models:\n  - name: dim\n    latest_version: 2\n    versions: [{v: 1}, {v: 2}]\n");
  const std::string uses_sql =
      "{{ config(post_hook=\"insert into {{ this }} values (1)\") }}"
      "select * from {{ ref('dim') }} join {{ ref('dim', v=1) }} using (id) "
      "where {{ dbt.date_trunc('day', 'ts') }} > {{ dbt.dateadd('day', -1, current_timestamp()) }}"
      " and {{ dbt.safe_cast('x', dbt.type_int()) }} is not null"
      " --{% if execute %} {{ graph.nodes['model.shop.dim.v1'].alias }} {{ graph.nodes | length }}{% endif %}"
      " {{ modules.datetime.date.today().year > 2000 }}";
  Write("models/uses.sql", uses_sql + " {{ run_query('select 1') is none }}");
  Write("macros/override.sql", "{% macro default__safe_cast(field, type) %}cast({{ field }} as {{ type }}){% endmacro %}");
  auto p = Load();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Compiler c(*p, Target{});
  // No database: compiling a template that queries is an error naming what it needs.
  Status st = c.CompileAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("run_query and statement blocks need a database"), std::string::npos) << st.message();
  Write("models/uses.sql", uses_sql);
  p = Load();
  ASSERT_TRUE(p.ok());
  Compiler c2(*p, Target{});
  st = c2.CompileAll();
  ASSERT_TRUE(st.ok()) << st.ToString();
  const CompiledNode& uses = c2.nodes().at("model.shop.uses");
  EXPECT_EQ(uses.compiled_code,
            "select * from shop.dim_v2 join shop.dim_v1 using (id) where date_trunc('day', ts) > "
            "(now() + ((interval '1 day') * (-1))) and cast(x as integer) is not null -- dim_v1 3 True");
  EXPECT_EQ(uses.depends_on, (std::vector<std::string>{"model.shop.dim.v2", "model.shop.dim.v1"}));
  auto hooks = c2.Hooks("model.shop.uses", "post_hook");
  ASSERT_TRUE(hooks.ok());
  EXPECT_EQ(*hooks, std::vector<std::string>{"insert into shop.uses values (1)"});
  // A version the model does not have.
  Write("models/uses.sql", "select * from {{ ref('dim', v=3) }}");
  p = Load();
  Compiler c3(*p, Target{});
  st = c3.CompileAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("depends on version 3 of model 'dim', which it does not have"), std::string::npos)
      << st.message();
}

TEST(DbtRunner, TestConditions) {
  EXPECT_TRUE(*TestCondition("!= 0", 3));
  EXPECT_FALSE(*TestCondition("!=0", 0));
  EXPECT_TRUE(*TestCondition(">10", 11));
  EXPECT_FALSE(*TestCondition("> 10", 10));
  EXPECT_TRUE(*TestCondition(">= 10", 10));
  EXPECT_TRUE(*TestCondition("<5", 4));
  EXPECT_TRUE(*TestCondition("= 2", 2));
  EXPECT_FALSE(TestCondition("about 3", 3).ok());
  EXPECT_FALSE(TestCondition("> x", 3).ok());
  EXPECT_FALSE(TestCondition("3", 3).ok());
}

TEST(DbtRunner, SeedTypesAndQuoting) {
  size_t rows = 0;
  auto st = SeedStatements("id,name,price,ok,day,note\n1,\"O'Neil, Ada\",1.5,true,2026-01-01,\n"
                           "2,\"say \"\"hi\"\"\",2,false,2026-01-02,x\n",
                           "\"s\".\"t\"", jinja::Value::None(), &rows);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(rows, 2u);
  ASSERT_EQ(st->size(), 1u);
  const std::string& sql = (*st)[0];
  EXPECT_NE(sql.find("CAST('1' AS BIGINT)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("CAST('O''Neil, Ada' AS VARCHAR)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("CAST('1.5' AS DOUBLE)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("CAST('true' AS BOOLEAN)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("CAST('2026-01-01' AS DATE)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("CAST(NULL AS VARCHAR)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("CAST('say \"hi\"' AS VARCHAR)"), std::string::npos) << sql;
  auto types = ParseYamlValue("{id: VARCHAR}");
  st = SeedStatements("id\n7\n", "t", *types);
  ASSERT_TRUE(st.ok());
  EXPECT_NE((*st)[0].find("CAST('7' AS VARCHAR)"), std::string::npos);
  EXPECT_FALSE(SeedStatements("a,b\n1\n", "t", jinja::Value::None()).ok());
  EXPECT_FALSE(SeedStatements("a\n\"open\n", "t", jinja::Value::None()).ok());
}

}  // namespace
}  // namespace lakemesh::dbt
