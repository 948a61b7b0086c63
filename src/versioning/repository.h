// Repositories: versioned content of a domain, with branches, tags and commits (the lakeFS role).
//
// A commit is an immutable snapshot: a tree root (versioning/tree.h), parents, author, message,
// metadata. A branch is a movable pointer to a commit plus a *staging area* of uncommitted
// changes, visible on the branch at once and turned into history by Commit(). Branch heads move
// only by compare-and-swap inside a MetaStore transaction, so two writers racing on one branch
// never lose each other's work: the loser gets kConflict and can retry.
//
// Object bytes are written once to the BlobStore under their content hash before any metadata
// points at them, so a crash never leaves a visible object without its bytes.
//
// Metadata layout (MetaStore keys): docs/formats.md. Thread-safe: one instance serves all requests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/hash.h"
#include "base/lru_cache.h"
#include "base/status.h"
#include "meta/meta_store.h"
#include "storage/blob_store.h"
#include "versioning/entry.h"
#include "versioning/names.h"
#include "versioning/object_upload.h"
#include "versioning/tree.h"

namespace lakemesh::versioning {

struct Commit {
  std::string id;  // 64 lowercase hex characters
  std::vector<std::string> parents;
  std::string tree;  // hex root NodeId; "" for the empty tree
  std::string author;
  std::string message;
  int64_t created_micros = 0;
  std::map<std::string, std::string> metadata;
  uint64_t generation = 0;  // 1 + the largest parent generation; the first commit has 1
};

struct RepoInfo {
  std::string name;
  std::string default_branch;
  int64_t created_micros = 0;
  std::string creator;
};

struct BranchInfo {
  std::string name;
  std::string head;  // commit id
};

struct TagInfo {
  std::string name;
  std::string commit_id;
};

// What a ref expression resolved to. `branch` is set when the expression is a plain branch name:
// reads then see that branch's uncommitted changes too.
struct ResolvedRef {
  Commit commit;
  std::optional<std::string> branch;
};

struct ObjectInfo {
  std::string path;
  Entry entry;
  // A small plain-bucket object's bytes, kept in the metadata instead of a blob (entry.address
  // is then empty); read by Buckets::OpenObject. Unset for everything else.
  std::shared_ptr<const std::string> inline_data = nullptr;
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;  // "" lists recursively; "/" groups by directory
  std::string after;      // exclusive start (a path or a common prefix from a previous page)
  size_t limit = 1000;
};

struct Listing {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_after;  // pass as ListOptions::after for the next page
};

struct ChangePage {
  std::vector<Change> changes;
  bool truncated = false;
  std::string next_after;
};

struct PageOptions {
  std::string prefix;
  std::string after;
  size_t limit = 1000;
};

enum class MergeStrategy { kFail, kSourceWins, kDestWins };

struct CommitOptions {
  std::string message;
  std::string author;
  std::map<std::string, std::string> metadata;
  bool allow_empty = false;
  // CommitChanges only: fail with kConflict unless the branch head is still this commit (for
  // changes computed from what the writer read at that commit).
  std::string expected_head;
};

struct MergeResult {
  std::string commit_id;            // the merge commit, or the unchanged head
  bool already_up_to_date = false;  // nothing in source that destination lacks
  size_t changes = 0;               // paths changed on the destination
  std::vector<std::string> conflicts;  // with kFail: paths changed on both sides; nothing merged
  // Why a conflicting path could not be merged, where a resolver said (path -> reason).
  std::map<std::string, std::string> conflict_reasons;
  std::vector<std::string> resolved;  // paths changed on both sides that a resolver merged
};

// Merges a path that both sides of a merge changed (with MergeStrategy::kFail), for content whose
// changes can be combined, such as Iceberg tables that both branches only appended to. `base`,
// `ours` (destination) and `theirs` (source) are the path's entries; nullopt where absent.
struct MergeResolution {
  bool resolved = false;
  std::optional<Entry> entry;  // when resolved: the merged entry (nullopt deletes the path)
  std::string reason;          // when not: why, for the conflict report ("" = no opinion)
};
// Garbage collection of content that live blobs refer to outside any tree: given the blob keys
// the retained commits reach, adds the keys those blobs refer to (Iceberg table metadata →
// manifest lists → manifests → data files). With one installed, GC also sweeps `tables/`.
using GcExpander = std::function<Status(std::unordered_set<std::string>* live)>;

using MergeResolver = std::function<Result<MergeResolution>(
    const std::string& repo, const std::string& path, const std::optional<Entry>& base,
    const std::optional<Entry>& ours, const std::optional<Entry>& theirs)>;

struct GcOptions {
  int64_t retention_micros = 7LL * 24 * 3600 * 1000000;  // keep commits younger than this
  int64_t grace_micros = 3600LL * 1000000;  // never delete blobs written more recently than this
  bool dry_run = false;
};

struct GcReport {
  size_t commits_kept = 0;
  size_t blobs_scanned = 0;
  size_t blobs_live = 0;
  size_t blobs_deleted = 0;
  uint64_t bytes_deleted = 0;
};


class Repositories {
 public:
  Repositories(meta::MetaStore& meta, storage::BlobStore& blobs);

  // --- repositories -------------------------------------------------------------------------
  // Creates the repository with `default_branch` pointing at an empty initial commit.
  // kAlreadyExists if it exists; kInvalidArgument for a bad name.
  Result<RepoInfo> CreateRepo(const std::string& name, const std::string& default_branch,
                              const std::string& creator);
  Result<RepoInfo> GetRepo(const std::string& name);
  Result<std::vector<RepoInfo>> ListRepos(const std::string& after, size_t limit);
  // Removes the repository, its refs, commits and staged changes. Blobs go at the next GC.
  Status DeleteRepo(const std::string& name);

  // --- branches and tags --------------------------------------------------------------------
  Result<BranchInfo> CreateBranch(const std::string& repo, const std::string& name,
                                  const std::string& from_ref);
  Result<BranchInfo> GetBranch(const std::string& repo, const std::string& name);
  Result<std::vector<BranchInfo>> ListBranches(const std::string& repo, const std::string& after,
                                               size_t limit);
  // kInvalidArgument for the default branch. Its uncommitted changes are discarded.
  Status DeleteBranch(const std::string& repo, const std::string& name);
  // Points the branch at `ref` and discards its uncommitted changes.
  Result<BranchInfo> ResetBranch(const std::string& repo, const std::string& name,
                                 const std::string& ref);
  // Discards the branch's uncommitted changes under `prefix` ("" for all); returns how many.
  Result<size_t> DiscardChanges(const std::string& repo, const std::string& branch,
                                const std::string& prefix);

  Result<TagInfo> CreateTag(const std::string& repo, const std::string& name,
                            const std::string& ref);
  Result<TagInfo> GetTag(const std::string& repo, const std::string& name);
  Result<std::vector<TagInfo>> ListTags(const std::string& repo, const std::string& after,
                                        size_t limit);
  Status DeleteTag(const std::string& repo, const std::string& name);

  // --- refs and commits ---------------------------------------------------------------------
  // Resolves a branch, tag, unique commit-id prefix (4+ hex characters) or an expression with
  // ~N, ^N and @{timestamp}. kNotFound if nothing matches; kInvalidArgument if ambiguous.
  Result<ResolvedRef> Resolve(const std::string& repo, const std::string& ref);
  Result<Commit> GetCommit(const std::string& repo, const std::string& ref);
  // Commits the branch's staged changes. kPreconditionFailed if there are none (unless
  // allow_empty); kConflict if the branch moved or was reset meanwhile (retry).
  Result<Commit> CommitBranch(const std::string& repo, const std::string& branch,
                              const CommitOptions& opts);
  // Commits `changes` (sorted by path, no duplicates) to `branch` directly, as one atomic commit,
  // leaving its staged changes alone: how tables and bulk imports commit. kConflict if the
  // branch moved meanwhile (retry); kInvalidArgument for an unsorted list or a bad path.
  Result<Commit> CommitChanges(const std::string& repo, const std::string& branch,
                               const std::vector<Mutation>& changes, const CommitOptions& opts);
  // Commits reachable from `ref`, newest first. With `path`, only commits that changed that
  // path (or, ending in '/', anything under it). Continues after commit id `after`.
  Result<std::vector<Commit>> Log(const std::string& repo, const std::string& ref,
                                  const std::string& path, const std::string& after,
                                  size_t limit, bool* more);

  // --- objects --------------------------------------------------------------------------------
  // An upload for PutObject (hashing MD5 unless `md5` is false, and SHA-256 for the address).
  Result<std::unique_ptr<ObjectUpload>> NewUpload(bool md5 = true);
  // Stages the upload at `path` on `branch`. kNotFound if the branch does not exist;
  // kInvalidArgument if `branch` names a tag or commit (they are read-only).
  Result<ObjectInfo> PutObject(const std::string& repo, const std::string& branch,
                               const std::string& path, std::unique_ptr<ObjectUpload> upload,
                               const PutOptions& opts);
  // Stages an existing entry (a copy) at `path`.
  Result<ObjectInfo> PutEntry(const std::string& repo, const std::string& branch,
                              const std::string& path, const Entry& entry);
  // kNotFound if there is no object at `path` on `ref`.
  Result<ObjectInfo> StatObject(const std::string& repo, const std::string& ref,
                                const std::string& path);
  Result<std::unique_ptr<storage::BlobReader>> OpenObject(const Entry& entry, uint64_t offset = 0,
                                                          std::optional<uint64_t> length = {});
  // Stages a deletion. kNotFound if there is no object at `path` on the branch.
  Status DeleteObject(const std::string& repo, const std::string& branch,
                      const std::string& path);
  Result<Listing> ListObjects(const std::string& repo, const std::string& ref,
                              const ListOptions& opts);

  // --- diff, merge, revert ------------------------------------------------------------------
  // Differences between the commits `left` and `right` resolve to (uncommitted changes excluded).
  Result<ChangePage> Diff(const std::string& repo, const std::string& left,
                          const std::string& right, const PageOptions& page);
  // The branch's uncommitted changes against its head.
  Result<ChangePage> Changes(const std::string& repo, const std::string& branch,
                             const PageOptions& page);
  // Three-way merge of `source` (any ref) into branch `dest`. kPreconditionFailed if `dest` has
  // uncommitted changes. With kFail, conflicting paths are returned and nothing changes.
  // Installs the resolver merges consult for paths changed on both sides (once, at start-up,
  // before any merge runs).
  void SetMergeResolver(MergeResolver resolver) { merge_resolver_ = std::move(resolver); }
  // Installs the expander CollectGarbage consults (once, at start-up).
  void SetGcExpander(GcExpander expander) { gc_expander_ = std::move(expander); }
  // Installs what is told of every change of a branch head (repo, branch; branch "" when the
  // repository goes), once, at start-up. It is called inside the metadata transaction, possibly
  // more than once, and also for a change that then fails: it must only take note (cheaply).
  void SetHeadObserver(std::function<void(const std::string&, const std::string&)> observer) {
    head_observer_ = std::move(observer);
  }
  Result<MergeResult> Merge(const std::string& repo, const std::string& source,
                            const std::string& dest, MergeStrategy strategy,
                            const CommitOptions& opts);
  // Commits on `branch` the inverse of commit `ref` (against parent `parent_number` for merges).
  // kConflict if the branch changed those paths since.
  Result<Commit> Revert(const std::string& repo, const std::string& branch,
                        const std::string& ref, int parent_number, const CommitOptions& opts);

  // --- garbage collection -------------------------------------------------------------------
  // Deletes blobs reachable from no branch, tag, staged change, or commit younger than the
  // retention window, and older than the grace period.
  Result<GcReport> CollectGarbage(const GcOptions& opts);

 private:
  struct BranchRecord;
  Result<BranchRecord> LoadBranch(meta::MetaTxn& txn, const std::string& repo,
                                  const std::string& branch);
  Result<Commit> LoadCommit(meta::MetaTxn* txn, const std::string& repo, const std::string& id);
  Result<std::string> ResolveBase(meta::MetaTxn& txn, const std::string& repo,
                                  const std::string& base, std::optional<std::string>* branch);
  Result<std::string> MergeBase(const std::string& repo, const std::string& a,
                                const std::string& b);
  Result<std::optional<Entry>> StagedOrCommitted(meta::MetaTxn& txn, const std::string& repo,
                                                 const ResolvedRef& ref, const std::string& path);
  Status CheckRepo(meta::MetaTxn& txn, const std::string& repo);
  Result<ObjectInfo> Stage(const std::string& repo, const std::string& branch,
                           const std::string& path, const std::optional<Entry>& entry);
  Result<Commit> WriteCommitOnBranch(const std::string& repo, const std::string& branch,
                                     const std::string& expected_head, Commit commit,
                                     const NodeBatch& batch, bool require_clean);
  Commit NewCommit(const Commit& first_parent, std::vector<std::string> parents,
                   const NodeId& root, const CommitOptions& opts);

  meta::MetaStore& meta_;
  storage::BlobStore& blobs_;
  NodeStore nodes_;
  // Commits never change (their id is the hash of their content): decoded ones are kept, keyed
  // by "<repo>/<id>". DeleteRepo empties it.
  LruCache<Commit> commits_{4 << 20};
  MergeResolver merge_resolver_;
  GcExpander gc_expander_;
  std::function<void(const std::string&, const std::string&)> head_observer_;
  void Notify(const std::string& repo, const std::string& branch) const {
    if (head_observer_) head_observer_(repo, branch);
  }
};

const char* ChangeTypeName(ChangeType t);

}  // namespace lakemesh::versioning
