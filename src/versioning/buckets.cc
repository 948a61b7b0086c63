#include "versioning/buckets.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "base/coding.h"
#include "base/random.h"
#include "base/time.h"
#include "versioning/keys.h"
#include "versioning/names.h"

namespace lakemesh::versioning {

using meta::MetaTxn;
using meta::PrefixEnd;
using nlohmann::json;

namespace {

constexpr std::string_view kBlobPrefix = "buckets/";

std::string ObjectPrefix(const std::string& bucket) { return "po/" + bucket + "/"; }
// The bytes of a small object, kept in the metadata beside its row.
std::string InlinePrefix(const std::string& bucket) { return "pd/" + bucket + "/"; }

// Bucket names hold no '/', so this is unambiguous.
std::string CacheKey(const std::string& bucket, const std::string& key) {
  std::string k;
  k.reserve(bucket.size() + 1 + key.size());
  k += bucket;
  k += '/';
  k += key;
  return k;
}

// What a cached object is charged: its bytes and strings plus bookkeeping.
size_t CacheCharge(const ObjectInfo& o) {
  size_t n = 256 + 2 * o.path.size() + o.entry.etag.size() + o.entry.content_type.size();
  for (const auto& [k, v] : o.entry.metadata) n += 64 + k.size() + v.size();
  for (const auto& [k, v] : o.entry.headers) n += 64 + k.size() + v.size();
  if (o.inline_data) n += o.inline_data->size();
  return n;
}

Result<BucketInfo> DecodeBucket(const std::string& name, std::string_view data) {
  try {
    json j = json::parse(data);
    return BucketInfo{name, j.at("created").get<int64_t>(), j.at("creator").get<std::string>()};
  } catch (const std::exception& e) {
    return Internal("corrupt bucket record for '" + name + "': " + e.what());
  }
}

Result<Entry> DecodeObject(std::string_view data) {
  Decoder d(data);
  Entry e;
  if (!DecodeEntry(d, &e) || d.remaining() != 0) return Internal("corrupt object record");
  return e;
}

}  // namespace

Status Buckets::CheckBucket(MetaTxn& txn, const std::string& bucket) {
  LM_TRY(ValidateBucketName(bucket));
  LM_ASSIGN_OR_RETURN(auto v, txn.Get(BucketKey(bucket)));
  if (!v) return NotFound("bucket '" + bucket + "' not found");
  return Status::OK();
}

Result<BucketInfo> Buckets::CreateBucket(const std::string& name, const std::string& creator) {
  LM_TRY(ValidateBucketName(name));
  BucketInfo info{name, NowMicros(), creator};
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto existing, txn.Get(BucketKey(name)));
    if (existing) return AlreadyExists("bucket '" + name + "' already exists");
    LM_ASSIGN_OR_RETURN(auto repo, txn.Get(RepoKey(name)));
    if (repo) return AlreadyExists("'" + name + "' is already the name of a repository");
    return txn.Put(BucketKey(name), json{{"created", info.created_micros}, {"creator", creator}}.dump());
  }));
  return info;
}

Result<BucketInfo> Buckets::GetBucket(const std::string& name) {
  LM_TRY(ValidateBucketName(name));
  if (auto hit = bucket_cache_.Get(name)) return *hit;
  uint64_t generation = bucket_cache_.Generation();
  LM_ASSIGN_OR_RETURN(auto v, meta_.Get(BucketKey(name)));
  if (!v) return NotFound("bucket '" + name + "' not found");
  LM_ASSIGN_OR_RETURN(auto info, DecodeBucket(name, *v));
  bucket_cache_.PutIfUnchanged(name, std::make_shared<const BucketInfo>(info),
                               128 + 2 * name.size() + info.creator.size(), generation);
  return info;
}

Result<std::vector<BucketInfo>> Buckets::ListBuckets() {
  LM_ASSIGN_OR_RETURN(auto rows, meta_.Scan("pb/", PrefixEnd("pb/"), 0));
  std::vector<BucketInfo> out;
  for (const auto& kv : rows) {
    LM_ASSIGN_OR_RETURN(auto b, DecodeBucket(kv.key.substr(3), kv.value));
    out.push_back(std::move(b));
  }
  return out;
}

Status Buckets::DeleteBucket(const std::string& name) {
  Status st = meta_.Write([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckBucket(txn, name));
    std::string prefix = ObjectPrefix(name);
    LM_ASSIGN_OR_RETURN(auto one, txn.Scan(prefix, PrefixEnd(prefix), 1));
    if (!one.empty()) return PreconditionFailed("bucket '" + name + "' is not empty");
    return txn.Delete(BucketKey(name));
  });
  // A cached object also says that its bucket exists. An emptied bucket has none left, but
  // dropping everything is cheap for an operation this rare.
  if (st.ok()) {
    bucket_cache_.Erase(name);
    cache_.Clear();
  }
  return st;
}

Result<std::unique_ptr<ObjectUpload>> Buckets::NewUpload(bool md5, bool sha256) {
  LM_ASSIGN_OR_RETURN(auto w, blobs_.NewWriter());
  return std::make_unique<ObjectUpload>(std::move(w), md5, sha256);
}

std::function<Status(MetaTxn&)> Buckets::PutRow(const std::string& bucket,
                                               const std::string& key, const Entry& e,
                                               std::shared_ptr<const std::string> inline_data,
                                               std::shared_ptr<std::string> replaced) {
  std::string encoded;
  EncodeEntry(&encoded, e);
  return [this, bucket, key, encoded = std::move(encoded), inline_data = std::move(inline_data),
          replaced = std::move(replaced)](MetaTxn& txn) -> Status {
    replaced->clear();
    LM_TRY(CheckBucket(txn, bucket));
    std::string row = ObjectPrefix(bucket) + key;
    LM_ASSIGN_OR_RETURN(auto old, txn.Get(row));
    if (old) {
      LM_ASSIGN_OR_RETURN(auto oe, DecodeObject(*old));
      *replaced = oe.address;
    }
    if (inline_data) {
      LM_TRY(txn.Put(InlinePrefix(bucket) + key, *inline_data));
    } else if (old && replaced->empty()) {
      LM_TRY(txn.Delete(InlinePrefix(bucket) + key));
    }
    return txn.Put(row, encoded);
  };
}

Result<ObjectInfo> Buckets::PutObject(const std::string& bucket, const std::string& key,
                                      std::unique_ptr<ObjectUpload> upload,
                                      const PutOptions& opts) {
  LM_TRY(ValidateBucketName(bucket));
  LM_TRY(ValidatePath(key));
  LM_TRY(upload->Finish().status());
  const std::string* small = upload->InMemory();
  std::shared_ptr<const std::string> inline_data;
  std::string address;
  if (small && small->size() <= kInlineMax) {
    inline_data = std::make_shared<const std::string>(*small);  // no blob: kept in the metadata
  } else {
    std::string id = RandomHex(16);
    address = std::string(kBlobPrefix) + id.substr(0, 2) + "/" + id;
  }
  Entry e = upload->MakeEntry(std::move(address), opts);
  // The bytes are durable before the metadata points at them.
  if (!inline_data) LM_TRY(upload->Commit(e.address));
  auto replaced = std::make_shared<std::string>();
  Status st = meta_.Write(PutRow(bucket, key, e, inline_data, replaced));
  cache_.Erase(CacheKey(bucket, key));
  if (!st.ok()) {
    if (!inline_data) blobs_.Delete(e.address).IgnoreError();
    return st;
  }
  if (!replaced->empty()) blobs_.Delete(*replaced).IgnoreError();
  return ObjectInfo{key, std::move(e), std::move(inline_data)};
}

void Buckets::PutObjectAsync(const std::string& bucket, const std::string& key,
                             std::unique_ptr<ObjectUpload> upload, const PutOptions& opts,
                             std::function<void(Result<ObjectInfo>)> done) {
  Status valid = ValidateBucketName(bucket);
  if (valid.ok()) valid = ValidatePath(key);
  if (valid.ok()) valid = upload->Finish().status();
  if (!valid.ok()) return done(valid);
  const std::string* small = upload->InMemory();
  if (!small || small->size() > kInlineMax) {
    return done(PutObject(bucket, key, std::move(upload), opts));
  }
  auto inline_data = std::make_shared<const std::string>(*small);
  Entry e = upload->MakeEntry("", opts);
  auto replaced = std::make_shared<std::string>();
  auto write = PutRow(bucket, key, e, inline_data, replaced);
  meta_.WriteAsync(std::move(write), [this, bucket, key, e = std::move(e),
                                      inline_data = std::move(inline_data), replaced,
                                      done = std::move(done)](Status st) mutable {
    cache_.Erase(CacheKey(bucket, key));
    if (!st.ok()) return done(st);
    // An inline object replacing a blob: the blob goes (a quick unlink on a local store).
    if (!replaced->empty()) blobs_.Delete(*replaced).IgnoreError();
    done(ObjectInfo{key, std::move(e), std::move(inline_data)});
  });
}

Result<std::shared_ptr<const ObjectInfo>> Buckets::Lookup(const std::string& bucket,
                                                          const std::string& key) {
  const std::string cache_key = CacheKey(bucket, key);
  if (auto hit = cache_.Get(cache_key)) return hit;
  const uint64_t generation = cache_.Generation();
  std::shared_ptr<const ObjectInfo> out;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    out.reset();
    LM_TRY(CheckBucket(txn, bucket));
    LM_ASSIGN_OR_RETURN(auto v, txn.Get(ObjectPrefix(bucket) + key));
    if (!v) return Status::OK();
    auto o = std::make_shared<ObjectInfo>();
    o->path = key;
    LM_ASSIGN_OR_RETURN(o->entry, DecodeObject(*v));
    if (o->entry.address.empty()) {
      LM_ASSIGN_OR_RETURN(auto data, txn.Get(InlinePrefix(bucket) + key));
      if (!data || data->size() != o->entry.size) {
        return Internal("the inline bytes of object '" + key + "' are missing or damaged");
      }
      o->inline_data = std::make_shared<const std::string>(std::move(*data));
    }
    out = std::move(o);
    return Status::OK();
  }));
  if (out) cache_.PutIfUnchanged(cache_key, out, CacheCharge(*out), generation);
  return out;
}

Result<ObjectInfo> Buckets::StatObject(const std::string& bucket, const std::string& key) {
  LM_ASSIGN_OR_RETURN(auto o, Lookup(bucket, key));
  if (!o) return NotFound("object '" + key + "' not found in bucket '" + bucket + "'");
  return *o;
}

Result<std::unique_ptr<storage::BlobReader>> Buckets::OpenObject(const ObjectInfo& object,
                                                                 uint64_t offset,
                                                                 std::optional<uint64_t> length) {
  if (object.entry.address.empty()) {
    if (!object.inline_data) return Internal("a small object was opened without its bytes");
    uint64_t size = object.inline_data->size();
    if (offset > size) return InvalidArgument("offset past the end of the object");
    uint64_t n = std::min<uint64_t>(size - offset, length.value_or(size - offset));
    return storage::NewStringReader(object.inline_data, offset, n);
  }
  auto r = blobs_.Open(object.entry.address, offset, length);
  if (!r.ok() && r.status().IsNotFound()) {
    return NotFound("the object was replaced or deleted while it was being read");
  }
  return r;
}

Status Buckets::DeleteObject(const std::string& bucket, const std::string& key) {
  std::string address;
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckBucket(txn, bucket));
    std::string row = ObjectPrefix(bucket) + key;
    LM_ASSIGN_OR_RETURN(auto v, txn.Get(row));
    if (!v) return NotFound("object '" + key + "' not found in bucket '" + bucket + "'");
    LM_ASSIGN_OR_RETURN(auto e, DecodeObject(*v));
    address = e.address;
    if (address.empty()) LM_TRY(txn.Delete(InlinePrefix(bucket) + key));
    return txn.Delete(row);
  }));
  cache_.Erase(CacheKey(bucket, key));
  if (!address.empty()) blobs_.Delete(address).IgnoreError();
  return Status::OK();
}

Result<Listing> Buckets::ListObjects(const std::string& bucket, const ListOptions& opts) {
  if (opts.limit == 0) return InvalidArgument("limit must be at least 1");
  Listing out;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckBucket(txn, bucket));
    const std::string base = ObjectPrefix(bucket);
    const std::string end = PrefixEnd(base + opts.prefix);
    std::string start = base + opts.prefix;
    if (!opts.after.empty() && opts.after >= opts.prefix) {
      const std::string& d = opts.delimiter;
      bool after_is_prefix = !d.empty() && opts.after.size() >= d.size() &&
                             opts.after.compare(opts.after.size() - d.size(), d.size(), d) == 0;
      start = after_is_prefix ? PrefixEnd(base + opts.after) : base + opts.after + '\0';
    }
    size_t n = 0;
    while (true) {
      // Scan in pages; a common prefix jumps past everything under it.
      LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(start, end, 256));
      if (rows.empty()) break;
      bool jumped = false;
      for (auto& kv : rows) {
        std::string key = kv.key.substr(base.size());
        if (n == opts.limit) {
          out.truncated = true;
          return Status::OK();
        }
        if (!opts.delimiter.empty()) {
          size_t pos = key.find(opts.delimiter, opts.prefix.size());
          if (pos != std::string::npos) {
            std::string cp = key.substr(0, pos + opts.delimiter.size());
            out.common_prefixes.push_back(cp);
            out.next_after = cp;
            ++n;
            start = PrefixEnd(base + cp);
            jumped = true;
            break;
          }
        }
        LM_ASSIGN_OR_RETURN(auto e, DecodeObject(kv.value));
        out.objects.push_back(ObjectInfo{key, std::move(e)});
        out.next_after = key;
        ++n;
      }
      if (jumped) {
        if (start.empty() || (!end.empty() && start >= end)) break;
        continue;
      }
      if (rows.size() < 256) break;
      start = rows.back().key + '\0';
    }
    return Status::OK();
  }));
  if (!out.truncated) out.next_after.clear();
  return out;
}

Result<size_t> Buckets::CollectGarbage(int64_t grace_micros) {
  std::unordered_set<std::string> live;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(auto rows, txn.Scan("po/", PrefixEnd("po/"), 0));
    for (const auto& kv : rows) {
      LM_ASSIGN_OR_RETURN(auto e, DecodeObject(kv.value));
      live.insert(e.address);
    }
    return Status::OK();
  }));
  const int64_t cutoff = NowMicros() - grace_micros;
  std::vector<std::string> dead;
  LM_TRY(blobs_.List(std::string(kBlobPrefix), [&](const storage::BlobInfo& b) -> Status {
    if (!live.count(b.key) && b.mtime_micros < cutoff) dead.push_back(b.key);
    return Status::OK();
  }));
  size_t deleted = 0;
  for (const auto& k : dead) {
    // A blob being committed now is younger than the grace period, so it is not in `dead`.
    if (blobs_.Delete(k).ok()) ++deleted;
  }
  return deleted;
}

}  // namespace lakemesh::versioning
