// `lakemesh table ...`: Iceberg tables through the server's REST catalog (/iceberg).
#include <cstdio>
#include <map>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace lakemesh::cli {
namespace {

using nlohmann::json;

// "sales.staging.orders" -> namespace "sales\x1fstaging", table "orders".
struct TableName {
  std::string ns;  // levels joined by the unit separator, as the REST catalog wants them
  std::string table;
  std::string shown;
};

Result<TableName> ParseTable(const std::string& text) {
  size_t dot = text.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
    return InvalidArgument("'" + text + "' is not a table name: use DOMAIN.TABLE or "
                           "DOMAIN.NAMESPACE.TABLE (e.g. sales.orders)");
  }
  TableName t{text.substr(0, dot), text.substr(dot + 1), text};
  for (char& c : t.ns) {
    if (c == '.') c = '\x1f';
  }
  return t;
}

std::string NamespacePath(const std::string& ns) {
  std::string out = ns;
  for (char& c : out) {
    if (c == '.') c = '\x1f';
  }
  return Seg(out);
}

std::string TablePath(const std::string& ref, const TableName& t) {
  return "/iceberg/v1/" + Seg(ref) + "/namespaces/" + Seg(t.ns) + "/tables/" + Seg(t.table);
}

std::string TypeString(const json& type) {
  if (type.is_string()) return type.get<std::string>();
  std::string kind = type.value("type", "");
  if (kind == "list") return "list<" + TypeString(type["element"]) + ">";
  if (kind == "map") return "map<" + TypeString(type["key"]) + ", " + TypeString(type["value"]) + ">";
  if (kind == "struct") {
    std::string s = "struct<";
    bool first = true;
    for (const auto& f : type["fields"]) {
      s += (first ? "" : ", ") + f.value("name", "") + ": " + TypeString(f["type"]);
      first = false;
    }
    return s + ">";
  }
  return kind;
}

std::string Time(const json& ms) {
  return ms.is_number() ? FormatRfc3339(ms.get<int64_t>() * 1000) : "-";
}

const json* CurrentSchema(const json& m) {
  for (const auto& s : m["schemas"]) {
    if (s["schema-id"] == m["current-schema-id"]) return &s;
  }
  return nullptr;
}

std::string FieldName(const json& m, int64_t id) {
  if (const json* s = CurrentSchema(m)) {
    for (const auto& f : (*s)["fields"]) {
      if (f["id"] == id) return f.value("name", "");
    }
  }
  return "#" + std::to_string(id);
}

void Describe(const json& r, const TableName& t, const std::string& ref) {
  const json& m = r["metadata"];
  std::printf("table     %s (at %s)\n", t.shown.c_str(), ref.c_str());
  std::printf("location  %s\n", m.value("location", "").c_str());
  std::printf("metadata  %s\n", r.value("metadata-location", "").c_str());
  std::printf("uuid      %s\n", m.value("table-uuid", "").c_str());
  std::printf("format    %d\n", m.value("format-version", 0));
  int64_t current = m.value("current-snapshot-id", int64_t{-1});
  std::string snap = "none (empty table)";
  for (const auto& s : m["snapshots"]) {
    if (s["snapshot-id"] == current) {
      snap = std::to_string(current) + " (" + s["summary"].value("operation", "?") + ", " +
             Time(s["timestamp-ms"]) + ")";
    }
  }
  std::printf("snapshot  %s\n", snap.c_str());
  if (const json* s = CurrentSchema(m)) {
    std::printf("\nschema %lld:\n", static_cast<long long>(s->value("schema-id", 0)));
    Table cols({"ID", "COLUMN", "TYPE", "REQUIRED"});
    for (const auto& f : (*s)["fields"]) {
      cols.Row({std::to_string(f.value("id", 0)), f.value("name", ""), TypeString(f["type"]),
                f.value("required", false) ? "yes" : ""});
    }
    cols.Print();
  }
  for (const auto& spec : m["partition-specs"]) {
    if (spec["spec-id"] != m["default-spec-id"]) continue;
    std::string parts;
    for (const auto& f : spec["fields"]) {
      parts += (parts.empty() ? "" : ", ") + f.value("transform", "") + "(" +
               FieldName(m, f.value("source-id", int64_t{0})) + ")";
    }
    std::printf("\npartitioned by  %s\n", parts.empty() ? "(unpartitioned)" : parts.c_str());
  }
  for (const auto& order : m["sort-orders"]) {
    if (order["order-id"] != m["default-sort-order-id"] || order["fields"].empty()) continue;
    std::string keys;
    for (const auto& f : order["fields"]) {
      keys += (keys.empty() ? "" : ", ") + FieldName(m, f.value("source-id", int64_t{0})) + " " +
              f.value("direction", "") + " " + f.value("null-order", "");
    }
    std::printf("sorted by       %s\n", keys.c_str());
  }
  if (!m["properties"].empty()) {
    std::printf("\nproperties:\n");
    for (const auto& [k, v] : m["properties"].items()) {
      std::printf("  %s = %s\n", k.c_str(), v.get<std::string>().c_str());
    }
  }
}

void ShowDescribe(const json& r, const TableName& t, const std::string& ref, bool as_json) {
  if (as_json) {
    PrintJson(r);
  } else {
    Describe(r, t, ref);
  }
}

void ShowSnapshots(const json& r, const TableName&, const std::string&, bool as_json) {
  const json& m = r["metadata"];
  if (as_json) {
    PrintJson(m["snapshots"]);
    return;
  }
  std::map<int64_t, std::string> refs;
  for (const auto& [name, ref] : m["refs"].items()) {
    auto& s = refs[ref.value("snapshot-id", int64_t{-1})];
    s += (s.empty() ? "" : ",") + name;
  }
  Table out({"SNAPSHOT", "PARENT", "SEQ", "TIME", "OPERATION", "RECORDS", "REFS"});
  for (const auto& s : m["snapshots"]) {
    int64_t id = s.value("snapshot-id", int64_t{0});
    const json& sum = s["summary"];
    out.Row({std::to_string(id),
             s.contains("parent-snapshot-id") && s["parent-snapshot-id"].is_number()
                 ? std::to_string(s["parent-snapshot-id"].get<int64_t>())
                 : "-",
             std::to_string(s.value("sequence-number", int64_t{0})), Time(s["timestamp-ms"]),
             sum.value("operation", ""), sum.value("total-records", ""), refs[id]});
  }
  out.Print();
}

void ShowHistory(const json& r, const TableName&, const std::string&, bool as_json) {
  const json& m = r["metadata"];
  if (as_json) {
    PrintJson(m["snapshot-log"]);
    return;
  }
  std::map<int64_t, std::string> ops;
  for (const auto& s : m["snapshots"]) {
    ops[s.value("snapshot-id", int64_t{0})] = s["summary"].value("operation", "");
  }
  Table out({"TIME", "SNAPSHOT", "OPERATION", "CURRENT"});
  int64_t current = m.value("current-snapshot-id", int64_t{-1});
  for (const auto& e : m["snapshot-log"]) {
    int64_t id = e.value("snapshot-id", int64_t{0});
    out.Row({Time(e["timestamp-ms"]), std::to_string(id), ops.count(id) ? ops[id] : "(expired)",
             id == current ? "*" : ""});
  }
  out.Print();
}

}  // namespace

void AddTable(CLI::App& app, Cli& cli) {
  auto* tb = app.add_subcommand("table", "Iceberg tables: list, describe, snapshots, history, "
                                         "rollback (see docs/iceberg.md)");
  tb->require_subcommand(1);
  struct Args {
    std::string name, ref = "main";
    int64_t snapshot = 0;
  };
  auto a = std::make_shared<Args>();

  auto* list = tb->add_subcommand("list", "List the tables of a domain or namespace");
  list->add_option("namespace", a->name, "DOMAIN or DOMAIN.NAMESPACE")->required();
  list->add_option("--ref", a->ref, "branch, tag or commit to read at")->capture_default_str();
  list->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", "/iceberg/v1/" + Seg(a->ref) + "/namespaces/" +
                                                     NamespacePath(a->name) + "/tables"));
      if (cli.json) {
        PrintJson(r["identifiers"]);
        return Status::OK();
      }
      Table t({"TABLE"});
      for (const auto& id : r["identifiers"]) t.Row({a->name + "." + id.value("name", "")});
      t.Print();
      return Status::OK();
    };
  });

  // describe, snapshots, history: load DOMAIN.TABLE at --ref and show part of it.
  using Show = void (*)(const json& loaded, const TableName& t, const std::string& ref, bool json);
  auto add_reader = [&cli, tb, a](const char* name, const char* help, Show show) {
    auto* cmd = tb->add_subcommand(name, help);
    cmd->add_option("table", a->name, "DOMAIN.TABLE")->required();
    cmd->add_option("--ref", a->ref, "branch, tag or commit to read at")->capture_default_str();
    cmd->callback([&cli, a, show] {
      cli.action = [&cli, a, show]() -> Status {
        LM_ASSIGN_OR_RETURN(auto t, ParseTable(a->name));
        LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
        LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", TablePath(a->ref, t)));
        show(r, t, a->ref, cli.json);
        return Status::OK();
      };
    });
  };
  add_reader("describe", "Show a table's schema, partitioning and snapshot", ShowDescribe);
  add_reader("snapshots", "List a table's snapshots, oldest first", ShowSnapshots);
  add_reader("history", "When the table's current snapshot changed", ShowHistory);

  auto* rollback = tb->add_subcommand(
      "rollback", "Make an earlier snapshot the table's current one on a branch (a new commit)");
  rollback->add_option("table", a->name, "DOMAIN.TABLE")->required();
  rollback->add_option("snapshot", a->snapshot, "snapshot id (see `lakemesh table snapshots`)")
      ->required();
  rollback->add_option("--ref", a->ref, "branch")->capture_default_str();
  rollback->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto t, ParseTable(a->name));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", TablePath(a->ref, t)));
      const json& m = r["metadata"];
      bool known = false;
      for (const auto& s : m["snapshots"]) known |= s["snapshot-id"] == a->snapshot;
      if (!known) {
        return NotFound("table " + t.shown + " has no snapshot " + std::to_string(a->snapshot) +
                        " at " + a->ref + " (see `lakemesh table snapshots " + t.shown + "`)");
      }
      int64_t current = m.value("current-snapshot-id", int64_t{-1});
      json body = {
          {"requirements",
           {{{"type", "assert-ref-snapshot-id"},
             {"ref", "main"},
             {"snapshot-id", current == -1 ? json(nullptr) : json(current)}}}},
          {"updates",
           {{{"action", "set-snapshot-ref"},
             {"ref-name", "main"},
             {"type", "branch"},
             {"snapshot-id", a->snapshot}}}}};
      LM_ASSIGN_OR_RETURN(auto done, c.Call("POST", TablePath(a->ref, t), {}, &body));
      if (cli.json) {
        PrintJson(done);
      } else {
        std::printf("%s at %s: current snapshot %lld (was %lld)\n", t.shown.c_str(),
                    a->ref.c_str(), static_cast<long long>(a->snapshot),
                    static_cast<long long>(current));
      }
      return Status::OK();
    };
  });
}

}  // namespace lakemesh::cli
