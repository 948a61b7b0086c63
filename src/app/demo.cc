#include "app/demo.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "base/random.h"
#include "base/time.h"
#include "sql/data_files.h"
#include "table/metadata.h"

namespace lakemesh::app {
namespace {

using versioning::CommitOptions;
using versioning::Repositories;

Status Put(Repositories& repos, const std::string& repo, const std::string& branch,
           const std::string& path, const std::string& data, const std::string& type) {
  LM_ASSIGN_OR_RETURN(auto up, repos.NewUpload());
  LM_TRY(up->Append(data));
  versioning::PutOptions opts;
  opts.content_type = type;
  opts.metadata["source"] = "demo";
  return repos.PutObject(repo, branch, path, std::move(up), opts).status();
}

Status Commit(Repositories& repos, const std::string& repo, const std::string& branch,
              const std::string& message) {
  return repos.CommitBranch(repo, branch, CommitOptions{message, "demo", {}, false, ""}).status();
}

// Deterministic pseudo-random numbers so the demo is the same everywhere.
uint32_t Next(uint32_t* s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

std::string Orders(int month, int first_id, int n) {
  uint32_t s = static_cast<uint32_t>(month * 7919 + first_id);
  std::string csv = "order_id,customer_id,product_id,quantity,amount,ordered_at\n";
  for (int i = 0; i < n; ++i) {
    int day = 1 + static_cast<int>(Next(&s) % 28);
    int qty = 1 + static_cast<int>(Next(&s) % 5);
    int cents = 500 + static_cast<int>(Next(&s) % 20000);
    csv += std::to_string(first_id + i) + "," + std::to_string(1 + Next(&s) % 40) + "," +
           std::to_string(1 + Next(&s) % 12) + "," + std::to_string(qty) + "," +
           std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") +
           std::to_string(cents % 100) + ",2026-" + (month < 10 ? "0" : "") +
           std::to_string(month) + "-" + (day < 10 ? "0" : "") + std::to_string(day) +
           "T10:00:00Z\n";
  }
  return csv;
}

std::string Customers() {
  static const char* kFirst[] = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Leslie",
                                 "Frances"};
  static const char* kLast[] = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth",
                                "Lamport", "Allen"};
  static const char* kRegions[] = {"emea", "amer", "apac"};
  std::string csv = "customer_id,name,email,region,signed_up\n";
  uint32_t s = 42;
  for (int i = 1; i <= 40; ++i) {
    std::string first = kFirst[Next(&s) % 8], last = kLast[Next(&s) % 8];
    std::string email = first + "." + last + std::to_string(i) + "@example.com";
    for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    csv += std::to_string(i) + "," + first + " " + last + "," + email + "," +
           kRegions[Next(&s) % 3] + ",2025-" + std::to_string(1 + Next(&s) % 9) + "-01\n";
  }
  return csv;
}

// Appends the rows of `csv` to a table: Parquet data files written through DuckDB, stored under
// the table's location, committed as one snapshot.
Status AppendCsv(catalog::Catalog& catalog, const std::string& ref, const catalog::TableIdent& t,
                 const std::string& csv, const std::string& work_dir) {
  LM_ASSIGN_OR_RETURN(catalog::LoadedTable table, catalog.LoadTable(ref, t));
  const catalog::Json* schema = table::FindSchema(table.metadata);
  if (!schema) return Internal("demo table has no schema");
  LM_ASSIGN_OR_RETURN(table::PartitionSpec spec,
                      table::TableSpec(table.metadata, table.metadata.value("default-spec-id", 0)));
  const std::string dir = work_dir + "/demo-" + NewUuid();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream(dir + "/rows.csv") << csv;
  auto written = sql::WriteDataFiles(dir + "/rows.csv", sql::InputFormat::kCsv, *schema, spec, dir);
  Status st = written.status();
  std::vector<table::DataFile> files;
  if (st.ok()) {
    for (auto& w : *written) {
      st = catalog.StoreDataFile(table.metadata, w.local_path, &w.file);
      if (!st.ok()) break;
      files.push_back(std::move(w.file));
    }
  }
  if (st.ok()) st = catalog.AppendFiles(ref, t, files, "demo").status();
  std::filesystem::remove_all(dir, ec);
  return st;
}

// The demo's data products (docs/products.md).
constexpr const char* kOrdersProduct = R"yaml(# The sales domain's orders, for analytics and finance.
name: orders
owner: sales-team
description: "Every order placed in the web shop, one row per order, by month."
tags: [sales, core]
status: published
version: 1.0.0
inputPorts:
  - product: customers.customers
outputPorts:
  - name: orders
    table: orders
    description: "Orders with their amounts, partitioned by month."
    contract:
      schema:
        - name: orders
          physicalName: orders
          properties:
            - {name: order_id, logicalType: integer, physicalType: BIGINT, required: true, unique: true,
               description: The order's number.}
            - {name: customer_id, logicalType: integer, physicalType: BIGINT, required: true,
               description: Who ordered (customers.customers).}
            - {name: product_id, logicalType: integer, physicalType: BIGINT, description: What was ordered.}
            - {name: quantity, logicalType: integer, physicalType: INTEGER, description: How many.}
            - {name: amount, logicalType: number, physicalType: "DECIMAL(10,2)", description: Total in EUR.}
            - {name: ordered_at, logicalType: date, physicalType: DATE, description: The day of the order.}
          quality:
            - {metric: rowCount, mustBeGreaterThan: 0}
            - {type: sql, name: no negative amounts, query: "SELECT count(*) FROM ${table} WHERE amount < 0", mustBe: 0}
)yaml";

constexpr const char* kCustomersProduct = R"yaml(# The customer register, for every domain that needs to know who a customer is.
name: customers
owner: crm-team
description: "The customer register: one row per customer, with region and sign-up day."
tags: [customers, core, personal-data]
status: published
version: 1.0.0
outputPorts:
  - name: customers
    table: customers
    contract:
      schema:
        - name: customers
          physicalName: customers
          properties:
            - {name: customer_id, logicalType: integer, physicalType: BIGINT, required: true, unique: true,
               description: The customer's number.}
            - {name: name, logicalType: string, physicalType: VARCHAR, classification: pii,
               description: Full name.}
            - name: email
              logicalType: string
              physicalType: VARCHAR
              classification: pii
              description: Contact address.
              quality:
                - {metric: nullValues, mustBeLessOrEqualTo: 10, unit: percent}
            - {name: region, logicalType: string, physicalType: VARCHAR, description: "emea, amer or apac."}
            - {name: signed_up, logicalType: date, physicalType: DATE, description: The day they signed up.}
          quality:
            - {metric: rowCount, mustBeGreaterThan: 0}
)yaml";

constexpr const char* kCampaignsProduct = R"yaml(# Marketing's campaigns, with the orders they brought in attributed to them.
name: campaigns
owner: growth-team
description: "Marketing campaigns with budget and the revenue of the orders attributed to them."
tags: [marketing, attribution]
status: published
version: 2.0.0
inputPorts:
  - product: sales.orders
outputPorts:
  - name: campaigns
    table: campaigns
    description: "One row per campaign; revenue from sales.orders by last-touch attribution."
    contract:
      schema:
        - name: campaigns
          physicalName: campaigns
          properties:
            - {name: campaign_id, logicalType: integer, physicalType: BIGINT, required: true, unique: true,
               description: The campaign's number.}
            - {name: title, logicalType: string, physicalType: VARCHAR, required: true, description: What the campaign is called.}
            - {name: channel, logicalType: string, physicalType: VARCHAR, description: "email, social or search."}
            - {name: budget, logicalType: number, physicalType: "DECIMAL(10,2)", description: Spend in EUR.}
            - {name: attributed_revenue, logicalType: number, physicalType: "DECIMAL(12,2)",
               description: Revenue of the orders attributed to the campaign (EUR).}
            - {name: loaded_at, logicalType: timestamp, physicalType: TIMESTAMP, required: true,
               description: When the row was last refreshed.}
          quality:
            - {metric: rowCount, mustBeGreaterThan: 0}
            - {type: sql, name: budget is spent on something, query: "SELECT count(*) FROM ${table} WHERE budget <= 0", mustBe: 0}
      slaProperties:
        - {property: freshness, value: 1, unit: d, element: campaigns.loaded_at}
)yaml";

// Campaigns with the revenue of the orders `attribution` gives them (last touch), from the
// orders of `orders_csv`, loaded at `now` (as an ISO timestamp).
std::string Campaigns(const std::string& orders_csv, const std::string& attribution,
                      const std::string& now) {
  std::map<int, double> amount_of;  // order id -> amount
  std::istringstream orders(orders_csv);
  std::string line;
  std::getline(orders, line);
  while (std::getline(orders, line)) {
    std::istringstream f(line);
    std::string id, customer, product, qty, amount;
    std::getline(f, id, ',');
    std::getline(f, customer, ',');
    std::getline(f, product, ',');
    std::getline(f, qty, ',');
    std::getline(f, amount, ',');
    amount_of[std::stoi(id)] = std::stod(amount);
  }
  std::map<int, double> revenue;
  std::istringstream touches(attribution);
  std::getline(touches, line);
  while (std::getline(touches, line)) {
    int order = std::stoi(line.substr(0, line.find(',')));
    int campaign = std::stoi(line.substr(line.find(',') + 1));
    revenue[campaign] += amount_of[order];
  }
  static const char* kRows[] = {"1,Autumn lakes,email,5000.00", "2,Mesh week,social,12000.00",
                                "3,Winter data,search,8000.00"};
  std::string csv = "campaign_id,title,channel,budget,attributed_revenue,loaded_at\n";
  for (int i = 0; i < 3; ++i) {
    char rev[32];
    std::snprintf(rev, sizeof(rev), "%.2f", revenue[i + 1]);
    csv += std::string(kRows[i]) + "," + rev + "," + now + "\n";
  }
  return csv;
}

}  // namespace

std::vector<DemoCheck> DemoProductChecks() {
  return {{"customers", "customers", "main"},
          {"sales", "orders", "main"},
          {"marketing", "campaigns", "main"},
          {"sales", "orders", "dev"}};
}

Status LoadDemo(Repositories& repos, catalog::Catalog& catalog, const std::string& work_dir) {
  // sales: orders by month, a product catalogue, a dev branch with work in progress, a tag.
  LM_TRY(repos.CreateRepo("sales", "main", "demo").status());
  LM_TRY(Put(repos, "sales", "main", "raw/products.json",
             "[{\"product_id\":1,\"name\":\"Lake pass\",\"price\":19.0},"
             "{\"product_id\":2,\"name\":\"Mesh kit\",\"price\":49.5},"
             "{\"product_id\":3,\"name\":\"Data cube\",\"price\":7.25}]\n",
             "application/json"));
  LM_TRY(Put(repos, "sales", "main", "raw/orders/2026-09.csv", Orders(9, 1, 60), "text/csv"));
  LM_TRY(Commit(repos, "sales", "main", "Load product catalogue and September orders"));
  LM_TRY(Put(repos, "sales", "main", "raw/orders/2026-10.csv", Orders(10, 61, 80), "text/csv"));
  LM_TRY(Commit(repos, "sales", "main", "Load October orders"));
  // The orders as an Iceberg table, partitioned by month: September and October on main (two
  // snapshots), November on dev.
  const catalog::Json orders = {
      {"name", "orders"},
      {"schema",
       {{"type", "struct"},
        {"fields",
         {{{"id", 1}, {"name", "order_id"}, {"required", true}, {"type", "long"}},
          {{"id", 2}, {"name", "customer_id"}, {"required", true}, {"type", "long"}},
          {{"id", 3}, {"name", "product_id"}, {"required", true}, {"type", "long"}},
          {{"id", 4}, {"name", "quantity"}, {"required", true}, {"type", "int"}},
          {{"id", 5}, {"name", "amount"}, {"required", true}, {"type", "decimal(10, 2)"}},
          {{"id", 6}, {"name", "ordered_at"}, {"required", true}, {"type", "date"}}}}}},
      {"partition-spec",
       {{"fields", {{{"source-id", 6}, {"name", "ordered_month"}, {"transform", "month"}}}}}},
      {"properties", {{"comment", "Orders of the sales domain"}}}};
  LM_TRY(catalog.CreateTable("main", {"sales"}, orders, /*stage=*/false, "demo").status());
  const catalog::TableIdent orders_table{{"sales"}, "orders"};
  LM_TRY(AppendCsv(catalog, "main", orders_table, Orders(9, 1, 60), work_dir));
  LM_TRY(AppendCsv(catalog, "main", orders_table, Orders(10, 61, 80), work_dir));
  LM_TRY(Put(repos, "sales", "main", "products/orders.yaml", kOrdersProduct, "application/yaml"));
  LM_TRY(Commit(repos, "sales", "main", "Publish data product sales.orders 1.0.0"));
  LM_TRY(repos.CreateTag("sales", "v1", "main").status());
  LM_TRY(repos.CreateBranch("sales", "dev", "main").status());
  LM_TRY(Put(repos, "sales", "dev", "raw/orders/2026-11.csv", Orders(11, 141, 90), "text/csv"));
  LM_TRY(AppendCsv(catalog, "dev", orders_table, Orders(11, 141, 90), work_dir));
  LM_TRY(Commit(repos, "sales", "dev", "Load November orders (to review)"));
  // On dev, the next version of the product promises a volume the November load breaks: its
  // check fails there (`lakemesh product check sales.orders --ref dev`).
  std::string next = kOrdersProduct;
  next.replace(next.find("version: 1.0.0"), 14, "version: 1.1.0");
  next += "            - {metric: rowCount, mustBeLessOrEqualTo: 200, name: volume within plan}\n";
  LM_TRY(Put(repos, "sales", "dev", "products/orders.yaml", next, "application/yaml"));
  LM_TRY(Commit(repos, "sales", "dev", "orders 1.1.0: at most 200 orders in the table"));

  // customers: the customer register and regions.
  LM_TRY(repos.CreateRepo("customers", "main", "demo").status());
  LM_TRY(Put(repos, "customers", "main", "raw/customers.csv", Customers(), "text/csv"));
  LM_TRY(Put(repos, "customers", "main", "raw/regions.csv",
             "region,name\nemea,Europe Middle East Africa\namer,Americas\napac,Asia Pacific\n",
             "text/csv"));
  LM_TRY(Commit(repos, "customers", "main", "Initial customer register"));
  const catalog::Json customers = {
      {"name", "customers"},
      {"schema",
       {{"type", "struct"},
        {"fields",
         {{{"id", 1}, {"name", "customer_id"}, {"required", true}, {"type", "long"}},
          {{"id", 2}, {"name", "name"}, {"required", true}, {"type", "string"}},
          {{"id", 3}, {"name", "email"}, {"required", false}, {"type", "string"}},
          {{"id", 4}, {"name", "region"}, {"required", false}, {"type", "string"}},
          {{"id", 5}, {"name", "signed_up"}, {"required", false}, {"type", "date"}}}}}},
      {"properties", {{"comment", "The customer register"}}}};
  LM_TRY(catalog.CreateTable("main", {"customers"}, customers, /*stage=*/false, "demo").status());
  LM_TRY(AppendCsv(catalog, "main", {{"customers"}, "customers"}, Customers(), work_dir));
  LM_TRY(Put(repos, "customers", "main", "products/customers.yaml", kCustomersProduct, "application/yaml"));
  LM_TRY(Commit(repos, "customers", "main", "Publish data product customers.customers 1.0.0"));

  // marketing: campaigns and their attribution to orders.
  LM_TRY(repos.CreateRepo("marketing", "main", "demo").status());
  LM_TRY(Put(repos, "marketing", "main", "raw/campaigns.csv",
             "campaign_id,name,channel,start,end,budget\n"
             "1,Autumn lakes,email,2026-09-01,2026-09-30,5000\n"
             "2,Mesh week,social,2026-10-10,2026-10-17,12000\n"
             "3,Winter data,search,2026-11-01,2026-11-30,8000\n",
             "text/csv"));
  LM_TRY(Commit(repos, "marketing", "main", "Add campaign list"));
  std::string attribution = "order_id,campaign_id,touch\n";
  for (int i = 1; i <= 140; i += 3) {
    attribution += std::to_string(i) + "," + std::to_string(1 + (i / 3) % 3) + ",last\n";
  }
  LM_TRY(Put(repos, "marketing", "main", "raw/attribution/2026-q4.csv", attribution, "text/csv"));
  LM_TRY(Commit(repos, "marketing", "main", "Attribute orders to campaigns"));
  // The campaigns as a table with the revenue attributed to them, published as a product that
  // reads sales.orders; its freshness SLO holds for a day after the demo was loaded.
  const catalog::Json campaigns = {
      {"name", "campaigns"},
      {"schema",
       {{"type", "struct"},
        {"fields",
         {{{"id", 1}, {"name", "campaign_id"}, {"required", true}, {"type", "long"}},
          {{"id", 2}, {"name", "title"}, {"required", true}, {"type", "string"}},
          {{"id", 3}, {"name", "channel"}, {"required", false}, {"type", "string"}},
          {{"id", 4}, {"name", "budget"}, {"required", false}, {"type", "decimal(10, 2)"}},
          {{"id", 5}, {"name", "attributed_revenue"}, {"required", false}, {"type", "decimal(12, 2)"}},
          {{"id", 6}, {"name", "loaded_at"}, {"required", true}, {"type", "timestamp"}}}}}},
      {"properties", {{"comment", "Campaigns and the revenue attributed to them"}}}};
  LM_TRY(catalog.CreateTable("main", {"marketing"}, campaigns, /*stage=*/false, "demo").status());
  const std::string now = FormatRfc3339(NowMicros()).substr(0, 19);
  const std::string october = Orders(10, 61, 80);
  const std::string main_orders = Orders(9, 1, 60) + october.substr(october.find('\n') + 1);
  LM_TRY(AppendCsv(catalog, "main", {{"marketing"}, "campaigns"}, Campaigns(main_orders, attribution, now),
                   work_dir));
  LM_TRY(Put(repos, "marketing", "main", "products/campaigns.yaml", kCampaignsProduct, "application/yaml"));
  return Commit(repos, "marketing", "main", "Publish data product marketing.campaigns 2.0.0");
}

}  // namespace lakemesh::app
