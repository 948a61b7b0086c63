// Catalog: Iceberg namespaces and tables per ref, kept in the domain repositories (the Nessie and
// Hive Metastore roles). The first namespace level is the domain, i.e. a repository; deeper
// levels and the tables in them live in that repository's tree under `_catalog/`:
//
//   _catalog/.namespace.json                 properties of the domain namespace (optional)
//   _catalog/<n2>/.../.namespace.json        a nested namespace and its properties
//   _catalog/<n2>/.../<table>.metadata.json  a table: the entry is its current metadata file
//
// A table entry's bytes are the current metadata JSON, stored once at a unique key under the
// table's location (`s3://<repo>/_tables/<table-uuid>/...`, blob keys `tables/<repo>/...`), and
// its `iceberg-metadata-location` user metadata is that URI. So branches, tags, commits, diff and
// merge cover tables, and every table change is one repository commit on the branch (reads take
// any ref; writes need a branch).
//
// Table commits are optimistic: requirements are checked against the metadata at the branch
// head and the new pointer is committed only if the head has not moved (the repository's
// compare-and-swap); a commit that lost a race on another table is retried here, one that lost
// it on the same table fails its requirements (kConflict) as Iceberg clients expect.
//
// Errors: kNotFound (no such namespace/table/ref), kAlreadyExists, kConflict (requirement
// failed, namespace not empty), kInvalidArgument. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/lru_cache.h"
#include "base/status.h"
#include "storage/blob_store.h"
#include "table/manifest.h"
#include "table/operations.h"
#include "table/scan.h"
#include "versioning/repository.h"

namespace lakemesh::catalog {

using Json = nlohmann::json;
using Namespace = std::vector<std::string>;

// The pseudo-ref under which a repository's table files are read through S3:
// s3://<repo>/_tables/<table-uuid>/... (no branch may have this name).
inline constexpr const char* kTablesRef = "_tables";

struct TableIdent {
  Namespace ns;
  std::string name;
};

struct LoadedTable {
  std::string metadata_location;
  Json metadata;
  // The metadata file's bytes when at hand (after a commit), so that answers need not
  // serialize `metadata` again; may be null.
  std::shared_ptr<const std::string> raw;
};

// A table's current metadata file as stored (JSON text), for answering loads without parsing it.
struct RawTable {
  std::string metadata_location;
  std::shared_ptr<const std::string> json;
};

struct TableCommit {
  TableIdent ident;
  Json requirements;  // array of TableRequirement
  Json updates;       // array of TableUpdate
  // New table files the updates refer to (manifests, a manifest list), written once while the
  // commit prepares its metadata, and removed again if it fails.
  std::vector<table::TableFile> files = {};
};

struct NamespacePropertiesResult {
  std::vector<std::string> updated, removed, missing;
};

// "sales.raw" for messages.
std::string ToString(const Namespace& ns);
std::string ToString(const TableIdent& t);

class Catalog {
 public:
  // Installs the catalog's merge resolver in `repos` (merges combine tables that both branches
  // only appended to).
  Catalog(versioning::Repositories& repos, storage::BlobStore& blobs);

  // --- namespaces ---------------------------------------------------------------------------
  // Children of `parent` (the domains when empty), sorted.
  Result<std::vector<Namespace>> ListNamespaces(const std::string& ref, const Namespace& parent);
  // A domain namespace creates its repository (and the branch `ref` if it is not the default).
  Result<Json> CreateNamespace(const std::string& ref, const Namespace& ns, const Json& properties,
                               const std::string& author);
  Result<Json> LoadNamespace(const std::string& ref, const Namespace& ns);
  // Only an empty namespace can be dropped; dropping a domain deletes its repository, which
  // must then hold nothing at all.
  Status DropNamespace(const std::string& ref, const Namespace& ns, const std::string& author);
  Result<NamespacePropertiesResult> UpdateNamespaceProperties(
      const std::string& ref, const Namespace& ns, const std::vector<std::string>& removals,
      const Json& updates, const std::string& author);

  // --- tables -------------------------------------------------------------------------------
  Result<std::vector<std::string>> ListTables(const std::string& ref, const Namespace& ns);
  // `request` is a CreateTableRequest. With `stage`, nothing is committed: the metadata is
  // returned for a later commit with an assert-create requirement.
  Result<LoadedTable> CreateTable(const std::string& ref, const Namespace& ns, const Json& request,
                                  bool stage, const std::string& author);
  Result<LoadedTable> LoadTable(const std::string& ref, const TableIdent& t);
  Result<RawTable> LoadTableRaw(const std::string& ref, const TableIdent& t);
  // Commits changes to one table (creating it when the requirements include assert-create).
  Result<LoadedTable> CommitTable(const std::string& ref, const TableCommit& c,
                                  const std::string& author);
  // Commits changes to several tables of one domain as one repository commit; `results`, when
  // given, receives each table as committed.
  Status CommitTransaction(const std::string& ref, const std::vector<TableCommit>& commits,
                           const std::string& author, std::vector<LoadedTable>* results = nullptr);
  // Drops the table from the branch. Its files stay as long as another ref or a retained
  // commit refers to them.
  Status DropTable(const std::string& ref, const TableIdent& t, const std::string& author);
  // Within one domain.
  Status RenameTable(const std::string& ref, const TableIdent& from, const TableIdent& to,
                     const std::string& author);
  // --- views (format 1; a view and a table cannot share a name) ------------------------------
  Result<std::vector<std::string>> ListViews(const std::string& ref, const Namespace& ns);
  // `request` is a CreateViewRequest.
  Result<LoadedTable> CreateView(const std::string& ref, const Namespace& ns, const Json& request,
                                 const std::string& author);
  Result<LoadedTable> LoadView(const std::string& ref, const TableIdent& v);
  // A CommitViewRequest's requirements and updates (a view replacement).
  Result<LoadedTable> CommitView(const std::string& ref, const TableCommit& c,
                                 const std::string& author);
  Status DropView(const std::string& ref, const TableIdent& v, const std::string& author);
  Status RenameView(const std::string& ref, const TableIdent& from, const TableIdent& to,
                    const std::string& author);

  // --- table data ---------------------------------------------------------------------------
  // Appends data files (already stored under the table's location) to the table's `main`
  // Iceberg branch as one snapshot: one new manifest and manifest list, one repository commit
  // on `ref`. A commit that lost a race to another writer of the table is prepared again on the
  // new parent, so concurrent appends all land.
  Result<LoadedTable> AppendFiles(const std::string& ref, const TableIdent& t,
                                  const std::vector<table::DataFile>& files,
                                  const std::string& author);
  // Copy-on-write: replaces the live data files `removed` with `added` (already stored) in one
  // snapshot, provided the table's main snapshot is still `expected_snapshot` (the one the
  // rewrite was computed from; kConflict otherwise: compute it again).
  Result<LoadedTable> RewriteFiles(const std::string& ref, const TableIdent& t,
                                   int64_t expected_snapshot,
                                   const std::vector<std::string>& removed,
                                   const std::vector<table::DataFile>& added,
                                   const std::string& author);
  // Plans a scan of the table at `ref` (see table/scan.h).
  Result<table::ScanPlan> PlanScan(const std::string& ref, const TableIdent& t,
                                   const table::ScanOptions& options);
  // A table file (manifest list, manifest, data file) by its s3://<repo>/_tables/... location;
  // cached, since table files never change.
  Result<std::shared_ptr<const std::string>> ReadTableFile(const std::string& location);
  // Writes a new table file at its location (kAlreadyExists when taken).
  Status WriteTableFile(const std::string& location, std::string_view bytes);
  // The same from a local file, streamed.
  Status WriteTableFileFrom(const std::string& location, const std::string& local_path);
  // Stores a data file written at `local_path` as a new file of the table whose metadata this
  // is (`<location>/data/<uuid>.parquet`), and sets `file->file_path` to it.
  Status StoreDataFile(const Json& metadata, const std::string& local_path, table::DataFile* file);
  // Copies a table file (e.g. a data file, for rewriting) to a local path, streamed, uncached.
  Status CopyTableFileTo(const std::string& location, const std::string& local_path);
  // The local file holding a table file's bytes, for reading in place, when the blob store is a
  // local directory (nullopt otherwise: copy it with CopyTableFileTo). kInvalidArgument for a
  // location outside the tables lakemesh stores.
  Result<std::optional<std::string>> LocalTableFile(const std::string& location);
  // The directory LocalTableFile's files lie under (nullopt: not a local store).
  std::optional<std::string> LocalTableRoot() const { return blobs_.LocalRoot(); }

  // The head commit of `branch` of repository `repo`: kInvalidArgument when it names a tag or a
  // commit (tables change only on branches), kNotFound when it names nothing.
  Result<std::string> HeadOf(const std::string& repo, const std::string& branch);

  // Adopts an existing metadata file stored by lakemesh (`s3://<repo>/_tables/...`).
  Result<LoadedTable> RegisterTable(const std::string& ref, const TableIdent& t,
                                    const std::string& metadata_location, bool overwrite,
                                    const std::string& author);

  // Adopts an existing view metadata file stored by lakemesh (registerView).
  Result<LoadedTable> RegisterView(const std::string& ref, const TableIdent& v,
                                   const std::string& metadata_location,
                                   const std::string& author);

  // The S3 location of a new table's files, and the blob key a table-file URI is stored under
  // (kInvalidArgument for a URI outside the tables lakemesh stores).
  static std::string TableLocation(const std::string& repo, const std::string& table_uuid);
  // A table file as an object of the repository's `_tables` pseudo-ref (for S3 reads): its path
  // is relative to s3://<repo>/_tables/. kNotFound if there is no such file.
  Result<versioning::ObjectInfo> StatTableFile(const std::string& repo, const std::string& path);
  // Stores an engine's table file (data, manifest, manifest list) at s3://<repo>/_tables/<path>.
  // Table files are written once: kAlreadyExists if the path is taken. `path` is
  // <table-id>/<file path>, as under a table's location; kInvalidArgument otherwise.
  Result<versioning::ObjectInfo> PutTableFile(const std::string& repo, const std::string& path,
                                              std::unique_ptr<versioning::ObjectUpload> upload,
                                              const versioning::PutOptions& opts);
  static Result<std::string> BlobKeyForLocation(const std::string& uri);

 private:
  enum class Kind { kTable, kView };
  static const char* Suffix(Kind k);
  static const char* KindName(Kind k);
  static std::string Missing(Kind k);  // "Table does not exist: "
  static std::string ObjectPath(const TableIdent& t, Kind k);
  Result<LoadedTable> RegisterObject(const std::string& ref, const TableIdent& t,
                                     const std::string& metadata_location, bool overwrite,
                                     const std::string& author, Kind kind);
  struct Pointer;
  Result<std::vector<std::string>> ListNames(const std::string& ref, const Namespace& ns, Kind k);
  Status DropObject(const std::string& ref, const TableIdent& t, Kind k, const std::string& author);
  Status RenameObject(const std::string& ref, const TableIdent& from, const TableIdent& to, Kind k,
                      const std::string& author);
  // kAlreadyExists if a table or a view has this name at `commit`.
  Status CheckNameFree(const std::string& repo, const std::string& commit, const TableIdent& t);
  Result<std::optional<Pointer>> ReadPointer(const std::string& repo, const std::string& commit,
                                             const std::string& path);
  // Writes metadata file number `version` (its name's prefix) under the metadata's location.
  Result<versioning::Entry> WriteMetadata(const std::string& repo, const Json& metadata,
                                          size_t version, std::string* location,
                                          std::shared_ptr<const std::string>* bytes = nullptr);
  Status CheckNamespace(const std::string& repo, const std::string& ref, const Namespace& ns);
  // A namespace's properties as a content-addressed JSON object for its marker entry.
  Result<versioning::Entry> WriteProperties(const Json& props);
  Result<Json> ReadJsonEntry(const versioning::Entry& e);
  // A catalog file parsed; cached by address like the bytes (a commit copies it instead of
  // parsing tens of KiB of JSON again).
  Result<std::shared_ptr<const Json>> ReadParsed(const std::string& address);
  // The garbage collector's expander: adds to `live` every table file that the live table
  // metadata files in it refer to (manifest lists, manifests, data and delete files,
  // statistics). An unreadable manifest is an error, so GC stops rather than guess.
  Status AddLiveTableFiles(std::unordered_set<std::string>* live);
  // The merge resolver for table entries changed on both sides of a repository merge: tables
  // both branches only appended to are combined (table::PrepareCombinedAppends).
  Result<versioning::MergeResolution> ResolveTableMerge(
      const std::string& repo, const std::string& path, const std::optional<versioning::Entry>& base,
      const std::optional<versioning::Entry>& ours,
      const std::optional<versioning::Entry>& theirs);
  // The bytes of a catalog file; metadata files never change, so they are cached by address.
  Result<std::shared_ptr<const std::string>> ReadFile(const std::string& address);

  versioning::Repositories& repos_;
  storage::BlobStore& blobs_;
  LruCache<std::string> files_{16 << 20};
  LruCache<Json> parsed_{32 << 20};  // charged at 4x the file size
};

}  // namespace lakemesh::catalog
