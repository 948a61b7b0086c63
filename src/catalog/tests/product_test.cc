// Product files: reading and checking them, comparing contracts for breaking changes, and the
// organisation's policies.
#include <gtest/gtest.h>

#include "catalog/product.h"

namespace lakemesh::catalog {
namespace {

constexpr const char* kOrders = R"(
name: orders
domain: sales
owner: sales-team
description: Every order placed in the web shop, one row per order.
tags: [sales, core]
status: published
version: 1.2.0
inputPorts:
  - product: crm.customers
outputPorts:
  - name: orders
    table: orders
    contract:
      apiVersion: v3.1.0
      kind: DataContract
      id: sales.orders
      version: 1.2.0
      status: active
      schema:
        - name: orders
          physicalName: orders
          properties:
            - name: order_id
              logicalType: integer
              physicalType: BIGINT
              required: true
              unique: true
              description: The order's number.
              quality:
                - metric: duplicateValues
                  mustBe: 0
            - name: email
              logicalType: string
              classification: pii
              quality:
                - metric: nullValues
                  mustBeLessOrEqualTo: 5
                  unit: percent
            - name: amount
              logicalType: number
              physicalType: DECIMAL(10,2)
          quality:
            - metric: rowCount
              mustBeGreaterThan: 0
            - type: sql
              name: no negative amounts
              query: SELECT count(*) FROM ${table} WHERE amount < 0
              mustBe: 0
            - type: text
              description: Orders are never deleted.
      slaProperties:
        - property: freshness
          value: 24
          unit: h
          element: orders.ordered_at
)";

TEST(Product, ParsesAProductWithItsContract) {
  auto p = ParseProduct(kOrders, "sales", "products/orders.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->id(), "sales.orders");
  EXPECT_EQ(p->owner, "sales-team");
  EXPECT_EQ(p->status, "published");
  EXPECT_EQ(p->tags, (std::vector<std::string>{"sales", "core"}));
  ASSERT_EQ(p->inputs.size(), 1u);
  EXPECT_EQ(p->inputs[0].product, "crm.customers");
  ASSERT_EQ(p->outputs.size(), 1u);
  const OutputPort& o = p->outputs[0];
  EXPECT_EQ(o.table, "orders");
  ASSERT_EQ(o.columns.size(), 3u);
  EXPECT_TRUE(o.columns[0].required && o.columns[0].unique);
  EXPECT_EQ(o.columns[1].classification, "pii");
  EXPECT_EQ(o.columns[2].physical_type, "DECIMAL(10,2)");
  // Column rules first, then the table's; text rules are words only.
  ASSERT_EQ(o.quality.size(), 4u);
  EXPECT_EQ(o.quality[0].Describe(), "duplicateValues(order_id) = 0");
  EXPECT_EQ(o.quality[1].Describe(), "nullValues(email) <= 5 percent");
  EXPECT_EQ(o.quality[2].Describe(), "rowCount > 0");
  EXPECT_EQ(o.quality[3].type, "sql");
  EXPECT_EQ(o.quality[3].Describe(), "no negative amounts = 0");
  EXPECT_TRUE(o.quality[2].Holds(1));
  EXPECT_FALSE(o.quality[2].Holds(0));
  EXPECT_EQ(o.freshness_seconds, 24 * 3600);
  EXPECT_EQ(o.freshness_column, "ordered_at");
  auto j = ProductJson(*p);
  EXPECT_EQ(j["outputPorts"][0]["freshness"]["maxAgeSeconds"], 86400);
  EXPECT_EQ(j["outputPorts"][0]["contract"]["kind"], "DataContract");
}

TEST(Product, FillsTheContractsRequiredFields) {
  auto p = ParseProduct("name: tiny\noutputPorts:\n  - table: t\n", "ops", "products/tiny.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const auto& c = p->outputs[0].contract;
  EXPECT_EQ(c["apiVersion"], "v3.1.0");
  EXPECT_EQ(c["kind"], "DataContract");
  EXPECT_EQ(c["id"], "ops.tiny.t");
  EXPECT_EQ(c["version"], "0.1.0");
  EXPECT_EQ(c["status"], "draft");
  EXPECT_EQ(p->outputs[0].name, "t");
}

TEST(Product, ErrorsNameTheFileAndTheProblem) {
  struct Case {
    const char* yaml;
    const char* expect;
  };
  const Case cases[] = {
      {"name: [unclosed", "products/x.yaml:1: "},
      {"- a list", "a product file is a YAML map"},
      {"owner: me\noutputPorts: [{table: t}]", "the product needs a name"},
      {"name: x\ndomain: crm\noutputPorts: [{table: t}]", "says domain 'crm' but is kept in the repository of domain 'sales'"},
      {"name: x", "the product needs outputPorts"},
      {"name: x\noutputPorts: [{name: p}]", "output port p needs a table"},
      {"name: x\nstatus: live\noutputPorts: [{table: t}]", "status 'live' is not one of draft, published, deprecated"},
      {"name: x\nversion: '1.0'\noutputPorts: [{table: t}]", "version '1.0' is not a semantic version"},
      {"name: x\noutputPorts: [{table: t}, {table: t}]", "output port t is named twice"},
      {"name: x\noutputPorts: [{table: t, contract: {kind: Other}}]", "the contract's kind is DataContract"},
      {"name: x\noutputPorts: [{table: t, contract: {apiVersion: v2.2.0}}]", "Open Data Contract Standard v3"},
      {"name: x\noutputPorts: [{table: t, contract: {schema: [{name: t, properties: [{logicalType: string}]}]}}]",
       "a column of the contract has no name"},
      {"name: x\noutputPorts: [{table: t, contract: {schema: [{name: t, properties: [{name: a, logicalType: text}]}]}}]",
       "column a has logicalType 'text'"},
      {"name: x\noutputPorts: [{table: t, contract: {schema: [{name: t, quality: [{metric: rowCnt, mustBe: 1}]}]}}]",
       "unknown quality metric 'rowCnt'"},
      {"name: x\noutputPorts: [{table: t, contract: {schema: [{name: t, quality: [{metric: rowCount}]}]}}]",
       "a quality rule needs a comparison"},
      {"name: x\noutputPorts: [{table: t, contract: {schema: [{name: t, quality: [{metric: nullValues, mustBe: 0}]}]}}]",
       "the metric nullValues belongs to a column"},
      {"name: x\noutputPorts: [{table: t, contract: {schema: [{name: t, quality: [{metric: rowCount, mustBeBetween: [5, 1]}]}]}}]",
       "takes the smallest number first"},
      {"name: x\noutputPorts: [{table: t, contract: {schema: [{name: u}, {name: v}]}}]",
       "the contract's schema has no object named t"},
      {"name: x\noutputPorts: [{table: t, contract: {slaProperties: [{property: freshness, value: 2, unit: weeks, element: t.c}]}}]",
       "freshness unit 'weeks'"},
      {"name: x\ninputPorts: [customers]\noutputPorts: [{table: t}]", "names a product as domain.name"},
  };
  for (const Case& c : cases) {
    auto p = ParseProduct(c.yaml, "sales", "products/x.yaml");
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_NE(p.status().message().find(c.expect), std::string::npos) << p.status().message();
    EXPECT_EQ(p.status().message().rfind("products/x.yaml", 0), 0u) << p.status().message();
  }
}

TEST(Product, ComparesContractsForBreakingChanges) {
  auto before = ParseProduct(kOrders, "sales", "p.yaml");
  ASSERT_TRUE(before.ok());
  std::string text = kOrders;
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  // Nothing changed: nothing to report.
  EXPECT_TRUE(CompareContracts(*before, *before).empty());
  replace("physicalType: BIGINT", "physicalType: INTEGER");              // narrowed
  replace("physicalType: DECIMAL(10,2)", "physicalType: DECIMAL(12,2)");  // widened
  replace("              required: true\n", "");                         // may hold NULLs now
  replace("            - name: email\n", "            - name: email_address\n");  // renamed
  replace("          quality:\n            - metric: rowCount",
          "            - name: channel\n              logicalType: string\n          quality:\n"
          "            - metric: rowCount");
  replace("mustBeGreaterThan: 0", "mustBeGreaterThan: 10");  // a rule tightened
  auto after = ParseProduct(text, "sales", "p.yaml");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  auto changes = CompareContracts(*before, *after);
  auto has = [&](const std::string& column, const std::string& what, bool breaking) {
    for (const auto& c : changes) {
      if (c.column == column && c.what.find(what) != std::string::npos) {
        EXPECT_EQ(c.breaking, breaking) << c.what;
        return;
      }
    }
    ADD_FAILURE() << "no change '" << what << "' of " << column;
  };
  has("order_id", "type narrowed or changed from BIGINT to INTEGER", true);
  has("order_id", "no longer required", true);
  has("amount", "type widened from DECIMAL(10,2) to DECIMAL(12,2)", false);
  has("email", "column removed (or renamed)", true);
  has("email_address", "column added", false);
  has("channel", "column added", false);
  // Quality rules are reported by what they check, and do not break the contract's shape.
  has("", "quality rule removed: rowCount > 0", false);
  has("", "quality rule added: rowCount > 10", false);
  has("", "quality rule removed: nullValues(email) <= 5 percent", false);
  EXPECT_EQ(MajorVersion("2.1.0"), 2);
  EXPECT_EQ(MajorVersion("x"), std::nullopt);
}

TEST(Product, Policies) {
  auto p = ParseProduct(
      "name: Orders\noutputPorts:\n  - table: orders\n    contract:\n      schema:\n        - name: orders\n"
      "          properties:\n            - name: customer_email\n            - name: amount\n",
      "sales", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto v = CheckPolicies(*p, Policies{});
  std::string all;
  for (const auto& s : v) all += s + "\n";
  EXPECT_NE(all.find("product sales.Orders has no owner"), std::string::npos) << all;
  EXPECT_NE(all.find("has no description"), std::string::npos) << all;
  EXPECT_NE(all.find("product name 'Orders' is not snake_case"), std::string::npos) << all;
  EXPECT_NE(all.find("column orders.customer_email looks like personal data (email) and has no classification"),
            std::string::npos) << all;
  EXPECT_EQ(all.find("amount"), std::string::npos) << all;
  auto lax = ParsePolicies("owner_required: false\ndescription_required: false\n"
                           "personal_data_classified: false\nsnake_case_names: false\n", "policies.yaml");
  ASSERT_TRUE(lax.ok()) << lax.status().ToString();
  EXPECT_TRUE(CheckPolicies(*p, *lax).empty());
  auto strict = ParsePolicies("column_descriptions_required: true", "policies.yaml");
  ASSERT_TRUE(strict.ok());
  EXPECT_TRUE(strict->owner_required);
  bool amount = false;
  for (const auto& s : CheckPolicies(*p, *strict)) amount |= s == "column orders.amount has no description";
  EXPECT_TRUE(amount);
  auto bad = ParsePolicies("owner_requried: true", "policies.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("policies.yaml: unknown policy 'owner_requried'"), std::string::npos);
  EXPECT_FALSE(ParsePolicies("owner_required: sometimes", "policies.yaml").ok());
  // The template is a valid product that follows the policies but for its empty descriptions.
  auto t = ParseProduct(ProductTemplate("sales", "orders", "", "orders", {{"id", "BIGINT"}, {"total", "DECIMAL(10,2)"}}),
                        "sales", "products/orders.yaml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->owner, "sales-team");
  EXPECT_EQ(t->outputs[0].columns[1].logical_type, "number");
  EXPECT_TRUE(CheckPolicies(*t, Policies{}).empty());
}

}  // namespace
}  // namespace lakemesh::catalog
