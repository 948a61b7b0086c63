#include "orchestrate/products.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

#include "base/time.h"
#include "catalog/catalog.h"
#include "meta/meta_store.h"
#include "sql/engine.h"
#include "versioning/repository.h"

namespace lakemesh::orchestrate {
namespace {

using Json = nlohmann::json;

std::string Ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A SQL type as a comparable text: upper case, no spaces (DECIMAL(10, 2) is DECIMAL(10,2)).
std::string NormalType(const std::string& t) {
  std::string out;
  for (char c : Upper(t)) {
    if (c != ' ') out += c;
  }
  if (out == "INT" || out == "INT4") out = "INTEGER";
  if (out == "INT8" || out == "LONG") out = "BIGINT";
  if (out == "STRING" || out == "TEXT") out = "VARCHAR";
  if (out == "FLOAT8") out = "DOUBLE";
  if (out == "BOOL") out = "BOOLEAN";
  return out;
}

// 86400 -> "1d", 5400 -> "90m", 77155 -> "21h 25m 55s"
std::string Duration(int64_t s) {
  if (s < 0) return "-" + Duration(-s);
  if (s == 0) return "0s";
  std::string out;
  for (const auto& [unit, secs] : {std::pair<const char*, int64_t>{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}) {
    if (s >= secs) {
      out += (out.empty() ? "" : " ") + std::to_string(s / secs) + unit;
      s %= secs;
    }
  }
  return out;
}

std::string Number(double d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", d);
  return buf;
}

// One query on a session: its rows as text.
class Sql {
 public:
  explicit Sql(sql::Session& s) : s_(s) {}
  Result<std::vector<std::vector<std::optional<std::string>>>> Rows(const std::string& statement) {
    struct Sink : sql::ResultSink {
      std::vector<std::vector<std::optional<std::string>>> rows;
      Status Columns(const std::vector<sql::ResultColumn>&) override { return Status::OK(); }
      Status Row(const std::vector<std::optional<std::string_view>>& values) override {
        std::vector<std::optional<std::string>> row;
        for (const auto& v : values) row.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
        rows.push_back(std::move(row));
        return Status::OK();
      }
    } sink;
    sql::Outcome o = s_.Execute(statement, sink);
    if (o.error) return InvalidArgument(o.error->message);
    return std::move(sink.rows);
  }
  // The first value of the first row as a number.
  Result<double> Number(const std::string& statement) {
    LM_ASSIGN_OR_RETURN(auto rows, Rows(statement));
    if (rows.empty() || rows[0].empty()) return InvalidArgument("the query returned no row");
    if (!rows[0][0]) return 0.0;
    char* end = nullptr;
    double d = std::strtod(rows[0][0]->c_str(), &end);
    if (!end || *end != '\0') {
      if (*rows[0][0] == "true") return 1.0;
      if (*rows[0][0] == "false") return 0.0;
      return InvalidArgument("the query returned '" + *rows[0][0] + "', not a number");
    }
    return d;
  }

 private:
  sql::Session& s_;
};

// The SQL that measures a library metric (in rows; `percent` divides by the row count).
Result<std::string> MetricSql(const catalog::QualityRule& r, const std::string& table) {
  const std::string col = Ident(r.column);
  std::string count;
  if (r.metric == "rowCount") {
    return "SELECT count(*) FROM " + table;
  } else if (r.metric == "nullValues") {
    count = "count(*) FILTER (WHERE " + col + " IS NULL)";
  } else if (r.metric == "missingValues") {
    count = "count(*) FILTER (WHERE " + col + " IS NULL OR trim(CAST(" + col + " AS VARCHAR)) = '')";
  } else if (r.metric == "duplicateValues") {
    count = "(count(" + col + ") - count(DISTINCT " + col + "))";
  } else if (r.metric == "invalidValues") {
    return InvalidArgument("invalidValues needs arguments (validValues or pattern)");
  } else {
    return InvalidArgument("unknown metric " + r.metric);
  }
  if (r.unit == "percent") {
    return "SELECT CASE WHEN count(*) = 0 THEN 0 ELSE 100.0 * " + count + " / count(*) END FROM " + table;
  }
  return "SELECT " + count + " FROM " + table;
}

Result<std::string> InvalidValuesSql(const catalog::QualityRule& r, const Json& arguments, const std::string& table) {
  const std::string col = Ident(r.column);
  std::string bad;
  if (arguments.contains("validValues") && arguments["validValues"].is_array()) {
    std::string list;
    for (const auto& v : arguments["validValues"]) {
      list += (list.empty() ? "" : ", ") + (v.is_string() ? Literal(v.get<std::string>()) : v.dump(-1, ' ', false, Json::error_handler_t::replace));
    }
    if (list.empty()) return InvalidArgument("validValues is empty");
    bad = col + " IS NOT NULL AND " + col + " NOT IN (" + list + ")";
  } else if (arguments.contains("pattern") && arguments["pattern"].is_string()) {
    bad = col + " IS NOT NULL AND NOT regexp_full_match(CAST(" + col + " AS VARCHAR), " +
          Literal(arguments["pattern"].get<std::string>()) + ")";
  } else {
    return InvalidArgument("invalidValues needs arguments: validValues (a list) or pattern (a regular expression)");
  }
  const std::string count = "count(*) FILTER (WHERE " + bad + ")";
  if (r.unit == "percent") {
    return "SELECT CASE WHEN count(*) = 0 THEN 0 ELSE 100.0 * " + count + " / count(*) END FROM " + table;
  }
  return "SELECT " + count + " FROM " + table;
}

// The quality rule's `arguments` in the contract as written (ODCS keeps them per rule).
Json RuleArguments(const catalog::OutputPort& port, const catalog::QualityRule& r) {
  const Json& c = port.contract;
  auto find = [&](const Json& rules) -> Json {
    if (!rules.is_array()) return Json::object();
    for (const Json& q : rules) {
      if (q.value("metric", q.value("rule", std::string())) == r.metric && q.contains("arguments")) {
        return q["arguments"];
      }
    }
    return Json::object();
  };
  for (const Json& s : c.value("schema", Json::array())) {
    for (const Json& prop : s.value("properties", Json::array())) {
      if (prop.value("name", std::string()) == r.column || prop.value("physicalName", std::string()) == r.column) {
        Json a = find(prop.value("quality", Json::array()));
        if (!a.empty()) return a;
      }
    }
  }
  return Json::object();
}

constexpr const char* kRunsPrefix = "product-runs/";

std::string RunKey(const std::string& product, int64_t at) {
  char inverted[24];
  std::snprintf(inverted, sizeof(inverted), "%020lld", static_cast<long long>(INT64_MAX - at));
  return std::string(kRunsPrefix) + product + "/" + inverted;
}

}  // namespace

Json ProductRun::ToJson() const {
  Json checks_json = Json::array();
  for (const auto& c : checks) {
    Json j = {{"kind", c.kind}, {"port", c.port}, {"name", c.name}, {"status", c.status}, {"detail", c.detail}};
    if (c.measured) j["measured"] = *c.measured;
    checks_json.push_back(std::move(j));
  }
  Json j = {{"product", product}, {"ref", ref}, {"commit", commit}, {"version", version}, {"action", action},
            {"user", user}, {"at", FormatRfc3339(at_micros)}, {"atMicros", at_micros}, {"passed", passed},
            {"checks", checks_json}};
  if (!merged_commit.empty()) j["mergedCommit"] = merged_commit;
  if (!error.empty()) j["error"] = error;
  return j;
}

ProductRun ProductRun::FromJson(const Json& j) {
  ProductRun r;
  r.product = j.value("product", "");
  r.ref = j.value("ref", "");
  r.commit = j.value("commit", "");
  r.version = j.value("version", "");
  r.action = j.value("action", "");
  r.user = j.value("user", "");
  r.at_micros = j.value("atMicros", int64_t{0});
  r.passed = j.value("passed", false);
  r.merged_commit = j.value("mergedCommit", "");
  r.error = j.value("error", "");
  for (const Json& c : j.value("checks", Json::array())) {
    CheckResult k{c.value("kind", ""), c.value("port", ""), c.value("name", ""), c.value("status", ""),
            c.value("detail", ""), std::nullopt};
    if (c.contains("measured") && c["measured"].is_number()) k.measured = c["measured"].get<double>();
    r.checks.push_back(std::move(k));
  }
  return r;
}

std::string WithStatus(const std::string& yaml, const std::string& status) {
  static const std::regex line("^status:[^\\n]*", std::regex::multiline);
  if (std::regex_search(yaml, line)) return std::regex_replace(yaml, line, "status: " + status);
  std::string out = yaml;
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out + "status: " + status + "\n";
}

Products::Products(versioning::Repositories& repos, catalog::Catalog& catalog, meta::MetaStore& meta,
                   EngineSource engine, catalog::Policies policies)
    : repos_(repos), catalog_(catalog), meta_(meta), engine_(std::move(engine)), policies_(policies) {}

Result<ProductRun> Products::Run(const std::string& domain, const std::string& name, const std::string& ref,
                                 const std::string& user, const std::string& action) {
  ProductRun run;
  run.product = domain + "." + name;
  run.ref = ref;
  run.action = action;
  run.user = user;
  run.at_micros = NowMicros();
  LM_ASSIGN_OR_RETURN(versioning::ResolvedRef at, repos_.Resolve(domain, ref));
  run.commit = at.commit.id;
  LM_ASSIGN_OR_RETURN(catalog::Product p, catalog::LoadProduct(repos_, domain, at.commit.id, name));
  run.version = p.version;
  auto add = [&](CheckResult c) { run.checks.push_back(std::move(c)); };

  for (const std::string& v : catalog::CheckPolicies(p, policies_)) add({"policy", "", "policy", "fail", v, {}});

  // Against what main has published: a breaking change needs a new major version.
  if (ref != "main") {
    auto published = catalog::LoadProduct(repos_, domain, "main", name);
    if (published.ok() && published->status == "published") {
      auto changes = catalog::CompareContracts(*published, p);
      std::string breaking;
      for (const auto& c : changes) {
        if (c.breaking) breaking += (breaking.empty() ? "" : "; ") + c.port + (c.column.empty() ? "" : "." + c.column) + ": " + c.what;
      }
      auto before = catalog::MajorVersion(published->version), after = catalog::MajorVersion(p.version);
      if (!breaking.empty() && before && after && *after <= *before) {
        add({"version", "", "breaking changes need a new major version", "fail",
             "version " + p.version + " breaks the published " + published->version + " (" + breaking + ")", {}});
      } else {
        add({"version", "", "contract changes against main", "pass",
             breaking.empty() ? std::to_string(changes.size()) + " compatible change(s)" : "new major version " + p.version + ": " + breaking,
             {}});
      }
    } else if (!published.ok() && !published.status().IsNotFound()) {
      add({"version", "", "the product on main", "fail", published.status().message(), {}});
    }
  }

  LM_ASSIGN_OR_RETURN(sql::Engine * engine, engine_());
  LM_ASSIGN_OR_RETURN(auto session, engine->Connect(user.empty() ? "lakemesh" : user));
  Sql q(*session);
  LM_TRY(q.Rows("SET lakemesh.ref = " + Literal(at.commit.id)).status());
  for (const catalog::OutputPort& port : p.outputs) {
    const std::string table = Ident(domain) + "." + Ident(port.table);
    // The table, with the contract's columns and types.
    auto described = q.Rows("DESCRIBE " + table);
    if (!described.ok()) {
      add({"schema", port.name, "table " + domain + "." + port.table, "fail",
           "cannot read it at " + ref + ": " + described.status().message(), {}});
      continue;
    }
    std::map<std::string, std::string> actual;
    for (const auto& row : *described) {
      if (row.size() >= 2 && row[0] && row[1]) actual[*row[0]] = *row[1];
    }
    std::vector<const catalog::ContractColumn*> present;
    for (const catalog::ContractColumn& c : port.columns) {
      auto it = actual.find(c.name);
      const std::string what = "column " + c.name;
      if (it == actual.end()) {
        add({"schema", port.name, what, "fail", "the table has no column " + c.name, {}});
        continue;
      }
      present.push_back(&c);
      if (!c.physical_type.empty() && NormalType(c.physical_type) != NormalType(it->second)) {
        add({"schema", port.name, what, "fail", "is " + it->second + "; the contract says " + c.physical_type, {}});
      } else if (c.physical_type.empty() && !c.logical_type.empty() &&
                 catalog::LogicalTypeOf(it->second) != c.logical_type) {
        add({"schema", port.name, what, "fail",
             "is " + it->second + " (" + catalog::LogicalTypeOf(it->second) + "); the contract says " + c.logical_type, {}});
      } else {
        add({"schema", port.name, what, "pass", it->second, {}});
      }
    }
    // Required and unique, as the data has them.
    for (const catalog::ContractColumn* c : present) {
      if (c->required) {
        auto nulls = q.Number("SELECT count(*) FROM " + table + " WHERE " + Ident(c->name) + " IS NULL");
        if (!nulls.ok()) {
          add({"schema", port.name, c->name + " is required", "fail", nulls.status().message(), {}});
        } else {
          add({"schema", port.name, c->name + " is required", *nulls == 0 ? "pass" : "fail",
               Number(*nulls) + " NULL(s)", *nulls});
        }
      }
      if (c->unique) {
        auto dups = q.Number("SELECT count(" + Ident(c->name) + ") - count(DISTINCT " + Ident(c->name) + ") FROM " + table);
        if (!dups.ok()) {
          add({"schema", port.name, c->name + " is unique", "fail", dups.status().message(), {}});
        } else {
          add({"schema", port.name, c->name + " is unique", *dups == 0 ? "pass" : "fail",
               Number(*dups) + " duplicate(s)", *dups});
        }
      }
    }
    // Quality rules.
    for (const catalog::QualityRule& r : port.quality) {
      Result<std::string> sql = InvalidArgument("");
      if (r.type == "sql") {
        std::string text = r.query;
        for (const char* var : {"${table}", "${object}"}) {
          for (size_t at2 = text.find(var); at2 != std::string::npos; at2 = text.find(var, at2 + table.size())) {
            text.replace(at2, std::string(var).size(), table);
          }
        }
        for (size_t at2 = text.find("${column}"); at2 != std::string::npos; at2 = text.find("${column}", at2 + 1)) {
          text.replace(at2, 9, Ident(r.column));
        }
        sql = text;
      } else if (r.metric == "invalidValues") {
        sql = InvalidValuesSql(r, RuleArguments(port, r), table);
      } else {
        sql = MetricSql(r, table);
      }
      const bool soft = r.severity == "warning" || r.severity == "warn" || r.severity == "info";
      if (!sql.ok()) {
        add({"quality", port.name, r.Describe(), "fail", sql.status().message(), {}});
        continue;
      }
      auto measured = q.Number(*sql);
      if (!measured.ok()) {
        add({"quality", port.name, r.Describe(), soft ? "warn" : "fail", measured.status().message(), {}});
        continue;
      }
      const bool holds = r.Holds(*measured);
      add({"quality", port.name, r.Describe(), holds ? "pass" : soft ? "warn" : "fail",
           "measured " + Number(*measured) + (r.unit == "percent" ? " percent" : ""), *measured});
    }
    // Freshness: the newest value of the column, against the SLO (recorded; a stale table is a
    // warning, not a reason to refuse a publish).
    if (port.freshness_seconds > 0) {
      const std::string what = port.freshness_column + " at most " + Duration(port.freshness_seconds) + " old";
      auto age = q.Number("SELECT epoch(now()) - epoch(max(" + Ident(port.freshness_column) + ")) FROM " + table);
      if (!age.ok()) {
        add({"freshness", port.name, what, "fail", age.status().message(), {}});
      } else {
        add({"freshness", port.name, what, *age <= static_cast<double>(port.freshness_seconds) ? "pass" : "warn",
             "newest value " + Duration(static_cast<int64_t>(std::round(*age))) + " old", *age});
      }
    }
  }
  run.passed = std::none_of(run.checks.begin(), run.checks.end(), [](const CheckResult& c) { return c.status == "fail"; });
  return run;
}

Status Products::Record(const ProductRun& run) {
  return meta_.Put(RunKey(run.product, run.at_micros), run.ToJson().dump(-1, ' ', false, Json::error_handler_t::replace));
}

Result<ProductRun> Products::Check(const std::string& domain, const std::string& name, const std::string& ref,
                                   const std::string& user) {
  LM_ASSIGN_OR_RETURN(ProductRun run, Run(domain, name, ref, user, "check"));
  LM_TRY(Record(run));
  return run;
}

Result<std::string> Products::SetStatus(const catalog::Product& p, const std::string& branch, const std::string& status,
                                        const std::string& user) {
  versioning::PageOptions page;
  LM_ASSIGN_OR_RETURN(versioning::ChangePage staged, repos_.Changes(p.domain, branch, page));
  if (!staged.changes.empty()) {
    return PreconditionFailed("branch " + branch + " of " + p.domain +
                              " has uncommitted changes: commit or reset them first");
  }
  LM_ASSIGN_OR_RETURN(auto upload, repos_.NewUpload());
  LM_TRY(upload->Append(WithStatus(p.source, status)));
  versioning::PutOptions po;
  po.content_type = "application/yaml";
  LM_TRY(repos_.PutObject(p.domain, branch, p.path, std::move(upload), po).status());
  versioning::CommitOptions opts;
  opts.author = user;
  opts.message = "Product " + p.id() + " " + p.version + ": " + status;
  opts.metadata["product"] = p.id();
  opts.metadata["product.status"] = status;
  LM_ASSIGN_OR_RETURN(versioning::Commit c, repos_.CommitBranch(p.domain, branch, opts));
  return c.id;
}

Result<ProductRun> Products::Publish(const std::string& domain, const std::string& name, const std::string& branch,
                                     const std::string& user) {
  LM_TRY(repos_.GetBranch(domain, branch).status());  // a branch, not a tag or commit
  LM_ASSIGN_OR_RETURN(ProductRun run, Run(domain, name, branch, user, "publish"));
  if (!run.passed) {
    run.error = "not published: a check failed; main is untouched";
    LM_TRY(Record(run));
    return run;
  }
  LM_ASSIGN_OR_RETURN(catalog::Product p, catalog::LoadProduct(repos_, domain, branch, name));
  if (p.status != "published") {
    auto committed = SetStatus(p, branch, "published", user);
    if (!committed.ok()) {
      run.passed = false;
      run.error = committed.status().message();
      LM_TRY(Record(run));
      return run;
    }
  }
  if (branch != "main") {
    versioning::CommitOptions opts;
    opts.author = user;
    opts.message = "Publish product " + p.id() + " " + p.version + " from " + branch;
    opts.metadata["product"] = p.id();
    auto merged = repos_.Merge(domain, branch, "main", versioning::MergeStrategy::kFail, opts);
    if (!merged.ok() || !merged->conflicts.empty()) {
      run.passed = false;
      if (!merged.ok()) {
        run.error = "checks passed, but merging " + branch + " into main failed: " + merged.status().message();
      } else {
        std::string paths;
        for (const auto& c : merged->conflicts) paths += (paths.empty() ? "" : ", ") + c;
        run.error = "checks passed, but " + branch + " conflicts with main on: " + paths;
      }
      LM_TRY(Record(run));
      return run;
    }
    run.merged_commit = merged->commit_id;
  }
  LM_TRY(Record(run));
  return run;
}

Result<ProductRun> Products::Deprecate(const std::string& domain, const std::string& name, const std::string& branch,
                                       const std::string& user) {
  LM_ASSIGN_OR_RETURN(catalog::Product p, catalog::LoadProduct(repos_, domain, branch, name));
  ProductRun run;
  run.product = p.id();
  run.ref = branch;
  run.version = p.version;
  run.action = "deprecate";
  run.user = user;
  run.at_micros = NowMicros();
  if (p.status == "deprecated") {
    run.passed = true;
    return run;
  }
  LM_ASSIGN_OR_RETURN(run.commit, SetStatus(p, branch, "deprecated", user));
  run.passed = true;
  LM_TRY(Record(run));
  return run;
}

Result<std::vector<ProductRun>> Products::History(const std::string& domain, const std::string& name, size_t limit) {
  const std::string prefix = std::string(kRunsPrefix) + domain + "." + name + "/";
  LM_ASSIGN_OR_RETURN(auto kvs, meta_.Scan(prefix, meta::PrefixEnd(prefix), limit));
  std::vector<ProductRun> out;
  for (const auto& kv : kvs) {
    Json j = Json::parse(kv.value, nullptr, false);
    if (!j.is_discarded()) out.push_back(ProductRun::FromJson(j));
  }
  return out;
}

}  // namespace lakemesh::orchestrate
