#include "versioning/multipart.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "base/random.h"
#include "base/time.h"
#include "versioning/names.h"

namespace lakemesh::versioning {

using meta::MetaTxn;
using meta::PrefixEnd;
using nlohmann::json;

namespace {

std::string UploadPrefix(const std::string& bucket) { return "mp/" + bucket + "/"; }
std::string UploadKey(const std::string& bucket, const std::string& id) {
  return UploadPrefix(bucket) + id;
}
std::string PartPrefix(const std::string& id) { return "mpp/" + id + "/"; }
std::string PartKey(const std::string& id, int number) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%05d", number);
  return PartPrefix(id) + buf;
}

std::string EncodeUpload(const MultipartUpload& u) {
  return json{{"key", u.key},
              {"created", u.created_micros},
              {"initiator", u.initiator},
              {"content_type", u.options.content_type},
              {"metadata", u.options.metadata},
              {"headers", u.options.headers}}
      .dump();
}

Result<MultipartUpload> DecodeUpload(const std::string& bucket, const std::string& id,
                                     std::string_view data) {
  try {
    json j = json::parse(data);
    MultipartUpload u;
    u.bucket = bucket;
    u.upload_id = id;
    u.key = j.at("key").get<std::string>();
    u.created_micros = j.at("created").get<int64_t>();
    u.initiator = j.at("initiator").get<std::string>();
    u.options.content_type = j.at("content_type").get<std::string>();
    u.options.metadata = j.at("metadata").get<std::map<std::string, std::string>>();
    u.options.headers = j.at("headers").get<std::map<std::string, std::string>>();
    return u;
  } catch (const std::exception& e) {
    return Internal("corrupt multipart upload record " + id + ": " + e.what());
  }
}

std::string EncodePart(const PartInfo& p) {
  return json{{"size", p.size}, {"etag", p.etag}, {"mtime", p.mtime_micros}, {"address", p.address}}
      .dump();
}

Result<PartInfo> DecodePart(int number, std::string_view data) {
  try {
    json j = json::parse(data);
    return PartInfo{number, j.at("size").get<uint64_t>(), j.at("etag").get<std::string>(),
                    j.at("mtime").get<int64_t>(), j.at("address").get<std::string>()};
  } catch (const std::exception& e) {
    return Internal(std::string("corrupt multipart part record: ") + e.what());
  }
}

int PartNumberOf(const std::string& key) {
  return std::atoi(key.substr(key.size() - 5).c_str());
}

Status CheckUpload(MetaTxn& txn, const std::string& bucket, const std::string& id) {
  LM_ASSIGN_OR_RETURN(auto v, txn.Get(UploadKey(bucket, id)));
  if (!v) return NotFound("multipart upload '" + id + "' not found (completed, aborted or never started)");
  return Status::OK();
}

bool ValidUploadId(const std::string& id) {
  if (id.size() != 32) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<MultipartUpload> MultipartUploads::Create(const std::string& bucket, const std::string& key,
                                                 const PutOptions& options,
                                                 const std::string& initiator) {
  LM_TRY(ValidatePath(key));
  MultipartUpload u;
  u.bucket = bucket;
  u.key = key;
  u.upload_id = RandomHex(16);
  u.created_micros = NowMicros();
  u.initiator = initiator;
  u.options = options;
  LM_TRY(meta_.Put(UploadKey(bucket, u.upload_id), EncodeUpload(u)));
  return u;
}

Result<MultipartUpload> MultipartUploads::Get(const std::string& bucket,
                                              const std::string& upload_id) {
  if (!ValidUploadId(upload_id)) return NotFound("multipart upload '" + upload_id + "' not found");
  LM_ASSIGN_OR_RETURN(auto v, meta_.Get(UploadKey(bucket, upload_id)));
  if (!v) {
    return NotFound("multipart upload '" + upload_id +
                    "' not found (completed, aborted or never started)");
  }
  return DecodeUpload(bucket, upload_id, *v);
}

Result<std::unique_ptr<ObjectUpload>> MultipartUploads::NewPartUpload() {
  LM_ASSIGN_OR_RETURN(auto w, blobs_.NewWriter());
  return std::make_unique<ObjectUpload>(std::move(w), /*md5=*/true, /*sha256=*/false);
}

Result<PartInfo> MultipartUploads::PutPart(const std::string& bucket, const std::string& upload_id,
                                           int number, std::unique_ptr<ObjectUpload> part) {
  if (number < 1 || number > kMaxParts) {
    return InvalidArgument("part number " + std::to_string(number) +
                           " is outside 1 to 10000");
  }
  if (!ValidUploadId(upload_id)) return NotFound("multipart upload '" + upload_id + "' not found");
  if (part->size() > kMaxPartSize) return InvalidArgument("a part may be at most 5 GiB");
  PartInfo p;
  p.number = number;
  p.size = part->size();
  LM_ASSIGN_OR_RETURN(ObjectUpload::Digests d, part->Finish());
  p.etag = d.md5_hex;
  p.mtime_micros = NowMicros();
  p.address = "mpu/" + upload_id + "/" + RandomHex(8);
  LM_TRY(part->Commit(p.address));
  std::optional<std::string> replaced;
  Status st = meta_.Write([&](MetaTxn& txn) -> Status {
    replaced.reset();
    LM_TRY(CheckUpload(txn, bucket, upload_id));
    std::string row = PartKey(upload_id, number);
    LM_ASSIGN_OR_RETURN(auto old, txn.Get(row));
    if (old) {
      LM_ASSIGN_OR_RETURN(auto op, DecodePart(number, *old));
      replaced = op.address;
    }
    return txn.Put(row, EncodePart(p));
  });
  if (!st.ok()) {
    blobs_.Delete(p.address).IgnoreError();
    return st;
  }
  if (replaced) blobs_.Delete(*replaced).IgnoreError();
  return p;
}

Result<std::vector<PartInfo>> MultipartUploads::ListParts(const std::string& bucket,
                                                          const std::string& upload_id, int after,
                                                          size_t limit, bool* truncated) {
  if (!ValidUploadId(upload_id)) return NotFound("multipart upload '" + upload_id + "' not found");
  std::vector<PartInfo> out;
  *truncated = false;
  LM_TRY(meta_.Read([&](MetaTxn& txn) -> Status {
    LM_TRY(CheckUpload(txn, bucket, upload_id));
    std::string start = after > 0 ? PartKey(upload_id, after) + '\0' : PartPrefix(upload_id);
    LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(start, PrefixEnd(PartPrefix(upload_id)),
                                            limit == 0 ? 0 : limit + 1));
    for (const auto& kv : rows) {
      if (limit != 0 && out.size() == limit) {
        *truncated = true;
        break;
      }
      LM_ASSIGN_OR_RETURN(auto p, DecodePart(PartNumberOf(kv.key), kv.value));
      out.push_back(std::move(p));
    }
    return Status::OK();
  }));
  return out;
}

Result<UploadListing> MultipartUploads::List(const std::string& bucket, const std::string& prefix,
                                             const std::string& key_marker,
                                             const std::string& upload_id_marker, size_t limit) {
  LM_ASSIGN_OR_RETURN(auto rows,
                      meta_.Scan(UploadPrefix(bucket), PrefixEnd(UploadPrefix(bucket)), 0));
  std::vector<MultipartUpload> all;
  for (const auto& kv : rows) {
    std::string id = kv.key.substr(UploadPrefix(bucket).size());
    LM_ASSIGN_OR_RETURN(auto u, DecodeUpload(bucket, id, kv.value));
    if (u.key.compare(0, prefix.size(), prefix) != 0) continue;
    all.push_back(std::move(u));
  }
  std::sort(all.begin(), all.end(), [](const MultipartUpload& a, const MultipartUpload& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.created_micros != b.created_micros) return a.created_micros < b.created_micros;
    return a.upload_id < b.upload_id;
  });
  UploadListing out;
  bool passed_marker = key_marker.empty();
  for (auto& u : all) {
    if (!passed_marker) {
      if (u.key < key_marker) continue;
      if (u.key == key_marker) {
        // With only a key marker, skip every upload of that key; with an id too, skip up to it.
        if (upload_id_marker.empty()) continue;
        if (u.upload_id == upload_id_marker) passed_marker = true;
        continue;
      }
      passed_marker = true;
    }
    if (out.uploads.size() == limit) {
      out.truncated = true;
      break;
    }
    out.uploads.push_back(std::move(u));
  }
  return out;
}

Result<std::string> MultipartUploads::Assemble(const MultipartUpload& upload,
                                               const std::vector<CompletedPart>& parts,
                                               ObjectUpload& dest, PartProblem* why) {
  *why = PartProblem::kNone;
  if (parts.empty()) {
    *why = PartProblem::kInvalidPart;
    return InvalidArgument("the request lists no parts; a multipart upload needs at least one");
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].number <= parts[i - 1].number) {
      *why = PartProblem::kInvalidPartOrder;
      return InvalidArgument("parts must be listed in ascending order of part number");
    }
  }
  bool truncated = false;
  LM_ASSIGN_OR_RETURN(auto uploaded, ListParts(upload.bucket, upload.upload_id, 0, 0, &truncated));
  std::map<int, const PartInfo*> by_number;
  for (const auto& p : uploaded) by_number[p.number] = &p;
  // Every listed part must exist with the listed ETag; then every part but the last must be
  // large enough.
  std::vector<const PartInfo*> chosen;
  for (const auto& want : parts) {
    auto it = by_number.find(want.number);
    if (it == by_number.end() || it->second->etag != want.etag) {
      *why = PartProblem::kInvalidPart;
      return InvalidArgument("part " + std::to_string(want.number) +
                             (it == by_number.end() ? " was not uploaded"
                                                    : " has ETag \"" + it->second->etag +
                                                          "\", not \"" + want.etag + "\""));
    }
    chosen.push_back(it->second);
  }
  for (size_t i = 0; i + 1 < chosen.size(); ++i) {
    if (chosen[i]->size < kMinPartSize) {
      *why = PartProblem::kEntityTooSmall;
      return InvalidArgument("part " + std::to_string(chosen[i]->number) + " is " +
                             std::to_string(chosen[i]->size) +
                             " bytes; every part but the last must be at least 5 MiB");
    }
  }
  std::string md5s;
  for (const PartInfo* p : chosen) {
    LM_TRY(AppendFromLowerHex(&md5s, p->etag) ? Status::OK()
                                              : Internal("corrupt part ETag " + p->etag));
    LM_ASSIGN_OR_RETURN(auto r, blobs_.Open(p->address, 0, std::nullopt));
    LM_TRY(dest.AppendFrom(*r));
  }
  return ToHex(Md5(md5s)) + "-" + std::to_string(chosen.size());
}

Status MultipartUploads::Finish(const std::string& bucket, const std::string& upload_id) {
  if (!ValidUploadId(upload_id)) return NotFound("multipart upload '" + upload_id + "' not found");
  std::vector<std::string> blobs;
  LM_TRY(meta_.Write([&](MetaTxn& txn) -> Status {
    blobs.clear();
    LM_TRY(CheckUpload(txn, bucket, upload_id));
    std::string pp = PartPrefix(upload_id);
    LM_ASSIGN_OR_RETURN(auto rows, txn.Scan(pp, PrefixEnd(pp), 0));
    for (const auto& kv : rows) {
      LM_ASSIGN_OR_RETURN(auto p, DecodePart(PartNumberOf(kv.key), kv.value));
      blobs.push_back(p.address);
    }
    LM_TRY(txn.DeleteRange(pp, PrefixEnd(pp)));
    return txn.Delete(UploadKey(bucket, upload_id));
  }));
  for (const auto& b : blobs) blobs_.Delete(b).IgnoreError();
  // Parts uploaded while Finish ran, and blobs of parts whose rows never committed.
  blobs_.List("mpu/" + upload_id + "/", [&](const storage::BlobInfo& b) -> Status {
           blobs_.Delete(b.key).IgnoreError();
           return Status::OK();
         }).IgnoreError();
  return Status::OK();
}

Result<size_t> MultipartUploads::CollectAbandoned(int64_t max_age_micros) {
  LM_ASSIGN_OR_RETURN(auto rows, meta_.Scan("mp/", PrefixEnd("mp/"), 0));
  const int64_t cutoff = NowMicros() - max_age_micros;
  size_t n = 0;
  for (const auto& kv : rows) {
    std::string rest = kv.key.substr(3);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) continue;
    std::string bucket = rest.substr(0, slash), id = rest.substr(slash + 1);
    LM_ASSIGN_OR_RETURN(auto u, DecodeUpload(bucket, id, kv.value));
    if (u.created_micros >= cutoff) continue;
    if (Finish(bucket, id).ok()) ++n;
  }
  return n;
}

}  // namespace lakemesh::versioning
