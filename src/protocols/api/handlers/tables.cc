// Table data through the JSON API: appending a CSV, Parquet or JSON file to an Iceberg table.
#include <cstdio>
#include <filesystem>

#include "base/random.h"
#include "protocols/api/handlers/handlers.h"
#include "protocols/api/json_util.h"
#include "sql/data_files.h"
#include "table/metadata.h"

namespace lakemesh::api::handlers {
namespace {

// "orders" or "staging.orders" under domain `repo`.
catalog::TableIdent TableOf(const std::string& repo, const std::string& name) {
  catalog::TableIdent t;
  t.ns = {repo};
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) break;
    t.ns.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  t.name = name.substr(start);
  return t;
}

// Removes a scratch path when the request is done with it.
struct Scratch {
  std::vector<std::string> paths;
  ~Scratch() {
    std::error_code ec;
    for (const auto& p : paths) std::filesystem::remove_all(p, ec);
  }
};

}  // namespace

// POST /api/v1/repositories/{repo}/branches/{branch}/tables/{table}/append?format=csv
// The body is the file; its rows become Parquet data files of the table, committed as one
// Iceberg append (one repository commit on the branch).
Response AppendToTable(Services& s, Request& req, const P& who) {
  const std::string& repo = req.params["repo"];
  const std::string& branch = req.params["branch"];
  catalog::TableIdent ident = TableOf(repo, req.params["table"]);
  auto format = sql::ParseInputFormat(req.Query("format").value_or("csv"));
  if (!format.ok()) return ErrorResponse(format.status());
  // Fail before the body is read when the table cannot take it.
  auto table = s.catalog.LoadTable(branch, ident);
  if (!table.ok()) return ErrorResponse(table.status());
  const catalog::Json* schema = table::FindSchema(table->metadata);
  if (!schema) return ErrorResponse(Internal("table metadata has no current schema"));
  auto spec = table::TableSpec(table->metadata,
                               table->metadata.value("default-spec-id", int32_t{0}));
  if (!spec.ok()) return ErrorResponse(spec.status());

  Scratch scratch;
  std::string input = s.work_dir + "/append-" + NewUuid();
  scratch.paths.push_back(input);
  {
    std::FILE* f = std::fopen(input.c_str(), "wb");
    if (!f) return ErrorResponse(IoError("creating " + input));
    std::string buf(1 << 20, '\0');
    uint64_t total = 0;
    Status st;
    while (st.ok()) {
      auto n = req.body->Read(buf.data(), buf.size());
      if (!n.ok()) {
        st = n.status();
        break;
      }
      if (*n == 0) break;
      if (std::fwrite(buf.data(), 1, *n, f) != *n) st = IoError("writing " + input);
      total += *n;
    }
    if (std::fclose(f) != 0 && st.ok()) st = IoError("writing " + input);
    if (!st.ok()) return ErrorResponse(st);
    if (auto cl = req.body->content_length(); cl && *cl != total) {
      return ErrorResponse(InvalidArgument("request body ended after " + std::to_string(total) +
                                           " of " + std::to_string(*cl) + " bytes"));
    }
  }
  auto written = sql::WriteDataFiles(input, *format, *schema, *spec, s.work_dir);
  if (!written.ok()) return ErrorResponse(written.status());
  std::vector<table::DataFile> files;
  const std::string location = table->metadata.value("location", std::string());
  int64_t rows = 0;
  for (auto& w : *written) {
    scratch.paths.push_back(std::filesystem::path(w.local_path).parent_path().string());
    w.file.file_path = location + "/data/" + NewUuid() + ".parquet";
    if (Status st = s.catalog.WriteTableFileFrom(w.file.file_path, w.local_path); !st.ok()) {
      return ErrorResponse(st);
    }
    rows += w.file.record_count;
    files.push_back(std::move(w.file));
  }
  if (files.empty()) {
    return ErrorResponse(InvalidArgument("the input has no rows: nothing to append"));
  }
  auto committed = s.catalog.AppendFiles(branch, ident, files, who.name);
  if (!committed.ok()) return ErrorResponse(committed.status());
  const auto& m = committed->metadata;
  return JsonResponse(200, {{"table", catalog::ToString(ident)},
                            {"branch", branch},
                            {"snapshot-id", m.value("current-snapshot-id", int64_t{-1})},
                            {"added-data-files", files.size()},
                            {"added-records", rows},
                            {"metadata-location", committed->metadata_location}});
}

// POST /api/v1/repositories/{repo}/branches/{branch}/tables/{table}/delete  {"where": "SQL"}
// Deletes the rows for which the condition holds, by copy-on-write, as one snapshot and one
// repository commit on the branch.
Response DeleteFromTable(Services& s, Request& req, const P& who) {
  const std::string& repo = req.params["repo"];
  const std::string& branch = req.params["branch"];
  catalog::TableIdent ident = TableOf(repo, req.params["table"]);
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto where = StringField(*body, "where", true);
  if (!where.ok()) return ErrorResponse(where.status());
  auto table = s.catalog.LoadTable(branch, ident);
  if (!table.ok()) return ErrorResponse(table.status());
  int64_t snapshot = table->metadata.value("current-snapshot-id", int64_t{-1});
  json none = {{"table", catalog::ToString(ident)}, {"branch", branch}, {"deleted-records", 0},
               {"removed-data-files", 0}, {"added-data-files", 0}, {"snapshot-id", snapshot}};
  if (snapshot < 0) return JsonResponse(200, none);
  const catalog::Json* schema = table::FindSchema(table->metadata);
  if (!schema) return ErrorResponse(Internal("table metadata has no current schema"));
  auto spec = table::TableSpec(table->metadata,
                               table->metadata.value("default-spec-id", int32_t{0}));
  if (!spec.ok()) return ErrorResponse(spec.status());
  table::ScanOptions so;
  so.snapshot_id = snapshot;
  auto plan = s.catalog.PlanScan(branch, ident, so);
  if (!plan.ok()) return ErrorResponse(plan.status());
  if (!plan->delete_files.empty()) {
    return ErrorResponse(InvalidArgument(
        "table " + catalog::ToString(ident) + " has delete files (written by another engine); "
        "copy-on-write deletes over them are not supported yet"));
  }
  // The table's files, copied into one scratch directory DuckDB may read.
  Scratch scratch;
  const std::string dir = s.work_dir + "/delete-" + NewUuid();
  scratch.paths.push_back(dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrorResponse(IoError("creating " + dir + ": " + ec.message()));
  std::vector<sql::LocalDataFile> local;
  for (const auto& task : plan->tasks) {
    if (task.spec_id != spec->spec_id) {
      return ErrorResponse(InvalidArgument("table " + catalog::ToString(ident) +
                                           " has files of an earlier partition spec; rewriting "
                                           "them is not supported yet"));
    }
    sql::LocalDataFile f{dir + "/" + NewUuid() + ".parquet", task.file};
    if (Status st = s.catalog.CopyTableFileTo(task.file.file_path, f.local_path); !st.ok()) {
      return ErrorResponse(st);
    }
    local.push_back(std::move(f));
  }
  auto result = sql::DeleteRows(local, *where, *schema, *spec, dir);
  if (!result.ok()) return ErrorResponse(result.status());
  if (result->removed.empty()) return JsonResponse(200, none);
  std::vector<table::DataFile> added;
  const std::string location = table->metadata.value("location", std::string());
  for (auto& w : result->added) {
    w.file.file_path = location + "/data/" + NewUuid() + ".parquet";
    if (Status st = s.catalog.WriteTableFileFrom(w.file.file_path, w.local_path); !st.ok()) {
      return ErrorResponse(st);
    }
    added.push_back(std::move(w.file));
  }
  auto committed =
      s.catalog.RewriteFiles(branch, ident, snapshot, result->removed, added, who.name);
  if (!committed.ok()) return ErrorResponse(committed.status());
  return JsonResponse(200, {{"table", catalog::ToString(ident)},
                            {"branch", branch},
                            {"deleted-records", result->deleted_rows},
                            {"removed-data-files", result->removed.size()},
                            {"added-data-files", added.size()},
                            {"snapshot-id",
                             committed->metadata.value("current-snapshot-id", int64_t{-1})}});
}

}  // namespace lakemesh::api::handlers
