// Iceberg scan planning and append figures of issue #4, in-process on the real stores (SQLite
// metadata in WAL mode, blobs on disk), through the catalog as the REST catalog uses it.
//
//   build/bench/scan_bench [--manifests 100] [--files-per-manifest 100] [--rounds 21] [--dir DIR]
//
// Builds a table partitioned by day(ts) with one append (one manifest) per day, each of
// `files-per-manifest` data files, then plans:
//   - a full scan of the 10,000 files, cold (a new catalog: nothing cached, files read from
//     disk) and warm;
//   - a scan with a predicate on one day of the partition column (1% of the files), where the
//     manifest list's partition summaries skip 99 of the 100 manifests;
//   - a scan with a predicate on a non-partition column whose file bounds select 1%.
// and times the commit of an append of one data file (the Parquet write not included: the data
// file's metadata is given). Every figure is the median over `rounds` repetitions.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/files.h"
#include "bench/bench_data.h"
#include "base/time.h"
#include "catalog/catalog.h"
#include "meta/sqlite_meta_store.h"
#include "storage/local_blob_store.h"
#include "table/expression.h"
#include "versioning/repository.h"

using namespace lakemesh;  // NOLINT(build/namespaces)
using nlohmann::json;

namespace {

using lakemesh::bench::Check;
using lakemesh::bench::Median;
using lakemesh::bench::TimeMs;

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
const int64_t kDay0 = 20000;  // 2024-10-04

table::DataFile MakeFile(const std::string& location, int day, int i, int per_day) {
  table::DataFile f;
  f.file_path = location + "/data/day" + std::to_string(day) + "-" + std::to_string(i) +
                ".parquet";
  table::Literal d(table::PrimitiveType{table::TypeId::kDate});
  d.i = kDay0 + day;
  f.partition = {d};
  f.record_count = 10000;
  f.file_size_in_bytes = 400000;
  int64_t id_lo = (static_cast<int64_t>(day) * per_day + i) * 10000;
  table::Literal ts_lo(table::PrimitiveType{table::TypeId::kTimestamptz});
  ts_lo.i = (kDay0 + day) * kMicrosPerDay;
  table::Literal ts_hi = ts_lo;
  ts_hi.i += kMicrosPerDay - 1;
  f.value_counts = {{1, 10000}, {2, 10000}, {3, 10000}, {4, 10000}};
  f.null_value_counts = {{1, 0}, {2, 0}, {3, 12}, {4, 0}};
  f.nan_value_counts = {{4, 0}};
  f.column_sizes = {{1, 80000}, {2, 80000}, {3, 120000}, {4, 80000}};
  f.lower_bounds = {{1, table::ToBytes(table::Literal::Long(id_lo))},
                    {2, table::ToBytes(ts_lo)},
                    {3, "amsterdam"}};
  f.upper_bounds = {{1, table::ToBytes(table::Literal::Long(id_lo + 9999))},
                    {2, table::ToBytes(ts_hi)},
                    {3, "zurich"}};
  f.split_offsets = {4};
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int manifests = 100, per = 100, rounds = 21;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--manifests") manifests = std::atoi(argv[i + 1]);
    else if (a == "--files-per-manifest") per = std::atoi(argv[i + 1]);
    else if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
  }
  if (dir.empty()) dir = "build/bench-scan-" + std::to_string(NowMicros());
  std::filesystem::create_directories(dir + "/blobs");
  auto meta = meta::SqliteMetaStore::Open(dir + "/meta.db");
  Check(meta.status(), "meta");
  auto blobs = storage::LocalBlobStore::Open(dir + "/blobs");
  Check(blobs.status(), "blobs");
  auto repos = std::make_unique<versioning::Repositories>(**meta, **blobs);
  auto cat = std::make_unique<catalog::Catalog>(*repos, **blobs);
  Check(cat->CreateNamespace("main", {"bench"}, json::object(), "bench").status(), "namespace");
  json create = json::parse(R"j({
    "name": "events",
    "schema": {"type": "struct", "fields": [
      {"id": 1, "name": "id", "required": true, "type": "long"},
      {"id": 2, "name": "ts", "required": true, "type": "timestamptz"},
      {"id": 3, "name": "city", "required": false, "type": "string"},
      {"id": 4, "name": "amount", "required": true, "type": "double"}]},
    "partition-spec": {"fields": [{"source-id": 2, "name": "ts_day", "transform": "day"}]}})j");
  auto created = cat->CreateTable("main", {"bench"}, create, false, "bench");
  Check(created.status(), "create table");
  const std::string location = created->metadata["location"];
  catalog::TableIdent ident{{"bench"}, "events"};

  std::printf("building: %d appends of %d files (%d data files)\n", manifests, per,
              manifests * per);
  double build_ms = TimeMs([&] {
    for (int d = 0; d < manifests; ++d) {
      std::vector<table::DataFile> files;
      for (int i = 0; i < per; ++i) files.push_back(MakeFile(location, d, i, per));
      Check(cat->AppendFiles("main", ident, files, "bench").status(), "append");
    }
  });
  std::printf("  built in %.0f ms\n", build_ms);

  auto plan = [&](catalog::Catalog& c, const json& filter, size_t want) {
    table::ScanOptions o;
    o.filter = *table::ParseExpression(filter);
    auto p = c.PlanScan("main", ident, o);
    Check(p.status(), "plan");
    if (p->tasks.size() != want) {
      std::fprintf(stderr, "plan returned %zu files, expected %zu\n", p->tasks.size(), want);
      std::exit(1);
    }
  };
  const size_t all = static_cast<size_t>(manifests) * per;
  const int mid = manifests / 2;
  json day_filter = {{"type", "and"},
                     {"left", {{"type", "gt-eq"}, {"term", "ts"},
                               {"value", (kDay0 + mid) * kMicrosPerDay}}},
                     {"right", {{"type", "lt"}, {"term", "ts"},
                                {"value", (kDay0 + mid + 1) * kMicrosPerDay}}}};
  int64_t id_lo = static_cast<int64_t>(mid) * per * 10000;
  json id_filter = {{"type", "and"},
                    {"left", {{"type", "gt-eq"}, {"term", "id"}, {"value", id_lo}}},
                    {"right", {{"type", "lt"}, {"term", "id"},
                               {"value", id_lo + static_cast<int64_t>(per) * 10000}}}};

  std::vector<double> cold, warm, day, ids, commit;
  for (int r = 0; r < rounds; ++r) {
    // Cold: new repositories and catalog objects, so no cached tree, metadata or manifest.
    versioning::Repositories fresh_repos(**meta, **blobs);
    catalog::Catalog fresh(fresh_repos, **blobs);
    cold.push_back(TimeMs([&] { plan(fresh, true, all); }));
  }
  for (int r = 0; r < rounds; ++r) warm.push_back(TimeMs([&] { plan(*cat, true, all); }));
  for (int r = 0; r < rounds; ++r) {
    day.push_back(TimeMs([&] { plan(*cat, day_filter, static_cast<size_t>(per)); }));
  }
  for (int r = 0; r < rounds; ++r) {
    ids.push_back(TimeMs([&] { plan(*cat, id_filter, static_cast<size_t>(per)); }));
  }
  // Appends of one data file on a table of `manifests` manifests (each grows the list by one).
  for (int r = 0; r < rounds; ++r) {
    table::DataFile f = MakeFile(location, mid, per + r, per);
    commit.push_back(TimeMs([&] { Check(cat->AppendFiles("main", ident, {f}, "bench").status(),
                                        "append one"); }));
  }

  std::string head = "figure (" + std::to_string(rounds) + " rounds)";
  std::printf("\n%-62s %10s %10s %10s\n", head.c_str(), "p50", "p90", "goal");
  auto row = [](const char* what, const std::vector<double>& v, double goal) {
    std::printf("%-62s %8.2f ms %7.2f ms %7.0f ms   %.2f of goal\n", what, Median(v), Pct(v, 0.9),
                goal, Median(v) / goal);
  };
  char what[128];
  std::snprintf(what, sizeof(what), "plan all %zu files in %d manifests, cold", all, manifests);
  row(what, cold, 50);
  std::snprintf(what, sizeof(what), "plan all %zu files in %d manifests, warm", all, manifests);
  row(what, warm, 50);
  row("plan with a day(ts) predicate, 1% of the files", day, 10);
  row("plan with an id range (file bounds), 1% of the files", ids, 50);
  row("commit an append of one data file (no Parquet write)", commit, 5);
  std::filesystem::remove_all(dir);
  return 0;
}
