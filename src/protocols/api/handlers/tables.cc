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

}  // namespace lakemesh::api::handlers
