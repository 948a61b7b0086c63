#include "table/scan.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <map>
#include <unordered_map>

#include "base/hash.h"
#include "table/metadata.h"

namespace lakemesh::table {
namespace {

using Json = nlohmann::json;

// The reserved field id of a position delete file's file_path column.
constexpr int32_t kDeleteFilePathId = 2147483546;

// A key identifying (spec, partition tuple) for matching deletes to data files.
std::string PartitionKey(int32_t spec_id, const PartitionTuple& t) {
  std::string k = std::to_string(spec_id);
  for (const auto& v : t) {
    k.push_back('|');
    if (!v) {
      k.push_back('n');
      continue;
    }
    std::string b = ToBytes(*v);
    k += std::to_string(b.size());
    k.push_back(':');
    k += b;
  }
  return k;
}

struct DeleteRef {
  int64_t seq;
  size_t index;
};

Json CountMapJson(const CountMap& m) {
  Json keys = Json::array(), values = Json::array();
  for (const auto& [k, v] : m) {
    keys.push_back(k);
    values.push_back(v);
  }
  return {{"keys", keys}, {"values", values}};
}

}  // namespace

Result<const Json*> SelectSnapshot(const Json& m, const ScanOptions& o) {
  std::optional<int64_t> id = o.snapshot_id;
  if (!id && !o.ref.empty()) {
    auto refs = m.find("refs");
    if (refs == m.end() || !refs->is_object() || !refs->contains(o.ref)) {
      return NotFound("table has no branch or tag '" + o.ref + "'");
    }
    id = (*refs)[o.ref].value("snapshot-id", int64_t{-1});
  }
  if (!id) {
    int64_t cur = m.value("current-snapshot-id", int64_t{-1});
    if (m.contains("current-snapshot-id") && m["current-snapshot-id"].is_null()) cur = -1;
    if (cur < 0) return static_cast<const Json*>(nullptr);
    id = cur;
  }
  auto snaps = m.find("snapshots");
  if (snaps != m.end() && snaps->is_array()) {
    for (const Json& s : *snaps) {
      if (s.value("snapshot-id", int64_t{-2}) == *id) return &s;
    }
  }
  return NotFound("table has no snapshot " + std::to_string(*id));
}

Result<PartitionSpec> TableSpec(const Json& m, int32_t spec_id) {
  auto specs = m.find("partition-specs");
  if (specs == m.end() || !specs->is_array()) return InvalidArgument("metadata has no partition-specs");
  for (const Json& s : *specs) {
    if (s.value("spec-id", int64_t{-1}) != spec_id) continue;
    // Bind to the current schema; a source dropped since is found in an older schema.
    const Json* cur = FindSchema(m);
    if (!cur) return InvalidArgument("metadata has no current schema");
    LM_ASSIGN_OR_RETURN(PartitionSpec spec, BindPartitionSpec(s, *cur));
    auto schemas = m.find("schemas");
    if (schemas == m.end() || !schemas->is_array()) return spec;
    for (PartitionField& f : spec.fields) {
      if (f.transform.kind != Transform::kUnknown || ParseTransform(f.transform.name).kind ==
                                                         Transform::kUnknown) {
        continue;
      }
      for (auto it = schemas->rbegin(); it != schemas->rend(); ++it) {
        auto st = FieldType(*it, f.source_id);
        if (!st.ok()) continue;
        Transform t = ParseTransform(f.transform.name);
        auto rt = ResultType(t, *st);
        if (!rt.ok()) break;
        f.transform = t;
        f.source_type = *st;
        f.type = *rt;
        break;
      }
    }
    return spec;
  }
  return NotFound("table has no partition spec " + std::to_string(spec_id));
}

Result<ScanPlan> PlanScan(const Json& m, const ScanOptions& o, const FileReader& read) {
  ScanPlan plan;
  LM_ASSIGN_OR_RETURN(const Json* snap, SelectSnapshot(m, o));
  const Json* schema = FindSchema(m);
  if (snap && o.use_snapshot_schema && snap->contains("schema-id")) {
    const Json* s = FindSchema(m, (*snap)["schema-id"].get<int64_t>());
    if (s) schema = s;
  }
  if (!schema) return InvalidArgument("metadata has no current schema");
  plan.schema = *schema;
  LM_ASSIGN_OR_RETURN(plan.filter, Bind(o.filter, *schema, o.case_sensitive));
  if (!snap) return plan;
  plan.snapshot_id = (*snap)["snapshot-id"].get<int64_t>();
  if (!snap->contains("manifest-list") || !(*snap)["manifest-list"].is_string()) {
    return InvalidArgument("snapshot " + std::to_string(*plan.snapshot_id) +
                           " has no manifest-list (v1 inline manifests are not supported)");
  }
  std::string list_location = (*snap)["manifest-list"].get<std::string>();
  LM_ASSIGN_OR_RETURN(auto list_bytes, read(list_location));
  auto manifests = ReadManifestList(*list_bytes);
  if (!manifests.ok()) return manifests.status().WithContext("manifest list " + list_location);

  std::map<int32_t, PartitionSpec> specs;
  std::map<int32_t, Expr> projections;
  auto spec_for = [&](int32_t id) -> Result<const PartitionSpec*> {
    auto it = specs.find(id);
    if (it == specs.end()) {
      LM_ASSIGN_OR_RETURN(PartitionSpec s, TableSpec(m, id));
      projections[id] = ProjectToPartition(plan.filter, s);
      it = specs.emplace(id, std::move(s)).first;
    }
    return &it->second;
  };

  // Delete manifests first, so data entries can be matched as they are read.
  std::unordered_map<std::string, std::vector<DeleteRef>> positional, equality;
  std::vector<DeleteRef> global_equality;
  std::unordered_map<std::string, std::vector<DeleteRef>> by_data_file;  // referenced deletes
  for (int pass = 0; pass < 2; ++pass) {
    ManifestContent want = pass == 0 ? ManifestContent::kDeletes : ManifestContent::kData;
    // The manifests to read: those whose partition summaries may match.
    std::vector<const ManifestFile*> selected;
    std::vector<const PartitionSpec*> selected_specs;
    for (const ManifestFile& mf : *manifests) {
      if (mf.content != want) continue;
      ++plan.stats.manifests;
      LM_ASSIGN_OR_RETURN(const PartitionSpec* spec, spec_for(mf.partition_spec_id));
      const Expr& projected = projections[mf.partition_spec_id];
      bool has_live = !(mf.added_files_count && mf.existing_files_count &&
                        *mf.added_files_count == 0 && *mf.existing_files_count == 0);
      if (!has_live || !MightMatchSummaries(projected, *spec, mf.partitions)) {
        ++plan.stats.manifests_skipped;
        continue;
      }
      selected.push_back(&mf);
      selected_specs.push_back(spec);
    }
    // Read and decode them on several threads; match entries in manifest-list order after.
    std::vector<Result<std::vector<ManifestEntry>>> decoded(selected.size(),
                                                             Result<std::vector<ManifestEntry>>(
                                                                 std::vector<ManifestEntry>()));
    auto work = [&](size_t i) {
      const ManifestFile& mf = *selected[i];
      const Expr& projected = projections.at(mf.partition_spec_id);
      auto bytes = read(mf.manifest_path);
      if (!bytes.ok()) {
        decoded[i] = bytes.status();
        return;
      }
      PartitionFilter keep = nullptr;
      if (projected.op != Expr::kTrue) {
        keep = [&projected](const PartitionTuple& t) { return MatchPartition(projected, t); };
      }
      decoded[i] = ReadManifest(**bytes, mf, *selected_specs[i], keep);
    };
    size_t workers = std::min<size_t>(selected.size() / 4,
                                      std::max(1u, std::thread::hardware_concurrency()));
    workers = std::min<size_t>(workers, 8);
    if (workers <= 1) {
      for (size_t i = 0; i < selected.size(); ++i) work(i);
    } else {
      std::atomic<size_t> next{0};
      std::vector<std::thread> threads;
      for (size_t w = 0; w < workers; ++w) {
        threads.emplace_back([&] {
          for (size_t i = next++; i < selected.size(); i = next++) work(i);
        });
      }
      for (auto& t : threads) t.join();
    }
    for (size_t mi = 0; mi < selected.size(); ++mi) {
      const ManifestFile& mf = *selected[mi];
      const PartitionSpec* spec = selected_specs[mi];
      auto& entries = decoded[mi];
      if (!entries.ok()) return entries.status().WithContext("manifest " + mf.manifest_path);
      for (ManifestEntry& e : *entries) {
        if (e.status == EntryStatus::kDeleted) continue;
        int64_t seq = e.sequence_number.value_or(0);
        if (want == ManifestContent::kDeletes) {
          if (!MightMatchMetrics(plan.filter, e.file)) continue;
          size_t idx = plan.delete_files.size();
          DeleteRef ref{seq, idx};
          if (e.file.content == FileContent::kPositionDeletes) {
            std::optional<std::string> target = e.file.referenced_data_file;
            const std::string* lo = Lookup(e.file.lower_bounds, kDeleteFilePathId);
            const std::string* hi = Lookup(e.file.upper_bounds, kDeleteFilePathId);
            if (!target && lo && hi && *lo == *hi) target = *lo;
            if (target) {
              by_data_file[*target].push_back(ref);
            } else {
              positional[PartitionKey(spec->spec_id, e.file.partition)].push_back(ref);
            }
          } else if (e.file.content == FileContent::kEqualityDeletes) {
            if (spec->fields.empty()) {
              global_equality.push_back(ref);
            } else {
              equality[PartitionKey(spec->spec_id, e.file.partition)].push_back(ref);
            }
          } else {
            continue;  // a data file in a delete manifest: ignored
          }
          plan.delete_files.push_back(std::move(e.file));
          plan.delete_spec_ids.push_back(spec->spec_id);
          ++plan.stats.delete_files;
          continue;
        }
        if (e.file.content != FileContent::kData) continue;
        ++plan.stats.data_files;
        if (!MightMatchMetrics(plan.filter, e.file)) {
          ++plan.stats.data_files_skipped;
          continue;
        }
        ScanTask task;
        task.spec_id = spec->spec_id;
        task.data_sequence_number = seq;
        if (!plan.delete_files.empty()) {
          std::string key = PartitionKey(spec->spec_id, e.file.partition);
          if (auto it = positional.find(key); it != positional.end()) {
            for (const DeleteRef& d : it->second) {
              if (d.seq >= seq) task.deletes.push_back(d.index);
            }
          }
          if (auto it = by_data_file.find(e.file.file_path); it != by_data_file.end()) {
            for (const DeleteRef& d : it->second) {
              if (d.seq >= seq) task.deletes.push_back(d.index);
            }
          }
          if (auto it = equality.find(key); it != equality.end()) {
            for (const DeleteRef& d : it->second) {
              if (d.seq > seq) task.deletes.push_back(d.index);
            }
          }
          for (const DeleteRef& d : global_equality) {
            if (d.seq > seq) task.deletes.push_back(d.index);
          }
          std::sort(task.deletes.begin(), task.deletes.end());
        }
        task.file = std::move(e.file);
        plan.tasks.push_back(std::move(task));
      }
    }
  }
  return plan;
}

Json ContentFileJson(const DataFile& f, int32_t spec_id, const Json& schema) {
  static const char* kContent[] = {"data", "position-deletes", "equality-deletes"};
  Json partition = Json::array();
  for (const auto& v : f.partition) partition.push_back(v ? ToJson(*v) : Json(nullptr));
  std::string format = f.file_format;
  std::transform(format.begin(), format.end(), format.begin(), ::tolower);
  Json j = {{"content", kContent[static_cast<int>(f.content)]},
            {"file-path", f.file_path},
            {"file-format", format},
            {"spec-id", spec_id},
            {"partition", partition},
            {"file-size-in-bytes", f.file_size_in_bytes},
            {"record-count", f.record_count}};
  if (!f.split_offsets.empty()) j["split-offsets"] = f.split_offsets;
  if (f.sort_order_id) j["sort-order-id"] = *f.sort_order_id;
  if (f.content == FileContent::kEqualityDeletes) j["equality-ids"] = f.equality_ids;
  if (f.content != FileContent::kData) return j;
  if (!f.column_sizes.empty()) j["column-sizes"] = CountMapJson(f.column_sizes);
  if (!f.value_counts.empty()) j["value-counts"] = CountMapJson(f.value_counts);
  if (!f.null_value_counts.empty()) j["null-value-counts"] = CountMapJson(f.null_value_counts);
  if (!f.nan_value_counts.empty()) j["nan-value-counts"] = CountMapJson(f.nan_value_counts);
  for (const auto* bounds : {&f.lower_bounds, &f.upper_bounds}) {
    Json keys = Json::array(), values = Json::array();
    for (const auto& [id, b] : *bounds) {
      auto t = FieldType(schema, id);
      if (!t.ok()) continue;
      auto v = FromBytes(*t, b);
      if (!v.ok()) continue;
      Json jv = ToJson(*v);
      // The REST spec writes binary values as uppercase hex.
      if (t->id == TypeId::kBinary || t->id == TypeId::kFixed) {
        std::string h = jv.get<std::string>();
        std::transform(h.begin(), h.end(), h.begin(), ::toupper);
        jv = h;
      }
      keys.push_back(id);
      values.push_back(std::move(jv));
    }
    if (!keys.empty()) {
      j[bounds == &f.lower_bounds ? "lower-bounds" : "upper-bounds"] = {{"keys", keys},
                                                                         {"values", values}};
    }
  }
  return j;
}

}  // namespace lakemesh::table
