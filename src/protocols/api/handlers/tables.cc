// Table data through the JSON API: appending a CSV, Parquet or JSON file to an Iceberg table.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>

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

// Copies the files of `plan` into `dir` (which DuckDB may read): its data files, in plan order,
// and the delete files they need, each once. With `enough_rows`, stops once the data files copied
// hold that many rows (before deletes).
Result<sql::LocalScan> CopyScan(Services& s, const table::ScanPlan& plan, const std::string& dir,
                                std::optional<int64_t> enough_rows = std::nullopt) {
  sql::LocalScan out;
  std::map<size_t, size_t> delete_index;  // plan's delete file -> index in out.delete_files
  int64_t rows = 0;
  for (const auto& task : plan.tasks) {
    if (enough_rows && rows >= *enough_rows) break;
    sql::LocalDataFile f{dir + "/" + NewUuid() + ".parquet", task.file};
    LM_TRY(s.catalog.CopyTableFileTo(task.file.file_path, f.local_path));
    std::vector<size_t> mine;
    for (size_t k : task.deletes) {
      auto [it, fresh] = delete_index.emplace(k, out.delete_files.size());
      if (fresh) {
        sql::LocalDataFile d{dir + "/" + NewUuid() + ".parquet", plan.delete_files[k]};
        LM_TRY(s.catalog.CopyTableFileTo(d.file.file_path, d.local_path));
        out.delete_files.push_back(std::move(d));
      }
      mine.push_back(it->second);
    }
    rows += task.file.record_count;
    out.data.push_back(std::move(f));
    out.deletes.push_back(std::move(mine));
  }
  return out;
}

// A fresh scratch directory under the server's work directory, removed with `scratch`.
Result<std::string> ScratchDir(Services& s, Scratch& scratch, const char* what) {
  std::string dir = s.work_dir + "/" + what + "-" + NewUuid();
  scratch.paths.push_back(dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("creating " + dir + ": " + ec.message());
  return dir;
}

}  // namespace

namespace {

// A copy-on-write change of a loaded table: the table's current data files are copied into a
// scratch directory, `op` computes their replacements there, and the replacements (plus `extra`
// new files) are stored and committed as one snapshot, provided nothing moved the table since it
// was loaded. The answer reports the affected `rows` under `rows_key`.
using CowOp = std::function<Result<sql::RewriteResult>(const sql::LocalScan&,
                                                       const catalog::Json& schema,
                                                       const table::PartitionSpec& spec,
                                                       const std::string& dir)>;

Response CopyOnWrite(Services& s, const std::string& branch, const catalog::TableIdent& ident,
                     const catalog::LoadedTable& table, const CowOp& op,
                     std::vector<table::DataFile> extra, const char* rows_key, const P& who) {
  int64_t snapshot = table.metadata.value("current-snapshot-id", int64_t{-1});
  const catalog::Json* schema = table::FindSchema(table.metadata);
  if (!schema) return ErrorResponse(Internal("table metadata has no current schema"));
  auto spec = table::TableSpec(table.metadata, table.metadata.value("default-spec-id", int32_t{0}));
  if (!spec.ok()) return ErrorResponse(spec.status());
  sql::RewriteResult result;
  Scratch scratch;
  if (snapshot >= 0) {
    table::ScanOptions so;
    so.snapshot_id = snapshot;
    auto plan = s.catalog.PlanScan(branch, ident, so);
    if (!plan.ok()) return ErrorResponse(plan.status());
    // The table's files (and the delete files other engines wrote for them), copied into one
    // scratch directory DuckDB may read. Files of earlier partition specs are rewritten under
    // the current one.
    auto dir = ScratchDir(s, scratch, "rewrite");
    if (!dir.ok()) return ErrorResponse(dir.status());
    auto local = CopyScan(s, *plan, *dir);
    if (!local.ok()) return ErrorResponse(local.status());
    auto r = op(*local, *schema, *spec, *dir);
    if (!r.ok()) return ErrorResponse(r.status());
    result = std::move(*r);
  }
  std::vector<table::DataFile> added;
  for (auto& w : result.added) {
    if (Status st = s.catalog.StoreDataFile(table.metadata, w.local_path, &w.file); !st.ok()) {
      return ErrorResponse(st);
    }
    added.push_back(std::move(w.file));
  }
  const size_t rewritten = added.size();
  int64_t new_rows = 0;
  for (auto& f : extra) {
    new_rows += f.record_count;
    added.push_back(std::move(f));
  }
  json out = {{"table", catalog::ToString(ident)},
              {"branch", branch},
              {rows_key, result.rows},
              {"removed-data-files", result.removed.size()},
              {"rewritten-data-files", rewritten},
              {"snapshot-id", snapshot}};
  if (result.removed.empty() && added.empty()) return JsonResponse(200, out);
  Result<catalog::LoadedTable> committed =
      result.removed.empty()
          ? s.catalog.AppendFiles(branch, ident, added, who.name)
          : s.catalog.RewriteFiles(branch, ident, snapshot, result.removed, added, who.name);
  if (!committed.ok()) return ErrorResponse(committed.status());
  out["snapshot-id"] = committed->metadata.value("current-snapshot-id", int64_t{-1});
  out["metadata-location"] = committed->metadata_location;
  if (!extra.empty() || new_rows > 0) out["added-records"] = new_rows;
  return JsonResponse(200, out);
}

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
  int64_t rows = 0;
  for (auto& w : *written) {
    scratch.paths.push_back(std::filesystem::path(w.local_path).parent_path().string());
    if (Status st = s.catalog.StoreDataFile(table->metadata, w.local_path, &w.file); !st.ok()) {
      return ErrorResponse(st);
    }
    rows += w.file.record_count;
    files.push_back(std::move(w.file));
  }
  if (files.empty()) {
    return ErrorResponse(InvalidArgument("the input has no rows: nothing to append"));
  }
  if (auto replace = req.Query("replace_where")) {
    // An overwrite: the rows matching the condition go, the file's rows come, in one snapshot.
    return CopyOnWrite(
        s, branch, ident, *table,
        [&](const auto& existing, const auto& schema, const auto& spec, const std::string& dir) {
          return sql::DeleteRows(existing, *replace, schema, spec, dir);
        },
        std::move(files), "deleted-records", who);
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
  const std::string& branch = req.params["branch"];
  catalog::TableIdent ident = TableOf(req.params["repo"], req.params["table"]);
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto where = StringField(*body, "where", true);
  if (!where.ok()) return ErrorResponse(where.status());
  auto table = s.catalog.LoadTable(branch, ident);
  if (!table.ok()) return ErrorResponse(table.status());
  return CopyOnWrite(
      s, branch, ident, *table,
      [&](const auto& files, const auto& schema, const auto& spec, const std::string& dir) {
        return sql::DeleteRows(files, *where, schema, spec, dir);
      },
      {}, "deleted-records", who);
}

// POST .../tables/{table}/update  {"set": {"column": "SQL expression", ...}, "where": "SQL"}
Response UpdateTable(Services& s, Request& req, const P& who) {
  const std::string& branch = req.params["branch"];
  catalog::TableIdent ident = TableOf(req.params["repo"], req.params["table"]);
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto where = StringField(*body, "where", true);
  if (!where.ok()) return ErrorResponse(where.status());
  auto set_json = body->find("set");
  if (set_json == body->end() || !set_json->is_object() || set_json->empty()) {
    return ErrorResponse(InvalidArgument("'set' must be an object of column: SQL expression"));
  }
  std::vector<std::pair<std::string, std::string>> set;
  for (const auto& [k, v] : set_json->items()) {
    if (!v.is_string()) {
      return ErrorResponse(InvalidArgument("'set." + k + "' must be an SQL expression string"));
    }
    set.emplace_back(k, v.get<std::string>());
  }
  auto table = s.catalog.LoadTable(branch, ident);
  if (!table.ok()) return ErrorResponse(table.status());
  return CopyOnWrite(
      s, branch, ident, *table,
      [&](const auto& files, const auto& schema, const auto& spec, const std::string& dir) {
        return sql::UpdateRows(files, set, *where, schema, spec, dir);
      },
      {}, "updated-records", who);
}

// GET /api/v1/repositories/{repo}/refs/{ref}/tables/{table}/rows?limit=20&where=SQL&snapshot=ID
// The table's rows at a ref (or snapshot), delete files applied: for looking at a table.
Response ReadTableRows(Services& s, Request& req, const P&) {
  const std::string& ref = req.params["ref"];
  catalog::TableIdent ident = TableOf(req.params["repo"], req.params["table"]);
  int64_t limit = 20;
  if (auto l = req.Query("limit")) {
    char* end = nullptr;
    limit = std::strtoll(l->c_str(), &end, 10);
    if (l->empty() || *end != '\0' || limit < 1 || limit > 10000) {
      return ErrorResponse(InvalidArgument("limit must be 1 to 10000"));
    }
  }
  std::string where = req.Query("where").value_or("");
  table::ScanOptions so;
  if (auto snap = req.Query("snapshot")) {
    char* end = nullptr;
    so.snapshot_id = std::strtoll(snap->c_str(), &end, 10);
    if (snap->empty() || *end != '\0') {
      return ErrorResponse(InvalidArgument("snapshot must be a snapshot id"));
    }
  }
  auto plan = s.catalog.PlanScan(ref, ident, so);
  if (!plan.ok()) return ErrorResponse(plan.status());
  Scratch scratch;
  auto dir = ScratchDir(s, scratch, "read");
  if (!dir.ok()) return ErrorResponse(dir.status());
  // Without a filter or deletes, the first files holding `limit` rows are enough.
  const bool all_files = !where.empty() || !plan->delete_files.empty();
  auto local = CopyScan(s, *plan, *dir, all_files ? std::nullopt : std::optional<int64_t>(limit));
  if (!local.ok()) return ErrorResponse(local.status());
  auto result = sql::ReadRows(*local, plan->schema, where, limit, *dir);
  if (!result.ok()) return ErrorResponse(result.status());
  return JsonResponse(200, {{"table", catalog::ToString(ident)},
                            {"ref", ref},
                            {"snapshot-id", plan->snapshot_id ? json(*plan->snapshot_id) : json()},
                            {"columns", result->columns},
                            {"rows", std::move(result->rows)},
                            {"truncated", result->truncated}});
}

}  // namespace lakemesh::api::handlers
