// Bucket-level operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket,
// GetBucketLocation, GetBucketVersioning, ListObjects (v1 and v2), ListObjectVersions,
// DeleteObjects.
#include <algorithm>

#include "base/coding.h"
#include "base/time.h"
#include "protocols/s3/internal.h"

namespace lakemesh::s3::internal {
namespace {

constexpr size_t kMaxKeys = 1000;

Result<size_t> MaxKeys(const Ctx& c, const char* name) {
  auto v = c.req.Query(name);
  if (!v) return kMaxKeys;
  if (v->empty() || v->size() > 9 || v->find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument(std::string(name) + " must be a non-negative integer");
  }
  return std::min<size_t>(std::stoul(*v), kMaxKeys);
}

// One page of a listing, with keys as S3 shows them.
struct Page {
  std::vector<versioning::ObjectInfo> objects;  // path = the S3 key
  std::vector<std::string> prefixes;
  bool truncated = false;
  std::string next_after;  // last key or prefix returned
};

// Lists a plain bucket or a repository. Repository keys are "<ref>/<path>": a prefix naming a
// ref lists that ref; a shorter prefix walks the branches (as common prefixes "<branch>/" with
// the delimiter "/", else each branch's objects in turn).
Result<Page> List(Services& s, const std::string& bucket, bool repo, const std::string& prefix,
                  const std::string& delimiter, const std::string& after, size_t limit) {
  Page page;
  if (limit == 0) {
    return page;
  }
  auto take = [&](const std::string& key_prefix, versioning::Listing l) {
    for (auto& o : l.objects) {
      o.path = key_prefix + o.path;
      page.objects.push_back(std::move(o));
    }
    for (auto& p : l.common_prefixes) page.prefixes.push_back(key_prefix + p);
    if (l.truncated) page.truncated = true;
  };
  if (!repo) {
    LM_ASSIGN_OR_RETURN(auto l, s.buckets.ListObjects(bucket, {prefix, delimiter, after, limit}));
    take("", std::move(l));
  } else if (size_t slash = prefix.find('/'); slash != std::string::npos) {
    std::string ref = prefix.substr(0, slash), base = ref + "/";
    std::string sub_after;
    if (after > base) {
      if (after.compare(0, base.size(), base) != 0) return page;  // past this ref
      sub_after = after.substr(base.size());
    }
    auto l = s.repos.ListObjects(bucket, ref, {prefix.substr(slash + 1), delimiter, sub_after, limit});
    if (!l.ok()) {
      if (l.status().IsNotFound()) return page;  // no such ref: nothing under the prefix
      return l.status();
    }
    take(base, std::move(*l));
  } else {
    std::vector<std::string> branches;
    std::string from;
    while (true) {
      LM_ASSIGN_OR_RETURN(auto bs, s.repos.ListBranches(bucket, from, 1000));
      for (auto& b : bs) {
        if (b.name.compare(0, prefix.size(), prefix) == 0) branches.push_back(b.name + "/");
      }
      if (bs.size() < 1000) break;
      from = bs.back().name;
    }
    std::sort(branches.begin(), branches.end());
    for (const std::string& base : branches) {
      size_t used = page.objects.size() + page.prefixes.size();
      if (used == limit) {
        page.truncated = true;
        break;
      }
      if (!after.empty() && after.compare(0, base.size(), base) != 0 && after > base) continue;
      if (delimiter == "/") {
        if (after == base) continue;
        page.prefixes.push_back(base);
        continue;
      }
      std::string sub_after = after.compare(0, base.size(), base) == 0 ? after.substr(base.size()) : "";
      LM_ASSIGN_OR_RETURN(auto l, s.repos.ListObjects(bucket, base.substr(0, base.size() - 1),
                                                      {"", delimiter, sub_after, limit - used}));
      take(base, std::move(l));
      if (page.truncated) break;
    }
  }
  // The last key or prefix in key order is where the next page starts.
  for (const auto& o : page.objects) page.next_after = std::max(page.next_after, o.path);
  for (const auto& p : page.prefixes) page.next_after = std::max(page.next_after, p);
  return page;
}

std::string Encode(const std::string& s, bool url) {
  return url ? server::PercentEncode(s, /*keep_slash=*/true) : s;
}

// One <Contents> (listings) or <Version> element, and the common prefixes.
void ObjectElement(XmlWriter& x, const Ctx& c, const versioning::ObjectInfo& o, bool url,
                   bool version, bool owner) {
  const char* tag = version ? "Version" : "Contents";
  x.Open(tag).Element("Key", Encode(o.path, url));
  if (version) x.Element("VersionId", "null").Element("IsLatest", "true");
  x.Element("LastModified", FormatIso8601Millis(o.entry.mtime_micros));
  x.Element("ETag", QuotedEtag(o.entry.etag)).Element("Size", std::to_string(o.entry.size));
  if (owner) {
    x.Open("Owner").Element("ID", c.OwnerId()).Element("DisplayName", c.OwnerId()).Close("Owner");
  }
  x.Element("StorageClass", "STANDARD").Close(tag);
}

void PrefixElements(XmlWriter& x, const Page& page, bool url) {
  for (const auto& p : page.prefixes) {
    x.Open("CommonPrefixes").Element("Prefix", Encode(p, url)).Close("CommonPrefixes");
  }
}

}  // namespace

Response ListBuckets(Ctx& c) {
  auto buckets = c.s.buckets.ListBuckets();
  if (!buckets.ok()) return c.Error(buckets.status());
  std::vector<std::pair<std::string, int64_t>> all;
  for (const auto& b : *buckets) all.emplace_back(b.name, b.created_micros);
  std::string after;
  while (true) {
    auto repos = c.s.repos.ListRepos(after, 1000);
    if (!repos.ok()) return c.Error(repos.status());
    for (const auto& r : *repos) all.emplace_back(r.name, r.created_micros);
    if (repos->size() < 1000) break;
    after = repos->back().name;
  }
  std::sort(all.begin(), all.end());
  XmlWriter x("ListAllMyBucketsResult");
  x.Open("Owner").Element("ID", c.OwnerId()).Element("DisplayName", c.OwnerId()).Close("Owner");
  x.Open("Buckets");
  for (const auto& [name, created] : all) {
    x.Open("Bucket").Element("Name", name).Element("CreationDate", FormatIso8601Millis(created));
    x.Close("Bucket");
  }
  x.Close("Buckets");
  return XmlResponse(200, x.Finish());
}

Response CreateBucket(Ctx& c) {
  std::optional<S3Error> err;
  auto body = ReadSmallBody(c, 64 << 10, &err);
  if (!body.ok()) return c.Error(*err);
  auto location = ParseCreateBucketConfiguration(*body);
  if (!location.ok()) return c.Error(MakeError(400, "MalformedXML", location.status().message()));
  if (!location->empty() && *location != c.s.region) {
    return c.Error(MakeError(400, "InvalidLocationConstraint",
                             "this server's region is '" + c.s.region + "', not '" + *location + "'"));
  }
  auto b = c.s.buckets.CreateBucket(c.bucket, c.auth.principal.name);
  if (!b.ok()) {
    if (b.status().IsAlreadyExists()) {
      return c.Error(MakeError(409, "BucketAlreadyOwnedByYou", b.status().message()));
    }
    if (b.status().code() == ErrorCode::kInvalidArgument) {
      return c.Error(MakeError(400, "InvalidBucketName", b.status().message()));
    }
    return c.Error(b.status());
  }
  Response r = Response::Text(200, "");
  r.headers.Set("Location", "/" + c.bucket);
  return r;
}

Response DeleteBucket(Ctx& c) {
  auto repo = IsRepository(c.s, c.bucket);
  if (!repo.ok()) return c.Error(repo.status(), Missing::kBucket);
  if (*repo) {
    return c.Error(MakeError(409, "BucketNotEmpty",
                             "'" + c.bucket + "' is a repository; delete it with `lakemesh repo "
                             "delete` or the REST API, not through S3"));
  }
  Status st = c.s.buckets.DeleteBucket(c.bucket);
  if (!st.ok()) {
    if (st.code() == ErrorCode::kPreconditionFailed) {
      return c.Error(MakeError(409, "BucketNotEmpty", "the bucket you tried to delete is not empty"));
    }
    return c.Error(st, Missing::kBucket);
  }
  // Uploads in progress into the bucket go with it.
  auto uploads = c.s.uploads.List(c.bucket, "", "", "", 100000);
  if (uploads.ok()) {
    for (const auto& u : uploads->uploads) c.s.uploads.Finish(c.bucket, u.upload_id).IgnoreError();
  }
  return Response::Text(204, "");
}

Response HeadBucket(Ctx& c) {
  auto repo = IsRepository(c.s, c.bucket);
  if (!repo.ok()) return c.Error(repo.status(), Missing::kBucket);
  Response r = Response::Text(200, "");
  r.headers.Set("x-amz-bucket-region", c.s.region);
  r.head = true;
  r.content_length = 0;
  return r;
}

Response GetBucketLocation(Ctx& c) {
  auto repo = IsRepository(c.s, c.bucket);
  if (!repo.ok()) return c.Error(repo.status(), Missing::kBucket);
  // us-east-1 is reported as an empty constraint, as S3 does.
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                     "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  if (c.s.region != "us-east-1") AppendXmlEscaped(&body, c.s.region);
  body += "</LocationConstraint>\n";
  return XmlResponse(200, std::move(body));
}

Response GetBucketVersioning(Ctx& c) {
  auto repo = IsRepository(c.s, c.bucket);
  if (!repo.ok()) return c.Error(repo.status(), Missing::kBucket);
  // Plain buckets are unversioned; repositories version by commit, not per object.
  return XmlResponse(200, XmlWriter("VersioningConfiguration").Finish());
}

namespace {

// What every listing takes: the bucket's kind, max-keys, prefix, delimiter, encoding-type.
struct ListParams {
  bool repo = false;
  size_t max_keys = 0;
  std::string prefix;
  std::string delimiter;
  bool url = false;
};

// The parameters, or the error response.
std::optional<Response> ParseListParams(Ctx& c, ListParams* p) {
  auto repo = IsRepository(c.s, c.bucket);
  if (!repo.ok()) return c.Error(repo.status(), Missing::kBucket);
  auto max_keys = MaxKeys(c, "max-keys");
  if (!max_keys.ok()) return c.Error(max_keys.status());
  std::string encoding = c.req.Query("encoding-type").value_or("");
  if (!encoding.empty() && encoding != "url") {
    return c.Error(MakeError(400, "InvalidArgument", "invalid encoding-type '" + encoding + "'"));
  }
  *p = ListParams{*repo, *max_keys, c.req.Query("prefix").value_or(""),
                  c.req.Query("delimiter").value_or(""), encoding == "url"};
  return std::nullopt;
}

}  // namespace

Response ListObjects(Ctx& c, bool v2) {
  ListParams lp;
  if (auto err = ParseListParams(c, &lp)) return std::move(*err);
  const std::string &prefix = lp.prefix, &delimiter = lp.delimiter;
  const bool url = lp.url;
  std::string after, token, start_after, marker;
  if (v2) {
    start_after = c.req.Query("start-after").value_or("");
    after = start_after;
    if (auto t = c.req.Query("continuation-token")) {
      token = *t;
      auto decoded = Base64Decode(token);
      if (!decoded || decoded->substr(0, 2) != "1:") {
        return c.Error(MakeError(400, "InvalidArgument", "the continuation token is not valid"));
      }
      after = std::max(after, decoded->substr(2));
    }
  } else {
    marker = c.req.Query("marker").value_or("");
    after = marker;
  }
  auto page = List(c.s, c.bucket, lp.repo, prefix, delimiter, after, lp.max_keys);
  if (!page.ok()) return c.Error(page.status(), Missing::kBucket);

  XmlWriter x("ListBucketResult");
  x.Element("Name", c.bucket).Element("Prefix", Encode(prefix, url));
  if (v2) {
    if (!token.empty()) x.Element("ContinuationToken", token);
    if (!start_after.empty()) x.Element("StartAfter", Encode(start_after, url));
    x.Element("KeyCount", std::to_string(page->objects.size() + page->prefixes.size()));
  } else {
    x.Element("Marker", Encode(marker, url));
  }
  x.Element("MaxKeys", std::to_string(lp.max_keys));
  if (!delimiter.empty()) x.Element("Delimiter", Encode(delimiter, url));
  if (url) x.Element("EncodingType", "url");
  x.Element("IsTruncated", page->truncated ? "true" : "false");
  if (page->truncated) {
    if (v2) {
      x.Element("NextContinuationToken", Base64Encode("1:" + page->next_after));
    } else {
      x.Element("NextMarker", Encode(page->next_after, url));
    }
  }
  bool owner = !v2 || c.req.Query("fetch-owner").value_or("") == "true";
  for (const auto& o : page->objects) ObjectElement(x, c, o, url, /*version=*/false, owner);
  PrefixElements(x, *page, url);
  return XmlResponse(200, x.Finish());
}

Response ListObjectVersions(Ctx& c) {
  ListParams lp;
  if (auto err = ParseListParams(c, &lp)) return std::move(*err);
  const std::string &prefix = lp.prefix, &delimiter = lp.delimiter;
  const bool url = lp.url;
  std::string key_marker = c.req.Query("key-marker").value_or("");
  // Every object has one version, "null": the listing is the object listing.
  auto page = List(c.s, c.bucket, lp.repo, prefix, delimiter, key_marker, lp.max_keys);
  if (!page.ok()) return c.Error(page.status(), Missing::kBucket);
  XmlWriter x("ListVersionsResult");
  x.Element("Name", c.bucket).Element("Prefix", Encode(prefix, url));
  x.Element("KeyMarker", Encode(key_marker, url)).Element("VersionIdMarker", "");
  x.Element("MaxKeys", std::to_string(lp.max_keys));
  if (!delimiter.empty()) x.Element("Delimiter", Encode(delimiter, url));
  if (url) x.Element("EncodingType", "url");
  x.Element("IsTruncated", page->truncated ? "true" : "false");
  if (page->truncated) {
    x.Element("NextKeyMarker", Encode(page->next_after, url)).Element("NextVersionIdMarker", "null");
  }
  for (const auto& o : page->objects) ObjectElement(x, c, o, url, /*version=*/true, true);
  PrefixElements(x, *page, url);
  return XmlResponse(200, x.Finish());
}

Response DeleteObjects(Ctx& c) {
  auto repo = IsRepository(c.s, c.bucket);
  if (!repo.ok()) return c.Error(repo.status(), Missing::kBucket);
  std::optional<S3Error> err;
  auto body = ReadSmallBody(c, 2 << 20, &err);
  if (!body.ok()) return c.Error(*err);
  if (auto md5 = c.req.Header("Content-MD5")) {
    auto want = Base64Decode(*md5);
    if (!want || *want != Md5(*body)) {
      return c.Error(MakeError(400, "BadDigest", "the Content-MD5 you specified did not match what we received"));
    }
  }
  auto parsed = ParseDeleteRequest(*body);
  if (!parsed.ok()) return c.Error(MakeError(400, "MalformedXML", parsed.status().message()));
  XmlWriter x("DeleteResult");
  for (const auto& o : parsed->objects) {
    std::optional<S3Error> fail;
    if (!o.version_id.empty() && o.version_id != "null") {
      fail = MakeError(400, "NoSuchVersion", "objects have only the version 'null'");
    } else {
      auto t = ResolveTarget(c.s, c.bucket, o.key);
      if (!t.ok()) {
        fail = FromStatus(t.status(), Missing::kBucket);
      } else if (auto werr = CheckWritable(c.s, *t)) {
        fail = werr;
      } else if (Status st = DeleteTarget(c.s, *t); !st.ok() && !st.IsNotFound()) {
        fail = FromStatus(st);
      }
    }
    if (fail) {
      x.Open("Error").Element("Key", o.key).Element("Code", fail->code);
      x.Element("Message", fail->message).Close("Error");
    } else if (!parsed->quiet) {
      x.Open("Deleted").Element("Key", o.key).Close("Deleted");
    }
  }
  return XmlResponse(200, x.Finish());
}

}  // namespace lakemesh::s3::internal
