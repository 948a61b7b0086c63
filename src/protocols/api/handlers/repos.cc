#include "protocols/api/handlers/handlers.h"
#include "protocols/api/json_util.h"
#include "base/time.h"

namespace lakemesh::api::handlers {

static json RepoJson(const versioning::RepoInfo& r) {
  return json{{"name", r.name},
              {"default_branch", r.default_branch},
              {"created", FormatRfc3339(r.created_micros)},
              {"creator", r.creator}};
}

Response ListRepos(Services& s, Request& req, const P&) {
  auto limit = LimitParam(req, 1000, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto repos = s.repos.ListRepos(req.Query("after").value_or(""), *limit + 1);
  if (!repos.ok()) return ErrorResponse(repos.status());
  bool more = repos->size() > *limit;
  if (more) repos->pop_back();
  json out = json::array();
  for (const auto& r : *repos) out.push_back(RepoJson(r));
  return JsonResponse(200, Paginated(out, more, more ? repos->back().name : ""));
}

Response CreateRepo(Services& s, Request& req, const P& who) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto name = StringField(*body, "name", true);
  if (!name.ok()) return ErrorResponse(name.status());
  auto branch = StringField(*body, "default_branch", false);
  if (!branch.ok()) return ErrorResponse(branch.status());
  auto r = s.repos.CreateRepo(*name, branch->empty() ? "main" : *branch, who.name);
  if (!r.ok()) return ErrorResponse(r.status());
  return JsonResponse(201, RepoJson(*r));
}

Response GetRepo(Services& s, Request& req, const P&) {
  auto r = s.repos.GetRepo(req.params["repo"]);
  if (!r.ok()) return ErrorResponse(r.status());
  return JsonResponse(200, RepoJson(*r));
}

Response DeleteRepo(Services& s, Request& req, const P&) {
  Status st = s.repos.DeleteRepo(req.params["repo"]);
  if (!st.ok()) return ErrorResponse(st);
  return Response::Text(204, "");
}

}  // namespace lakemesh::api::handlers
