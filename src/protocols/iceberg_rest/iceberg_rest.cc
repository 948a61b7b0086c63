#include "protocols/iceberg_rest/iceberg_rest.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "base/hash.h"
#include "base/random.h"
#include "base/time.h"
#include "protocols/api/api.h"
#include "protocols/api/json_util.h"
#include "protocols/s3/sigv4.h"
#include "server/router.h"
#include "table/expression.h"
#include "versioning/names.h"

namespace lakemesh::iceberg_rest {
namespace {

using catalog::Json;
using catalog::Namespace;
using catalog::TableIdent;
using server::Request;
using server::Response;

constexpr int64_t kTokenTtlSeconds = 3600;
constexpr size_t kMaxPageSize = 1000;

// What a failure is about, for the error type: a 404 in a table route is NoSuchTable unless the
// message says the namespace is missing; a 409 in a commit is CommitFailed, and so on.
enum class Ctx { kConfig, kNamespace, kDropNamespace, kTable, kCommit, kView };

Response JsonBody(int status, const Json& body) {
  Response r = Response::Text(status, body.dump(), "application/json");
  return r;
}

Response Error(const Status& st, Ctx ctx) {
  int code = 500;
  std::string type = "InternalServerError";
  const std::string& m = st.message();
  auto starts = [&](const char* p) { return m.rfind(p, 0) == 0; };
  switch (st.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kResourceExhausted:
      code = 400;
      type = "BadRequestException";
      break;
    case ErrorCode::kUnauthenticated:
      code = 401;
      type = "NotAuthorizedException";
      break;
    case ErrorCode::kPermissionDenied:
      code = 403;
      type = "ForbiddenException";
      break;
    case ErrorCode::kNotFound:
      code = 404;
      if (starts("Namespace does not exist")) {
        type = "NoSuchNamespaceException";
      } else if (starts("Table does not exist")) {
        type = "NoSuchTableException";
      } else if (starts("View does not exist")) {
        type = "NoSuchViewException";
      } else if (ctx == Ctx::kTable || ctx == Ctx::kCommit) {
        type = "NoSuchTableException";
      } else if (ctx == Ctx::kView) {
        type = "NoSuchViewException";
      } else {
        type = "NoSuchNamespaceException";
      }
      break;
    case ErrorCode::kAlreadyExists:
      code = 409;
      type = "AlreadyExistsException";
      break;
    case ErrorCode::kConflict:
    case ErrorCode::kPreconditionFailed:
      code = 409;
      type = ctx == Ctx::kDropNamespace ? "NamespaceNotEmptyException" : "CommitFailedException";
      break;
    case ErrorCode::kUnavailable:
      code = 503;
      type = "ServiceUnavailableException";
      break;
    default:
      break;
  }
  return JsonBody(code, Json{{"error", {{"message", m}, {"type", type}, {"code", code}}}});
}

// A request body already read into memory (a SigV4-signed request's, read to hash it).
class MemoryBody final : public server::BodyReader {
 public:
  explicit MemoryBody(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> content_length() const override { return data_.size(); }
  uint64_t bytes_read() const override { return pos_; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

bool IsSigV4(const Request& req) {
  auto h = req.Header("Authorization");
  return h && h->size() > s3::kSigV4Algorithm.size() &&
         h->substr(0, s3::kSigV4Algorithm.size()) == s3::kSigV4Algorithm;
}

// Verifies an AWS Signature Version 4 signed catalog request, as Iceberg clients send with
// rest.sigv4-enabled: any signing name (execute-api, glue, s3tables, ...) and region, the
// payload hash from x-amz-content-sha256 or, when absent (botocore's SigV4Auth), computed from
// the body; the path canonicalized as sent or URI-encoded once more (the non-S3 services' rule).
// The body is read here (catalog bodies are JSON of at most 1 MiB) and put back for the handler.
Result<governance::Principal> VerifySigV4(governance::Credentials& creds, Request& req,
                                          std::unique_ptr<MemoryBody>* body_out) {
  LM_ASSIGN_OR_RETURN(s3::Authorization auth, s3::ParseAuthorization(*req.Header("Authorization")));
  std::string body;
  char buf[16384];
  while (req.body) {
    LM_ASSIGN_OR_RETURN(size_t n, req.body->Read(buf, sizeof(buf)));
    if (n == 0) break;
    body.append(buf, n);
    if (body.size() > (1u << 20)) return ResourceExhausted("request body larger than 1 MiB");
  }
  std::string amz_date(req.Header("x-amz-date").value_or(""));
  auto when = ParseAmzDate(amz_date);
  if (!when) return Unauthenticated("a SigV4-signed request needs X-Amz-Date (YYYYMMDDTHHMMSSZ)");
  if (amz_date.substr(0, 8) != auth.credential.date) {
    return Unauthenticated("the credential date " + auth.credential.date +
                           " does not match the request date " + amz_date.substr(0, 8));
  }
  constexpr int64_t kSkew = 15LL * 60 * 1000000;
  int64_t now = NowMicros();
  if (*when > now + kSkew || *when < now - kSkew) {
    return Unauthenticated("the request time " + amz_date +
                           " is more than 15 minutes away from the server's");
  }
  std::string computed = ToHex(Sha256(body));
  std::string payload_hash = computed;
  if (auto h = req.Header("x-amz-content-sha256")) {
    if (*h != s3::kUnsignedPayload && *h != computed) {
      return InvalidArgument("x-amz-content-sha256 does not match the request body");
    }
    payload_hash = std::string(*h);
  }
  auto key = creds.LookupKey(auth.credential.access_key_id);
  if (!key.ok()) {
    if (key.status().IsNotFound()) {
      return Unauthenticated("the access key id '" + auth.credential.access_key_id +
                             "' does not exist");
    }
    return key.status();
  }
  std::string signing_key = s3::SigningKey(key->secret, auth.credential);
  bool match = false;
  for (const std::string& path : {req.path, s3::UriEncode(req.path, /*keep_slash=*/true)}) {
    auto canonical = s3::CanonicalRequest(req.method, path, req.query, req.headers.all(),
                                          payload_hash, auth.signed_headers);
    if (!canonical.ok()) return InvalidArgument(canonical.status().message());
    std::string want =
        s3::Sign(signing_key, s3::StringToSign(amz_date, auth.credential, *canonical));
    if (want.size() == auth.signature.size() &&
        CRYPTO_memcmp(want.data(), auth.signature.data(), want.size()) == 0) {
      match = true;
      break;
    }
  }
  if (!match) {
    return Unauthenticated("the request signature we calculated does not match the signature "
                           "you provided; check your key and signing method");
  }
  *body_out = std::make_unique<MemoryBody>(std::move(body));
  req.body = body_out->get();
  return governance::Principal{key->owner, key->id};
}

Response NoContent() { return Response::Text(204, "", "application/json"); }

Result<Namespace> ParseNamespace(const std::string& param) {
  Namespace ns;
  size_t start = 0;
  while (true) {
    size_t end = param.find('\x1f', start);
    ns.push_back(param.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  for (const auto& part : ns) {
    if (part.empty()) return InvalidArgument("namespace '" + param + "' has an empty level");
  }
  return ns;
}

Result<Namespace> NamespaceArray(const Json& j, const char* what) {
  if (!j.is_array() || j.empty()) {
    return InvalidArgument(std::string(what) + " must be a non-empty array of strings");
  }
  Namespace ns;
  for (const Json& p : j) {
    if (!p.is_string() || p.get<std::string>().empty()) {
      return InvalidArgument(std::string(what) + " must be a non-empty array of strings");
    }
    ns.push_back(p.get<std::string>());
  }
  return ns;
}

Result<TableIdent> IdentField(const Json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_object()) {
    return InvalidArgument(std::string("'") + name + "' must be a table identifier object");
  }
  LM_ASSIGN_OR_RETURN(Namespace ns, NamespaceArray(it->value("namespace", Json()),
                                                   "identifier namespace"));
  auto n = it->find("name");
  if (n == it->end() || !n->is_string()) {
    return InvalidArgument(std::string("'") + name + "': 'name' must be a string");
  }
  return TableIdent{std::move(ns), n->get<std::string>()};
}

// pageToken is the last name of the previous page; pageSize bounds the page.
struct Page {
  std::string after;
  size_t size = 0;  // 0: everything
};

Result<Page> PageParams(const Request& req) {
  Page p;
  if (auto t = req.Query("pageToken")) p.after = *t;
  if (auto s = req.Query("pageSize"); s && !s->empty()) {
    char* end = nullptr;
    long long v = std::strtoll(s->c_str(), &end, 10);
    if (*end != '\0' || v < 1) return InvalidArgument("pageSize must be a positive integer");
    p.size = static_cast<size_t>(std::min<long long>(v, kMaxPageSize));
  }
  return p;
}

// Cuts `names` (sorted) to the page; returns the next page token ("" when done).
template <typename T, typename Key>
std::string Paginate(std::vector<T>* items, const Page& p, Key key) {
  if (!p.after.empty()) {
    auto it = std::upper_bound(items->begin(), items->end(), p.after,
                               [&](const std::string& a, const T& b) { return a < key(b); });
    items->erase(items->begin(), it);
  }
  if (p.size == 0 || items->size() <= p.size) return "";
  items->resize(p.size);
  return key(items->back());
}

Json ToJson(const Namespace& ns) { return Json(ns); }

class Handlers {
 public:
  explicit Handlers(Services& s) : s_(s) {}

  std::string S3Endpoint(const Request& req) const {
    // A wildcard listener is reached at the host the client used for this request.
    std::string addr = s_.s3_address;
    size_t colon = addr.rfind(':');
    std::string host = colon == std::string::npos ? addr : addr.substr(0, colon);
    std::string port = colon == std::string::npos ? "" : addr.substr(colon + 1);
    if (host == "0.0.0.0" || host == "::" || host == "[::]" || host.empty()) {
      std::string h(req.Header("Host").value_or("127.0.0.1"));
      size_t c = h.rfind(':');
      if (c != std::string::npos && h.find(']') == std::string::npos) h = h.substr(0, c);
      if (c != std::string::npos && h.back() != ']' && h.find(']') != std::string::npos) {
        h = h.substr(0, h.find(']') + 1);
      }
      host = h;
    }
    return "http://" + host + (port.empty() ? "" : ":" + port);
  }

  Json FileIoConfig(const Request& req) const {
    return {{"s3.endpoint", S3Endpoint(req)},
            {"s3.path-style-access", "true"},
            {"s3.region", s_.s3_region},
            {"client.region", s_.s3_region}};
  }

  Response Config(Request& req) {
    std::string ref = req.Query("warehouse").value_or("main");
    if (ref.empty()) ref = "main";
    if (Status st = versioning::ParseRefExpr(ref).status(); !st.ok()) {
      return Error(st, Ctx::kConfig);
    }
    Json defaults = FileIoConfig(req);
    static const Json kEndpoints = {
        "GET /v1/{prefix}/namespaces",
        "POST /v1/{prefix}/namespaces",
        "GET /v1/{prefix}/namespaces/{namespace}",
        "HEAD /v1/{prefix}/namespaces/{namespace}",
        "DELETE /v1/{prefix}/namespaces/{namespace}",
        "POST /v1/{prefix}/namespaces/{namespace}/properties",
        "GET /v1/{prefix}/namespaces/{namespace}/tables",
        "POST /v1/{prefix}/namespaces/{namespace}/tables",
        "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "POST /v1/{prefix}/namespaces/{namespace}/register",
        "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics",
        "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/plan",
        "POST /v1/{prefix}/tables/rename",
        "POST /v1/{prefix}/transactions/commit",
        "GET /v1/{prefix}/namespaces/{namespace}/views",
        "POST /v1/{prefix}/namespaces/{namespace}/views",
        "GET /v1/{prefix}/namespaces/{namespace}/views/{view}",
        "HEAD /v1/{prefix}/namespaces/{namespace}/views/{view}",
        "POST /v1/{prefix}/namespaces/{namespace}/views/{view}",
        "DELETE /v1/{prefix}/namespaces/{namespace}/views/{view}",
        "POST /v1/{prefix}/views/rename",
        "POST /v1/{prefix}/namespaces/{namespace}/register-view",
    };
    return JsonBody(200, {{"defaults", defaults},
                          {"overrides", {{"prefix", ref}}},
                          {"endpoints", kEndpoints}});
  }

  // POST /v1/oauth/tokens: client credentials (and token exchange, which clients use to
  // refresh), form-encoded. Errors in OAuth's own format.
  Response Tokens(Request& req) {
    auto oauth_error = [](int status, const char* error, const std::string& description) {
      return JsonBody(status, {{"error", error}, {"error_description", description}});
    };
    std::string body;
    char buf[8192];
    while (true) {
      auto n = req.body->Read(buf, sizeof(buf));
      if (!n.ok()) return oauth_error(400, "invalid_request", n.status().message());
      if (*n == 0) break;
      body.append(buf, *n);
      if (body.size() > 65536) return oauth_error(400, "invalid_request", "request too large");
    }
    std::map<std::string, std::string> form;
    for (auto& [k, v] : server::ParseQuery(body)) form[k] = v;
    const std::string grant = form["grant_type"];
    Result<governance::Principal> who = Unauthenticated("");
    if (grant == "client_credentials") {
      std::string id = form["client_id"], secret = form["client_secret"];
      if (id.empty() && secret.empty()) {  // RFC 6749 2.3.1: Basic credentials instead
        auto basic = api::Authenticate(s_.credentials, req);
        if (!basic.ok()) {
          return oauth_error(401, "invalid_client",
                             "client_id and client_secret (an access key id and its secret) "
                             "are required");
        }
        who = *basic;
      } else {
        who = s_.credentials.VerifySecret(id, secret);
      }
      if (!who.ok()) return oauth_error(401, "invalid_client", "unknown client or wrong secret");
    } else if (grant == "urn:ietf:params:oauth:grant-type:token-exchange") {
      who = s_.credentials.VerifyToken(form["subject_token"]);
      if (!who.ok()) return oauth_error(401, "invalid_client", "the subject token is not valid");
    } else {
      return oauth_error(400, "unsupported_grant_type",
                         "grant_type must be client_credentials (or token exchange)");
    }
    auto t = s_.credentials.IssueToken(*who, kTokenTtlSeconds * 1000000);
    if (!t.ok()) return oauth_error(500, "server_error", t.status().message());
    return JsonBody(200, {{"access_token", t->token},
                          {"token_type", "bearer"},
                          {"expires_in", kTokenTtlSeconds},
                          {"issued_token_type", "urn:ietf:params:oauth:token-type:access_token"}});
  }

  // --- namespaces ---------------------------------------------------------------------------

  Response ListNamespaces(Request& req, const std::string& ref, const std::string& who) {
    (void)who;
    Namespace parent;
    if (auto p = req.Query("parent"); p && !p->empty()) {
      auto ns = ParseNamespace(*p);
      if (!ns.ok()) return Error(ns.status(), Ctx::kNamespace);
      parent = std::move(*ns);
    }
    auto page = PageParams(req);
    if (!page.ok()) return Error(page.status(), Ctx::kNamespace);
    auto list = s_.catalog.ListNamespaces(ref, parent);
    if (!list.ok()) return Error(list.status(), Ctx::kNamespace);
    std::string next =
        Paginate(&*list, *page, [](const Namespace& n) -> const std::string& { return n.back(); });
    Json out = {{"namespaces", Json::array()}};
    for (const auto& n : *list) out["namespaces"].push_back(ToJson(n));
    if (!next.empty()) out["next-page-token"] = next;
    return JsonBody(200, out);
  }

  Response CreateNamespace(Request& req, const std::string& ref, const std::string& who) {
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kNamespace);
    auto ns = NamespaceArray(body->value("namespace", Json()), "'namespace'");
    if (!ns.ok()) return Error(ns.status(), Ctx::kNamespace);
    auto props = s_.catalog.CreateNamespace(ref, *ns, body->value("properties", Json()), who);
    if (!props.ok()) return Error(props.status(), Ctx::kNamespace);
    return JsonBody(200, {{"namespace", ToJson(*ns)}, {"properties", *props}});
  }

  Response LoadNamespace(Request& req, const std::string& ref, const std::string&) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kNamespace);
    auto props = s_.catalog.LoadNamespace(ref, *ns);
    if (!props.ok()) return Error(props.status(), Ctx::kNamespace);
    if (req.method == "HEAD") return NoContent();
    return JsonBody(200, {{"namespace", ToJson(*ns)}, {"properties", *props}});
  }

  Response DropNamespace(Request& req, const std::string& ref, const std::string& who) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kNamespace);
    Status st = s_.catalog.DropNamespace(ref, *ns, who);
    if (!st.ok()) return Error(st, Ctx::kDropNamespace);
    return NoContent();
  }

  Response UpdateProperties(Request& req, const std::string& ref, const std::string& who) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kNamespace);
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kNamespace);
    std::vector<std::string> removals;
    if (auto r = body->find("removals"); r != body->end() && !r->is_null()) {
      if (!r->is_array()) return Error(InvalidArgument("'removals' must be an array"), Ctx::kNamespace);
      for (const Json& k : *r) {
        if (!k.is_string()) {
          return Error(InvalidArgument("'removals' must be strings"), Ctx::kNamespace);
        }
        removals.push_back(k.get<std::string>());
      }
    }
    auto res = s_.catalog.UpdateNamespaceProperties(ref, *ns, removals,
                                                    body->value("updates", Json()), who);
    if (!res.ok()) return Error(res.status(), Ctx::kNamespace);
    return JsonBody(200, {{"updated", res->updated}, {"removed", res->removed},
                          {"missing", res->missing}});
  }

  // --- tables -------------------------------------------------------------------------------

  // Tables or views of a namespace, paginated.
  Response ListNames(Request& req, const std::string& ref, bool views) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kNamespace);
    auto page = PageParams(req);
    if (!page.ok()) return Error(page.status(), Ctx::kNamespace);
    auto names = views ? s_.catalog.ListViews(ref, *ns) : s_.catalog.ListTables(ref, *ns);
    if (!names.ok()) return Error(names.status(), Ctx::kNamespace);
    std::string next =
        Paginate(&*names, *page, [](const std::string& n) -> const std::string& { return n; });
    Json out = {{"identifiers", Json::array()}};
    for (const auto& n : *names) out["identifiers"].push_back({{"namespace", *ns}, {"name", n}});
    if (!next.empty()) out["next-page-token"] = next;
    return JsonBody(200, out);
  }

  Response ListTables(Request& req, const std::string& ref, const std::string&) {
    return ListNames(req, ref, /*views=*/false);
  }

  Json LoadResult(const Request& req, const catalog::LoadedTable& t) const {
    Json out = {{"metadata", t.metadata}, {"config", FileIoConfig(req)}};
    if (!t.metadata_location.empty()) out["metadata-location"] = t.metadata_location;
    return out;
  }

  Response CreateTable(Request& req, const std::string& ref, const std::string& who) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kTable);
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kTable);
    bool stage = body->value("stage-create", false);
    auto t = s_.catalog.CreateTable(ref, *ns, *body, stage, who);
    if (!t.ok()) return Error(t.status(), Ctx::kNamespace);
    return JsonBody(200, LoadResult(req, *t));
  }

  Response LoadTable(Request& req, const std::string& ref, const std::string&) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kTable);
    TableIdent id{*ns, req.params["table"]};
    auto raw = s_.catalog.LoadTableRaw(ref, id);
    if (!raw.ok()) return Error(raw.status(), Ctx::kTable);
    if (req.method == "HEAD") return NoContent();
    // The metadata file's name is unique per version: a fine entity tag.
    std::string etag = "\"" + raw->metadata_location + "\"";
    if (auto inm = req.Header("If-None-Match"); inm && *inm == etag) {
      Response r = Response::Text(304, "", "application/json");
      r.headers.Set("ETag", etag);
      return r;
    }
    if (req.Query("snapshots").value_or("all") != "refs") {
      // The stored metadata goes out as it is, without parsing it again.
      std::string body = "{\"metadata-location\":" + Json(raw->metadata_location).dump() +
                         ",\"metadata\":";
      body.reserve(body.size() + raw->json->size() + 256);
      body += *raw->json;
      body += ",\"config\":" + FileIoConfig(req).dump() + "}";
      Response r = Response::Text(200, std::move(body), "application/json");
      r.headers.Set("ETag", etag);
      return r;
    }
    auto t = s_.catalog.LoadTable(ref, id);
    if (!t.ok()) return Error(t.status(), Ctx::kTable);
    {
      // Only the snapshots that refs point at.
      std::set<int64_t> keep;
      for (const auto& [name, ref_json] : t->metadata["refs"].items()) {
        keep.insert(ref_json.value("snapshot-id", int64_t{-1}));
      }
      Json kept = Json::array();
      for (Json& s : t->metadata["snapshots"]) {
        if (keep.count(s.value("snapshot-id", int64_t{-2}))) kept.push_back(std::move(s));
      }
      t->metadata["snapshots"] = std::move(kept);
    }
    Response r = JsonBody(200, LoadResult(req, *t));
    r.headers.Set("ETag", etag);
    return r;
  }

  Response CommitTable(Request& req, const std::string& ref, const std::string& who) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kCommit);
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kCommit);
    TableIdent id{*ns, req.params["table"]};
    if (body->contains("identifier") && !(*body)["identifier"].is_null()) {
      auto given = IdentField(*body, "identifier");
      if (!given.ok()) return Error(given.status(), Ctx::kCommit);
      if (given->ns != id.ns || given->name != id.name) {
        return Error(InvalidArgument("the identifier in the body (" + catalog::ToString(*given) +
                                     ") is not the table of the path (" + catalog::ToString(id) +
                                     ")"),
                     Ctx::kCommit);
      }
    }
    auto t = s_.catalog.CommitTable(ref, {id, body->value("requirements", Json::array()),
                                          body->value("updates", Json::array())},
                                    who);
    if (!t.ok()) return Error(t.status(), Ctx::kCommit);
    if (t->raw) {  // the file just written, as it is
      std::string body = "{\"metadata-location\":" + Json(t->metadata_location).dump() +
                         ",\"metadata\":" + *t->raw + "}";
      return Response::Text(200, std::move(body), "application/json");
    }
    return JsonBody(200, {{"metadata-location", t->metadata_location}, {"metadata", t->metadata}});
  }

  Response DropTable(Request& req, const std::string& ref, const std::string& who) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kTable);
    Status st = s_.catalog.DropTable(ref, {*ns, req.params["table"]}, who);
    if (!st.ok()) return Error(st, Ctx::kTable);
    return NoContent();
  }

  // A RegisterTableRequest or RegisterViewRequest: the identifier and metadata location.
  struct Registration {
    TableIdent ident;
    std::string location;
    bool overwrite = false;
  };
  static Result<Registration> ParseRegistration(Request& req) {
    LM_ASSIGN_OR_RETURN(Namespace ns, ParseNamespace(req.params["namespace"]));
    LM_ASSIGN_OR_RETURN(Json body, api::ReadJsonBody(req));
    LM_ASSIGN_OR_RETURN(std::string name, api::StringField(body, "name", true));
    LM_ASSIGN_OR_RETURN(std::string loc, api::StringField(body, "metadata-location", true));
    auto overwrite = body.find("overwrite");
    return Registration{{ns, name}, loc,
                        overwrite != body.end() && overwrite->is_boolean() && overwrite->get<bool>()};
  }

  Response RegisterTable(Request& req, const std::string& ref, const std::string& who) {
    auto r = ParseRegistration(req);
    if (!r.ok()) return Error(r.status(), Ctx::kNamespace);
    auto t = s_.catalog.RegisterTable(ref, r->ident, r->location, r->overwrite, who);
    if (!t.ok()) return Error(t.status(), Ctx::kNamespace);
    return JsonBody(200, LoadResult(req, *t));
  }

  Response RegisterView(Request& req, const std::string& ref, const std::string& who) {
    auto r = ParseRegistration(req);
    if (!r.ok()) return Error(r.status(), Ctx::kNamespace);
    auto v = s_.catalog.RegisterView(ref, r->ident, r->location, who);
    if (!v.ok()) return Error(v.status(), Ctx::kNamespace);
    return ViewResult(req, *v);
  }

  Response RenameTable(Request& req, const std::string& ref, const std::string& who) {
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kTable);
    auto from = IdentField(*body, "source");
    auto to = IdentField(*body, "destination");
    if (!from.ok()) return Error(from.status(), Ctx::kTable);
    if (!to.ok()) return Error(to.status(), Ctx::kTable);
    Status st = s_.catalog.RenameTable(ref, *from, *to, who);
    if (!st.ok()) return Error(st, Ctx::kTable);
    return NoContent();
  }

  Response CommitTransaction(Request& req, const std::string& ref, const std::string& who) {
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kCommit);
    auto changes = body->find("table-changes");
    if (changes == body->end() || !changes->is_array() || changes->empty()) {
      return Error(InvalidArgument("'table-changes' must be a non-empty array"), Ctx::kCommit);
    }
    std::vector<catalog::TableCommit> commits;
    for (const Json& c : *changes) {
      if (!c.is_object()) return Error(InvalidArgument("a table change must be an object"), Ctx::kCommit);
      auto id = IdentField(c, "identifier");
      if (!id.ok()) return Error(id.status(), Ctx::kCommit);
      commits.push_back({*id, c.value("requirements", Json::array()),
                         c.value("updates", Json::array())});
    }
    Status st = s_.catalog.CommitTransaction(ref, commits, who);
    if (!st.ok()) return Error(st, Ctx::kCommit);
    return NoContent();
  }

  // --- views --------------------------------------------------------------------------------

  Response ListViews(Request& req, const std::string& ref, const std::string&) {
    return ListNames(req, ref, /*views=*/true);
  }

  Response ViewResult(const Request& req, const catalog::LoadedTable& v) const {
    if (v.raw) {
      std::string body = "{\"metadata-location\":" + Json(v.metadata_location).dump() +
                         ",\"metadata\":" + *v.raw + ",\"config\":" + FileIoConfig(req).dump() +
                         "}";
      return Response::Text(200, std::move(body), "application/json");
    }
    return JsonBody(200, {{"metadata-location", v.metadata_location},
                          {"metadata", v.metadata},
                          {"config", FileIoConfig(req)}});
  }

  Response CreateView(Request& req, const std::string& ref, const std::string& who) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kView);
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kView);
    auto v = s_.catalog.CreateView(ref, *ns, *body, who);
    if (!v.ok()) return Error(v.status(), Ctx::kNamespace);
    return ViewResult(req, *v);
  }

  Response LoadView(Request& req, const std::string& ref, const std::string&) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kView);
    auto v = s_.catalog.LoadView(ref, {*ns, req.params["view"]});
    if (!v.ok()) return Error(v.status(), Ctx::kView);
    if (req.method == "HEAD") return NoContent();
    return ViewResult(req, *v);
  }

  Response ReplaceView(Request& req, const std::string& ref, const std::string& who) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kView);
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kView);
    auto v = s_.catalog.CommitView(ref, {{*ns, req.params["view"]},
                                         body->value("requirements", Json::array()),
                                         body->value("updates", Json::array())},
                                   who);
    if (!v.ok()) return Error(v.status(), Ctx::kView);
    return ViewResult(req, *v);
  }

  Response DropView(Request& req, const std::string& ref, const std::string& who) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kView);
    Status st = s_.catalog.DropView(ref, {*ns, req.params["view"]}, who);
    if (!st.ok()) return Error(st, Ctx::kView);
    return NoContent();
  }

  Response RenameView(Request& req, const std::string& ref, const std::string& who) {
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kView);
    auto from = IdentField(*body, "source");
    auto to = IdentField(*body, "destination");
    if (!from.ok()) return Error(from.status(), Ctx::kView);
    if (!to.ok()) return Error(to.status(), Ctx::kView);
    Status st = s_.catalog.RenameView(ref, *from, *to, who);
    if (!st.ok()) return Error(st, Ctx::kView);
    return NoContent();
  }

  // Server-side scan planning (planTableScan): always completed in the call, so the plan id only
  // names the answer.
  Response PlanTableScan(Request& req, const std::string& ref, const std::string&) {
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kTable);
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kTable);
    if (!body->is_object()) {
      return Error(InvalidArgument("a PlanTableScanRequest must be a JSON object"), Ctx::kTable);
    }
    if (body->contains("start-snapshot-id") || body->contains("end-snapshot-id")) {
      return JsonBody(406, Json{{"error",
                                 {{"message", "incremental scans (start-snapshot-id, "
                                              "end-snapshot-id) are not supported"},
                                  {"type", "UnsupportedOperationException"},
                                  {"code", 406}}}});
    }
    table::ScanOptions o;
    if (auto it = body->find("snapshot-id"); it != body->end() && !it->is_null()) {
      if (!it->is_number_integer()) {
        return Error(InvalidArgument("snapshot-id must be an integer"), Ctx::kTable);
      }
      o.snapshot_id = it->get<int64_t>();
    }
    if (auto it = body->find("filter"); it != body->end() && !it->is_null()) {
      auto f = table::ParseExpression(*it);
      if (!f.ok()) return Error(f.status(), Ctx::kTable);
      o.filter = std::move(*f);
    }
    o.case_sensitive = body->value("case-sensitive", true);
    o.use_snapshot_schema = body->value("use-snapshot-schema", false);
    auto plan = s_.catalog.PlanScan(ref, TableIdent{*ns, req.params["table"]}, o);
    if (!plan.ok()) return Error(plan.status(), Ctx::kTable);
    Json deletes = Json::array();
    for (size_t i = 0; i < plan->delete_files.size(); ++i) {
      deletes.push_back(
          table::ContentFileJson(plan->delete_files[i], plan->delete_spec_ids[i], plan->schema));
    }
    Json tasks = Json::array();
    for (const auto& t : plan->tasks) {
      Json task = {{"data-file", table::ContentFileJson(t.file, t.spec_id, plan->schema)}};
      if (!t.deletes.empty()) task["delete-file-references"] = t.deletes;
      tasks.push_back(std::move(task));
    }
    return JsonBody(200, {{"status", "completed"},
                          {"plan-id", NewUuid()},
                          {"file-scan-tasks", std::move(tasks)},
                          {"delete-files", std::move(deletes)}});
  }

  Response ReportMetrics(Request& req, const std::string& ref, const std::string&) {
    // Scan and commit reports are accepted (clients send them after every scan) and dropped.
    auto ns = ParseNamespace(req.params["namespace"]);
    if (!ns.ok()) return Error(ns.status(), Ctx::kTable);
    auto body = api::ReadJsonBody(req);
    if (!body.ok()) return Error(body.status(), Ctx::kTable);
    (void)ref;
    return NoContent();
  }

 private:
  Services& s_;
};

using Method = Response (Handlers::*)(Request&, const std::string&, const std::string&);

}  // namespace

server::Handler MakeHandler(Services& services) {
  auto h = std::make_shared<Handlers>(services);
  auto router = std::make_shared<server::Router>();
  router->Add("GET", "/iceberg/v1/config", [h](Request& req) { return h->Config(req); });
  router->Add("POST", "/iceberg/v1/oauth/tokens", [h](Request& req) { return h->Tokens(req); });

  struct Route {
    const char* method;
    const char* path;  // after /iceberg/v1/{prefix}
    Method fn;
  };
  static const Route kRoutes[] = {
      {"GET", "/namespaces", &Handlers::ListNamespaces},
      {"POST", "/namespaces", &Handlers::CreateNamespace},
      {"GET", "/namespaces/{namespace}", &Handlers::LoadNamespace},
      {"HEAD", "/namespaces/{namespace}", &Handlers::LoadNamespace},
      {"DELETE", "/namespaces/{namespace}", &Handlers::DropNamespace},
      {"POST", "/namespaces/{namespace}/properties", &Handlers::UpdateProperties},
      {"GET", "/namespaces/{namespace}/tables", &Handlers::ListTables},
      {"POST", "/namespaces/{namespace}/tables", &Handlers::CreateTable},
      {"POST", "/namespaces/{namespace}/register", &Handlers::RegisterTable},
      {"GET", "/namespaces/{namespace}/tables/{table}", &Handlers::LoadTable},
      {"HEAD", "/namespaces/{namespace}/tables/{table}", &Handlers::LoadTable},
      {"POST", "/namespaces/{namespace}/tables/{table}", &Handlers::CommitTable},
      {"DELETE", "/namespaces/{namespace}/tables/{table}", &Handlers::DropTable},
      {"POST", "/namespaces/{namespace}/tables/{table}/metrics", &Handlers::ReportMetrics},
      {"POST", "/namespaces/{namespace}/tables/{table}/plan", &Handlers::PlanTableScan},
      {"POST", "/tables/rename", &Handlers::RenameTable},
      {"GET", "/namespaces/{namespace}/views", &Handlers::ListViews},
      {"POST", "/namespaces/{namespace}/views", &Handlers::CreateView},
      {"GET", "/namespaces/{namespace}/views/{view}", &Handlers::LoadView},
      {"HEAD", "/namespaces/{namespace}/views/{view}", &Handlers::LoadView},
      {"POST", "/namespaces/{namespace}/views/{view}", &Handlers::ReplaceView},
      {"DELETE", "/namespaces/{namespace}/views/{view}", &Handlers::DropView},
      {"POST", "/views/rename", &Handlers::RenameView},
      {"POST", "/namespaces/{namespace}/register-view", &Handlers::RegisterView},
      {"POST", "/transactions/commit", &Handlers::CommitTransaction},
  };
  for (const auto& r : kRoutes) {
    Method fn = r.fn;
    auto run = [h, fn, &services](Request& req, const std::string& ref) -> Response {
      std::unique_ptr<MemoryBody> signed_body;
      auto who = IsSigV4(req) ? VerifySigV4(services.credentials, req, &signed_body)
                              : api::Authenticate(services.credentials, req);
      if (!who.ok()) return Error(who.status(), Ctx::kConfig);
      req.principal = who->name;
      if (Status st = versioning::ParseRefExpr(ref).status(); !st.ok()) {
        return Error(st, Ctx::kConfig);
      }
      return ((*h).*fn)(req, ref, who->name);
    };
    // Without a prefix (a client that skipped /config) the ref is main.
    router->Add(r.method, std::string("/iceberg/v1") + r.path,
                [run](Request& req) { return run(req, "main"); });
    router->Add(r.method, std::string("/iceberg/v1/{prefix}") + r.path,
                [run](Request& req) { return run(req, req.params["prefix"]); });
  }
  return [router, &services](Request& req) -> Response {
    // /v1/config and the token endpoint need no credentials; the rest are checked per route.
    bool path_matched = false;
    const server::Handler* handler = router->Match(req, &path_matched);
    if (handler) {
      if (req.path != "/iceberg/v1/config" && req.path != "/iceberg/v1/oauth/tokens") {
        return (*handler)(req);
      }
      std::unique_ptr<MemoryBody> signed_body;  // outlives the handler that reads it
      if (req.path == "/iceberg/v1/config") {
        auto who = IsSigV4(req) ? VerifySigV4(services.credentials, req, &signed_body)
                                : api::Authenticate(services.credentials, req);
        if (!who.ok()) return Error(who.status(), Ctx::kConfig);
        req.principal = who->name;
      }
      return (*handler)(req);
    }
    int code = path_matched ? 405 : 404;
    std::string type = path_matched ? "MethodNotAllowedException" : "NotFoundException";
    std::string msg = path_matched ? "method " + req.method + " is not allowed on " + req.path
                                   : "no Iceberg REST route for " + req.method + " " + req.path;
    return JsonBody(code, Json{{"error", {{"message", msg}, {"type", type}, {"code", code}}}});
  };
}

}  // namespace lakemesh::iceberg_rest
