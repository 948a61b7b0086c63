#include "catalog/catalog.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <set>
#include <unordered_set>

#include "base/hash.h"
#include "base/json_depth.h"
#include "base/random.h"
#include "base/time.h"
#include "table/metadata.h"
#include "table/operations.h"
#include "table/view.h"
#include "versioning/names.h"

namespace lakemesh::catalog {
namespace {

using versioning::Entry;
using versioning::Mutation;

constexpr const char* kCatalogDir = "_catalog/";
constexpr const char* kNamespaceFile = ".namespace.json";
constexpr const char* kTableSuffix = ".metadata.json";
constexpr const char* kViewSuffix = ".view.json";
constexpr const char* kLocationKey = "iceberg-metadata-location";
constexpr int kCommitAttempts = 16;  // retries when another table's commit moved the branch

Status CheckName(const std::string& name, const char* what) {
  if (name.empty()) return InvalidArgument(std::string(what) + " name is empty");
  if (name.size() > 255) {
    return InvalidArgument(std::string(what) + " name '" + name.substr(0, 40) +
                           "...' is longer than 255 bytes");
  }
  for (char c : name) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument(std::string(what) + " name '" + name +
                             "' contains '/' or a control character");
    }
  }
  if (name.front() == '.') {
    return InvalidArgument(std::string(what) + " name '" + name + "' starts with '.'");
  }
  return Status::OK();
}

Status CheckNamespaceName(const Namespace& ns) {
  if (ns.empty()) return InvalidArgument("namespace is empty");
  for (size_t i = 1; i < ns.size(); ++i) LM_TRY(CheckName(ns[i], "namespace"));
  return versioning::ValidateRepoName(ns[0]);
}

// "_catalog/" + n2/.../ for a namespace's directory in its repository.
std::string NamespaceDir(const Namespace& ns) {
  std::string d = kCatalogDir;
  for (size_t i = 1; i < ns.size(); ++i) d += ns[i] + "/";
  return d;
}

std::string TablePath(const TableIdent& t) { return NamespaceDir(t.ns) + t.name + kTableSuffix; }

// The number a metadata file's name starts with ("00003-<uuid>.metadata.json" -> 3); 0 if none.
size_t FileNumber(const std::string& location) {
  size_t slash = location.rfind('/');
  size_t i = slash == std::string::npos ? 0 : slash + 1, n = 0;
  while (i < location.size() && location[i] >= '0' && location[i] <= '9') {
    n = n * 10 + (location[i++] - '0');
  }
  return n;
}

// Options of a catalog commit: who, why, what it touched, and the head it was computed at.
versioning::CommitOptions Options(const std::string& author, std::string message,
                                  const std::string& what, const std::string& name,
                                  const std::string& operation, const std::string& head) {
  versioning::CommitOptions o;
  o.author = author;
  o.message = std::move(message);
  o.metadata["iceberg." + what] = name;
  if (!operation.empty()) o.metadata["iceberg.operation"] = operation;
  o.expected_head = head;
  return o;
}

// After one optimistic attempt: the final status, or nullopt to try again (the branch moved).
template <typename T>
std::optional<Status> Settled(const Result<T>& r, int attempt) {
  if (r.ok()) return Status::OK();
  if (r.status().code() != ErrorCode::kConflict || attempt + 1 >= kCommitAttempts) {
    return r.status();
  }
  return std::nullopt;
}

std::string Describe(const Json& updates) {
  // A short account of a table commit for the repository log.
  std::string op;
  std::set<std::string> actions;
  for (const Json& u : updates) {
    std::string a = u.value("action", std::string());
    if (a == "add-snapshot" && u.contains("snapshot")) {
      op = u["snapshot"].value("summary", Json::object()).value("operation", std::string());
    }
    actions.insert(a);
  }
  if (!op.empty()) return op;
  std::string out;
  for (const auto& a : actions) out += (out.empty() ? "" : ", ") + a;
  return out.empty() ? "no changes" : out;
}

}  // namespace

std::string ToString(const Namespace& ns) {
  std::string s;
  for (const auto& p : ns) s += (s.empty() ? "" : ".") + p;
  return s;
}

std::string ToString(const TableIdent& t) { return ToString(t.ns) + "." + t.name; }

const char* Catalog::Suffix(Kind k) { return k == Kind::kTable ? kTableSuffix : kViewSuffix; }
const char* Catalog::KindName(Kind k) { return k == Kind::kTable ? "table" : "view"; }
std::string Catalog::Missing(Kind k) {
  return k == Kind::kTable ? "Table does not exist: " : "View does not exist: ";
}
std::string Catalog::ObjectPath(const TableIdent& t, Kind k) {
  return NamespaceDir(t.ns) + t.name + Suffix(k);
}

struct Catalog::Pointer {
  Entry entry;
  std::string location;
  Json metadata;
};

Catalog::Catalog(versioning::Repositories& repos, storage::BlobStore& blobs)
    : repos_(repos), blobs_(blobs) {
  repos_.SetMergeResolver([this](const std::string& repo, const std::string& path,
                                 const std::optional<Entry>& base, const std::optional<Entry>& ours,
                                 const std::optional<Entry>& theirs) {
    return ResolveTableMerge(repo, path, base, ours, theirs);
  });
  repos_.SetGcExpander(
      [this](std::unordered_set<std::string>* live) { return AddLiveTableFiles(live); });
}

Status Catalog::AddLiveTableFiles(std::unordered_set<std::string>* live) {
  const std::string json = ".metadata.json";
  std::vector<std::string> metadata_keys;
  for (const auto& k : *live) {
    if (k.compare(0, 7, "tables/") == 0 && k.size() > json.size() &&
        k.compare(k.size() - json.size(), json.size(), json) == 0) {
      metadata_keys.push_back(k);
    }
  }
  std::unordered_set<std::string> lists_done, manifests_done;
  // Locations of files lakemesh does not store (another bucket) are not ours to keep or delete.
  auto add = [&](const std::string& location) -> std::optional<std::string> {
    auto key = BlobKeyForLocation(location);
    if (!key.ok()) return std::nullopt;
    live->insert(*key);
    return *key;
  };
  auto read = [this](const std::string& key) -> Result<std::string> {
    // Not through the cache: a GC pass reads many files once.
    return storage::ReadAll(blobs_, key);
  };
  for (const std::string& key : metadata_keys) {
    LM_ASSIGN_OR_RETURN(auto metadata, ReadParsed(key));
    const Json& m = *metadata;
    for (const char* stats : {"statistics", "partition-statistics"}) {
      for (const Json& s : m.value(stats, Json::array())) {
        if (s.contains("statistics-path") && s["statistics-path"].is_string()) {
          add(s["statistics-path"].get<std::string>());
        }
      }
    }
    for (const Json& snap : m.value("snapshots", Json::array())) {
      std::string list_location = snap.value("manifest-list", std::string());
      auto list_key = add(list_location);
      if (!list_key || !lists_done.insert(*list_key).second) continue;
      auto list_bytes = read(*list_key);
      if (!list_bytes.ok()) return list_bytes.status().WithContext("GC reading " + list_location);
      auto manifests = table::ReadManifestList(*list_bytes);
      if (!manifests.ok()) return manifests.status().WithContext("GC reading " + list_location);
      for (const auto& mf : *manifests) {
        auto mkey = add(mf.manifest_path);
        if (!mkey || !manifests_done.insert(*mkey).second) continue;
        auto bytes = read(*mkey);
        if (!bytes.ok()) return bytes.status().WithContext("GC reading " + mf.manifest_path);
        LM_ASSIGN_OR_RETURN(auto spec, table::TableSpec(m, mf.partition_spec_id));
        auto entries = table::ReadManifest(*bytes, mf, spec);
        if (!entries.ok()) return entries.status().WithContext("GC reading " + mf.manifest_path);
        // DELETED entries are left out: a snapshot that still reads such a file reaches it
        // through a manifest of its own, which this walk visits too.
        for (const auto& e : *entries) {
          if (e.status != table::EntryStatus::kDeleted) add(e.file.file_path);
        }
      }
    }
  }
  return Status::OK();
}

Result<versioning::MergeResolution> Catalog::ResolveTableMerge(
    const std::string& repo, const std::string& path, const std::optional<Entry>& base,
    const std::optional<Entry>& ours, const std::optional<Entry>& theirs) {
  versioning::MergeResolution r;
  const std::string prefix = "_catalog/", suffix = Suffix(Kind::kTable);
  if (path.compare(0, prefix.size(), prefix) != 0 || path.size() < suffix.size() ||
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return r;  // not a table: no opinion
  }
  if (!base) {
    r.reason = "a table of this name was created on both branches";
    return r;
  }
  if (!ours || !theirs) {
    r.reason = "the table was dropped on one branch and changed on the other";
    return r;
  }
  auto location = ours->metadata.find(kLocationKey);
  if (location == ours->metadata.end()) return Internal("catalog entry '" + path + "' has no location");
  LM_ASSIGN_OR_RETURN(Json base_m, ReadJsonEntry(*base));
  LM_ASSIGN_OR_RETURN(Json ours_m, ReadJsonEntry(*ours));
  LM_ASSIGN_OR_RETURN(Json theirs_m, ReadJsonEntry(*theirs));
  const int64_t now_ms = NowMicros() / 1000;
  auto c = table::PrepareCombinedAppends(base_m, ours_m, theirs_m, now_ms,
                                         [this](const std::string& loc) { return ReadTableFile(loc); });
  if (!c.ok()) {
    if (!c.status().IsConflict()) return c.status();
    r.reason = c.status().message();
    return r;
  }
  for (const auto& f : c->files) LM_TRY(WriteTableFile(f.location, f.bytes));
  Json merged = ours_m;
  LM_TRY(table::ApplyUpdates(merged, c->updates, now_ms));
  merged["metadata-log"].push_back(
      {{"metadata-file", location->second},
       {"timestamp-ms", ours_m.value("last-updated-ms", now_ms)}});
  LM_TRY(table::ValidateMetadata(merged));
  std::string new_location;
  LM_ASSIGN_OR_RETURN(Entry e, WriteMetadata(repo, merged, FileNumber(location->second) + 1,
                                             &new_location));
  r.resolved = true;
  r.entry = std::move(e);
  return r;
}

std::string Catalog::TableLocation(const std::string& repo, const std::string& table_uuid) {
  return "s3://" + repo + "/" + kTablesRef + "/" + table_uuid;
}

Result<versioning::ObjectInfo> Catalog::StatTableFile(const std::string& repo,
                                                     const std::string& path) {
  auto key = BlobKeyForLocation(TableLocation(repo, path));
  if (!key.ok()) return NotFound("no table file '" + path + "' in '" + repo + "'");
  LM_ASSIGN_OR_RETURN(storage::BlobInfo info, blobs_.Stat(*key));
  Entry e;
  e.address = *key;
  e.size = info.size;
  // The file at a key never changes, so neither does its tag. It is not the content's MD5 (that
  // would take reading the file); the "-1" suffix tells clients so, as for multipart uploads.
  e.etag = ToHex(Md5(*key)) + "-1";
  e.mtime_micros = info.mtime_micros;
  const std::string json = ".json";
  e.content_type = path.size() > json.size() &&
                           path.compare(path.size() - json.size(), json.size(), json) == 0
                       ? "application/json"
                       : "application/octet-stream";
  return versioning::ObjectInfo{path, std::move(e)};
}

Result<versioning::ObjectInfo> Catalog::PutTableFile(
    const std::string& repo, const std::string& path,
    std::unique_ptr<versioning::ObjectUpload> upload, const versioning::PutOptions& opts) {
  size_t slash = path.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == path.size()) {
    return InvalidArgument("table files go under a table's location: s3://" + repo + "/" +
                           kTablesRef + "/<table-uuid>/<path>");
  }
  auto key = BlobKeyForLocation(TableLocation(repo, path));
  if (!key.ok()) {
    return InvalidArgument("'" + path + "' is not a usable table file path (segments of A-Z, "
                           "a-z, 0-9, '.', '_' and '-', none starting with '.')");
  }
  if (blobs_.Stat(*key).ok()) {
    return AlreadyExists("table file " + TableLocation(repo, path) +
                         " exists; table files are written once");
  }
  LM_TRY(upload->Finish().status());
  Entry e = upload->MakeEntry(*key, opts);
  LM_TRY(upload->Commit(*key));
  return versioning::ObjectInfo{path, std::move(e)};
}

Result<std::string> Catalog::BlobKeyForLocation(const std::string& uri) {
  const std::string scheme = "s3://";
  auto outside = [&] {
    return InvalidArgument("'" + uri + "' is not a table file stored by lakemesh (s3://<domain>/" +
                           kTablesRef + "/...)");
  };
  if (uri.compare(0, scheme.size(), scheme) != 0) return outside();
  size_t slash = uri.find('/', scheme.size());
  if (slash == std::string::npos) return outside();
  std::string repo = uri.substr(scheme.size(), slash - scheme.size());
  std::string rest = uri.substr(slash + 1);
  std::string tables = std::string(kTablesRef) + "/";
  if (rest.compare(0, tables.size(), tables) != 0) return outside();
  std::string key = "tables/" + repo + "/" + rest.substr(tables.size());
  if (!storage::ValidateBlobKey(key).ok()) return outside();
  return key;
}

Result<std::string> Catalog::HeadOf(const std::string& repo, const std::string& branch) {
  auto br = repos_.GetBranch(repo, branch);
  if (!br.ok()) {
    if (br.status().IsNotFound()) {
      // A tag or a commit is read-only; anything else does not exist.
      if (repos_.Resolve(repo, branch).ok()) {
        return InvalidArgument("'" + branch + "' is not a branch of '" + repo +
                               "': tables change only on branches (tags and commits are "
                               "read-only)");
      }
    }
    return br.status();
  }
  return br->head;
}

Result<std::shared_ptr<const std::string>> Catalog::ReadFile(const std::string& address) {
  if (auto hit = files_.Get(address)) return hit;
  LM_ASSIGN_OR_RETURN(std::string bytes, storage::ReadAll(blobs_, address));
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  files_.Put(address, shared, shared->size() + address.size());
  return shared;
}

Result<std::shared_ptr<const Json>> Catalog::ReadParsed(const std::string& address) {
  if (auto hit = parsed_.Get(address)) return hit;
  LM_ASSIGN_OR_RETURN(auto bytes, ReadFile(address));
  auto j = std::make_shared<Json>(Json::parse(*bytes, nullptr, /*allow_exceptions=*/false));
  if (j->is_discarded()) return Internal("catalog file " + address + " is not valid JSON");
  // Metadata files can come from engines (registerTable): refuse what no walk should recurse.
  if (JsonDeeperThan(*j, kMaxJsonDepth)) {
    return InvalidArgument("catalog file " + address + " nests more than " +
                           std::to_string(kMaxJsonDepth) + " levels deep");
  }
  parsed_.Put(address, j, 4 * bytes->size() + address.size());
  return std::shared_ptr<const Json>(std::move(j));
}

Result<Json> Catalog::ReadJsonEntry(const Entry& e) {
  LM_ASSIGN_OR_RETURN(auto parsed, ReadParsed(e.address));
  return *parsed;
}

Result<std::optional<Catalog::Pointer>> Catalog::ReadPointer(const std::string& repo,
                                                             const std::string& commit,
                                                             const std::string& path) {
  auto info = repos_.StatObject(repo, commit, path);
  if (!info.ok()) {
    if (info.status().IsNotFound()) {
      // The ref itself missing is an error; only a missing object means "no table".
      LM_TRY(repos_.Resolve(repo, commit).status());
      return std::optional<Pointer>();
    }
    return info.status();
  }
  Pointer p;
  p.entry = info->entry;
  auto loc = p.entry.metadata.find(kLocationKey);
  if (loc == p.entry.metadata.end()) {
    return Internal("catalog entry '" + path + "' has no " + kLocationKey);
  }
  p.location = loc->second;
  LM_ASSIGN_OR_RETURN(p.metadata, ReadJsonEntry(p.entry));
  return std::optional<Pointer>(std::move(p));
}

Result<Entry> Catalog::WriteMetadata(const std::string& repo, const Json& metadata,
                                     size_t version, std::string* location,
                                     std::shared_ptr<const std::string>* out_bytes) {
  const std::string uuid = metadata.value("table-uuid", metadata.value("view-uuid", std::string()));
  char prefix[16];
  std::snprintf(prefix, sizeof(prefix), "%05zu-", version);
  std::string file = std::string(prefix) + NewUuid() + ".metadata.json";
  std::string base = metadata.value("location", TableLocation(repo, uuid));
  *location = base + "/metadata/" + file;
  LM_ASSIGN_OR_RETURN(std::string key, BlobKeyForLocation(*location));
  auto bytes = std::make_shared<const std::string>(metadata.dump());
  LM_TRY(storage::WriteAll(blobs_, key, *bytes));
  Entry e;
  e.address = key;
  e.size = bytes->size();
  e.etag = ToHex(Md5(*bytes));
  e.mtime_micros = NowMicros();
  e.content_type = "application/json";
  e.metadata[kLocationKey] = *location;
  // The next load (or commit) of this version finds it without reading or parsing the file.
  files_.Put(key, bytes, bytes->size() + key.size());
  parsed_.Put(key, std::make_shared<const Json>(metadata), 4 * bytes->size() + key.size());
  if (out_bytes) *out_bytes = std::move(bytes);
  return e;
}

Result<Entry> Catalog::WriteProperties(const Json& props) {
  std::string bytes = props.dump();
  Entry e;
  e.address = versioning::ContentAddress(ToHex(Sha256(bytes)));
  LM_TRY(storage::WriteAll(blobs_, e.address, bytes));
  e.size = bytes.size();
  e.etag = ToHex(Md5(bytes));
  e.mtime_micros = NowMicros();
  e.content_type = "application/json";
  return e;
}

Status Catalog::CheckNamespace(const std::string& repo, const std::string& ref,
                               const Namespace& ns) {
  LM_TRY(CheckNamespaceName(ns));
  auto r = repos_.Resolve(repo, ref);
  if (!r.ok()) {
    if (r.status().IsNotFound() && !repos_.GetRepo(repo).ok()) {
      return NotFound("Namespace does not exist: " + repo);
    }
    return r.status();
  }
  if (ns.size() == 1) return Status::OK();
  auto marker = repos_.StatObject(repo, ref, NamespaceDir(ns) + kNamespaceFile);
  if (!marker.ok()) {
    if (marker.status().IsNotFound()) return NotFound("Namespace does not exist: " + ToString(ns));
    return marker.status();
  }
  return Status::OK();
}

// --- namespaces -------------------------------------------------------------------------------

Result<std::vector<Namespace>> Catalog::ListNamespaces(const std::string& ref,
                                                       const Namespace& parent) {
  std::vector<Namespace> out;
  if (parent.empty()) {
    std::string after;
    while (true) {
      LM_ASSIGN_OR_RETURN(auto repos, repos_.ListRepos(after, 1000));
      for (const auto& r : repos) out.push_back({r.name});
      if (repos.size() < 1000) break;
      after = repos.back().name;
    }
    return out;
  }
  const std::string& repo = parent[0];
  LM_TRY(CheckNamespace(repo, ref, parent));
  versioning::ListOptions opts;
  opts.prefix = NamespaceDir(parent);
  opts.delimiter = "/";
  while (true) {
    LM_ASSIGN_OR_RETURN(auto page, repos_.ListObjects(repo, ref, opts));
    for (const auto& p : page.common_prefixes) {
      Namespace child = parent;
      child.push_back(p.substr(opts.prefix.size(), p.size() - opts.prefix.size() - 1));
      out.push_back(std::move(child));
    }
    if (!page.truncated) break;
    opts.after = page.next_after;
  }
  return out;
}

Result<Json> Catalog::CreateNamespace(const std::string& ref, const Namespace& ns,
                                      const Json& properties, const std::string& author) {
  LM_TRY(CheckNamespaceName(ns));
  Json props = properties.is_null() ? Json::object() : properties;
  if (!props.is_object()) return InvalidArgument("namespace properties must be an object");
  for (const auto& [k, v] : props.items()) {
    if (!v.is_string()) return InvalidArgument("namespace property '" + k + "' must be a string");
  }
  const std::string& repo = ns[0];
  if (ns.size() == 1) {
    if (repos_.GetRepo(repo).ok()) return AlreadyExists("Namespace already exists: " + repo);
    const std::string default_branch = "main";
    LM_TRY(versioning::ValidateRefName(ref, "branch"));
    LM_TRY(repos_.CreateRepo(repo, default_branch, author).status());
    if (ref != default_branch) LM_TRY(repos_.CreateBranch(repo, ref, default_branch).status());
    if (props.empty()) return props;
  } else {
    Namespace parent(ns.begin(), ns.end() - 1);
    LM_TRY(CheckNamespace(repo, ref, parent));
    if (CheckNamespace(repo, ref, ns).ok()) {
      return AlreadyExists("Namespace already exists: " + ToString(ns));
    }
  }
  LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
  LM_ASSIGN_OR_RETURN(Entry e, WriteProperties(props));
  auto opts = Options(author, "Create namespace " + ToString(ns), "namespace", ToString(ns), "",
                      head);
  auto c = repos_.CommitChanges(repo, ref, {Mutation{NamespaceDir(ns) + kNamespaceFile, e}}, opts);
  if (!c.ok()) {
    if (c.status().code() == ErrorCode::kConflict && CheckNamespace(repo, ref, ns).ok()) {
      return AlreadyExists("Namespace already exists: " + ToString(ns));
    }
    return c.status();
  }
  return props;
}

Result<Json> Catalog::LoadNamespace(const std::string& ref, const Namespace& ns) {
  LM_TRY(CheckNamespace(ns.empty() ? "" : ns[0], ref, ns));
  auto marker = repos_.StatObject(ns[0], ref, NamespaceDir(ns) + kNamespaceFile);
  if (!marker.ok()) {
    if (marker.status().IsNotFound()) return Json::object();  // a domain without properties
    return marker.status();
  }
  return ReadJsonEntry(marker->entry);
}

Status Catalog::DropNamespace(const std::string& ref, const Namespace& ns,
                              const std::string& author) {
  LM_TRY(CheckNamespace(ns.empty() ? "" : ns[0], ref, ns));
  const std::string& repo = ns[0];
  versioning::ListOptions opts;
  opts.prefix = ns.size() == 1 ? "" : NamespaceDir(ns);
  opts.limit = 2;
  LM_ASSIGN_OR_RETURN(auto page, repos_.ListObjects(repo, ref, opts));
  const std::string marker = NamespaceDir(ns) + kNamespaceFile;
  for (const auto& o : page.objects) {
    if (o.path != marker) {
      return Conflict("Namespace " + ToString(ns) + " is not empty: it holds '" + o.path + "'");
    }
  }
  if (ns.size() == 1) {
    // The domain's repository goes, with every branch; only when no branch holds anything.
    LM_ASSIGN_OR_RETURN(auto branches, repos_.ListBranches(repo, "", 1000));
    for (const auto& b : branches) {
      versioning::ListOptions any;
      any.limit = 2;
      LM_ASSIGN_OR_RETURN(auto p, repos_.ListObjects(repo, b.name, any));
      for (const auto& o : p.objects) {
        if (o.path != marker) {
          return Conflict("Namespace " + repo + " is not empty: branch '" + b.name +
                          "' holds '" + o.path + "'");
        }
      }
    }
    return repos_.DeleteRepo(repo);
  }
  LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
  return repos_
      .CommitChanges(repo, ref, {Mutation{marker, std::nullopt}},
                     Options(author, "Drop namespace " + ToString(ns), "namespace", ToString(ns),
                             "", head))
      .status();
}

Result<NamespacePropertiesResult> Catalog::UpdateNamespaceProperties(
    const std::string& ref, const Namespace& ns, const std::vector<std::string>& removals,
    const Json& updates, const std::string& author) {
  if (!updates.is_null() && !updates.is_object()) {
    return InvalidArgument("'updates' must be an object of strings");
  }
  for (const auto& r : removals) {
    if (updates.is_object() && updates.contains(r)) {
      return InvalidArgument("property '" + r + "' is both updated and removed");
    }
  }
  const std::string& repo = ns.empty() ? std::string() : ns[0];
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(Json props, LoadNamespace(ref, ns));
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    NamespacePropertiesResult res;
    for (const auto& r : removals) {
      if (props.erase(r)) {
        res.removed.push_back(r);
      } else {
        res.missing.push_back(r);
      }
    }
    if (updates.is_object()) {
      for (const auto& [k, v] : updates.items()) {
        if (!v.is_string()) return InvalidArgument("property '" + k + "' must be a string");
        props[k] = v;
        res.updated.push_back(k);
      }
    }
    LM_ASSIGN_OR_RETURN(Entry e, WriteProperties(props));
    auto c = repos_.CommitChanges(
        repo, ref, {Mutation{NamespaceDir(ns) + kNamespaceFile, e}},
        Options(author, "Update properties of namespace " + ToString(ns), "namespace",
                ToString(ns), "", head));
    if (auto done = Settled(c, attempt)) {
      if (!done->ok()) return *done;
      return res;
    }
  }
}

// --- tables -----------------------------------------------------------------------------------

Result<std::vector<std::string>> Catalog::ListNames(const std::string& ref, const Namespace& ns,
                                                   Kind kind) {
  LM_TRY(CheckNamespace(ns.empty() ? "" : ns[0], ref, ns));
  versioning::ListOptions opts;
  opts.prefix = NamespaceDir(ns);
  opts.delimiter = "/";
  std::vector<std::string> out;
  const std::string suffix = Suffix(kind);
  while (true) {
    LM_ASSIGN_OR_RETURN(auto page, repos_.ListObjects(ns[0], ref, opts));
    for (const auto& o : page.objects) {
      std::string name = o.path.substr(opts.prefix.size());
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(name.substr(0, name.size() - suffix.size()));
      }
    }
    if (!page.truncated) break;
    opts.after = page.next_after;
  }
  return out;
}

Result<std::vector<std::string>> Catalog::ListTables(const std::string& ref, const Namespace& ns) {
  return ListNames(ref, ns, Kind::kTable);
}

Result<std::vector<std::string>> Catalog::ListViews(const std::string& ref, const Namespace& ns) {
  return ListNames(ref, ns, Kind::kView);
}

Result<LoadedTable> Catalog::CreateTable(const std::string& ref, const Namespace& ns,
                                         const Json& request, bool stage,
                                         const std::string& author) {
  if (!request.is_object()) return InvalidArgument("the request must be a JSON object");
  auto name_it = request.find("name");
  if (name_it == request.end() || !name_it->is_string()) {
    return InvalidArgument("'name' must be a string");
  }
  TableIdent t{ns, name_it->get<std::string>()};
  LM_TRY(CheckName(t.name, "table"));
  LM_TRY(CheckNamespace(ns.empty() ? "" : ns[0], ref, ns));
  if (!request.contains("schema")) return InvalidArgument("'schema' is missing");
  const std::string& repo = ns[0];
  table::NewTable nt;
  nt.schema = request["schema"];
  nt.partition_spec = request.value("partition-spec", Json());
  nt.write_order = request.value("write-order", Json());
  nt.properties = request.value("properties", Json());
  nt.uuid = NewUuid();
  nt.location = TableLocation(repo, nt.uuid);
  nt.now_ms = NowMicros() / 1000;
  if (auto loc = request.find("location"); loc != request.end() && !loc->is_null()) {
    return InvalidArgument("lakemesh chooses table locations (under s3://" + repo + "/" +
                           kTablesRef + "/); create the table without 'location'");
  }
  LM_ASSIGN_OR_RETURN(Json metadata, table::NewTableMetadata(nt));
  if (stage) {
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    LM_TRY(CheckNameFree(repo, head, t));
    return LoadedTable{"", std::move(metadata), nullptr};
  }
  // A creation commits the new metadata where no table is.
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    LM_TRY(CheckNameFree(repo, head, t));
    std::string location;
    LM_ASSIGN_OR_RETURN(Entry e, WriteMetadata(repo, metadata, 1, &location));
    auto commit = repos_.CommitChanges(
        repo, ref, {Mutation{TablePath(t), e}},
        Options(author, "Create table " + ToString(t), "table", ToString(t), "create", head));
    if (commit.ok()) return LoadedTable{location, std::move(metadata), nullptr};
    blobs_.Delete(e.address).IgnoreError();
    if (auto done = Settled(commit, attempt)) return *done;
  }
}

Result<RawTable> Catalog::LoadTableRaw(const std::string& ref, const TableIdent& t) {
  LM_TRY(CheckName(t.name, "table"));
  LM_TRY(CheckNamespaceName(t.ns));
  // The common case first: the table is there. Only a miss needs to say what is missing.
  auto info = repos_.StatObject(t.ns[0], ref, TablePath(t));
  if (!info.ok()) {
    if (!info.status().IsNotFound()) return info.status();
    LM_TRY(CheckNamespace(t.ns[0], ref, t.ns));
    return NotFound("Table does not exist: " + ToString(t));
  }
  auto loc = info->entry.metadata.find(kLocationKey);
  if (loc == info->entry.metadata.end()) {
    return Internal("catalog entry for " + ToString(t) + " has no " + kLocationKey);
  }
  LM_ASSIGN_OR_RETURN(auto json, ReadFile(info->entry.address));
  return RawTable{loc->second, std::move(json)};
}

Result<LoadedTable> Catalog::LoadTable(const std::string& ref, const TableIdent& t) {
  LM_TRY(CheckName(t.name, "table"));
  LM_TRY(CheckNamespace(t.ns.empty() ? "" : t.ns[0], ref, t.ns));
  LM_ASSIGN_OR_RETURN(auto p, ReadPointer(t.ns[0], ref, TablePath(t)));
  if (!p) return NotFound("Table does not exist: " + ToString(t));
  return LoadedTable{p->location, std::move(p->metadata), nullptr};
}

Result<LoadedTable> Catalog::CommitTable(const std::string& ref, const TableCommit& c,
                                         const std::string& author) {
  std::vector<LoadedTable> out;
  LM_TRY(CommitTransaction(ref, {c}, author, &out));
  return std::move(out[0]);
}

Status Catalog::CommitTransaction(const std::string& ref, const std::vector<TableCommit>& commits,
                                  const std::string& author, std::vector<LoadedTable>* results) {
  if (commits.empty()) return InvalidArgument("a transaction needs at least one table change");
  const std::string repo = commits[0].ident.ns.empty() ? "" : commits[0].ident.ns[0];
  std::set<std::string> paths;
  for (const auto& c : commits) {
    LM_TRY(CheckName(c.ident.name, "table"));
    LM_TRY(CheckNamespaceName(c.ident.ns));
    if (c.ident.ns[0] != repo) {
      return InvalidArgument("a transaction commits tables of one domain; it names '" + repo +
                             "' and '" + c.ident.ns[0] + "'");
    }
    if (!paths.insert(TablePath(c.ident)).second) {
      return InvalidArgument("table " + ToString(c.ident) + " appears twice in the transaction");
    }
  }
  // The commits' table files are written (and synced) while the metadata is prepared; they are
  // removed again unless the commit lands.
  struct FileWrites {
    Catalog* catalog;
    std::vector<std::pair<std::string, std::future<Status>>> pending;
    std::vector<std::string> done;  // locations this commit wrote
    bool keep = false;
    Status Join() {
      Status st;
      for (auto& [location, f] : pending) {
        Status s = f.get();
        if (s.ok()) done.push_back(location);
        if (st.ok()) st = s;
      }
      pending.clear();
      return st;
    }
    ~FileWrites() {
      Join().IgnoreError();
      if (keep) return;
      for (const auto& location : done) {
        if (auto key = BlobKeyForLocation(location); key.ok()) {
          catalog->blobs_.Delete(*key).IgnoreError();
        }
      }
    }
  } files{this, {}, {}, false};
  for (const auto& c : commits) {
    for (const auto& f : c.files) {
      files.pending.emplace_back(f.location, std::async(std::launch::async, [this, &f] {
        return WriteTableFile(f.location, f.bytes);
      }));
    }
  }
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    std::vector<Mutation> mutations;
    std::vector<LoadedTable> committed;
    std::vector<std::string> written;
    std::string message;
    const int64_t now_ms = NowMicros() / 1000;
    // Passes `s` through; on an error (or `always`), first deletes the files written so far.
    auto fail = [&](Status s, bool always = false) {
      if (!s.ok() || always) {
        for (const auto& k : written) blobs_.Delete(k).IgnoreError();
      }
      return s;
    };
    for (const auto& c : commits) {
      const std::string path = TablePath(c.ident);
      LM_ASSIGN_OR_RETURN(auto current, ReadPointer(repo, head, path));
      bool creating = false;
      if (c.requirements.is_array()) {
        for (const Json& r : c.requirements) {
          if (r.is_object() && r.value("type", std::string()) == "assert-create") creating = true;
        }
      }
      if (!current && !creating) {
        LM_TRY(fail(CheckNamespace(repo, head, c.ident.ns)));
        return fail(NotFound("Table does not exist: " + ToString(c.ident)));
      }
      if (creating) LM_TRY(fail(CheckNamespace(repo, head, c.ident.ns)));
      LM_TRY(fail(table::CheckRequirements(current ? &current->metadata : nullptr,
                                           c.requirements)));
      Json metadata = current ? current->metadata : Json::object();
      if (!current) {
        // A staged creation: the updates carry the whole table (assign-uuid, add-schema, ...).
        metadata = {{"format-version", table::kFormatVersion},
                    {"last-sequence-number", 0},
                    {"last-updated-ms", now_ms},
                    {"last-column-id", 0},
                    {"current-schema-id", 0},
                    {"default-spec-id", 0},
                    {"last-partition-id", table::kPartitionIdBase},
                    {"default-sort-order-id", 0},
                    {"current-snapshot-id", -1}};
      }
      LM_TRY(fail(table::ApplyUpdates(metadata, c.updates, now_ms)));
      if (!current) {
        if (!metadata.contains("table-uuid")) metadata["table-uuid"] = NewUuid();
        std::string want = TableLocation(repo, metadata["table-uuid"].get<std::string>());
        if (metadata.contains("location") && metadata["location"] != want) {
          return fail(InvalidArgument("lakemesh chooses table locations: this table's is " + want));
        }
        metadata["location"] = want;
      } else {
        if (metadata["location"] != current->metadata["location"]) {
          return fail(InvalidArgument("the location of a lakemesh table cannot change"));
        }
        if (metadata == current->metadata) {  // nothing changed: no new file
          committed.push_back(LoadedTable{current->location, std::move(metadata), nullptr});
          continue;
        }
        // The previous file joins the metadata log (at most write.metadata.previous-versions-max).
        Json& log = metadata["metadata-log"];
        log.push_back({{"metadata-file", current->location},
                       {"timestamp-ms", current->metadata.value("last-updated-ms", now_ms)}});
        size_t keep = 100;
        if (auto it = metadata["properties"].find("write.metadata.previous-versions-max");
            it != metadata["properties"].end() && it->is_string()) {
          keep = std::max<long long>(1, std::atoll(it->get<std::string>().c_str()));
        }
        if (log.size() > keep) log.erase(log.begin(), log.begin() + (log.size() - keep));
      }
      LM_TRY(fail(table::ValidateMetadata(metadata)));
      std::string location;
      std::shared_ptr<const std::string> raw;
      size_t version = current ? FileNumber(current->location) + 1 : 1;
      auto e = WriteMetadata(repo, metadata, version, &location, &raw);
      if (!e.ok()) return fail(e.status());
      written.push_back(e->address);
      mutations.push_back(Mutation{path, std::move(*e)});
      committed.push_back(LoadedTable{location, std::move(metadata), std::move(raw)});
      message += (message.empty() ? "" : "; ") + std::string(current ? "" : "create ") +
                 ToString(c.ident) + ": " + Describe(c.updates);
    }
    if (Status st = files.Join(); !st.ok()) return fail(st);
    if (mutations.empty()) {
      files.keep = true;
      if (results) *results = std::move(committed);
      return Status::OK();
    }
    std::sort(mutations.begin(), mutations.end(),
              [](const Mutation& a, const Mutation& b) { return a.path < b.path; });
    auto opts = Options(author, "Iceberg commit: " + message, "table",
                        commits.size() == 1 ? ToString(commits[0].ident) : "", "", head);
    if (commits.size() > 1) opts.metadata.erase("iceberg.table");
    auto commit = repos_.CommitChanges(repo, ref, mutations, opts);
    if (commit.ok()) {
      files.keep = true;
      if (results) *results = std::move(committed);
      return Status::OK();
    }
    fail(Status::OK(), /*always=*/true).IgnoreError();
    if (auto done = Settled(commit, attempt)) return *done;
    // The branch moved: re-read and re-check. A change to one of these tables now fails its
    // requirements; a change elsewhere on the branch just retries.
  }
}

Result<std::shared_ptr<const std::string>> Catalog::ReadTableFile(const std::string& location) {
  LM_ASSIGN_OR_RETURN(std::string key, BlobKeyForLocation(location));
  auto bytes = ReadFile(key);
  if (!bytes.ok() && bytes.status().IsNotFound()) {
    return NotFound("table file " + location + " does not exist");
  }
  return bytes;
}

Status Catalog::WriteTableFile(const std::string& location, std::string_view bytes) {
  LM_ASSIGN_OR_RETURN(std::string key, BlobKeyForLocation(location));
  if (blobs_.Stat(key).ok()) {
    return AlreadyExists("table file " + location + " exists; table files are written once");
  }
  return storage::WriteAll(blobs_, key, bytes);
}

Status Catalog::WriteTableFileFrom(const std::string& location, const std::string& local_path) {
  LM_ASSIGN_OR_RETURN(std::string key, BlobKeyForLocation(location));
  if (blobs_.Stat(key).ok()) {
    return AlreadyExists("table file " + location + " exists; table files are written once");
  }
  std::FILE* f = std::fopen(local_path.c_str(), "rb");
  if (!f) return IoError("opening " + local_path + ": " + std::strerror(errno));
  LM_ASSIGN_OR_RETURN(auto w, blobs_.NewWriter());
  std::string buf(1 << 20, '\0');
  Status st;
  while (st.ok()) {
    size_t n = std::fread(buf.data(), 1, buf.size(), f);
    if (n == 0) break;
    st = w->Append(std::string_view(buf.data(), n));
  }
  if (st.ok() && std::ferror(f)) st = IoError("reading " + local_path);
  std::fclose(f);
  LM_TRY(st);
  return w->Commit(key);
}

Result<LoadedTable> Catalog::AppendFiles(const std::string& ref, const TableIdent& t,
                                         const std::vector<table::DataFile>& files,
                                         const std::string& author) {
  auto read = [this](const std::string& loc) { return ReadTableFile(loc); };
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(LoadedTable current, LoadTable(ref, t));
    table::AppendOptions o;
    o.now_ms = NowMicros() / 1000;
    LM_ASSIGN_OR_RETURN(table::PreparedCommit c,
                        table::PrepareAppend(current.metadata, files, o, read));
    auto committed =
        CommitTable(ref, TableCommit{t, c.requirements, c.updates, std::move(c.files)}, author);
    if (committed.ok()) return committed;
    // Another writer moved the table between our load and commit: prepare again on its snapshot.
    if (!committed.status().IsConflict() || attempt >= 20) return committed.status();
  }
}

Status Catalog::StoreDataFile(const Json& metadata, const std::string& local_path,
                              table::DataFile* file) {
  file->file_path = metadata.value("location", std::string()) + "/data/" + NewUuid() + ".parquet";
  return WriteTableFileFrom(file->file_path, local_path);
}

Result<std::optional<std::string>> Catalog::LocalTableFile(const std::string& location) {
  LM_ASSIGN_OR_RETURN(std::string key, BlobKeyForLocation(location));
  return blobs_.LocalPath(key);
}

Status Catalog::CopyTableFileTo(const std::string& location, const std::string& local_path) {
  LM_ASSIGN_OR_RETURN(std::string key, BlobKeyForLocation(location));
  auto reader = blobs_.Open(key);
  if (!reader.ok()) {
    if (reader.status().IsNotFound()) return NotFound("table file " + location + " does not exist");
    return reader.status();
  }
  std::FILE* f = std::fopen(local_path.c_str(), "wb");
  if (!f) return IoError("creating " + local_path + ": " + std::strerror(errno));
  std::string buf(1 << 20, '\0');
  Status st;
  while (st.ok()) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    if (!n.ok()) {
      st = n.status();
      break;
    }
    if (*n == 0) break;
    if (std::fwrite(buf.data(), 1, *n, f) != *n) st = IoError("writing " + local_path);
  }
  if (std::fclose(f) != 0 && st.ok()) st = IoError("writing " + local_path);
  return st;
}

Result<LoadedTable> Catalog::RewriteFiles(const std::string& ref, const TableIdent& t,
                                          int64_t expected_snapshot,
                                          const std::vector<std::string>& removed,
                                          const std::vector<table::DataFile>& added,
                                          const std::string& author) {
  LM_ASSIGN_OR_RETURN(LoadedTable current, LoadTable(ref, t));
  int64_t now_snapshot = current.metadata.value("current-snapshot-id", int64_t{-1});
  if (now_snapshot != expected_snapshot) {
    return Conflict("table " + ToString(t) + " changed while the rewrite ran (snapshot " +
                    std::to_string(now_snapshot) + ", not " + std::to_string(expected_snapshot) +
                    "); run it again");
  }
  table::AppendOptions o;
  o.now_ms = NowMicros() / 1000;
  LM_ASSIGN_OR_RETURN(
      table::PreparedCommit c,
      table::PrepareRewrite(current.metadata, std::set<std::string>(removed.begin(), removed.end()),
                            added, o, [this](const std::string& loc) { return ReadTableFile(loc); }));
  return CommitTable(ref, TableCommit{t, c.requirements, c.updates, std::move(c.files)}, author);
}

Result<table::ScanPlan> Catalog::PlanScan(const std::string& ref, const TableIdent& t,
                                          const table::ScanOptions& options) {
  LM_ASSIGN_OR_RETURN(LoadedTable current, LoadTable(ref, t));
  return table::PlanScan(current.metadata, options,
                         [this](const std::string& loc) { return ReadTableFile(loc); });
}

Status Catalog::DropObject(const std::string& ref, const TableIdent& t, Kind kind,
                          const std::string& author) {
  const std::string what = KindName(kind);
  LM_TRY(CheckName(t.name, what.c_str()));
  LM_TRY(CheckNamespace(t.ns.empty() ? "" : t.ns[0], ref, t.ns));
  const std::string& repo = t.ns[0];
  const std::string path = ObjectPath(t, kind);
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    LM_ASSIGN_OR_RETURN(auto p, ReadPointer(repo, head, path));
    if (!p) return NotFound(Missing(kind) + ToString(t));
    auto c = repos_.CommitChanges(
        repo, ref, {Mutation{path, std::nullopt}},
        Options(author, "Drop " + what + " " + ToString(t), what, ToString(t), "drop", head));
    if (auto done = Settled(c, attempt)) return *done;
  }
}

Status Catalog::RenameObject(const std::string& ref, const TableIdent& from, const TableIdent& to,
                            Kind kind, const std::string& author) {
  const std::string what = KindName(kind);
  LM_TRY(CheckName(from.name, what.c_str()));
  LM_TRY(CheckName(to.name, what.c_str()));
  LM_TRY(CheckNamespace(from.ns.empty() ? "" : from.ns[0], ref, from.ns));
  LM_TRY(CheckNamespace(to.ns.empty() ? "" : to.ns[0], ref, to.ns));
  if (from.ns[0] != to.ns[0]) {
    return InvalidArgument("a " + what + " cannot move between domains (" + from.ns[0] + " -> " +
                           to.ns[0] + ")");
  }
  const std::string& repo = from.ns[0];
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    LM_ASSIGN_OR_RETURN(auto p, ReadPointer(repo, head, ObjectPath(from, kind)));
    if (!p) return NotFound(Missing(kind) + ToString(from));
    LM_TRY(CheckNameFree(repo, head, to));
    std::vector<Mutation> m{{ObjectPath(from, kind), std::nullopt}, {ObjectPath(to, kind), p->entry}};
    std::sort(m.begin(), m.end(),
              [](const Mutation& a, const Mutation& b) { return a.path < b.path; });
    auto c = repos_.CommitChanges(
        repo, ref, m,
        Options(author, "Rename " + what + " " + ToString(from) + " to " + ToString(to), what,
                ToString(to), "rename", head));
    if (auto done = Settled(c, attempt)) return *done;
  }
}

Status Catalog::DropTable(const std::string& ref, const TableIdent& t, const std::string& author) {
  return DropObject(ref, t, Kind::kTable, author);
}

Status Catalog::RenameTable(const std::string& ref, const TableIdent& from, const TableIdent& to,
                            const std::string& author) {
  return RenameObject(ref, from, to, Kind::kTable, author);
}

Status Catalog::CheckNameFree(const std::string& repo, const std::string& commit,
                              const TableIdent& t) {
  LM_ASSIGN_OR_RETURN(auto table, ReadPointer(repo, commit, ObjectPath(t, Kind::kTable)));
  if (table) return AlreadyExists("Table already exists: " + ToString(t));
  LM_ASSIGN_OR_RETURN(auto view, ReadPointer(repo, commit, ObjectPath(t, Kind::kView)));
  if (view) return AlreadyExists("View already exists: " + ToString(t));
  return Status::OK();
}

// --- views ------------------------------------------------------------------------------------

Result<LoadedTable> Catalog::CreateView(const std::string& ref, const Namespace& ns,
                                        const Json& request, const std::string& author) {
  if (!request.is_object()) return InvalidArgument("the request must be a JSON object");
  auto name_it = request.find("name");
  if (name_it == request.end() || !name_it->is_string()) {
    return InvalidArgument("'name' must be a string");
  }
  TableIdent v{ns, name_it->get<std::string>()};
  LM_TRY(CheckName(v.name, "view"));
  LM_TRY(CheckNamespace(ns.empty() ? "" : ns[0], ref, ns));
  const std::string& repo = ns[0];
  if (auto loc = request.find("location"); loc != request.end() && !loc->is_null()) {
    return InvalidArgument("lakemesh chooses view locations; create the view without 'location'");
  }
  const std::string uuid = NewUuid();
  LM_ASSIGN_OR_RETURN(Json metadata, table::NewViewMetadata(request, TableLocation(repo, uuid),
                                                            uuid, NowMicros() / 1000));
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    LM_TRY(CheckNameFree(repo, head, v));
    std::string location;
    std::shared_ptr<const std::string> raw;
    LM_ASSIGN_OR_RETURN(Entry e, WriteMetadata(repo, metadata, 1, &location, &raw));
    auto commit = repos_.CommitChanges(
        repo, ref, {Mutation{ObjectPath(v, Kind::kView), e}},
        Options(author, "Create view " + ToString(v), "view", ToString(v), "create", head));
    if (commit.ok()) return LoadedTable{location, std::move(metadata), std::move(raw)};
    blobs_.Delete(e.address).IgnoreError();
    if (auto done = Settled(commit, attempt)) return *done;
  }
}

Result<LoadedTable> Catalog::LoadView(const std::string& ref, const TableIdent& v) {
  LM_TRY(CheckName(v.name, "view"));
  LM_TRY(CheckNamespace(v.ns.empty() ? "" : v.ns[0], ref, v.ns));
  LM_ASSIGN_OR_RETURN(auto p, ReadPointer(v.ns[0], ref, ObjectPath(v, Kind::kView)));
  if (!p) return NotFound(Missing(Kind::kView) + ToString(v));
  return LoadedTable{p->location, std::move(p->metadata), nullptr};
}

Result<LoadedTable> Catalog::CommitView(const std::string& ref, const TableCommit& c,
                                        const std::string& author) {
  LM_TRY(CheckName(c.ident.name, "view"));
  LM_TRY(CheckNamespace(c.ident.ns.empty() ? "" : c.ident.ns[0], ref, c.ident.ns));
  const std::string& repo = c.ident.ns[0];
  const std::string path = ObjectPath(c.ident, Kind::kView);
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    LM_ASSIGN_OR_RETURN(auto current, ReadPointer(repo, head, path));
    if (!current) return NotFound(Missing(Kind::kView) + ToString(c.ident));
    LM_TRY(table::CheckViewRequirements(current->metadata, c.requirements));
    Json metadata = current->metadata;
    LM_TRY(table::ApplyViewUpdates(metadata, c.updates, NowMicros() / 1000));
    if (metadata["location"] != current->metadata["location"]) {
      return InvalidArgument("the location of a lakemesh view cannot change");
    }
    LM_TRY(table::ValidateViewMetadata(metadata));
    if (metadata == current->metadata) {
      return LoadedTable{current->location, std::move(metadata), nullptr};
    }
    std::string location;
    std::shared_ptr<const std::string> raw;
    LM_ASSIGN_OR_RETURN(Entry e, WriteMetadata(repo, metadata, FileNumber(current->location) + 1,
                                               &location, &raw));
    auto commit = repos_.CommitChanges(
        repo, ref, {Mutation{path, e}},
        Options(author, "Replace view " + ToString(c.ident), "view", ToString(c.ident), "replace",
                head));
    if (commit.ok()) return LoadedTable{location, std::move(metadata), std::move(raw)};
    blobs_.Delete(e.address).IgnoreError();
    if (auto done = Settled(commit, attempt)) return *done;
  }
}

Status Catalog::DropView(const std::string& ref, const TableIdent& v, const std::string& author) {
  return DropObject(ref, v, Kind::kView, author);
}

Status Catalog::RenameView(const std::string& ref, const TableIdent& from, const TableIdent& to,
                           const std::string& author) {
  return RenameObject(ref, from, to, Kind::kView, author);
}

Result<LoadedTable> Catalog::RegisterTable(const std::string& ref, const TableIdent& t,
                                           const std::string& metadata_location, bool overwrite,
                                           const std::string& author) {
  return RegisterObject(ref, t, metadata_location, overwrite, author, Kind::kTable);
}

Result<LoadedTable> Catalog::RegisterView(const std::string& ref, const TableIdent& v,
                                          const std::string& metadata_location,
                                          const std::string& author) {
  return RegisterObject(ref, v, metadata_location, /*overwrite=*/false, author, Kind::kView);
}

Result<LoadedTable> Catalog::RegisterObject(const std::string& ref, const TableIdent& t,
                                            const std::string& metadata_location,
                                            bool overwrite, const std::string& author,
                                            Kind kind) {
  const std::string what = KindName(kind);
  LM_TRY(CheckName(t.name, what.c_str()));
  LM_TRY(CheckNamespace(t.ns.empty() ? "" : t.ns[0], ref, t.ns));
  const std::string& repo = t.ns[0];
  LM_ASSIGN_OR_RETURN(std::string key, BlobKeyForLocation(metadata_location));
  if (key.compare(0, 7 + repo.size() + 1, "tables/" + repo + "/") != 0) {
    return InvalidArgument("a " + what + " of domain '" + repo +
                           "' registers metadata stored under s3://" + repo + "/" + kTablesRef +
                           "/");
  }
  auto info = blobs_.Stat(key);
  if (!info.ok()) {
    if (info.status().IsNotFound()) {
      return NotFound("metadata file " + metadata_location + " does not exist");
    }
    return info.status();
  }
  Entry e;
  e.address = key;
  e.size = info->size;
  e.mtime_micros = NowMicros();
  e.content_type = "application/json";
  e.metadata[kLocationKey] = metadata_location;
  LM_ASSIGN_OR_RETURN(Json metadata, ReadJsonEntry(e));
  LM_TRY(kind == Kind::kTable ? table::ValidateMetadata(metadata)
                              : table::ValidateViewMetadata(metadata));
  e.etag = ToHex(Md5(metadata.dump()));
  const std::string path = ObjectPath(t, kind);
  for (int attempt = 0;; ++attempt) {
    LM_ASSIGN_OR_RETURN(std::string head, HeadOf(repo, ref));
    LM_ASSIGN_OR_RETURN(auto p, ReadPointer(repo, head, path));
    if (p && !overwrite) {
      return AlreadyExists(std::string(kind == Kind::kTable ? "Table" : "View") +
                           " already exists: " + ToString(t));
    }
    if (!p) LM_TRY(CheckNameFree(repo, head, t));
    auto c = repos_.CommitChanges(
        repo, ref, {Mutation{path, e}},
        Options(author, "Register " + what + " " + ToString(t), what, ToString(t), "register",
                head));
    if (c.ok()) return LoadedTable{metadata_location, std::move(metadata), nullptr};
    if (auto done = Settled(c, attempt)) return *done;
  }
}

}  // namespace lakemesh::catalog
