// Data products through the JSON API: the products of every domain at a ref, one product,
// checking a product file, a product file to start from, and what a branch changes in a
// product's contract (docs/products.md).
#include <functional>

#include "catalog/product.h"
#include "protocols/api/handlers/handlers.h"
#include "protocols/api/json_util.h"
#include "sql/data_files.h"
#include "table/metadata.h"

namespace lakemesh::api::handlers {
namespace {

constexpr size_t kMaxProductBody = 4 << 20;  // as a product file in a repository

// The list leaves out what only the product's own page shows: columns and rules are counts.
json Summary(const catalog::Product& p) { return catalog::ProductJson(p, /*detail=*/false); }

json Changes(const std::vector<catalog::ContractChange>& changes) {
  json out = json::array();
  for (const auto& c : changes) {
    out.push_back({{"breaking", c.breaking}, {"port", c.port}, {"column", c.column}, {"change", c.what}});
  }
  return out;
}

// Calls `fn` with every domain (repository), in name order; stops at its first error.
Status ForEachDomain(Services& s, const std::function<Status(const std::string&)>& fn) {
  std::string after;
  while (true) {
    LM_ASSIGN_OR_RETURN(auto repos, s.repos.ListRepos(after, 1000));
    for (const auto& r : repos) LM_TRY(fn(r.name));
    if (repos.size() < 1000) return Status::OK();
    after = repos.back().name;
  }
}

}  // namespace

Response ListProducts(Services& s, Request& req, const P&) {
  const std::string ref = req.Query("ref").value_or("main");
  const std::string only = req.Query("domain").value_or("");
  const std::string status = req.Query("status").value_or("");
  const std::string tag = req.Query("tag").value_or("");
  json products = json::array(), broken = json::array();
  Status st = ForEachDomain(s, [&](const std::string& domain) -> Status {
    if (!only.empty() && domain != only) return Status::OK();
    auto loaded = catalog::LoadProducts(s.repos, domain, ref);
    if (loaded.status().IsNotFound()) return Status::OK();  // a domain without that ref
    if (!loaded.ok()) return loaded.status();
    for (const auto& p : loaded->products) {
      if (!status.empty() && p.status != status) continue;
      if (!tag.empty() && std::find(p.tags.begin(), p.tags.end(), tag) == p.tags.end()) continue;
      products.push_back(Summary(p));
    }
    for (const auto& [path, error] : loaded->broken) {
      broken.push_back({{"domain", domain}, {"path", path}, {"error", error}});
    }
    return Status::OK();
  });
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, json{{"ref", ref}, {"products", products}, {"broken", broken}});
}

Response GetProduct(Services& s, Request& req, const P&) {
  const std::string ref = req.Query("ref").value_or("main");
  auto p = catalog::LoadProduct(s.repos, req.params["domain"], ref, req.params["name"]);
  if (!p.ok()) return ErrorResponse(p.status());
  json j = catalog::ProductJson(*p);
  j["ref"] = ref;
  j["policyViolations"] = catalog::CheckPolicies(*p, s.policies);
  // When each output table last changed at the ref (views have no such time).
  for (auto& port : j["outputPorts"]) {
    auto t = s.catalog.LoadTable(ref, {{p->domain}, port.value("table", "")});
    if (t.ok() && t->metadata.contains("last-updated-ms")) {
      port["lastUpdatedMs"] = t->metadata["last-updated-ms"];
    }
  }
  // Its consumers: the products whose input ports name it, as main has them (from the search
  // index, which keeps every product's input ports).
  json downstream = json::array();
  if (s.search) {
    auto users = s.search->Downstream(p->id());
    if (!users.ok()) return ErrorResponse(users.status());
    for (const auto& u : *users) downstream.push_back(u);
  }
  j["downstream"] = downstream;
  return JsonResponse(200, j);
}

// POST a product file (YAML): whether it reads, and the policies it breaks.
Response ValidateProduct(Services& s, Request& req, const P&) {
  auto text = ReadBody(req, kMaxProductBody);
  if (!text.ok()) return ErrorResponse(text.status());
  const std::string domain = req.params["domain"];
  auto p = catalog::ParseProduct(*text, domain, "products/" + req.params["name"] + ".yaml");
  if (!p.ok()) {
    return JsonResponse(200, json{{"valid", false}, {"errors", json::array({p.status().message()})},
                                  {"policyViolations", json::array()}});
  }
  if (p->name != req.params["name"]) {
    return JsonResponse(200, json{{"valid", false},
                                  {"errors", json::array({"products/" + req.params["name"] + ".yaml names the product '" +
                                                          p->name + "'; a product's file is products/<name>.yaml"})},
                                  {"policyViolations", json::array()}});
  }
  auto violations = catalog::CheckPolicies(*p, s.policies);
  return JsonResponse(200, json{{"valid", violations.empty()}, {"errors", json::array()},
                                {"policyViolations", violations}, {"product", catalog::ProductJson(*p)}});
}

// A product file to start from for a table of the domain, with the table's columns.
Response ProductTemplate(Services& s, Request& req, const P&) {
  const std::string domain = req.params["domain"];
  const std::string ref = req.Query("ref").value_or("main");
  auto table = RequiredQuery(req, "table");
  if (!table.ok()) return ErrorResponse(table.status());
  const std::string name = req.params["name"];
  auto loaded = s.catalog.LoadTable(ref, catalog::TableIdent{{domain}, *table});
  std::vector<std::pair<std::string, std::string>> columns;
  if (loaded.ok()) {
    const json* schema = table::FindSchema(loaded->metadata);
    if (schema) {
      auto cols = sql::DuckColumns(*schema);
      if (cols.ok()) columns = *cols;
    }
  } else if (!loaded.status().IsNotFound()) {
    return ErrorResponse(loaded.status());
  }
  std::string yaml = catalog::ProductTemplate(domain, name, req.Query("owner").value_or(""), *table, columns);
  return server::Response::Text(200, yaml, "application/yaml");
}

// What `to` (a branch) changes in the product's contract against `from` (default main).
Response ProductChanges(Services& s, Request& req, const P&) {
  const std::string domain = req.params["domain"], name = req.params["name"];
  const std::string from = req.Query("from").value_or("main");
  auto to = RequiredQuery(req, "to");
  if (!to.ok()) return ErrorResponse(to.status());
  auto after = catalog::LoadProduct(s.repos, domain, *to, name);
  if (!after.ok()) return ErrorResponse(after.status());
  auto before = catalog::LoadProduct(s.repos, domain, from, name);
  json out = {{"product", domain + "." + name}, {"from", from}, {"to", *to}, {"toVersion", after->version}};
  if (before.status().IsNotFound()) {
    out["new"] = true;
    out["changes"] = json::array();
    out["breaking"] = false;
    out["needsMajorVersion"] = false;
    return JsonResponse(200, out);
  }
  if (!before.ok()) return ErrorResponse(before.status());
  auto changes = catalog::CompareContracts(*before, *after);
  bool breaking = std::any_of(changes.begin(), changes.end(), [](const auto& c) { return c.breaking; });
  auto major_before = catalog::MajorVersion(before->version), major_after = catalog::MajorVersion(after->version);
  out["new"] = false;
  out["fromVersion"] = before->version;
  out["changes"] = Changes(changes);
  out["breaking"] = breaking;
  // A breaking change to a published contract needs a new major version.
  out["needsMajorVersion"] = breaking && before->status == "published" && major_before && major_after &&
                             *major_after <= *major_before;
  return JsonResponse(200, out);
}

namespace {

Result<orchestrate::Products*> ProductsOf(Services& s) {
  if (!s.products) return Unavailable("product checks are not available on this server");
  return s.products;
}

// {"branch"} (or {"ref"} for a check) from the body; default main.
Result<std::string> RefField(Request& req, const char* name) {
  LM_ASSIGN_OR_RETURN(json body, ReadJsonBody(req));
  LM_ASSIGN_OR_RETURN(std::string ref, StringField(body, name, false));
  return ref.empty() ? std::string("main") : ref;
}

}  // namespace

// One product run (check, publish, deprecate) with the ref `field` of the body (default main);
// 200 with the run whatever its outcome: "passed" and "error" say what happened.
Response RunProduct(Services& s, Request& req, const P& who, const char* field,
                    Result<orchestrate::ProductRun> (orchestrate::Products::*action)(
                        const std::string&, const std::string&, const std::string&, const std::string&)) {
  auto products = ProductsOf(s);
  if (!products.ok()) return ErrorResponse(products.status());
  auto ref = RefField(req, field);
  if (!ref.ok()) return ErrorResponse(ref.status());
  auto run = ((*products)->*action)(req.params["domain"], req.params["name"], *ref, who.name);
  if (!run.ok()) return ErrorResponse(run.status());
  return JsonResponse(200, run->ToJson());
}

// Runs the product's checks at {"ref"} and records the run.
Response CheckProduct(Services& s, Request& req, const P& who) {
  return RunProduct(s, req, who, "ref", &orchestrate::Products::Check);
}

// Checks the product on {"branch"} and publishes it (merging the branch into main) when every
// check passes.
Response PublishProduct(Services& s, Request& req, const P& who) {
  return RunProduct(s, req, who, "branch", &orchestrate::Products::Publish);
}

Response DeprecateProduct(Services& s, Request& req, const P& who) {
  return RunProduct(s, req, who, "branch", &orchestrate::Products::Deprecate);
}

// The product's runs (checks, publishes), newest first.
Response ProductHistory(Services& s, Request& req, const P&) {
  auto products = ProductsOf(s);
  if (!products.ok()) return ErrorResponse(products.status());
  auto limit = LimitParam(req, 50, 1000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto runs = (*products)->History(req.params["domain"], req.params["name"], *limit);
  if (!runs.ok()) return ErrorResponse(runs.status());
  json out = json::array();
  for (const auto& r : *runs) out.push_back(r.ToJson());
  return JsonResponse(200, json{{"runs", out}});
}

// Ranked search across domains, products, tables and columns: ?q=words&kind=&domain=&tag=
// &status=&classification=&limit=
Response Search(Services& s, Request& req, const P&) {
  if (!s.search) return ErrorResponse(Unavailable("search is not available on this server"));
  catalog::SearchQuery q;
  q.text = req.Query("q").value_or("");
  q.kind = req.Query("kind").value_or("");
  q.domain = req.Query("domain").value_or("");
  q.tag = req.Query("tag").value_or("");
  q.status = req.Query("status").value_or("");
  q.classification = req.Query("classification").value_or("");
  auto limit = LimitParam(req, 20, 200);
  if (!limit.ok()) return ErrorResponse(limit.status());
  q.limit = *limit;
  if (!q.kind.empty() && q.kind != "domain" && q.kind != "product" && q.kind != "table" && q.kind != "column") {
    return ErrorResponse(InvalidArgument("kind '" + q.kind + "' is one of domain, product, table, column"));
  }
  if (q.text.size() > 1000) return ErrorResponse(InvalidArgument("a search is at most 1000 characters"));
  auto r = s.search->Search(q);
  if (!r.ok()) return ErrorResponse(r.status());
  json hits = json::array();
  for (const auto& h : r->hits) {
    json j = {{"kind", h.kind}, {"id", h.id}, {"domain", h.domain}, {"name", h.name},
              {"description", h.description}, {"score", h.score}};
    if (!h.product.empty()) j["product"] = h.product;
    if (!h.table.empty()) j["table"] = h.table;
    if (!h.type.empty()) j["type"] = h.type;
    if (!h.status.empty()) j["status"] = h.status;
    if (!h.owner.empty()) j["owner"] = h.owner;
    if (!h.classification.empty()) j["classification"] = h.classification;
    if (!h.tags.empty()) j["tags"] = h.tags;
    hits.push_back(std::move(j));
  }
  return JsonResponse(200, json{{"query", q.text}, {"results", hits}, {"indexedDomains", r->indexed_domains}});
}

}  // namespace lakemesh::api::handlers
