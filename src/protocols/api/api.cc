#include "protocols/api/api.h"

#include <vector>

#include <strings.h>

#include "base/coding.h"
#include "base/hash.h"
#include "protocols/api/handlers/handlers.h"
#include "protocols/api/json_util.h"

namespace lakemesh::api {
namespace {

struct RouteSpec {
  const char* method;
  const char* pattern;
  ApiHandler handler;
};

// Every API operation, in one list.
const std::vector<RouteSpec>& Routes() {
  using namespace handlers;  // NOLINT(build/namespaces)
  static const std::vector<RouteSpec> routes = {
      {"GET", "/api/v1/auth/whoami", WhoAmI},
      {"GET", "/api/v1/auth/keys", ListKeys},
      {"POST", "/api/v1/auth/keys", CreateKey},
      {"DELETE", "/api/v1/auth/keys/{id}", RevokeKey},
      {"POST", "/api/v1/auth/tokens", CreateToken},
      {"POST", "/api/v1/gc", CollectGarbage},

      {"GET", "/api/v1/repositories", ListRepos},
      {"POST", "/api/v1/repositories", CreateRepo},
      {"GET", "/api/v1/repositories/{repo}", GetRepo},
      {"DELETE", "/api/v1/repositories/{repo}", DeleteRepo},

      {"GET", "/api/v1/repositories/{repo}/branches", ListBranches},
      {"POST", "/api/v1/repositories/{repo}/branches", CreateBranch},
      {"GET", "/api/v1/repositories/{repo}/branches/{branch}", GetBranch},
      {"DELETE", "/api/v1/repositories/{repo}/branches/{branch}", DeleteBranch},
      {"POST", "/api/v1/repositories/{repo}/branches/{branch}/reset", ResetBranch},
      {"POST", "/api/v1/repositories/{repo}/branches/{branch}/commits", CommitBranch},
      {"GET", "/api/v1/repositories/{repo}/branches/{branch}/changes", BranchChanges},
      {"POST", "/api/v1/repositories/{repo}/branches/{branch}/revert", RevertCommit},
      {"PUT", "/api/v1/repositories/{repo}/branches/{branch}/objects", PutObject},
      {"DELETE", "/api/v1/repositories/{repo}/branches/{branch}/objects", DeleteObject},
      {"POST", "/api/v1/repositories/{repo}/branches/{branch}/tables/{table}/append",
       AppendToTable},
      {"POST", "/api/v1/repositories/{repo}/branches/{branch}/tables/{table}/delete",
       DeleteFromTable},
      {"POST", "/api/v1/repositories/{repo}/branches/{branch}/tables/{table}/update",
       UpdateTable},

      {"GET", "/api/v1/repositories/{repo}/tags", ListTags},
      {"POST", "/api/v1/repositories/{repo}/tags", CreateTag},
      {"GET", "/api/v1/repositories/{repo}/tags/{tag}", GetTag},
      {"DELETE", "/api/v1/repositories/{repo}/tags/{tag}", DeleteTag},

      {"GET", "/api/v1/repositories/{repo}/refs/{ref}", ResolveRef},
      {"GET", "/api/v1/repositories/{repo}/refs/{ref}/commits", LogCommits},
      {"GET", "/api/v1/repositories/{repo}/refs/{left}/diff/{right}", DiffRefs},
      {"POST", "/api/v1/repositories/{repo}/refs/{source}/merge/{dest}", MergeRefs},
      {"GET", "/api/v1/repositories/{repo}/refs/{ref}/objects", GetObject},
      {"GET", "/api/v1/repositories/{repo}/refs/{ref}/objects/stat", StatObject},
      {"GET", "/api/v1/repositories/{repo}/refs/{ref}/objects/ls", ListObjects},
      {"GET", "/api/v1/repositories/{repo}/refs/{ref}/tables/{table}/rows", ReadTableRows},

      {"GET", "/api/v1/search", Search},
      {"GET", "/api/v1/products", ListProducts},
      {"GET", "/api/v1/products/{domain}/{name}", GetProduct},
      {"POST", "/api/v1/products/{domain}/{name}/validate", ValidateProduct},
      {"GET", "/api/v1/products/{domain}/{name}/template", ProductTemplate},
      {"GET", "/api/v1/products/{domain}/{name}/changes", ProductChanges},
      {"POST", "/api/v1/products/{domain}/{name}/check", CheckProduct},
      {"POST", "/api/v1/products/{domain}/{name}/publish", PublishProduct},
      {"POST", "/api/v1/products/{domain}/{name}/deprecate", DeprecateProduct},
      {"GET", "/api/v1/products/{domain}/{name}/runs", ProductHistory},
  };
  return routes;
}

}  // namespace

Result<governance::Principal> Authenticate(governance::Credentials& creds,
                                           const server::Request& req) {
  auto h = req.Header("Authorization");
  if (!h) {
    return Unauthenticated(
        "this request needs credentials: HTTP Basic with an access key id and secret, or "
        "'Authorization: Bearer <token>'");
  }
  std::string_view v = *h;
  if (v.size() > 6 && strncasecmp(v.data(), "Basic ", 6) == 0) {
    auto decoded = Base64Decode(v.substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return Unauthenticated("malformed Basic credentials");
    return creds.VerifySecret(decoded->substr(0, colon), decoded->substr(colon + 1));
  }
  if (v.size() > 7 && strncasecmp(v.data(), "Bearer ", 7) == 0) {
    return creds.VerifyToken(std::string(v.substr(7)));
  }
  return Unauthenticated("unsupported Authorization scheme: use Basic or Bearer");
}

server::Handler MakeHttpHandler(Services& services) {
  auto router = std::make_shared<server::Router>();
  for (const auto& r : Routes()) {
    ApiHandler h = r.handler;
    router->Add(r.method, r.pattern, [&services, h](server::Request& req) -> server::Response {
      auto who = Authenticate(services.credentials, req);
      if (!who.ok()) {
        server::Response r = ErrorResponse(who.status());
        // Scripts (the web UI) ask not to be challenged: a browser would pop up its own
        // sign-in dialog for a Basic challenge.
        if (req.Header("X-Requested-With")) r.headers.Remove("WWW-Authenticate");
        return r;
      }
      req.principal = who->name;
      return h(services, req, *who);
    });
  }
  router->Add("GET", "/healthz", [](server::Request&) {
    return JsonResponse(200, json{{"status", "ok"}});
  });
  router->Add("GET", "/metrics", [&services](server::Request&) {
    return server::Response::Text(200, services.metrics.Render(),
                                  "text/plain; version=0.0.4; charset=utf-8");
  });
  return [router](server::Request& req) -> server::Response {
    bool path_matched = false;
    const server::Handler* h = router->Match(req, &path_matched);
    if (h) return (*h)(req);
    if (path_matched) {
      server::Response r = ErrorResponse(
          InvalidArgument("method " + req.method + " is not allowed on " + req.path));
      r.status = 405;
      return r;
    }
    return ErrorResponse(NotFound("no API route for " + req.method + " " + req.path));
  };
}

}  // namespace lakemesh::api
