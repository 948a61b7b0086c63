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

// The snapshot of `c` (with `summary`, the parent's totals moved by the deltas) and the updates
// that make it the head of `branch`; with `guard`, the requirements that the branch is still at
// `parent_id` and the table the same.
void FinishCommit(PreparedCommit& c, const Json& m, const std::string& branch,
                  std::optional<int64_t> parent_id, int64_t seq, int64_t now_ms,
                  const std::string& list_location, Json summary, const Json* parent_summary,
                  int64_t d_records, int64_t d_size, int64_t d_files, bool guard) {
  const Json* ps = parent_summary;
  summary["total-records"] = std::to_string(SummaryLong(ps, "total-records") + d_records);
  summary["total-files-size"] = std::to_string(SummaryLong(ps, "total-files-size") + d_size);
  summary["total-data-files"] = std::to_string(SummaryLong(ps, "total-data-files") + d_files);
  for (const char* k : {"total-delete-files", "total-position-deletes", "total-equality-deletes"}) {
    summary[k] = std::to_string(SummaryLong(ps, k));
  }
  c.summary = summary;
  Json snapshot = {{"snapshot-id", c.snapshot_id},
                   {"sequence-number", seq},
                   {"timestamp-ms", now_ms},
                   {"manifest-list", list_location},
                   {"summary", std::move(summary)},
                   {"schema-id", m.value("current-schema-id", int64_t{0})}};
  if (parent_id) snapshot["parent-snapshot-id"] = *parent_id;
  c.updates = Json::array(
      {{{"action", "add-snapshot"}, {"snapshot", std::move(snapshot)}},
       {{"action", "set-snapshot-ref"}, {"ref-name", branch}, {"type", "branch"},
        {"snapshot-id", c.snapshot_id}}});
  c.requirements = Json::array();
  if (guard) {
    c.requirements = Json::array(
        {{{"type", "assert-table-uuid"}, {"uuid", m.value("table-uuid", std::string())}},
         {{"type", "assert-ref-snapshot-id"}, {"ref", branch},
          {"snapshot-id", parent_id ? Json(*parent_id) : Json(nullptr)}}});
  }
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
  };
  for (const auto& [k, v] : o.summary) summary[k] = v;
  FinishCommit(c, m, o.branch, parent_id, seq, o.now_ms, list_location, std::move(summary), ps,
               added_records, added_size, static_cast<int64_t>(files.size()), /*guard=*/true);
  return c;
}

namespace {

const Json* SnapshotById(const Json& m, int64_t id) {
  if (!m.contains("snapshots") || !m["snapshots"].is_array()) return nullptr;
  for (const Json& s : m["snapshots"]) {
    if (s.value("snapshot-id", int64_t{-2}) == id) return &s;
  }
  return nullptr;
}

int64_t MainSnapshot(const Json& m) {
  if (m.contains("refs") && m["refs"].is_object() && m["refs"].contains("main")) {
    return m["refs"]["main"].value("snapshot-id", int64_t{-1});
  }
  return -1;
}

// The snapshots of `m`'s main branch after `base_id` (newest first), or a reason they cannot be
// combined: one that is not an append, or a history that does not descend from the base.
Result<std::vector<const Json*>> AppendsSince(const Json& m, int64_t base_id, const char* side) {
  std::vector<const Json*> out;
  int64_t id = MainSnapshot(m);
  while (id != base_id) {
    if (id < 0) {
      return Conflict(std::string("the table's history on the ") + side +
                      " does not descend from the merge base (rolled back or replaced)");
    }
    const Json* s = SnapshotById(m, id);
    if (!s) return Conflict(std::string("the table on the ") + side + " lacks snapshot " +
                            std::to_string(id));
    std::string op = s->value("summary", Json::object()).value("operation", std::string());
    if (op != "append") {
      return Conflict(std::string("the ") + side + " changed the table by '" + op +
                      "', not only by appending");
    }
    out.push_back(s);
    id = s->value("parent-snapshot-id", int64_t{-1});
    if (out.size() > 100000) return Conflict("snapshot history loops");
  }
  return out;
}

}  // namespace

Result<PreparedCommit> PrepareRewrite(const Json& m, const std::set<std::string>& removed,
                                      const std::vector<DataFile>& added,
                                      const AppendOptions& o, const FileReader& read) {
  if (removed.empty()) return InvalidArgument("a rewrite must remove at least one data file");
  const Json* schema = FindSchema(m);
  if (!schema) return InvalidArgument("table metadata has no current schema");
  std::string location = m.value("location", std::string());
  ScanOptions so;
  so.ref = o.branch;
  const Json* parent = nullptr;
  if (m.contains("refs") && m["refs"].is_object() && m["refs"].contains(o.branch)) {
    LM_ASSIGN_OR_RETURN(parent, SelectSnapshot(m, so));
  }
  if (!parent) return InvalidArgument("the table has no snapshot on '" + o.branch + "'");
  const int64_t parent_id = (*parent)["snapshot-id"].get<int64_t>();

  PreparedCommit c;
  c.snapshot_id = NewSnapshotId(m);
  const int64_t seq = m.value("last-sequence-number", int64_t{0}) + 1;
  const std::string uuid = NewUuid();
  LM_ASSIGN_OR_RETURN(auto list_bytes, read(parent->value("manifest-list", std::string())));
  LM_ASSIGN_OR_RETURN(auto manifests, ReadManifestList(*list_bytes));

  std::vector<ManifestFile> list;
  std::set<std::string> found;
  std::set<std::string> partitions;
  int64_t deleted_records = 0, removed_size = 0;
  int rewritten = 0;
  for (ManifestFile& mf : manifests) {
    if (mf.content != ManifestContent::kData) {
      list.push_back(std::move(mf));
      continue;
    }
    LM_ASSIGN_OR_RETURN(auto bytes, read(mf.manifest_path));
    LM_ASSIGN_OR_RETURN(PartitionSpec spec, TableSpec(m, mf.partition_spec_id));
    LM_ASSIGN_OR_RETURN(auto entries, ReadManifest(*bytes, mf, spec));
    bool touched = false;
    for (const ManifestEntry& e : entries) {
      touched = touched || (e.status != EntryStatus::kDeleted && removed.count(e.file.file_path));
    }
    if (!touched) {
      list.push_back(std::move(mf));
      continue;
    }
    std::vector<ManifestEntry> out;
    for (ManifestEntry& e : entries) {
      if (e.status == EntryStatus::kDeleted) continue;  // informational; not carried further
      if (removed.count(e.file.file_path)) {
        found.insert(e.file.file_path);
        deleted_records += e.file.record_count;
        removed_size += e.file.file_size_in_bytes;
        std::string key;
        for (const auto& v : e.file.partition) key += (v ? ToBytes(*v) : "\xff") + '\0';
        partitions.insert(key);
        e.status = EntryStatus::kDeleted;
        e.snapshot_id = c.snapshot_id;
      } else {
        e.status = EntryStatus::kExisting;
      }
      out.push_back(std::move(e));
    }
    ManifestFile nm;
    LM_ASSIGN_OR_RETURN(std::string written,
                        WriteManifest(*schema, spec, ManifestContent::kData, out, &nm));
    nm.manifest_path =
        location + "/metadata/" + uuid + "-m" + std::to_string(++rewritten) + ".avro";
    nm.sequence_number = seq;
    nm.added_snapshot_id = c.snapshot_id;
    if (nm.min_sequence_number == INT64_MAX) nm.min_sequence_number = seq;
    c.files.push_back({nm.manifest_path, std::move(written)});
    list.push_back(std::move(nm));
  }
  for (const std::string& p : removed) {
    if (!found.count(p)) {
      return InvalidArgument("'" + p + "' is not a live data file of the table's snapshot " +
                             std::to_string(parent_id));
    }
  }

  int64_t added_records = 0, added_size = 0;
  if (!added.empty()) {
    int32_t spec_id = static_cast<int32_t>(m.value("default-spec-id", int64_t{0}));
    LM_ASSIGN_OR_RETURN(PartitionSpec spec, TableSpec(m, spec_id));
    std::vector<ManifestEntry> entries;
    for (const DataFile& f : added) {
      if (f.partition.size() != spec.fields.size()) {
        return InvalidArgument("data file " + f.file_path + " does not match the partition spec");
      }
      ManifestEntry e;
      e.snapshot_id = c.snapshot_id;
      e.file = f;
      entries.push_back(std::move(e));
      added_records += f.record_count;
      added_size += f.file_size_in_bytes;
      std::string key;
      for (const auto& v : f.partition) key += (v ? ToBytes(*v) : "\xff") + '\0';
      partitions.insert(key);
    }
    ManifestFile mf;
    LM_ASSIGN_OR_RETURN(std::string bytes,
                        WriteManifest(*schema, spec, ManifestContent::kData, entries, &mf));
    mf.manifest_path = location + "/metadata/" + uuid + "-m0.avro";
    mf.sequence_number = mf.min_sequence_number = seq;
    mf.added_snapshot_id = c.snapshot_id;
    c.files.push_back({mf.manifest_path, std::move(bytes)});
    list.insert(list.begin(), std::move(mf));
  }
  std::string list_location = location + "/metadata/snap-" + std::to_string(c.snapshot_id) +
                              "-1-" + uuid + ".avro";
  LM_ASSIGN_OR_RETURN(std::string list_file,
                      WriteManifestList(c.snapshot_id, parent_id, seq, list));
  c.files.push_back({list_location, std::move(list_file)});

  const Json* ps = parent->contains("summary") ? &(*parent)["summary"] : nullptr;
  const int64_t n_added = static_cast<int64_t>(added.size());
  const int64_t n_removed = static_cast<int64_t>(removed.size());
  Json summary = {
      {"operation", added.empty() ? "delete" : "overwrite"},
      {"added-data-files", std::to_string(n_added)},
      {"deleted-data-files", std::to_string(n_removed)},
      {"added-records", std::to_string(added_records)},
      {"deleted-records", std::to_string(deleted_records)},
      {"added-files-size", std::to_string(added_size)},
      {"removed-files-size", std::to_string(removed_size)},
      {"changed-partition-count", std::to_string(partitions.size())},
  };
  for (const auto& [k, v] : o.summary) summary[k] = v;
  FinishCommit(c, m, o.branch, parent_id, seq, o.now_ms, list_location, std::move(summary), ps,
               added_records - deleted_records, added_size - removed_size, n_added - n_removed,
               /*guard=*/true);
  return c;
}

std::vector<int64_t> SnapshotsToExpire(const Json& m, const ExpireOptions& o) {
  std::set<int64_t> keep;
  if (m.contains("refs") && m["refs"].is_object()) {
    for (const auto& [name, ref] : m["refs"].items()) {
      int64_t id = ref.value("snapshot-id", int64_t{-1});
      if (ref.value("type", std::string("branch")) != "branch") {
        keep.insert(id);
        continue;
      }
      int kept = 0;
      while (id >= 0) {
        const Json* s = SnapshotById(m, id);
        if (!s) break;
        bool young = s->value("timestamp-ms", int64_t{0}) >= o.older_than_ms;
        if (kept > 0 && kept >= o.retain_last && !young) break;
        keep.insert(id);
        ++kept;
        id = s->value("parent-snapshot-id", int64_t{-1});
      }
    }
  }
  std::vector<int64_t> out;
  if (!m.contains("snapshots") || !m["snapshots"].is_array()) return out;
  for (const Json& s : m["snapshots"]) {
    int64_t id = s.value("snapshot-id", int64_t{-1});
    if (keep.count(id)) continue;
    // A snapshot off every branch's kept history goes once it is old enough.
    if (s.value("timestamp-ms", int64_t{0}) < o.older_than_ms) out.push_back(id);
  }
  return out;
}

Result<PreparedCommit> PrepareCombinedAppends(const Json& base, const Json& ours,
                                              const Json& theirs, int64_t now_ms,
                                              const FileReader& read) {
  if (ours.value("table-uuid", "") != base.value("table-uuid", "") ||
      theirs.value("table-uuid", "") != base.value("table-uuid", "")) {
    return Conflict("the table was replaced on a branch (its uuid differs)");
  }
  for (const char* key : {"schemas", "current-schema-id", "partition-specs", "default-spec-id",
                          "sort-orders", "default-sort-order-id", "properties"}) {
    bool ours_changed = ours.value(key, Json()) != base.value(key, Json());
    bool theirs_changed = theirs.value(key, Json()) != base.value(key, Json());
    if (ours_changed || theirs_changed) {
      std::string what = std::string(key).find("schema") != std::string::npos   ? "schema"
                         : std::string(key).find("spec") != std::string::npos    ? "partitioning"
                         : std::string(key).find("sort") != std::string::npos    ? "sort order"
                                                                                 : "properties";
      return Conflict("the " + what + " changed on " +
                      (ours_changed && theirs_changed ? std::string("both sides")
                       : ours_changed                 ? std::string("the destination")
                                                      : std::string("the source")));
    }
  }
  int64_t base_id = MainSnapshot(base);
  LM_ASSIGN_OR_RETURN(auto our_new, AppendsSince(ours, base_id, "destination"));
  LM_ASSIGN_OR_RETURN(auto their_new, AppendsSince(theirs, base_id, "source"));
  (void)our_new;
  if (their_new.empty()) return Conflict("the source added no snapshot");
  std::set<int64_t> their_ids;
  int64_t added_files = 0, added_records = 0, added_size = 0;
  for (const Json* s : their_new) {
    their_ids.insert((*s)["snapshot-id"].get<int64_t>());
    const Json* sum = s->contains("summary") ? &(*s)["summary"] : nullptr;
    added_files += SummaryLong(sum, "added-data-files");
    added_records += SummaryLong(sum, "added-records");
    added_size += SummaryLong(sum, "added-files-size");
  }

  PreparedCommit c;
  c.snapshot_id = NewSnapshotId(ours);
  while (SnapshotById(theirs, c.snapshot_id)) c.snapshot_id = NewSnapshotId(ours);
  int64_t seq = ours.value("last-sequence-number", int64_t{0}) + 1;

  std::vector<ManifestFile> list;
  int64_t our_head = MainSnapshot(ours);
  const Json* our_snap = our_head >= 0 ? SnapshotById(ours, our_head) : nullptr;
  if (our_snap) {
    LM_ASSIGN_OR_RETURN(auto bytes, read(our_snap->value("manifest-list", std::string())));
    LM_ASSIGN_OR_RETURN(list, ReadManifestList(*bytes));
  }
  const Json& their_head = *their_new.front();
  LM_ASSIGN_OR_RETURN(auto their_bytes, read(their_head.value("manifest-list", std::string())));
  LM_ASSIGN_OR_RETURN(auto their_list, ReadManifestList(*their_bytes));
  for (ManifestFile& mf : their_list) {
    if (!their_ids.count(mf.added_snapshot_id)) continue;  // in the base already
    // Entries added with inherited sequence numbers take the new snapshot's (the spec's way to
    // re-commit a manifest: only the list is rewritten).
    bool inherits = mf.min_sequence_number >= mf.sequence_number;
    mf.sequence_number = seq;
    if (inherits) mf.min_sequence_number = seq;
    mf.added_snapshot_id = c.snapshot_id;
    list.insert(list.begin(), std::move(mf));
  }

  std::string location = ours.value("location", std::string());
  std::string list_location = location + "/metadata/snap-" + std::to_string(c.snapshot_id) +
                              "-1-" + NewUuid() + ".avro";
  LM_ASSIGN_OR_RETURN(std::string list_file,
                      WriteManifestList(c.snapshot_id,
                                        our_head >= 0 ? std::optional<int64_t>(our_head)
                                                      : std::nullopt,
                                        seq, list));
  c.files.push_back({list_location, std::move(list_file)});

  const Json* ps = our_snap && our_snap->contains("summary") ? &(*our_snap)["summary"] : nullptr;
  Json summary = {
      {"operation", "append"},
      {"added-data-files", std::to_string(added_files)},
      {"added-records", std::to_string(added_records)},
      {"added-files-size", std::to_string(added_size)},
      {"lakemesh.combined-snapshot-id",
       std::to_string((*their_new.front())["snapshot-id"].get<int64_t>())},
  };
  FinishCommit(c, ours, "main",
               our_head >= 0 ? std::optional<int64_t>(our_head) : std::nullopt, seq, now_ms,
               list_location, std::move(summary), ps, added_records, added_size, added_files,
               /*guard=*/false);
  return c;
}

}  // namespace lakemesh::table
