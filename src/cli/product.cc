// `lakemesh product ...`: data products (docs/products.md). init writes a product file to start
// from, validate checks one where it lies, list/show read them from the server, diff says what a
// branch changes in a product's contract.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/product.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace lakemesh::cli {
namespace {

using nlohmann::json;

// "sales.orders" -> ("sales", "orders").
Result<std::pair<std::string, std::string>> ProductName(const std::string& text) {
  size_t dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size() || text.find('.', dot + 1) != std::string::npos) {
    return InvalidArgument("'" + text + "' is not a product name: use DOMAIN.PRODUCT (e.g. sales.orders)");
  }
  return std::make_pair(text.substr(0, dot), text.substr(dot + 1));
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Duration(int64_t s) {
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

void PrintProduct(const json& p) {
  std::printf("%s  %s  v%s\n", Str(p, "id").c_str(), Str(p, "status").c_str(), Str(p, "version").c_str());
  if (!Str(p, "description").empty()) std::printf("  %s\n", Str(p, "description").c_str());
  std::printf("  owner: %s\n", Str(p, "owner").empty() ? "-" : Str(p, "owner").c_str());
  std::string tags;
  for (const auto& t : p.value("tags", json::array())) tags += (tags.empty() ? "" : ", ") + t.get<std::string>();
  if (!tags.empty()) std::printf("  tags: %s\n", tags.c_str());
  std::string inputs;
  for (const auto& i : p.value("inputPorts", json::array())) inputs += (inputs.empty() ? "" : ", ") + i.get<std::string>();
  if (!inputs.empty()) std::printf("  input ports: %s\n", inputs.c_str());
  std::string downstream;
  for (const auto& d : p.value("downstream", json::array())) downstream += (downstream.empty() ? "" : ", ") + d.get<std::string>();
  if (!downstream.empty()) std::printf("  used by: %s\n", downstream.c_str());
  for (const auto& o : p.value("outputPorts", json::array())) {
    std::printf("\noutput port %s (table %s.%s)\n", Str(o, "name").c_str(), Str(p, "domain").c_str(),
                Str(o, "table").c_str());
    if (o.contains("freshness")) {
      std::printf("  freshness: %s at most %s old\n", Str(o["freshness"], "column").c_str(),
                  Duration(o["freshness"].value("maxAgeSeconds", int64_t{0})).c_str());
    }
    Table t({"COLUMN", "TYPE", "CONSTRAINTS", "CLASSIFICATION", "DESCRIPTION"});
    for (const auto& c : o.value("columns", json::array())) {
      std::string constraints;
      if (c.value("primaryKey", false)) constraints += "primary key ";
      if (c.value("required", false)) constraints += "required ";
      if (c.value("unique", false)) constraints += "unique ";
      std::string type = Str(c, "physicalType").empty() ? Str(c, "logicalType") : Str(c, "physicalType");
      t.Row({Str(c, "name"), type.empty() ? "-" : type, constraints.empty() ? "-" : constraints,
             Str(c, "classification").empty() ? "-" : Str(c, "classification"),
             Str(c, "description")});
    }
    t.Print();
    for (const auto& q : o.value("quality", json::array())) {
      std::printf("  quality: %s (%s)\n", Str(q, "rule").c_str(), Str(q, "severity").c_str());
    }
  }
  const json violations = p.value("policyViolations", json::array());
  if (!violations.empty()) {
    std::printf("\npolicy violations:\n");
    for (const auto& v : violations) std::printf("  - %s\n", v.get<std::string>().c_str());
  }
}

// A run's checks as lines, and its outcome.
void PrintRun(const json& r) {
  std::printf("%s %s at %s (%s, commit %s) by %s\n", Str(r, "action").c_str(), Str(r, "product").c_str(),
              Str(r, "ref").c_str(), Str(r, "version").c_str(), Str(r, "commit").substr(0, 12).c_str(),
              Str(r, "user").c_str());
  Table t({"STATUS", "KIND", "PORT", "CHECK", "FOUND"});
  for (const auto& c : r.value("checks", json::array())) {
    t.Row({Upper(Str(c, "status")), Str(c, "kind"), Str(c, "port").empty() ? "-" : Str(c, "port"), Str(c, "name"),
           Str(c, "detail")});
  }
  t.Print();
}

}  // namespace

void AddProduct(CLI::App& app, Cli& cli) {
  auto* product = app.add_subcommand(
      "product", "Data products: init, validate, list, show, diff, check, publish, deprecate, runs (docs/products.md)");
  product->require_subcommand(1);

  struct Opts {
    std::string name, table, owner, ref = "main", output, file, domain, status, tag, from = "main", to;
  };

  {
    auto o = std::make_shared<Opts>();
    auto* init = product->add_subcommand("init", "Write a product file to start from, for a table of the domain");
    init->add_option("product", o->name, "DOMAIN.PRODUCT")->required();
    init->add_option("--table", o->table, "the table or view it publishes (default: the product's name)");
    init->add_option("--owner", o->owner, "its owner (default: <domain>-team)");
    init->add_option("--ref", o->ref, "where the table's columns are read")->capture_default_str();
    init->add_option("-o,--output", o->output, "the file to write (default: <product>.yaml)");
    init->callback([&cli, o] {
      cli.action = [&cli, o]() -> Status {
        LM_ASSIGN_OR_RETURN(auto name, ProductName(o->name));
        const std::string table = o->table.empty() ? name.second : o->table;
        const std::string out = o->output.empty() ? name.second + ".yaml" : o->output;
        std::error_code ec;
        if (std::filesystem::exists(out, ec)) return AlreadyExists(out + " exists; give another --output");
        // The table's columns, from the server when it is there.
        std::string yaml;
        if (auto c = cli.Connect(); c.ok()) {
          auto got = c->Download("/api/v1/products/" + Seg(name.first) + "/" + Seg(name.second) + "/template",
                                 {{"table", table}, {"owner", o->owner}, {"ref", o->ref}},
                                 [&](const char* d, size_t n) { yaml.append(d, n); return true; }, nullptr);
          if (!got.ok()) return got.status();
        } else {
          yaml = catalog::ProductTemplate(name.first, name.second, o->owner, table, {});
        }
        std::ofstream(out) << yaml;
        std::printf("wrote %s: fill in the descriptions and quality rules, check it with\n"
                    "  lakemesh product validate %s --domain %s\n"
                    "and commit it to the domain as products/%s.yaml:\n"
                    "  lakemesh cp %s lakemesh://%s/<branch>/products/%s.yaml\n",
                    out.c_str(), out.c_str(), name.first.c_str(), name.second.c_str(), out.c_str(),
                    name.first.c_str(), name.second.c_str());
        return Status::OK();
      };
    });
  }
  {
    auto o = std::make_shared<Opts>();
    auto* validate = product->add_subcommand("validate", "Check a product file: its contract and the policies");
    validate->add_option("file", o->file, "the product file")->required();
    validate->add_option("--domain", o->domain, "its domain (default: the file's domain:)");
    validate->add_option("--policies", o->output, "a YAML file of policies (default: lakemesh's; see docs/products.md)");
    validate->callback([&cli, o] {
      cli.action = [&cli, o]() -> Status {
        std::ifstream in(o->file, std::ios::binary);
        if (!in) return NotFound("cannot read " + o->file);
        std::stringstream ss;
        ss << in.rdbuf();
        LM_ASSIGN_OR_RETURN(catalog::Product p, catalog::ParseProduct(ss.str(), o->domain, o->file));
        catalog::Policies policies;
        if (!o->output.empty()) {
          std::ifstream pin(o->output, std::ios::binary);
          if (!pin) return NotFound("cannot read " + o->output);
          std::stringstream ps;
          ps << pin.rdbuf();
          LM_ASSIGN_OR_RETURN(policies, catalog::ParsePolicies(ps.str(), o->output));
        }
        auto violations = catalog::CheckPolicies(p, policies);
        if (cli.json) {
          PrintJson(json{{"valid", violations.empty()}, {"policyViolations", violations},
                         {"product", catalog::ProductJson(p)}});
        } else {
          size_t rules = 0, columns = 0;
          for (const auto& port : p.outputs) {
            rules += port.quality.size();
            columns += port.columns.size();
          }
          std::printf("%s: product %s, version %s, %zu output port(s), %zu column(s), %zu quality rule(s)\n",
                      o->file.c_str(), p.id().c_str(), p.version.c_str(), p.outputs.size(), columns, rules);
          for (const auto& v : violations) std::printf("  policy: %s\n", v.c_str());
        }
        if (!violations.empty()) {
          return InvalidArgument(std::to_string(violations.size()) + " policy violation(s)");
        }
        return Status::OK();
      };
    });
  }
  {
    auto o = std::make_shared<Opts>();
    auto* list = product->add_subcommand("list", "List the products of every domain");
    list->add_option("--domain", o->domain, "only this domain's");
    list->add_option("--status", o->status, "only draft, published or deprecated ones");
    list->add_option("--tag", o->tag, "only those with this tag");
    list->add_option("--ref", o->ref, "at this ref of each domain")->capture_default_str();
    list->callback([&cli, o] {
      cli.action = [&cli, o]() -> Status {
        LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
        Query q = {{"ref", o->ref}};
        if (!o->domain.empty()) q.emplace_back("domain", o->domain);
        if (!o->status.empty()) q.emplace_back("status", o->status);
        if (!o->tag.empty()) q.emplace_back("tag", o->tag);
        LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", "/api/v1/products", q));
        if (cli.json) {
          PrintJson(r);
          return Status::OK();
        }
        Table t({"PRODUCT", "STATUS", "VERSION", "OWNER", "OUTPUT PORTS", "DESCRIPTION"});
        for (const auto& p : r.value("products", json::array())) {
          std::string ports;
          for (const auto& port : p.value("outputPorts", json::array())) {
            ports += (ports.empty() ? "" : ", ") + Str(port, "table");
          }
          std::string d = Str(p, "description");
          if (d.size() > 60) d = d.substr(0, 57) + "...";
          t.Row({Str(p, "id"), Str(p, "status"), Str(p, "version"), Str(p, "owner"), ports, d});
        }
        t.Print();
        for (const auto& b : r.value("broken", json::array())) {
          std::fprintf(stderr, "warning: %s/%s: %s\n", Str(b, "domain").c_str(), Str(b, "path").c_str(),
                       Str(b, "error").c_str());
        }
        return Status::OK();
      };
    });
  }
  {
    auto o = std::make_shared<Opts>();
    auto* show = product->add_subcommand("show", "Show a product: owner, ports, contract, quality rules");
    show->add_option("product", o->name, "DOMAIN.PRODUCT")->required();
    show->add_option("--ref", o->ref, "at this ref")->capture_default_str();
    show->callback([&cli, o] {
      cli.action = [&cli, o]() -> Status {
        LM_ASSIGN_OR_RETURN(auto name, ProductName(o->name));
        LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
        LM_ASSIGN_OR_RETURN(auto p, c.Call("GET", "/api/v1/products/" + Seg(name.first) + "/" + Seg(name.second),
                                           {{"ref", o->ref}}));
        if (cli.json) {
          PrintJson(p);
        } else {
          PrintProduct(p);
        }
        return Status::OK();
      };
    });
  }
  // check, publish, deprecate: a run on the server.
  struct RunCmd {
    const char* name;
    const char* help;
    const char* field;  // the body's ref field
    const char* flag;
  };
  for (const RunCmd& rc : {RunCmd{"check", "Run a product's checks at a ref: contract against the tables, quality rules, freshness, policies", "ref", "--ref"},
                           RunCmd{"publish", "Check a product on a branch and, when every check passes, publish it: merge the branch into main", "branch", "--branch"},
                           RunCmd{"deprecate", "Mark a product deprecated (a commit on the branch)", "branch", "--branch"}}) {
    auto o = std::make_shared<Opts>();
    auto* sub = product->add_subcommand(rc.name, rc.help);
    sub->add_option("product", o->name, "DOMAIN.PRODUCT")->required();
    sub->add_option(rc.flag, o->ref, std::string(rc.field) + " (default: main)");
    o->ref.clear();
    const std::string action = rc.name, field = rc.field;
    sub->callback([&cli, o, action, field] {
      cli.action = [&cli, o, action, field]() -> Status {
        LM_ASSIGN_OR_RETURN(auto name, ProductName(o->name));
        LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
        json body = json::object();
        if (!o->ref.empty()) body[field] = o->ref;
        LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", "/api/v1/products/" + Seg(name.first) + "/" + Seg(name.second) + "/" + action,
                                           {}, &body));
        if (cli.json) {
          PrintJson(r);
        } else if (action != "deprecate") {
          PrintRun(r);
        }
        const bool passed = r.value("passed", false);
        if (!cli.json) {
          if (action == "publish" && passed) {
            std::printf("\npublished %s %s%s\n", o->name.c_str(), Str(r, "version").c_str(),
                        Str(r, "mergedCommit").empty() ? "" : (" (merged into main: " + Str(r, "mergedCommit").substr(0, 12) + ")").c_str());
          } else if (action == "deprecate") {
            std::printf("%s is deprecated on %s\n", o->name.c_str(), Str(r, "ref").c_str());
          } else if (!Str(r, "error").empty()) {
            std::printf("\n%s\n", Str(r, "error").c_str());
          }
        }
        if (!passed) return InvalidArgument(action == "publish" ? "not published" : "a check failed");
        return Status::OK();
      };
    });
  }
  {
    auto o = std::make_shared<Opts>();
    auto* runs = product->add_subcommand("runs", "A product's checks and publishes, newest first");
    runs->add_option("product", o->name, "DOMAIN.PRODUCT")->required();
    runs->callback([&cli, o] {
      cli.action = [&cli, o]() -> Status {
        LM_ASSIGN_OR_RETURN(auto name, ProductName(o->name));
        LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
        LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", "/api/v1/products/" + Seg(name.first) + "/" + Seg(name.second) + "/runs"));
        if (cli.json) {
          PrintJson(r);
          return Status::OK();
        }
        Table t({"AT", "ACTION", "REF", "VERSION", "RESULT", "CHECKS", "FAILED"});
        for (const auto& run : r.value("runs", json::array())) {
          size_t failed = 0, total = 0;
          for (const auto& ch : run.value("checks", json::array())) {
            ++total;
            if (Str(ch, "status") == "fail") ++failed;
          }
          t.Row({Str(run, "at"), Str(run, "action"), Str(run, "ref"), Str(run, "version"),
                 run.value("passed", false) ? "passed" : "failed", std::to_string(total), std::to_string(failed)});
        }
        t.Print();
        return Status::OK();
      };
    });
  }
  {
    auto o = std::make_shared<Opts>();
    auto* diff = product->add_subcommand("diff", "What a branch changes in a product's contract, and whether it breaks it");
    diff->add_option("product", o->name, "DOMAIN.PRODUCT")->required();
    diff->add_option("--to", o->to, "the branch with the change")->required();
    diff->add_option("--from", o->from, "what it is compared with")->capture_default_str();
    diff->callback([&cli, o] {
      cli.action = [&cli, o]() -> Status {
        LM_ASSIGN_OR_RETURN(auto name, ProductName(o->name));
        LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
        LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", "/api/v1/products/" + Seg(name.first) + "/" + Seg(name.second) + "/changes",
                                           {{"from", o->from}, {"to", o->to}}));
        if (cli.json) {
          PrintJson(r);
          return Status::OK();
        }
        if (r.value("new", false)) {
          std::printf("%s is new on %s (version %s)\n", o->name.c_str(), o->to.c_str(), Str(r, "toVersion").c_str());
          return Status::OK();
        }
        std::printf("%s: %s (v%s) -> %s (v%s)\n", o->name.c_str(), o->from.c_str(), Str(r, "fromVersion").c_str(),
                    o->to.c_str(), Str(r, "toVersion").c_str());
        for (const auto& ch : r.value("changes", json::array())) {
          std::string where = Str(ch, "port") + (Str(ch, "column").empty() ? "" : "." + Str(ch, "column"));
          std::printf("  %s %s: %s\n", ch.value("breaking", false) ? "BREAKING" : "        ", where.c_str(),
                      Str(ch, "change").c_str());
        }
        if (r.value("changes", json::array()).empty()) std::printf("  no change to the contract\n");
        if (r.value("needsMajorVersion", false)) {
          std::printf("\nThe change breaks the published contract: publishing it needs a new major version "
                      "(%s is not above %s).\n", Str(r, "toVersion").c_str(), Str(r, "fromVersion").c_str());
        }
        return Status::OK();
      };
    });
  }
}

}  // namespace lakemesh::cli
