// `lakemesh table ...`: Iceberg tables through the server's REST catalog (/iceberg).
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "table/operations.h"
#include "table/value.h"

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

// A table route of the JSON API: /api/v1/repositories/<domain>/<kind>/<ref>/tables/<table>/<op>,
// where <table> is the name under the domain ("orders", "staging.orders").
std::string TableApiPath(const TableName& t, const char* kind, const std::string& ref,
                         const char* op) {
  std::string domain = t.ns.substr(0, t.ns.find('\x1f'));
  return "/api/v1/repositories/" + Seg(domain) + "/" + kind + "/" + Seg(ref) + "/tables/" +
         Seg(t.shown.substr(domain.size() + 1)) + "/" + op;
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
  std::string snap = "none (empty table)", data;
  for (const auto& s : m["snapshots"]) {
    if (s["snapshot-id"] == current) {
      const json& sum = s.value("summary", json::object());
      snap = std::to_string(current) + " (" + sum.value("operation", "?") + ", " +
             Time(s["timestamp-ms"]) + ")";
      // The snapshot summary's totals, when the writer recorded them.
      auto total = [&](const char* k) -> std::optional<uint64_t> {
        if (!sum.contains(k) || !sum[k].is_string()) return std::nullopt;
        char* end = nullptr;
        const std::string& v = sum[k].get_ref<const std::string&>();
        uint64_t n = std::strtoull(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0') return std::nullopt;
        return n;
      };
      auto records = total("total-records"), files = total("total-data-files"),
           bytes = total("total-files-size"), deletes = total("total-delete-files");
      if (records && files) {
        data = std::to_string(*records) + " row(s) in " + std::to_string(*files) + " file(s)";
        if (bytes) data += ", " + HumanBytes(*bytes);
        if (deletes && *deletes > 0) data += "; " + std::to_string(*deletes) + " delete file(s)";
      }
    }
  }
  std::printf("snapshot  %s\n", snap.c_str());
  if (!data.empty()) std::printf("data      %s\n", data.c_str());
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
                                         "append, delete, update, head, scan, expire-snapshots, rollback "
                                         "(see docs/iceberg.md)");
  tb->require_subcommand(1);
  struct Args {
    std::string name, ref = "main";
    int64_t snapshot = 0;
    std::string file, format, filter, replace_where;
    int64_t limit = 20;
    std::vector<std::string> set;
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

  auto* append = tb->add_subcommand(
      "append", "Append the rows of a CSV, Parquet or JSON file to a table (one commit)");
  append->add_option("table", a->name, "DOMAIN.TABLE")->required();
  append->add_option("file", a->file, "a local .csv, .parquet or .json/.ndjson file")
      ->required()
      ->check(CLI::ExistingFile);
  append->add_option("--format", a->format, "csv, parquet or json (default: from the file name)");
  append->add_option("--replace-where", a->replace_where,
                     "first delete the rows matching this SQL condition, in the same snapshot "
                     "(an overwrite)");
  append->add_option("--ref", a->ref, "branch")->capture_default_str();
  append->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto t, ParseTable(a->name));
      std::string format = a->format;
      if (format.empty()) {
        size_t dot = a->file.rfind('.');
        format = dot == std::string::npos ? "" : a->file.substr(dot + 1);
        if (format.empty()) {
          return InvalidArgument("cannot tell the format of '" + a->file +
                                 "' from its name: pass --format csv|parquet|json");
        }
      }
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      std::error_code ec;
      ProgressBar bar(a->file, std::filesystem::file_size(a->file, ec));
      auto r = c.Upload(TableApiPath(t, "branches", a->ref, "append"),
                        a->replace_where.empty()
                            ? Query{{"format", format}}
                            : Query{{"format", format}, {"replace_where", a->replace_where}},
                        a->file, "application/octet-stream",
                        [&](uint64_t done, uint64_t total) {
                          (void)total;
                          bar.Update(done);
                        },
                        "POST");
      bar.Finish();
      if (!r.ok()) return r.status().WithContext("appending " + a->file + " to " + t.shown);
      if (cli.json) {
        PrintJson(*r);
      } else if (r->contains("deleted-records")) {
        std::printf("replaced %lld row(s) of %s at %s with %lld: %lld file(s) removed, %lld "
                    "rewritten; snapshot %lld\n",
                    static_cast<long long>(r->value("deleted-records", int64_t{0})),
                    t.shown.c_str(), a->ref.c_str(),
                    static_cast<long long>(r->value("added-records", int64_t{0})),
                    static_cast<long long>(r->value("removed-data-files", int64_t{0})),
                    static_cast<long long>(r->value("rewritten-data-files", int64_t{0})),
                    static_cast<long long>(r->value("snapshot-id", int64_t{0})));
      } else {
        std::printf("appended %lld row(s) in %lld file(s) to %s at %s: snapshot %lld\n",
                    static_cast<long long>(r->value("added-records", int64_t{0})),
                    static_cast<long long>(r->value("added-data-files", int64_t{0})),
                    t.shown.c_str(), a->ref.c_str(),
                    static_cast<long long>(r->value("snapshot-id", int64_t{0})));
      }
      return Status::OK();
    };
  });

  auto* del = tb->add_subcommand(
      "delete", "Delete the rows matching an SQL condition, by copy-on-write (one commit)");
  del->add_option("table", a->name, "DOMAIN.TABLE")->required();
  del->add_option("--where", a->filter, "SQL condition over the table's columns, e.g. "
                                        "\"amount < 0 AND region = 'eu'\"")
      ->required();
  del->add_option("--ref", a->ref, "branch")->capture_default_str();
  del->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto t, ParseTable(a->name));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      json body = {{"where", a->filter}};
      LM_ASSIGN_OR_RETURN(auto r,
                          c.Call("POST", TableApiPath(t, "branches", a->ref, "delete"), {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else if (r.value("deleted-records", int64_t{0}) == 0) {
        std::printf("no row of %s at %s matches: nothing deleted\n", t.shown.c_str(),
                    a->ref.c_str());
      } else {
        std::printf("deleted %lld row(s) from %s at %s: %lld file(s) removed, %lld rewritten; "
                    "snapshot %lld\n",
                    static_cast<long long>(r.value("deleted-records", int64_t{0})),
                    t.shown.c_str(), a->ref.c_str(),
                    static_cast<long long>(r.value("removed-data-files", int64_t{0})),
                    static_cast<long long>(r.value("rewritten-data-files", int64_t{0})),
                    static_cast<long long>(r.value("snapshot-id", int64_t{0})));
      }
      return Status::OK();
    };
  });

  auto* update = tb->add_subcommand(
      "update", "Set columns on the rows matching an SQL condition, by copy-on-write (one commit)");
  update->add_option("table", a->name, "DOMAIN.TABLE")->required();
  update->add_option("--set", a->set, "COLUMN=SQL expression over the row, e.g. "
                                      "\"amount=amount * 1.2\" (repeat for more columns)")
      ->required();
  update->add_option("--where", a->filter, "SQL condition over the table's columns")->required();
  update->add_option("--ref", a->ref, "branch")->capture_default_str();
  update->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto t, ParseTable(a->name));
      json set = json::object();
      for (const std::string& kv : a->set) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
          return InvalidArgument("--set '" + kv + "' is not COLUMN=EXPRESSION");
        }
        set[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      json body = {{"set", set}, {"where", a->filter}};
      LM_ASSIGN_OR_RETURN(auto r,
                          c.Call("POST", TableApiPath(t, "branches", a->ref, "update"), {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else if (r.value("updated-records", int64_t{0}) == 0) {
        std::printf("no row of %s at %s matches: nothing updated\n", t.shown.c_str(),
                    a->ref.c_str());
      } else {
        std::printf("updated %lld row(s) of %s at %s: %lld file(s) rewritten as %lld; "
                    "snapshot %lld\n",
                    static_cast<long long>(r.value("updated-records", int64_t{0})),
                    t.shown.c_str(), a->ref.c_str(),
                    static_cast<long long>(r.value("removed-data-files", int64_t{0})),
                    static_cast<long long>(r.value("rewritten-data-files", int64_t{0})),
                    static_cast<long long>(r.value("snapshot-id", int64_t{0})));
      }
      return Status::OK();
    };
  });

  auto* scan = tb->add_subcommand(
      "scan", "List the data files a scan reads, with the delete files that apply to each");
  scan->add_option("table", a->name, "DOMAIN.TABLE")->required();
  scan->add_option("--ref", a->ref, "branch, tag or commit to read at")->capture_default_str();
  scan->add_option("--snapshot", a->snapshot, "a snapshot id (default: the current one)");
  scan->add_option("--filter", a->filter,
                   "a row filter as Iceberg REST JSON, e.g. "
                   "'{\"type\":\"eq\",\"term\":\"region\",\"value\":\"eu\"}'");
  scan->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto t, ParseTable(a->name));
      json body = json::object();
      if (a->snapshot != 0) body["snapshot-id"] = a->snapshot;
      if (!a->filter.empty()) {
        json f = json::parse(a->filter, nullptr, false);
        if (f.is_discarded()) return InvalidArgument("--filter is not JSON: " + a->filter);
        body["filter"] = f;
      }
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", TablePath(a->ref, t) + "/plan", {}, &body));
      if (cli.json) {
        PrintJson(r);
        return Status::OK();
      }
      // Partition values as people read them: field=value, with year/month/hour ordinals shown
      // as dates (Iceberg's own rendering: 2026, 2026-11, 2026-11-30-13).
      LM_ASSIGN_OR_RETURN(auto loaded, c.Call("GET", TablePath(a->ref, t)));
      std::map<int64_t, json> specs;
      for (const auto& sp : loaded["metadata"].value("partition-specs", json::array())) {
        specs[sp.value("spec-id", int64_t{0})] = sp.value("fields", json::array());
      }
      auto show = [&](const json& v, const json& field) -> std::string {
        if (v.is_null()) return "null";
        std::string transform = field.value("transform", "");
        if (v.is_number_integer() && (transform == "year" || transform == "month" ||
                                      transform == "hour")) {
          int64_t n = v.get<int64_t>();
          auto date = [](int64_t days) {
            table::Literal d(table::PrimitiveType{table::TypeId::kDate});
            d.i = days;
            return table::ToJson(d).get<std::string>();
          };
          auto floor_div = [](int64_t x, int64_t y) { return x / y - ((x % y != 0) && (x < 0)); };
          if (transform == "year") return std::to_string(1970 + n);
          if (transform == "month") {
            int64_t y = 1970 + floor_div(n, 12), m = n - floor_div(n, 12) * 12 + 1;
            char buf[64];
            std::snprintf(buf, sizeof(buf), "%04lld-%02lld", static_cast<long long>(y),
                          static_cast<long long>(m));
            return buf;
          }
          char hh[32];
          std::snprintf(hh, sizeof(hh), "-%02lld",
                        static_cast<long long>(n - floor_div(n, 24) * 24));
          return date(floor_div(n, 24)) + hh;
        }
        return v.is_string() ? v.get<std::string>() : v.dump();
      };
      Table out({"FILE", "RECORDS", "SIZE", "PARTITION", "DELETES"});
      int64_t records = 0, bytes = 0;
      for (const auto& task : r["file-scan-tasks"]) {
        const json& f = task["data-file"];
        records += f.value("record-count", int64_t{0});
        bytes += f.value("file-size-in-bytes", int64_t{0});
        std::string part;
        const json& fields = specs[f.value("spec-id", int64_t{0})];
        size_t i = 0;
        for (const auto& v : f["partition"]) {
          json field = i < fields.size() ? fields[i] : json::object();
          part += (part.empty() ? "" : ", ") + field.value("name", "#" + std::to_string(i)) +
                  "=" + show(v, field);
          ++i;
        }
        out.Row({f.value("file-path", ""), std::to_string(f.value("record-count", int64_t{0})),
                 HumanBytes(f.value("file-size-in-bytes", uint64_t{0})), part,
                 std::to_string(task.value("delete-file-references", json::array()).size())});
      }
      out.Print();
      std::printf("%zu data file(s), %lld record(s), %s; %zu delete file(s)\n",
                  r["file-scan-tasks"].size(), static_cast<long long>(records),
                  HumanBytes(static_cast<uint64_t>(bytes)).c_str(), r["delete-files"].size());
      return Status::OK();
    };
  });

  auto* head = tb->add_subcommand(
      "head", "Show a table's rows (delete files applied), at a ref or snapshot");
  head->add_option("table", a->name, "DOMAIN.TABLE")->required();
  head->add_option("--limit", a->limit, "how many rows (1 to 10000)")->capture_default_str();
  head->add_option("--where", a->filter, "SQL condition over the table's columns");
  head->add_option("--snapshot", a->snapshot, "a snapshot id (default: the current one)");
  head->add_option("--ref", a->ref, "branch, tag or commit to read at")->capture_default_str();
  head->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto t, ParseTable(a->name));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      Query q = {{"limit", std::to_string(a->limit)}};
      if (!a->filter.empty()) q.emplace_back("where", a->filter);
      if (a->snapshot != 0) q.emplace_back("snapshot", std::to_string(a->snapshot));
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", TableApiPath(t, "refs", a->ref, "rows"), q));
      if (cli.json) {
        PrintJson(r);
        return Status::OK();
      }
      std::vector<std::string> header;
      for (const auto& col : r["columns"]) header.push_back(col.get<std::string>());
      Table out(header);
      for (const auto& row : r["rows"]) {
        std::vector<std::string> cells;
        for (const auto& v : row) {
          cells.push_back(v.is_null() ? "NULL" : v.is_string() ? v.get<std::string>() : v.dump());
        }
        out.Row(cells);
      }
      out.Print();
      std::printf("%zu row(s)%s\n", r["rows"].size(),
                  r.value("truncated", false) ? " (more match: raise --limit)" : "");
      return Status::OK();
    };
  });

  auto* expire = tb->add_subcommand(
      "expire-snapshots",
      "Remove old snapshots from a table's metadata on a branch (a new commit); its files stay "
      "while older commits refer to them");
  expire->add_option("table", a->name, "DOMAIN.TABLE")->required();
  expire->add_option("--older-than", a->format,
                     "remove snapshots older than this (e.g. 7d, 12h; default: the table's "
                     "history.expire.max-snapshot-age-ms, else 5d)");
  expire->add_option("--retain-last", a->snapshot,
                     "keep at least this many snapshots of each branch (default: the table's "
                     "history.expire.min-snapshots-to-keep, else 1)");
  expire->add_option("--ref", a->ref, "branch")->capture_default_str();
  expire->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto t, ParseTable(a->name));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", TablePath(a->ref, t)));
      const json& m = r["metadata"];
      const json props = m.value("properties", json::object());
      auto prop = [&](const char* key, int64_t def) -> int64_t {
        if (!props.contains(key) || !props[key].is_string()) return def;
        try {
          return std::stoll(props[key].get<std::string>());
        } catch (...) {
          return def;
        }
      };
      table::ExpireOptions o;
      int64_t age_ms = prop("history.expire.max-snapshot-age-ms", 5LL * 24 * 3600 * 1000);
      if (!a->format.empty()) {
        LM_ASSIGN_OR_RETURN(int64_t seconds, ParseDuration(a->format));
        age_ms = seconds * 1000;
      }
      o.older_than_ms = NowMicros() / 1000 - age_ms;
      o.retain_last = static_cast<int>(
          a->snapshot > 0 ? a->snapshot : prop("history.expire.min-snapshots-to-keep", 1));
      std::vector<int64_t> gone = table::SnapshotsToExpire(m, o);
      if (gone.empty()) {
        std::printf("%s at %s: no snapshot to expire (%zu kept)\n", t.shown.c_str(),
                    a->ref.c_str(), m.value("snapshots", json::array()).size());
        return Status::OK();
      }
      int64_t current = m.value("current-snapshot-id", int64_t{-1});
      json body = {
          {"requirements",
           {{{"type", "assert-table-uuid"}, {"uuid", m.value("table-uuid", "")}},
            {{"type", "assert-ref-snapshot-id"},
             {"ref", "main"},
             {"snapshot-id", current == -1 ? json(nullptr) : json(current)}}}},
          {"updates", {{{"action", "remove-snapshots"}, {"snapshot-ids", gone}}}}};
      LM_ASSIGN_OR_RETURN(auto done, c.Call("POST", TablePath(a->ref, t), {}, &body));
      if (cli.json) {
        PrintJson(done);
      } else {
        std::printf("%s at %s: expired %zu snapshot(s), %zu kept\n", t.shown.c_str(),
                    a->ref.c_str(), gone.size(),
                    done["metadata"].value("snapshots", json::array()).size());
      }
      return Status::OK();
    };
  });

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
