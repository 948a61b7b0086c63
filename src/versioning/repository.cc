#include "versioning/repository.h"

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "base/coding.h"
#include "base/hash.h"
#include "base/random.h"
#include "base/time.h"
#include "versioning/keys.h"

namespace lakemesh::versioning {

using meta::KeyValue;
using meta::MetaTxn;
using meta::PrefixEnd;
using nlohmann::json;

const char* ChangeTypeName(ChangeType t) {
  switch (t) {
    case ChangeType::kAdded: return "added";
    case ChangeType::kRemoved: return "removed";
    case ChangeType::kChanged: return "changed";
  }
  return "changed";
}

namespace {

std::string BranchPrefix(const std::string& repo) { return "b/" + repo + "/"; }
std::string BranchKey(const std::string& repo, const std::string& b) {
  return BranchPrefix(repo) + b;
}
std::string TagPrefix(const std::string& repo) { return "t/" + repo + "/"; }
std::string TagKey(const std::string& repo, const std::string& t) { return TagPrefix(repo) + t; }
std::string CommitPrefix(const std::string& repo) { return "c/" + repo + "/"; }
std::string CommitKey(const std::string& repo, const std::string& id) {
  return CommitPrefix(repo) + id;
}
std::string StagePrefix(const std::string& staging) { return "s/" + staging + "/"; }
constexpr const char* kSeqKey = "seq";

// Staged value: varint seq, byte present (0 = deletion), entry.
std::string EncodeStaged(uint64_t seq, const std::optional<Entry>& e) {
  std::string out;
  PutVarint64(&out, seq);
  out.push_back(e ? 1 : 0);
  if (e) EncodeEntry(&out, *e);
  return out;
}

Status DecodeStaged(std::string_view data, uint64_t* seq, std::optional<Entry>* e) {
  Decoder d(data);
  uint8_t present;
  if (!d.GetVarint64(seq) || !d.GetByte(&present)) return Internal("corrupt staged change");
  if (present) {
    Entry entry;
    if (!DecodeEntry(d, &entry)) return Internal("corrupt staged change");
    *e = std::move(entry);
  } else {
    e->reset();
  }
  return Status::OK();
}

Result<uint64_t> NextSeq(MetaTxn& txn) {
  LM_ASSIGN_OR_RETURN(auto v, txn.Get(kSeqKey));
  uint64_t seq = 0;
  if (v) {
    Decoder d(*v);
    if (!d.GetVarint64(&seq)) return Internal("corrupt sequence counter");
  }
  ++seq;
  std::string enc;
  PutVarint64(&enc, seq);
  LM_TRY(txn.Put(kSeqKey, enc));
  return seq;
}

std::string EncodeCommitBody(const Commit& c) {
  json j;
  j["parents"] = c.parents;
  j["tree"] = c.tree;
  j["author"] = c.author;
  j["message"] = c.message;
  j["created"] = c.created_micros;
  j["metadata"] = c.metadata;
  j["generation"] = c.generation;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Commit> DecodeCommit(const std::string& id, std::string_view data) {
  try {
    json j = json::parse(data);
    Commit c;
    c.id = id;
    c.parents = j.at("parents").get<std::vector<std::string>>();
    c.tree = j.at("tree").get<std::string>();
    c.author = j.at("author").get<std::string>();
    c.message = j.at("message").get<std::string>();
    c.created_micros = j.at("created").get<int64_t>();
    c.metadata = j.at("metadata").get<std::map<std::string, std::string>>();
    c.generation = j.at("generation").get<uint64_t>();
    return c;
  } catch (const std::exception& e) {
    return Internal("corrupt commit " + id + ": " + e.what());
  }
}

NodeId TreeId(const Commit& c) { return c.tree.empty() ? NodeId() : *FromHex(c.tree); }

bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

// Iterates a ref's objects: the committed tree overlaid with a branch's staged changes, all read
// within one MetaStore transaction so a concurrent commit is seen entirely or not at all.
class MergedIter {
 public:
  MergedIter(NodeStore& nodes, const NodeId& root, MetaTxn& txn, std::string stage_prefix)
      : tree_(nodes, root), txn_(txn), sprefix_(std::move(stage_prefix)) {}

  Status Seek(const std::string& target) {
    LM_TRY(tree_.Seek(target));
    if (!sprefix_.empty()) LM_TRY(Fill(sprefix_ + target));
    return Settle();
  }
  bool Valid() const { return valid_; }
  const std::string& path() const { return path_; }
  const Entry& entry() const { return entry_; }
  Status Next() {
    if (from_stage_) {
      ++pos_;
    } else {
      LM_TRY(tree_.Next());
    }
    return Settle();
  }

 private:
  static constexpr size_t kPage = 256;

  Status Fill(const std::string& from) {
    LM_ASSIGN_OR_RETURN(buf_, txn_.Scan(from, PrefixEnd(sprefix_), kPage));
    pos_ = 0;
    exhausted_ = buf_.size() < kPage;
    return Status::OK();
  }

  Result<bool> StagedValid() {
    if (sprefix_.empty()) return false;
    if (pos_ < buf_.size()) return true;
    if (exhausted_) return false;
    std::string from = buf_.back().key;
    from.push_back('\0');
    LM_TRY(Fill(from));
    return pos_ < buf_.size();
  }

  Status Settle() {
    while (true) {
      bool tv = tree_.Valid();
      LM_ASSIGN_OR_RETURN(bool sv, StagedValid());
      if (!tv && !sv) {
        valid_ = false;
        return Status::OK();
      }
      if (sv) {
        std::string_view spath = std::string_view(buf_[pos_].key).substr(sprefix_.size());
        if (!tv || spath <= tree_.path()) {
          if (tv && spath == tree_.path()) LM_TRY(tree_.Next());  // staged change wins
          uint64_t seq;
          std::optional<Entry> e;
          LM_TRY(DecodeStaged(buf_[pos_].value, &seq, &e));
          if (!e) {
            ++pos_;  // staged deletion
            continue;
          }
          path_ = std::string(spath);
          entry_ = std::move(*e);
          from_stage_ = true;
          valid_ = true;
          return Status::OK();
        }
      }
      path_.assign(tree_.path());
      entry_ = tree_.entry();
      from_stage_ = false;
      valid_ = true;
      return Status::OK();
    }
  }

  TreeCursor tree_;
  MetaTxn& txn_;
  std::string sprefix_;
  std::vector<KeyValue> buf_;
  size_t pos_ = 0;
  bool exhausted_ = true;
  bool valid_ = false;
  bool from_stage_ = false;
  std::string path_;
  Entry entry_;
};

}  // namespace

struct Repositories::BranchRecord {
  std::string head;
  std::string staging;  // token naming the branch's staging area
  int64_t created_micros = 0;

  std::string Encode() const {
    return json{{"head", head}, {"staging", staging}, {"created", created_micros}}.dump();
  }
  static Result<BranchRecord> Decode(std::string_view data) {
    try {
      json j = json::parse(data);
      return BranchRecord{j.at("head"), j.at("staging"), j.at("created")};
    } catch (const std::exception& e) {
      return Internal(std::string("corrupt branch record: ") + e.what());
    }
  }
};

Repositories::Repositories(meta::MetaStore& meta, storage::BlobStore& blobs)
    : meta_(meta), blobs_(blobs), nodes_(meta, blobs) {}

// ---------------------------------------------------------------------------------------------
// Repositories

static Result<RepoInfo> DecodeRepo(std::string_view data) {
  try {
    json j = json::parse(data);
    return RepoInfo{j.at("name"), j.at("default_branch"), j.at("created"), j.at("creator")};
  } catch (const std::exception& e) {
    return Internal(std::string("corrupt repository record: ") + e.what());
  }
}

Status Repositories::CheckRepo(MetaTxn& txn, const std::string& repo) {
  LM_TRY(ValidateRepoName(repo));
  LM_ASSIGN_OR_RETURN(auto v, txn.Get(RepoKey(repo)));
  if (!v) return NotFound("repository '" + repo + "' not found");
  return Status::OK();
}

Result<RepoInfo> Repositories::CreateRepo(const std::string& name,
                                          const std::string& default_branch,
                                          const std::string& creator) {
  LM_TRY(ValidateRepoName(name));
  LM_TRY(ValidateRefName(default_branch));
  RepoInfo info{name, default_branch, NowMicros(), creator};
  Commit first;
  first.author = creator;
  first.message = "Repository created";
  first.created_micros = info.created_micros;
  first.generation = 1;
  first.id = ToHex(Sha256(EncodeCommitBody(first) + name));
  BranchRecord br{first.id, RandomHex(12), info.created_micros};
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto existing, txn.Get(RepoKey(name)));
    if (existing) return AlreadyExists("repository '" + name + "' already exists");
    LM_ASSIGN_OR_RETURN(auto bucket, txn.Get(BucketKey(name)));
    if (bucket) return AlreadyExists("'" + name + "' is already the name of a plain bucket");
    json j{{"name", name},
           {"default_branch", default_branch},
           {"created", info.created_micros},
           {"creator", creator}};
    LM_TRY(txn.Put(RepoKey(name), j.dump()));
    LM_TRY(txn.Put(CommitKey(name, first.id), EncodeCommitBody(first)));
    Notify(name, default_branch);
    return txn.Put(BranchKey(name, default_branch), br.Encode());
  }));
  return info;
}

Result<RepoInfo> Repositories::GetRepo(const std::string& name) {
  LM_TRY(ValidateRepoName(name));
  LM_ASSIGN_OR_RETURN(auto v, meta_.Get(RepoKey(name)));
  if (!v) return NotFound("repository '" + name + "' not found");
  return DecodeRepo(*v);
}

Result<std::vector<RepoInfo>> Repositories::ListRepos(const std::string& after, size_t limit) {
  std::string start = after.empty() ? "r/" : RepoKey(after) + std::string(1, '\0');
  LM_ASSIGN_OR_RETURN(auto rows, meta_.Scan(start, PrefixEnd("r/"), limit));
  std::vector<RepoInfo> out;
  for (const auto& kv : rows) {
    LM_ASSIGN_OR_RETURN(auto info, DecodeRepo(kv.value));
    out.push_back(std::move(info));
  }
  return out;
}

Status Repositories::DeleteRepo(const std::string& name) {
  // Cached commits of the repository go with it (after the write: a reader racing the deletion
  // may cache one again, which only a later same-named repository with the same commit id,
  // i.e. the same content, could ever look up).
  struct ClearAfter {
    LruCache<Commit>& c;
    ~ClearAfter() { c.Clear(); }
  } clear{commits_};
  return meta_.Write([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckRepo(txn, name));
    LM_ASSIGN_OR_RETURN(auto branches,
                        txn.Scan(BranchPrefix(name), PrefixEnd(BranchPrefix(name)), 0));
    for (const auto& kv : branches) {
      LM_ASSIGN_OR_RETURN(auto br, BranchRecord::Decode(kv.value));
      LM_TRY(txn.DeleteRange(StagePrefix(br.staging), PrefixEnd(StagePrefix(br.staging))));
    }
    for (const std::string& p : {BranchPrefix(name), TagPrefix(name), CommitPrefix(name)}) {
      LM_TRY(txn.DeleteRange(p, PrefixEnd(p)));
    }
    Notify(name, "");
    return txn.Delete(RepoKey(name));
  });
}

// ---------------------------------------------------------------------------------------------
// Branches and tags

Result<Repositories::BranchRecord> Repositories::LoadBranch(MetaTxn& txn, const std::string& repo,
                                                            const std::string& branch) {
  LM_TRY(ValidateRefName(branch));
  LM_ASSIGN_OR_RETURN(auto v, txn.Get(BranchKey(repo, branch)));
  if (!v) {
    LM_TRY(CheckRepo(txn, repo));
    LM_ASSIGN_OR_RETURN(auto tag, txn.Get(TagKey(repo, branch)));
    if (tag) {
      return InvalidArgument("'" + branch + "' is a tag in repository '" + repo +
                             "'; only branches can be written");
    }
    return NotFound("branch '" + branch + "' not found in repository '" + repo + "'");
  }
  return BranchRecord::Decode(*v);
}

Result<BranchInfo> Repositories::CreateBranch(const std::string& repo, const std::string& name,
                                              const std::string& from_ref) {
  LM_TRY(ValidateRefName(name));
  LM_ASSIGN_OR_RETURN(auto from, Resolve(repo, from_ref));
  BranchRecord br{from.commit.id, RandomHex(12), NowMicros()};
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckRepo(txn, repo));
    LM_ASSIGN_OR_RETURN(auto existing, txn.Get(BranchKey(repo, name)));
    if (existing) {
      return AlreadyExists("branch '" + name + "' already exists in repository '" + repo + "'");
    }
    LM_ASSIGN_OR_RETURN(auto tag, txn.Get(TagKey(repo, name)));
    if (tag) return AlreadyExists("'" + name + "' is already a tag in repository '" + repo + "'");
    Notify(repo, name);
    return txn.Put(BranchKey(repo, name), br.Encode());
  }));
  return BranchInfo{name, br.head};
}

Result<BranchInfo> Repositories::GetBranch(const std::string& repo, const std::string& name) {
  BranchRecord br;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(br, LoadBranch(txn, repo, name));
    return Status::OK();
  }));
  return BranchInfo{name, br.head};
}

Result<std::vector<BranchInfo>> Repositories::ListBranches(const std::string& repo,
                                                           const std::string& after,
                                                           size_t limit) {
  std::vector<BranchInfo> out;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckRepo(txn, repo));
    std::string start = after.empty() ? BranchPrefix(repo) : BranchKey(repo, after) + '\0';
    LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(start, PrefixEnd(BranchPrefix(repo)), limit));
    for (const auto& kv : rows) {
      LM_ASSIGN_OR_RETURN(auto br, BranchRecord::Decode(kv.value));
      out.push_back(BranchInfo{kv.key.substr(BranchPrefix(repo).size()), br.head});
    }
    return Status::OK();
  }));
  return out;
}

Status Repositories::DeleteBranch(const std::string& repo, const std::string& name) {
  return meta_.Write([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto br, LoadBranch(txn, repo, name));
    LM_ASSIGN_OR_RETURN(auto rv, txn.Get(RepoKey(repo)));
    LM_ASSIGN_OR_RETURN(auto info, DecodeRepo(*rv));
    if (info.default_branch == name) {
      return InvalidArgument("branch '" + name + "' is the default branch of repository '" +
                             repo + "' and cannot be deleted");
    }
    LM_TRY(txn.DeleteRange(StagePrefix(br.staging), PrefixEnd(StagePrefix(br.staging))));
    Notify(repo, name);
    return txn.Delete(BranchKey(repo, name));
  });
}

Result<BranchInfo> Repositories::ResetBranch(const std::string& repo, const std::string& name,
                                             const std::string& ref) {
  LM_ASSIGN_OR_RETURN(auto target, Resolve(repo, ref));
  BranchRecord br;
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(br, LoadBranch(txn, repo, name));
    LM_TRY(txn.DeleteRange(StagePrefix(br.staging), PrefixEnd(StagePrefix(br.staging))));
    br.head = target.commit.id;
    br.staging = RandomHex(12);
    Notify(repo, name);
    return txn.Put(BranchKey(repo, name), br.Encode());
  }));
  return BranchInfo{name, br.head};
}

Result<size_t> Repositories::DiscardChanges(const std::string& repo, const std::string& branch,
                                            const std::string& prefix) {
  size_t n = 0;
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto br, LoadBranch(txn, repo, branch));
    std::string p = StagePrefix(br.staging) + prefix;
    LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(p, PrefixEnd(p), 0));
    n = rows.size();
    return txn.DeleteRange(p, PrefixEnd(p));
  }));
  return n;
}

static Result<TagInfo> DecodeTag(const std::string& name, std::string_view data) {
  try {
    return TagInfo{name, json::parse(data).at("commit").get<std::string>()};
  } catch (const std::exception& e) {
    return Internal(std::string("corrupt tag record: ") + e.what());
  }
}

Result<TagInfo> Repositories::CreateTag(const std::string& repo, const std::string& name,
                                        const std::string& ref) {
  LM_TRY(ValidateRefName(name, "tag"));
  LM_ASSIGN_OR_RETURN(auto target, Resolve(repo, ref));
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckRepo(txn, repo));
    LM_ASSIGN_OR_RETURN(auto existing, txn.Get(TagKey(repo, name)));
    if (existing) {
      return AlreadyExists("tag '" + name + "' already exists in repository '" + repo + "'");
    }
    LM_ASSIGN_OR_RETURN(auto branch, txn.Get(BranchKey(repo, name)));
    if (branch) {
      return AlreadyExists("'" + name + "' is already a branch in repository '" + repo + "'");
    }
    return txn.Put(TagKey(repo, name),
                   json{{"commit", target.commit.id}, {"created", NowMicros()}}.dump());
  }));
  return TagInfo{name, target.commit.id};
}

Result<TagInfo> Repositories::GetTag(const std::string& repo, const std::string& name) {
  LM_TRY(ValidateRefName(name, "tag"));
  std::optional<std::string> v;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckRepo(txn, repo));
    LM_ASSIGN_OR_RETURN(v, txn.Get(TagKey(repo, name)));
    return Status::OK();
  }));
  if (!v) return NotFound("tag '" + name + "' not found in repository '" + repo + "'");
  return DecodeTag(name, *v);
}

Result<std::vector<TagInfo>> Repositories::ListTags(const std::string& repo,
                                                    const std::string& after, size_t limit) {
  std::vector<TagInfo> out;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckRepo(txn, repo));
    std::string start = after.empty() ? TagPrefix(repo) : TagKey(repo, after) + '\0';
    LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(start, PrefixEnd(TagPrefix(repo)), limit));
    for (const auto& kv : rows) {
      LM_ASSIGN_OR_RETURN(auto t, DecodeTag(kv.key.substr(TagPrefix(repo).size()), kv.value));
      out.push_back(std::move(t));
    }
    return Status::OK();
  }));
  return out;
}

Status Repositories::DeleteTag(const std::string& repo, const std::string& name) {
  LM_TRY(ValidateRefName(name, "tag"));
  return meta_.Write([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckRepo(txn, repo));
    LM_ASSIGN_OR_RETURN(auto v, txn.Get(TagKey(repo, name)));
    if (!v) return NotFound("tag '" + name + "' not found in repository '" + repo + "'");
    return txn.Delete(TagKey(repo, name));
  });
}

// ---------------------------------------------------------------------------------------------
// Refs and commits

Result<Commit> Repositories::LoadCommit(MetaTxn* txn, const std::string& repo,
                                        const std::string& id) {
  const std::string cache_key = repo + "/" + id;
  if (auto hit = commits_.Get(cache_key)) return *hit;
  std::optional<std::string> v;
  if (txn) {
    LM_ASSIGN_OR_RETURN(v, txn->Get(CommitKey(repo, id)));
  } else {
    LM_ASSIGN_OR_RETURN(v, meta_.Get(CommitKey(repo, id)));
  }
  if (!v) return NotFound("commit '" + id + "' not found in repository '" + repo + "'");
  LM_ASSIGN_OR_RETURN(Commit c, DecodeCommit(id, *v));
  commits_.Put(cache_key, std::make_shared<const Commit>(c), v->size() + cache_key.size() + 256);
  return c;
}

Result<std::string> Repositories::ResolveBase(MetaTxn& txn, const std::string& repo,
                                              const std::string& base,
                                              std::optional<std::string>* branch) {
  LM_ASSIGN_OR_RETURN(auto b, txn.Get(BranchKey(repo, base)));
  if (b) {
    LM_ASSIGN_OR_RETURN(auto br, BranchRecord::Decode(*b));
    *branch = base;
    return br.head;
  }
  LM_ASSIGN_OR_RETURN(auto t, txn.Get(TagKey(repo, base)));
  if (t) {
    LM_ASSIGN_OR_RETURN(auto tag, DecodeTag(base, *t));
    return tag.commit_id;
  }
  if (base.size() >= 4 && base.size() <= 64 && IsLowerHex(base)) {
    std::string p = CommitPrefix(repo) + base;
    LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(p, PrefixEnd(p), 2));
    if (rows.size() == 1) return rows[0].key.substr(CommitPrefix(repo).size());
    if (rows.size() > 1) {
      return InvalidArgument("commit prefix '" + base + "' is ambiguous in repository '" + repo +
                             "'; give more characters");
    }
  }
  LM_TRY(CheckRepo(txn, repo));
  return NotFound("ref '" + base + "' not found in repository '" + repo +
                  "': no branch, tag or commit by that name");
}

Result<ResolvedRef> Repositories::Resolve(const std::string& repo, const std::string& ref) {
  LM_TRY(ValidateRepoName(repo));
  LM_ASSIGN_OR_RETURN(RefExpr expr, ParseRefExpr(ref));
  ResolvedRef out;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(std::string id, ResolveBase(txn, repo, expr.base, &out.branch));
    LM_ASSIGN_OR_RETURN(out.commit, LoadCommit(&txn, repo, id));
    return Status::OK();
  }));
  for (const auto& step : expr.steps) {
    out.branch.reset();
    switch (step.kind) {
      case RefExpr::Step::Kind::kAncestor:
        for (int64_t i = 0; i < step.n; ++i) {
          if (out.commit.parents.empty()) {
            return NotFound("'" + ref + "' goes back past the first commit of repository '" +
                            repo + "'");
          }
          LM_ASSIGN_OR_RETURN(out.commit, LoadCommit(nullptr, repo, out.commit.parents[0]));
        }
        break;
      case RefExpr::Step::Kind::kParent: {
        if (step.n == 0) break;
        if (static_cast<size_t>(step.n) > out.commit.parents.size()) {
          return NotFound("'" + ref + "': commit " + out.commit.id.substr(0, 12) + " has " +
                          std::to_string(out.commit.parents.size()) + " parent(s)");
        }
        LM_ASSIGN_OR_RETURN(out.commit, LoadCommit(nullptr, repo, out.commit.parents[step.n - 1]));
        break;
      }
      case RefExpr::Step::Kind::kAtTime:
        while (out.commit.created_micros > step.n) {
          if (out.commit.parents.empty()) {
            return NotFound("'" + ref + "': repository '" + repo +
                            "' has no commit at or before " + FormatRfc3339(step.n));
          }
          LM_ASSIGN_OR_RETURN(out.commit, LoadCommit(nullptr, repo, out.commit.parents[0]));
        }
        break;
    }
  }
  return out;
}

Result<Commit> Repositories::GetCommit(const std::string& repo, const std::string& ref) {
  LM_ASSIGN_OR_RETURN(auto r, Resolve(repo, ref));
  return r.commit;
}

Commit Repositories::NewCommit(const Commit& first_parent, std::vector<std::string> parents,
                               const NodeId& root, const CommitOptions& opts) {
  Commit c;
  c.parents = std::move(parents);
  c.tree = ToHex(root);
  c.author = opts.author;
  c.message = opts.message;
  c.metadata = opts.metadata;
  // Commit times never go backwards along history, so @{time} walks stay monotonic.
  c.created_micros = std::max(NowMicros(), first_parent.created_micros + 1);
  c.generation = first_parent.generation + 1;
  return c;
}

static void SealCommit(Commit* c) { c->id = ToHex(Sha256(EncodeCommitBody(*c))); }

Result<Commit> Repositories::WriteCommitOnBranch(const std::string& repo,
                                                 const std::string& branch,
                                                 const std::string& expected_head, Commit commit,
                                                 const NodeBatch& batch, bool require_clean) {
  SealCommit(&commit);
  LM_ASSIGN_OR_RETURN(auto prepared, nodes_.PrepareBatch(batch));
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto br, LoadBranch(txn, repo, branch));
    if (br.head != expected_head) {
      return Conflict("branch '" + branch + "' moved to " + br.head.substr(0, 12) +
                      " while this operation ran; retry it");
    }
    if (require_clean) {
      LM_ASSIGN_OR_RETURN(auto staged,
                          txn.Scan(StagePrefix(br.staging), PrefixEnd(StagePrefix(br.staging)), 1));
      if (!staged.empty()) {
        return PreconditionFailed("branch '" + branch +
                                  "' has uncommitted changes; commit or reset them first");
      }
    }
    LM_TRY(txn.Put(CommitKey(repo, commit.id), EncodeCommitBody(commit)));
    br.head = commit.id;
    Notify(repo, branch);
    LM_TRY(txn.Put(BranchKey(repo, branch), br.Encode()));
    return nodes_.WriteBatch(txn, prepared);  // last: waits for the pack to be durable
  }));
  return commit;
}

Result<Commit> Repositories::CommitBranch(const std::string& repo, const std::string& branch,
                                          const CommitOptions& opts) {
  if (opts.message.empty()) return InvalidArgument("commit message is empty");
  BranchRecord br;
  std::vector<KeyValue> staged;
  Commit head;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(br, LoadBranch(txn, repo, branch));
    LM_ASSIGN_OR_RETURN(staged,
                        txn.Scan(StagePrefix(br.staging), PrefixEnd(StagePrefix(br.staging)), 0));
    LM_ASSIGN_OR_RETURN(head, LoadCommit(&txn, repo, br.head));
    return Status::OK();
  }));
  if (staged.empty() && !opts.allow_empty) {
    return PreconditionFailed("nothing to commit on branch '" + branch + "'");
  }
  const size_t plen = StagePrefix(br.staging).size();
  std::vector<Mutation> muts;
  muts.reserve(staged.size());
  for (const auto& kv : staged) {
    uint64_t seq;
    std::optional<Entry> e;
    LM_TRY(DecodeStaged(kv.value, &seq, &e));
    muts.push_back(Mutation{kv.key.substr(plen), std::move(e)});
  }
  NodeBatch batch;
  LM_ASSIGN_OR_RETURN(NodeId root, ApplyMutations(nodes_, TreeId(head), muts, &batch));
  Commit c = NewCommit(head, {head.id}, root, opts);
  SealCommit(&c);
  LM_ASSIGN_OR_RETURN(auto prepared, nodes_.PrepareBatch(batch));
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto cur, LoadBranch(txn, repo, branch));
    if (cur.head != br.head || cur.staging != br.staging) {
      return Conflict("branch '" + branch + "' changed while committing; retry the commit");
    }
    LM_TRY(txn.Put(CommitKey(repo, c.id), EncodeCommitBody(c)));
    cur.head = c.id;
    Notify(repo, branch);
    LM_TRY(txn.Put(BranchKey(repo, branch), cur.Encode()));
    // Remove the staged changes this commit took, but not ones written since it read them (a
    // rewrite has a new sequence number, so its value differs).
    for (const auto& kv : staged) LM_TRY(txn.DeleteIfEquals(kv.key, kv.value));
    return nodes_.WriteBatch(txn, prepared);  // last: waits for the pack to be durable
  }));
  return c;
}

Result<Commit> Repositories::CommitChanges(const std::string& repo, const std::string& branch,
                                           const std::vector<Mutation>& changes,
                                           const CommitOptions& opts) {
  if (opts.message.empty()) return InvalidArgument("commit message is empty");
  for (size_t i = 0; i < changes.size(); ++i) {
    LM_TRY(ValidatePath(changes[i].path));
    if (i > 0 && changes[i - 1].path >= changes[i].path) {
      return InvalidArgument("changes must be sorted by path without duplicates");
    }
  }
  LM_ASSIGN_OR_RETURN(auto br, GetBranch(repo, branch));
  if (!opts.expected_head.empty() && br.head != opts.expected_head) {
    return Conflict("branch '" + branch + "' moved: it is at commit " + br.head.substr(0, 12) +
                    ", not " + opts.expected_head.substr(0, 12));
  }
  LM_ASSIGN_OR_RETURN(auto head, LoadCommit(nullptr, repo, br.head));
  if (changes.empty() && !opts.allow_empty) {
    return PreconditionFailed("nothing to commit on branch '" + branch + "'");
  }
  NodeBatch batch;
  LM_ASSIGN_OR_RETURN(NodeId root, ApplyMutations(nodes_, TreeId(head), changes, &batch));
  return WriteCommitOnBranch(repo, branch, head.id, NewCommit(head, {head.id}, root, opts), batch,
                             /*require_clean=*/false);
}

Result<std::vector<Commit>> Repositories::Log(const std::string& repo, const std::string& ref,
                                              const std::string& path, const std::string& after,
                                              size_t limit, bool* more) {
  if (!path.empty()) LM_TRY(ValidatePath(path));
  LM_ASSIGN_OR_RETURN(auto start, Resolve(repo, ref));
  auto newer = [](const Commit& a, const Commit& b) {
    return std::tie(a.created_micros, a.id) < std::tie(b.created_micros, b.id);
  };
  std::priority_queue<Commit, std::vector<Commit>, decltype(newer)> queue(newer);
  std::unordered_set<std::string> seen{start.commit.id};
  queue.push(start.commit);
  std::vector<Commit> out;
  bool skipping = !after.empty();
  *more = false;
  while (!queue.empty()) {
    Commit c = queue.top();
    queue.pop();
    for (const auto& p : c.parents) {
      if (seen.insert(p).second) {
        LM_ASSIGN_OR_RETURN(auto pc, LoadCommit(nullptr, repo, p));
        queue.push(std::move(pc));
      }
    }
    if (skipping) {
      if (c.id == after) skipping = false;
      continue;
    }
    if (!path.empty()) {
      NodeId parent_tree;
      if (!c.parents.empty()) {
        LM_ASSIGN_OR_RETURN(auto p, LoadCommit(nullptr, repo, c.parents[0]));
        parent_tree = TreeId(p);
      }
      bool changed = false;
      if (path.back() == '/') {
        LM_TRY(DiffTrees(nodes_, parent_tree, TreeId(c), path, "", [&](const Change&) {
          changed = true;
          return false;
        }));
      } else {
        LM_ASSIGN_OR_RETURN(auto before, GetEntry(nodes_, parent_tree, path));
        LM_ASSIGN_OR_RETURN(auto now, GetEntry(nodes_, TreeId(c), path));
        changed = before != now;
      }
      if (!changed) continue;
    }
    if (out.size() == limit) {
      *more = true;
      break;
    }
    out.push_back(std::move(c));
  }
  if (skipping) return NotFound("commit '" + after + "' is not in the history of '" + ref + "'");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Objects

Result<std::unique_ptr<ObjectUpload>> Repositories::NewUpload(bool md5) {
  LM_ASSIGN_OR_RETURN(auto w, blobs_.NewWriter());
  return std::make_unique<ObjectUpload>(std::move(w), md5, /*sha256=*/true);
}

Result<ObjectInfo> Repositories::Stage(const std::string& repo, const std::string& branch,
                                       const std::string& path,
                                       const std::optional<Entry>& entry) {
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto br, LoadBranch(txn, repo, branch));
    if (!entry) {
      ResolvedRef ref;
      ref.branch = branch;
      LM_ASSIGN_OR_RETURN(ref.commit, LoadCommit(&txn, repo, br.head));
      LM_ASSIGN_OR_RETURN(auto cur, StagedOrCommitted(txn, repo, ref, path));
      if (!cur) {
        return NotFound("object '" + path + "' not found on branch '" + branch + "'");
      }
    }
    LM_ASSIGN_OR_RETURN(uint64_t seq, NextSeq(txn));
    return txn.Put(StagePrefix(br.staging) + path, EncodeStaged(seq, entry));
  }));
  return ObjectInfo{path, entry.value_or(Entry{})};
}

Result<ObjectInfo> Repositories::PutObject(const std::string& repo, const std::string& branch,
                                           const std::string& path,
                                           std::unique_ptr<ObjectUpload> upload,
                                           const PutOptions& opts) {
  LM_TRY(ValidateRepoName(repo));
  LM_TRY(ValidatePath(path));
  LM_ASSIGN_OR_RETURN(ObjectUpload::Digests d, upload->Finish());
  if (d.sha256_hex.empty()) return Internal("repository upload without a content hash");
  Entry e = upload->MakeEntry(ContentAddress(d.sha256_hex), opts);
  // The bytes are durable before any metadata points at them.
  LM_TRY(upload->Commit(e.address));
  return Stage(repo, branch, path, e);
}

Result<ObjectInfo> Repositories::PutEntry(const std::string& repo, const std::string& branch,
                                          const std::string& path, const Entry& entry) {
  LM_TRY(ValidateRepoName(repo));
  LM_TRY(ValidatePath(path));
  return Stage(repo, branch, path, entry);
}

Result<std::optional<Entry>> Repositories::StagedOrCommitted(MetaTxn& txn,
                                                             const std::string& repo,
                                                             const ResolvedRef& ref,
                                                             const std::string& path) {
  if (ref.branch) {
    LM_ASSIGN_OR_RETURN(auto br, LoadBranch(txn, repo, *ref.branch));
    LM_ASSIGN_OR_RETURN(auto staged, txn.Get(StagePrefix(br.staging) + path));
    if (staged) {
      uint64_t seq;
      std::optional<Entry> e;
      LM_TRY(DecodeStaged(*staged, &seq, &e));
      return e;
    }
    if (br.head != ref.commit.id) {
      LM_ASSIGN_OR_RETURN(auto head, LoadCommit(&txn, repo, br.head));
      return GetEntry(nodes_, TreeId(head), path);
    }
  }
  return GetEntry(nodes_, TreeId(ref.commit), path);
}

Result<ObjectInfo> Repositories::StatObject(const std::string& repo, const std::string& ref,
                                            const std::string& path) {
  LM_TRY(ValidatePath(path));
  std::optional<Entry> e;
  LM_ASSIGN_OR_RETURN(RefExpr expr, ParseRefExpr(ref));
  if (expr.steps.empty()) {
    // A plain branch, tag or commit id (the common case): one read transaction for all of it.
    LM_TRY(ValidateRepoName(repo));
    LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
      ResolvedRef r;
      LM_ASSIGN_OR_RETURN(std::string id, ResolveBase(txn, repo, expr.base, &r.branch));
      LM_ASSIGN_OR_RETURN(r.commit, LoadCommit(&txn, repo, id));
      LM_ASSIGN_OR_RETURN(e, StagedOrCommitted(txn, repo, r, path));
      return Status::OK();
    }));
  } else {
    LM_ASSIGN_OR_RETURN(auto r, Resolve(repo, ref));
    LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
      LM_ASSIGN_OR_RETURN(e, StagedOrCommitted(txn, repo, r, path));
      return Status::OK();
    }));
  }
  if (!e) return NotFound("object '" + path + "' not found at '" + ref + "'");
  return ObjectInfo{path, std::move(*e)};
}

Result<std::unique_ptr<storage::BlobReader>> Repositories::OpenObject(
    const Entry& entry, uint64_t offset, std::optional<uint64_t> length) {
  auto r = blobs_.Open(entry.address, offset, length);
  if (!r.ok() && r.status().IsNotFound()) {
    return Internal("the bytes of an object are missing from the blob store (" + entry.address +
                    ")");
  }
  return r;
}

Status Repositories::DeleteObject(const std::string& repo, const std::string& branch,
                                  const std::string& path) {
  LM_TRY(ValidateRepoName(repo));
  LM_TRY(ValidatePath(path));
  return Stage(repo, branch, path, std::nullopt).status();
}

Result<Listing> Repositories::ListObjects(const std::string& repo, const std::string& ref,
                                          const ListOptions& opts) {
  if (opts.limit == 0) return InvalidArgument("limit must be at least 1");
  LM_ASSIGN_OR_RETURN(auto r, Resolve(repo, ref));
  Listing out;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    std::string sprefix;
    NodeId root = TreeId(r.commit);
    if (r.branch) {
      LM_ASSIGN_OR_RETURN(auto br, LoadBranch(txn, repo, *r.branch));
      sprefix = StagePrefix(br.staging);
      if (br.head != r.commit.id) {  // committed meanwhile: read the same snapshot as staging
        LM_ASSIGN_OR_RETURN(auto head, LoadCommit(&txn, repo, br.head));
        root = TreeId(head);
      }
    }
    MergedIter it(nodes_, root, txn, sprefix);
    std::string start = opts.prefix;
    if (!opts.after.empty() && opts.after >= opts.prefix) {
      if (!opts.delimiter.empty() && opts.after.size() >= opts.delimiter.size() &&
          opts.after.compare(opts.after.size() - opts.delimiter.size(), std::string::npos,
                             opts.delimiter) == 0) {
        start = PrefixEnd(opts.after);  // after a common prefix: skip everything under it
      } else {
        start = opts.after + '\0';
      }
    }
    LM_TRY(it.Seek(start));
    size_t n = 0;
    while (it.Valid() && StartsWith(it.path(), opts.prefix)) {
      if (n == opts.limit) {
        out.truncated = true;
        break;
      }
      if (!opts.delimiter.empty()) {
        size_t pos = it.path().find(opts.delimiter, opts.prefix.size());
        if (pos != std::string::npos) {
          std::string cp = it.path().substr(0, pos + opts.delimiter.size());
          out.common_prefixes.push_back(cp);
          out.next_after = cp;
          ++n;
          std::string next = PrefixEnd(cp);
          if (next.empty()) break;
          LM_TRY(it.Seek(next));
          continue;
        }
      }
      out.objects.push_back(ObjectInfo{it.path(), it.entry()});
      out.next_after = it.path();
      ++n;
      LM_TRY(it.Next());
    }
    if (!out.truncated) out.next_after.clear();
    return Status::OK();
  }));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Diff, merge, revert

Result<ChangePage> Repositories::Diff(const std::string& repo, const std::string& left,
                                      const std::string& right, const PageOptions& page) {
  if (page.limit == 0) return InvalidArgument("limit must be at least 1");
  LM_ASSIGN_OR_RETURN(auto l, Resolve(repo, left));
  LM_ASSIGN_OR_RETURN(auto r, Resolve(repo, right));
  ChangePage out;
  LM_TRY(DiffTrees(nodes_, TreeId(l.commit), TreeId(r.commit), page.prefix, page.after,
                   [&](const Change& c) {
                     if (out.changes.size() == page.limit) {
                       out.truncated = true;
                       return false;
                     }
                     out.changes.push_back(c);
                     return true;
                   }));
  if (out.truncated) out.next_after = out.changes.back().path;
  return out;
}

Result<ChangePage> Repositories::Changes(const std::string& repo, const std::string& branch,
                                         const PageOptions& page) {
  if (page.limit == 0) return InvalidArgument("limit must be at least 1");
  ChangePage out;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto br, LoadBranch(txn, repo, branch));
    LM_ASSIGN_OR_RETURN(auto head, LoadCommit(&txn, repo, br.head));
    std::string sp = StagePrefix(br.staging);
    std::string start = sp + page.prefix;
    if (!page.after.empty() && page.after >= page.prefix) start = sp + page.after + '\0';
    std::string end = PrefixEnd(sp + page.prefix);
    while (true) {
      LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(start, end, 256));
      for (const auto& kv : rows) {
        std::string path = kv.key.substr(sp.size());
        uint64_t seq;
        std::optional<Entry> staged;
        LM_TRY(DecodeStaged(kv.value, &seq, &staged));
        LM_ASSIGN_OR_RETURN(auto committed, GetEntry(nodes_, TreeId(head), path));
        if (staged == committed) continue;  // e.g. put then delete of a new path
        if (out.changes.size() == page.limit) {
          out.truncated = true;
          out.next_after = out.changes.back().path;
          return Status::OK();
        }
        ChangeType t = !committed ? ChangeType::kAdded
                                  : (!staged ? ChangeType::kRemoved : ChangeType::kChanged);
        out.changes.push_back(Change{path, t, committed, staged});
      }
      if (rows.size() < 256) return Status::OK();
      start = rows.back().key + '\0';
    }
  }));
  return out;
}

Result<std::string> Repositories::MergeBase(const std::string& repo, const std::string& a,
                                            const std::string& b) {
  if (a == b) return a;
  std::unordered_set<std::string> ancestors{a};
  std::vector<std::string> stack{a};
  while (!stack.empty()) {
    std::string id = std::move(stack.back());
    stack.pop_back();
    LM_ASSIGN_OR_RETURN(auto c, LoadCommit(nullptr, repo, id));
    for (const auto& p : c.parents) {
      if (ancestors.insert(p).second) stack.push_back(p);
    }
  }
  auto lower = [](const Commit& x, const Commit& y) { return x.generation < y.generation; };
  std::priority_queue<Commit, std::vector<Commit>, decltype(lower)> queue(lower);
  std::unordered_set<std::string> seen{b};
  LM_ASSIGN_OR_RETURN(auto cb, LoadCommit(nullptr, repo, b));
  queue.push(std::move(cb));
  while (!queue.empty()) {
    Commit c = queue.top();
    queue.pop();
    if (ancestors.count(c.id)) return c.id;
    for (const auto& p : c.parents) {
      if (seen.insert(p).second) {
        LM_ASSIGN_OR_RETURN(auto pc, LoadCommit(nullptr, repo, p));
        queue.push(std::move(pc));
      }
    }
  }
  return NotFound("commits " + a.substr(0, 12) + " and " + b.substr(0, 12) +
                  " have no common ancestor");
}

Result<MergeResult> Repositories::Merge(const std::string& repo, const std::string& source,
                                        const std::string& dest, MergeStrategy strategy,
                                        const CommitOptions& opts) {
  LM_ASSIGN_OR_RETURN(auto src, Resolve(repo, source));
  Commit head;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto br, LoadBranch(txn, repo, dest));
    LM_ASSIGN_OR_RETURN(auto staged,
                        txn.Scan(StagePrefix(br.staging), PrefixEnd(StagePrefix(br.staging)), 1));
    if (!staged.empty()) {
      return PreconditionFailed("branch '" + dest +
                                "' has uncommitted changes; commit or reset them before merging");
    }
    LM_ASSIGN_OR_RETURN(head, LoadCommit(&txn, repo, br.head));
    return Status::OK();
  }));
  MergeResult result;
  LM_ASSIGN_OR_RETURN(std::string base_id, MergeBase(repo, src.commit.id, head.id));
  if (base_id == src.commit.id) {
    result.commit_id = head.id;
    result.already_up_to_date = true;
    return result;
  }
  LM_ASSIGN_OR_RETURN(auto base, LoadCommit(nullptr, repo, base_id));
  std::vector<Change> theirs;
  LM_TRY(DiffTrees(nodes_, TreeId(base), TreeId(src.commit), "", "", [&](const Change& c) {
    theirs.push_back(c);
    return true;
  }));
  std::map<std::string, std::optional<Entry>> ours;
  if (base_id != head.id) {
    LM_TRY(DiffTrees(nodes_, TreeId(base), TreeId(head), "", "", [&](const Change& c) {
      ours[c.path] = c.right;
      return true;
    }));
  }
  std::vector<Mutation> muts;
  for (const auto& c : theirs) {
    auto o = ours.find(c.path);
    if (o != ours.end()) {
      if (o->second == c.right) continue;  // both sides made the same change
      if (strategy == MergeStrategy::kFail) {
        if (merge_resolver_) {
          LM_ASSIGN_OR_RETURN(MergeResolution r,
                              merge_resolver_(repo, c.path, c.left, o->second, c.right));
          if (r.resolved) {
            result.resolved.push_back(c.path);
            muts.push_back(Mutation{c.path, std::move(r.entry)});
            continue;
          }
          if (!r.reason.empty()) result.conflict_reasons[c.path] = r.reason;
        }
        result.conflicts.push_back(c.path);
        continue;
      }
      if (strategy == MergeStrategy::kDestWins) continue;
    }
    muts.push_back(Mutation{c.path, c.right});
  }
  if (!result.conflicts.empty()) {
    result.commit_id = head.id;
    return result;
  }
  NodeBatch batch;
  LM_ASSIGN_OR_RETURN(NodeId root, ApplyMutations(nodes_, TreeId(head), muts, &batch));
  CommitOptions o = opts;
  if (o.message.empty()) o.message = "Merge '" + source + "' into '" + dest + "'";
  Commit c = NewCommit(head, {head.id, src.commit.id}, root, o);
  c.generation = std::max(head.generation, src.commit.generation) + 1;
  LM_ASSIGN_OR_RETURN(auto written, WriteCommitOnBranch(repo, dest, head.id, std::move(c), batch,
                                                        /*require_clean=*/true));
  result.commit_id = written.id;
  result.changes = muts.size();
  return result;
}

Result<Commit> Repositories::Revert(const std::string& repo, const std::string& branch,
                                    const std::string& ref, int parent_number,
                                    const CommitOptions& opts) {
  LM_ASSIGN_OR_RETURN(auto target, Resolve(repo, ref));
  const Commit& c = target.commit;
  if (c.parents.empty()) return InvalidArgument("cannot revert the first commit of a repository");
  if (c.parents.size() > 1 && parent_number == 0) {
    return InvalidArgument("commit " + c.id.substr(0, 12) +
                           " is a merge; choose the parent to revert to (parent number 1 or " +
                           std::to_string(c.parents.size()) + ")");
  }
  if (parent_number == 0) parent_number = 1;
  if (parent_number < 0 || static_cast<size_t>(parent_number) > c.parents.size()) {
    return InvalidArgument("commit " + c.id.substr(0, 12) + " has no parent number " +
                           std::to_string(parent_number));
  }
  LM_ASSIGN_OR_RETURN(auto parent, LoadCommit(nullptr, repo, c.parents[parent_number - 1]));
  LM_ASSIGN_OR_RETURN(auto br_info, GetBranch(repo, branch));
  LM_ASSIGN_OR_RETURN(auto head, LoadCommit(nullptr, repo, br_info.head));
  std::vector<Mutation> muts;
  std::vector<std::string> conflicts;
  Status lookup;  // a failure inside the callback, which can only stop the walk
  LM_TRY(DiffTrees(nodes_, TreeId(c), TreeId(parent), "", "", [&](const Change& ch) {
    auto now = GetEntry(nodes_, TreeId(head), ch.path);
    if (!now.ok()) {
      lookup = now.status();
      return false;
    }
    if (*now != ch.left) {
      conflicts.push_back(ch.path);
    } else {
      muts.push_back(Mutation{ch.path, ch.right});
    }
    return true;
  }));
  LM_TRY(lookup);
  if (!conflicts.empty()) {
    std::string list;
    for (size_t i = 0; i < conflicts.size() && i < 10; ++i) list += (i ? ", " : "") + conflicts[i];
    if (conflicts.size() > 10) list += ", ...";
    return Conflict("cannot revert " + c.id.substr(0, 12) + ": " +
                    std::to_string(conflicts.size()) + " path(s) changed on '" + branch +
                    "' since: " + list);
  }
  NodeBatch batch;
  LM_ASSIGN_OR_RETURN(NodeId root, ApplyMutations(nodes_, TreeId(head), muts, &batch));
  CommitOptions o = opts;
  if (o.message.empty()) o.message = "Revert " + c.id.substr(0, 12) + ": " + c.message;
  o.metadata["reverts"] = c.id;
  return WriteCommitOnBranch(repo, branch, head.id, NewCommit(head, {head.id}, root, o), batch,
                             /*require_clean=*/true);
}

// ---------------------------------------------------------------------------------------------
// Garbage collection

Result<GcReport> Repositories::CollectGarbage(const GcOptions& opts) {
  GcReport report;
  const int64_t now = NowMicros();
  const int64_t keep_after = now - opts.retention_micros;
  std::unordered_set<std::string> live;        // blob keys
  std::unordered_set<NodeId> visited_nodes;

  std::function<Status(const NodeId&)> mark_tree = [&](const NodeId& id) -> Status {
    if (id.empty() || !visited_nodes.insert(id).second) return Status::OK();
    LM_ASSIGN_OR_RETURN(auto node, nodes_.Load(id));
    if (node->level() == 0) {
      for (size_t i = 0; i < node->size(); ++i) live.insert(node->entry(i).address);
      return Status::OK();
    }
    for (size_t i = 0; i < node->size(); ++i) LM_TRY(mark_tree(node->child(i)));
    return Status::OK();
  };

  // Mark. Staged changes are read first: a change staged after this point has a fresh blob
  // (or refreshed the mtime of an existing one), which the grace period protects.
  LM_ASSIGN_OR_RETURN(auto staged, meta_.Scan("s/", PrefixEnd("s/"), 0));
  for (const auto& kv : staged) {
    uint64_t seq;
    std::optional<Entry> e;
    LM_TRY(DecodeStaged(kv.value, &seq, &e));
    if (e) live.insert(e->address);
  }
  LM_ASSIGN_OR_RETURN(auto repos, meta_.Scan("r/", PrefixEnd("r/"), 0));
  for (const auto& rkv : repos) {
    std::string repo = rkv.key.substr(2);
    std::vector<std::string> roots;
    LM_ASSIGN_OR_RETURN(auto branches,
                        meta_.Scan(BranchPrefix(repo), PrefixEnd(BranchPrefix(repo)), 0));
    for (const auto& kv : branches) {
      LM_ASSIGN_OR_RETURN(auto br, BranchRecord::Decode(kv.value));
      roots.push_back(br.head);
    }
    LM_ASSIGN_OR_RETURN(auto tags, meta_.Scan(TagPrefix(repo), PrefixEnd(TagPrefix(repo)), 0));
    for (const auto& kv : tags) {
      LM_ASSIGN_OR_RETURN(auto t, DecodeTag("", kv.value));
      roots.push_back(t.commit_id);
    }
    std::unordered_set<std::string> root_set(roots.begin(), roots.end());
    std::unordered_set<std::string> seen(roots.begin(), roots.end());
    std::vector<std::string> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      std::string id = std::move(stack.back());
      stack.pop_back();
      LM_ASSIGN_OR_RETURN(auto c, LoadCommit(nullptr, repo, id));
      if (root_set.count(id) || c.created_micros >= keep_after) {
        ++report.commits_kept;
        LM_TRY(mark_tree(TreeId(c)));
      }
      for (const auto& p : c.parents) {
        if (seen.insert(p).second) stack.push_back(p);
      }
    }
  }
  // Files that live blobs refer to (table files), when something knows how to find them.
  if (gc_expander_) LM_TRY(gc_expander_(&live));
  // Sweep.
  const int64_t grace_cutoff = now - opts.grace_micros;
  std::vector<storage::BlobInfo> candidates;
  auto consider = [&](const storage::BlobInfo& info) -> Status {
    ++report.blobs_scanned;
    if (live.count(info.key)) {
      ++report.blobs_live;
    } else if (info.mtime_micros < grace_cutoff) {
      candidates.push_back(info);
    }
    return Status::OK();
  };
  LM_TRY(blobs_.List("objects/", consider));
  if (gc_expander_) LM_TRY(blobs_.List("tables/", consider));
  for (const auto& info : candidates) {
    if (!opts.dry_run) {
      // Re-check: a writer may have re-committed the same bytes since the listing.
      auto cur = blobs_.Stat(info.key);
      if (!cur.ok() || cur->mtime_micros >= grace_cutoff) continue;
      Status s = blobs_.Delete(info.key);
      if (!s.ok() && !s.IsNotFound()) return s;
    }
    ++report.blobs_deleted;
    report.bytes_deleted += info.size;
  }
  return report;
}

}  // namespace lakemesh::versioning
