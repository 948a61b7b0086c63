// Running a data product's checks, and its lifecycle: publish and deprecate (docs/products.md).
//
// A check, at a ref (the branch being merged): the product's file reads and follows the
// organisation's policies; every output port's table exists with the contract's columns and
// types; required columns hold no NULLs and unique ones no duplicates; every quality rule holds;
// the freshness SLO is met; and a change that breaks the contract published on main comes with a
// new major version. Each run is kept as history (newest first).
//
// Publish runs the checks on a branch and, when every one passes, marks the product published
// (a commit on the branch when its file said otherwise) and merges the branch into main.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "catalog/product.h"

namespace lakemesh::catalog {
class Catalog;
}
namespace lakemesh::meta {
class MetaStore;
}
namespace lakemesh::sql {
class Engine;
}
namespace lakemesh::versioning {
class Repositories;
}

namespace lakemesh::orchestrate {

struct CheckResult {
  std::string kind;    // policy, schema, quality, freshness, version
  std::string port;    // the output port it concerns, if one
  std::string name;    // what was checked: "rowCount > 0", "column amount", ...
  std::string status;  // pass, fail, warn (a failed rule of severity warning/info, a stale table)
  std::string detail;  // what was found: "measured 0", "is INTEGER, the contract says BIGINT"
  std::optional<double> measured;
};

struct ProductRun {
  std::string product;  // domain.name
  std::string ref, commit;  // where the checks ran: the ref and the commit it was
  std::string version, action;  // action: check, publish, deprecate
  std::string user;
  int64_t at_micros = 0;
  bool passed = false;  // no check failed
  std::vector<CheckResult> checks;
  std::string merged_commit;  // publish: the merge into main
  std::string error;          // publish that did not happen: why

  nlohmann::json ToJson() const;
  static ProductRun FromJson(const nlohmann::json& j);
};

class Products {
 public:
  using EngineSource = std::function<Result<sql::Engine*>()>;
  Products(versioning::Repositories& repos, catalog::Catalog& catalog, meta::MetaStore& meta,
           EngineSource engine, catalog::Policies policies = {});

  // Runs every check of product `name` of `domain` at `ref` and records the run.
  Result<ProductRun> Check(const std::string& domain, const std::string& name, const std::string& ref,
                           const std::string& user);
  // Checks the product on `branch`; when it passes, marks it published there and merges the
  // branch into main (on main itself: commits the status). The run says what happened; a
  // product that fails its checks is not published (and main is untouched).
  Result<ProductRun> Publish(const std::string& domain, const std::string& name, const std::string& branch,
                             const std::string& user);
  // Marks the product deprecated on `branch` (a commit).
  Result<ProductRun> Deprecate(const std::string& domain, const std::string& name, const std::string& branch,
                               const std::string& user);
  // The product's runs, newest first.
  Result<std::vector<ProductRun>> History(const std::string& domain, const std::string& name, size_t limit);

 private:
  Result<ProductRun> Run(const std::string& domain, const std::string& name, const std::string& ref,
                         const std::string& user, const std::string& action);
  Status Record(const ProductRun& run);
  Result<std::string> SetStatus(const catalog::Product& p, const std::string& branch, const std::string& status,
                                const std::string& user);

  versioning::Repositories& repos_;
  catalog::Catalog& catalog_;
  meta::MetaStore& meta_;
  EngineSource engine_;
  catalog::Policies policies_;
};

// The product file's text with its top-level `status:` set to `status` (added when missing),
// keeping everything else as written.
std::string WithStatus(const std::string& yaml, const std::string& status);

}  // namespace lakemesh::orchestrate
