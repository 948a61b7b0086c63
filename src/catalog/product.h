// Data products: what a domain publishes, described by a YAML file kept in the domain's
// repository (`products/<name>.yaml`) and versioned with its data. A product names its owner,
// status (draft, published, deprecated) and version, its input ports (the products it reads)
// and its output ports: tables or views of the domain, each with a contract in the Open Data
// Contract Standard v3 (shared/specs/odcs): columns with types, descriptions, required, unique
// and classification; quality rules; a freshness SLO.
//
// This file reads and checks product files, compares two versions of a contract (what breaks
// its consumers), and checks the organisation's policies. Checking a contract against the real
// tables and running its quality rules needs the SQL engine and happens above (docs/products.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lakemesh::versioning {
class Repositories;
}

namespace lakemesh::catalog {

struct ContractColumn {
  std::string name;
  std::string logical_type;   // ODCS logicalType: string, integer, number, boolean, date, ...
  std::string physical_type;  // as the table has it: BIGINT, DECIMAL(10,2), VARCHAR, ...
  std::string description;
  bool required = false;  // no NULLs
  bool unique = false;
  bool primary_key = false;
  std::string classification;  // public, internal, confidential, restricted, pii, ...
};

// A quality rule (ODCS DataQuality): a library metric (rowCount, nullValues, duplicateValues,
// missingValues) on the table or one column, or a SQL query returning one number; with one
// comparison (mustBe, mustNotBe, mustBeGreaterThan, ... mustBeBetween).
struct QualityRule {
  std::string name;         // given, or made from the metric and column
  bool named = false;       // the contract gave it a name
  std::string type;         // "library" or "sql"
  std::string metric;       // library: rowCount, nullValues, duplicateValues, missingValues
  std::string column;       // the column of a column-level rule
  std::string query;        // sql: ${table} / ${object} and ${column} are substituted
  std::string unit;         // "rows" (default) or "percent"
  std::string op;           // mustBe, mustNotBe, mustBeGreaterThan, ...
  double value = 0, value2 = 0;  // the bound (two for the between operators)
  std::string severity;     // error (default), warning, info
  std::string description;
  // Whether `measured` satisfies the comparison.
  bool Holds(double measured) const;
  // "rowCount > 0", "nullValues(email) <= 1 percent"
  std::string Describe() const;
};

struct OutputPort {
  std::string name;
  std::string table;  // the domain's table or view
  std::string description;
  std::vector<ContractColumn> columns;
  std::vector<QualityRule> quality;
  // Freshness SLO (ODCS slaProperties: property freshness): the newest value of
  // `freshness_column` is at most this old. 0: none.
  int64_t freshness_seconds = 0;
  std::string freshness_column;
  nlohmann::json contract;  // the ODCS data contract as written
};

struct InputPort {
  std::string product;  // domain.name
};

struct Product {
  std::string name, domain;
  std::string owner, description;
  std::vector<std::string> tags;
  std::string status = "draft";  // draft, published, deprecated
  std::string version = "0.1.0";
  std::vector<InputPort> inputs;
  std::vector<OutputPort> outputs;
  std::string path;  // products/<name>.yaml
  std::string source;  // the file's text
  nlohmann::json document;  // the whole file as JSON

  std::string id() const { return domain + "." + name; }
};

// Reads a product file of domain `domain` (empty: the file's own `domain:`) at `path` (for
// errors). kInvalidArgument naming the
// file, the line where YAML says, and the problem: YAML syntax, a missing name, an output port
// without a table, a status or version that is not one, a column without a name, an unknown
// quality metric or comparison, a contract that is not an ODCS v3 data contract.
Result<Product> ParseProduct(const std::string& yaml, const std::string& domain,
                             const std::string& path);

// The product as JSON for the API and the UI: the fields above, normalized. Without `detail`
// (listings), an output port's columns and quality rules are counts and its contract is left out.
nlohmann::json ProductJson(const Product& p, bool detail = true);

// A change between a published contract and a new one.
struct ContractChange {
  bool breaking = false;
  std::string port, column;
  std::string what;  // "column removed", "type narrowed from BIGINT to INTEGER", ...
};
// What changed from `before` to `after`, port by port: a port or column removed, a column
// renamed (removed, to consumers), a type narrowed or changed, a column no longer required or
// unique, are breaking; a new port, column or quality rule is not.
std::vector<ContractChange> CompareContracts(const Product& before, const Product& after);
// The major version of "2.1.0" (2); nullopt for a version that is not semver.
std::optional<int> MajorVersion(const std::string& version);

// The organisation's rules every published product must follow (lakemesh.yaml or the server's
// configuration; these are the defaults).
struct Policies {
  bool owner_required = true;
  bool description_required = true;
  bool column_descriptions_required = false;
  // Columns whose names look like personal data (email, phone, name, address, birth, ssn, ip)
  // must carry a classification.
  bool personal_data_classified = true;
  // Product and port names: lower case letters, digits and '_', starting with a letter.
  bool snake_case_names = true;
};
// Policies from YAML: the fields above by name (owner_required: false, ...); kInvalidArgument
// naming `path` and an unknown or mistyped field.
Result<Policies> ParsePolicies(const std::string& yaml, const std::string& path);
// The policy violations of `p`, each a sentence naming the product, port or column.
std::vector<std::string> CheckPolicies(const Product& p, const Policies& policies);

// A product file to start from (`lakemesh product init`), for `table` of `domain` with its
// columns (name, type) when known.
std::string ProductTemplate(const std::string& domain, const std::string& name,
                            const std::string& owner, const std::string& table,
                            const std::vector<std::pair<std::string, std::string>>& columns);

// The product files of a domain at a ref (products/*.yaml, .yml): those that read, and for
// each that does not, its path and why. kNotFound when the domain or ref does not exist.
struct DomainProducts {
  std::vector<Product> products;
  std::vector<std::pair<std::string, std::string>> broken;  // path, error
};
Result<DomainProducts> LoadProducts(versioning::Repositories& repos, const std::string& domain,
                                    const std::string& ref);
// Product `name` of `domain` at `ref`: products/<name>.yaml (or .yml). kNotFound naming it.
Result<Product> LoadProduct(versioning::Repositories& repos, const std::string& domain,
                            const std::string& ref, const std::string& name);

// The ODCS logicalType of a SQL type: BIGINT -> integer, DECIMAL(10,2) -> number, ...
std::string LogicalTypeOf(const std::string& sql_type);

}  // namespace lakemesh::catalog
