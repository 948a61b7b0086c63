#include "table/operations.h"

#include <set>

#include "base/random.h"
#include "table/metadata.h"

namespace lakemesh::table {
namespace {

using Json = nlohmann::json;

int64_t SummaryLong(const Json* summary, const char* key) {
  if (!summary || !summary->is_object()) return 0;
  auto it = summary->find(key);
  if (it == summary->end() || !it->is_string()) return 0;
  try {
    return std::stoll(it->get<std::string>());
  } catch (...) {
    return 0;
  }
}

std::string PartitionKeyOf(const PartitionTuple& t) {
  std::string k;
  for (const auto& v : t) {
    k += v ? ToBytes(*v) : std::string("\xff\xfe", 2);
    k.push_back('\0');
  }
  return k;
}

}  // namespace

int64_t NewSnapshotId(const Json& m) {
  std::set<int64_t> used;
  if (m.contains("snapshots") && m["snapshots"].is_array()) {
    for (const Json& s : m["snapshots"]) used.insert(s.value("snapshot-id", int64_t{-1}));
  }
  while (true) {
    int64_t id = static_cast<int64_t>(FastRandom64() & 0x7fffffffffffffffULL);
    if (id != 0 && !used.count(id)) return id;
  }
}

Result<PreparedCommit> PrepareAppend(const Json& m, const std::vector<DataFile>& files,
                                     const AppendOptions& o, const FileReader& read) {
  if (files.empty()) return InvalidArgument("nothing to append: no data files");
  const Json* schema = FindSchema(m);
  if (!schema) return InvalidArgument("table metadata has no current schema");
  int32_t spec_id = static_cast<int32_t>(m.value("default-spec-id", int64_t{0}));
  LM_ASSIGN_OR_RETURN(PartitionSpec spec, TableSpec(m, spec_id));
  std::string location = m.value("location", std::string());
  if (location.empty()) return InvalidArgument("table metadata has no location");

  // The parent: the branch's snapshot.
  ScanOptions so;
  so.ref = o.branch;
  std::optional<int64_t> parent_id;
  const Json* parent = nullptr;
  if (m.contains("refs") && m["refs"].is_object() && m["refs"].contains(o.branch)) {
    LM_ASSIGN_OR_RETURN(parent, SelectSnapshot(m, so));
    if (parent) parent_id = (*parent)["snapshot-id"].get<int64_t>();
  }

  PreparedCommit c;
  c.snapshot_id = NewSnapshotId(m);
  int64_t seq = m.value("last-sequence-number", int64_t{0}) + 1;
  std::string uuid = NewUuid();

  std::vector<ManifestEntry> entries;
  std::set<std::string> partitions;
  int64_t added_records = 0, added_size = 0;
  for (const DataFile& f : files) {
    if (f.content != FileContent::kData) {
      return InvalidArgument("append takes data files; " + f.file_path + " is a delete file");
    }
    if (f.partition.size() != spec.fields.size()) {
      return InvalidArgument("data file " + f.file_path + " has " +
                             std::to_string(f.partition.size()) + " partition values; the "
                             "table's partition spec has " + std::to_string(spec.fields.size()));
    }
    for (size_t i = 0; i < spec.fields.size(); ++i) {
      if (f.partition[i] && !(f.partition[i]->type == spec.fields[i].type)) {
        return InvalidArgument("data file " + f.file_path + ": partition value of '" +
                               spec.fields[i].name + "' is a " +
                               TypeName(f.partition[i]->type) + ", not a " +
                               TypeName(spec.fields[i].type));
      }
    }
    ManifestEntry e;
    e.status = EntryStatus::kAdded;
    e.snapshot_id = c.snapshot_id;
    e.file = f;
    entries.push_back(std::move(e));
    partitions.insert(PartitionKeyOf(f.partition));
    added_records += f.record_count;
    added_size += f.file_size_in_bytes;
  }

  ManifestFile mf;
  LM_ASSIGN_OR_RETURN(std::string manifest,
                      WriteManifest(*schema, spec, ManifestContent::kData, entries, &mf));
  mf.manifest_path = location + "/metadata/" + uuid + "-m0.avro";
  mf.sequence_number = seq;
  mf.min_sequence_number = seq;
  mf.added_snapshot_id = c.snapshot_id;
  c.files.push_back({mf.manifest_path, std::move(manifest)});

  std::vector<ManifestFile> list = {mf};
  if (parent) {
    std::string parent_list = parent->value("manifest-list", std::string());
    if (parent_list.empty()) {
      return InvalidArgument("snapshot " + std::to_string(*parent_id) + " has no manifest list");
    }
    LM_ASSIGN_OR_RETURN(auto bytes, read(parent_list));
    auto old = ReadManifestList(*bytes);
    if (!old.ok()) return old.status().WithContext("manifest list " + parent_list);
    for (ManifestFile& f : *old) list.push_back(std::move(f));
  }
  std::string list_location = location + "/metadata/snap-" + std::to_string(c.snapshot_id) +
                              "-1-" + uuid + ".avro";
  LM_ASSIGN_OR_RETURN(std::string list_bytes,
                      WriteManifestList(c.snapshot_id, parent_id, seq, list));
  c.files.push_back({list_location, std::move(list_bytes)});

  const Json* ps = parent && parent->contains("summary") ? &(*parent)["summary"] : nullptr;
  Json summary = {
      {"operation", "append"},
      {"added-data-files", std::to_string(files.size())},
      {"added-records", std::to_string(added_records)},
      {"added-files-size", std::to_string(added_size)},
      {"changed-partition-count", std::to_string(partitions.size())},
      {"total-records", std::to_string(SummaryLong(ps, "total-records") + added_records)},
      {"total-files-size", std::to_string(SummaryLong(ps, "total-files-size") + added_size)},
      {"total-data-files",
       std::to_string(SummaryLong(ps, "total-data-files") + static_cast<int64_t>(files.size()))},
      {"total-delete-files", std::to_string(SummaryLong(ps, "total-delete-files"))},
      {"total-position-deletes", std::to_string(SummaryLong(ps, "total-position-deletes"))},
      {"total-equality-deletes", std::to_string(SummaryLong(ps, "total-equality-deletes"))},
  };
  for (const auto& [k, v] : o.summary) summary[k] = v;
  c.summary = summary;

  Json snapshot = {{"snapshot-id", c.snapshot_id},
                   {"sequence-number", seq},
                   {"timestamp-ms", o.now_ms},
                   {"manifest-list", list_location},
                   {"summary", summary},
                   {"schema-id", schema->value("schema-id", int64_t{0})}};
  if (parent_id) snapshot["parent-snapshot-id"] = *parent_id;
  c.updates = Json::array(
      {{{"action", "add-snapshot"}, {"snapshot", snapshot}},
       {{"action", "set-snapshot-ref"}, {"ref-name", o.branch}, {"type", "branch"},
        {"snapshot-id", c.snapshot_id}}});
  c.requirements = Json::array(
      {{{"type", "assert-table-uuid"}, {"uuid", m.value("table-uuid", std::string())}},
       {{"type", "assert-ref-snapshot-id"}, {"ref", o.branch},
        {"snapshot-id", parent_id ? Json(*parent_id) : Json(nullptr)}}});
  return c;
}

}  // namespace lakemesh::table
