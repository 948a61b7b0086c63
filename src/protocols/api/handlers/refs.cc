#include "base/time.h"
#include "protocols/api/handlers/handlers.h"
#include "protocols/api/json_util.h"

namespace lakemesh::api::handlers {

using versioning::CommitOptions;

static json BranchJson(const versioning::BranchInfo& b) {
  return json{{"name", b.name}, {"head", b.head}};
}
static json TagJson(const versioning::TagInfo& t) {
  return json{{"name", t.name}, {"commit", t.commit_id}};
}

// Commit options from a request body: message, metadata (string map), allow_empty.
static Result<CommitOptions> CommitOptionsFrom(const json& body, const P& who) {
  CommitOptions o;
  o.author = who.name;
  LM_ASSIGN_OR_RETURN(o.message, StringField(body, "message", false));
  if (auto it = body.find("metadata"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("field 'metadata' must be an object of strings");
    for (auto m = it->begin(); m != it->end(); ++m) {
      if (!m.value().is_string()) {
        return InvalidArgument("metadata value '" + m.key() + "' must be a string");
      }
      o.metadata[m.key()] = m.value().get<std::string>();
    }
  }
  if (auto it = body.find("allow_empty"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return InvalidArgument("field 'allow_empty' must be true or false");
    o.allow_empty = it->get<bool>();
  }
  return o;
}

Response ListBranches(Services& s, Request& req, const P&) {
  auto limit = LimitParam(req, 1000, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto bs = s.repos.ListBranches(req.params["repo"], req.Query("after").value_or(""), *limit + 1);
  if (!bs.ok()) return ErrorResponse(bs.status());
  bool more = bs->size() > *limit;
  if (more) bs->pop_back();
  json out = json::array();
  for (const auto& b : *bs) out.push_back(BranchJson(b));
  return JsonResponse(200, Paginated(out, more, more ? bs->back().name : ""));
}

Response CreateBranch(Services& s, Request& req, const P&) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto name = StringField(*body, "name", true);
  if (!name.ok()) return ErrorResponse(name.status());
  auto source = StringField(*body, "source", false);
  if (!source.ok()) return ErrorResponse(source.status());
  std::string from = *source;
  if (from.empty()) {
    auto repo = s.repos.GetRepo(req.params["repo"]);
    if (!repo.ok()) return ErrorResponse(repo.status());
    from = repo->default_branch;
  }
  auto b = s.repos.CreateBranch(req.params["repo"], *name, from);
  if (!b.ok()) return ErrorResponse(b.status());
  return JsonResponse(201, BranchJson(*b));
}

Response GetBranch(Services& s, Request& req, const P&) {
  auto b = s.repos.GetBranch(req.params["repo"], req.params["branch"]);
  if (!b.ok()) return ErrorResponse(b.status());
  return JsonResponse(200, BranchJson(*b));
}

Response DeleteBranch(Services& s, Request& req, const P&) {
  Status st = s.repos.DeleteBranch(req.params["repo"], req.params["branch"]);
  if (!st.ok()) return ErrorResponse(st);
  return Response::Text(204, "");
}

Response ResetBranch(Services& s, Request& req, const P&) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto ref = StringField(*body, "ref", false);
  if (!ref.ok()) return ErrorResponse(ref.status());
  auto prefix = StringField(*body, "prefix", false);
  if (!prefix.ok()) return ErrorResponse(prefix.status());
  if (!ref->empty()) {
    if (!prefix->empty()) {
      return ErrorResponse(InvalidArgument("give either 'ref' (move the branch) or 'prefix' "
                                           "(discard changes under it), not both"));
    }
    auto b = s.repos.ResetBranch(req.params["repo"], req.params["branch"], *ref);
    if (!b.ok()) return ErrorResponse(b.status());
    return JsonResponse(200, BranchJson(*b));
  }
  auto n = s.repos.DiscardChanges(req.params["repo"], req.params["branch"], *prefix);
  if (!n.ok()) return ErrorResponse(n.status());
  return JsonResponse(200, json{{"discarded", *n}});
}

Response CommitBranch(Services& s, Request& req, const P& who) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto opts = CommitOptionsFrom(*body, who);
  if (!opts.ok()) return ErrorResponse(opts.status());
  auto c = s.repos.CommitBranch(req.params["repo"], req.params["branch"], *opts);
  if (!c.ok()) return ErrorResponse(c.status());
  s.metrics.AddCommits(1);
  return JsonResponse(201, ToJson(*c));
}

Response BranchChanges(Services& s, Request& req, const P&) {
  auto limit = LimitParam(req, 1000, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  versioning::PageOptions page{req.Query("prefix").value_or(""), req.Query("after").value_or(""),
                               *limit};
  auto ch = s.repos.Changes(req.params["repo"], req.params["branch"], page);
  if (!ch.ok()) return ErrorResponse(ch.status());
  json out = json::array();
  for (const auto& c : ch->changes) out.push_back(ToJson(c));
  return JsonResponse(200, Paginated(out, ch->truncated, ch->next_after));
}

Response RevertCommit(Services& s, Request& req, const P& who) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto ref = StringField(*body, "ref", true);
  if (!ref.ok()) return ErrorResponse(ref.status());
  int parent = 0;
  if (auto it = body->find("parent_number"); it != body->end() && !it->is_null()) {
    if (!it->is_number_integer()) {
      return ErrorResponse(InvalidArgument("field 'parent_number' must be an integer"));
    }
    parent = it->get<int>();
  }
  auto opts = CommitOptionsFrom(*body, who);
  if (!opts.ok()) return ErrorResponse(opts.status());
  auto c = s.repos.Revert(req.params["repo"], req.params["branch"], *ref, parent, *opts);
  if (!c.ok()) return ErrorResponse(c.status());
  s.metrics.AddCommits(1);
  return JsonResponse(201, ToJson(*c));
}

Response ListTags(Services& s, Request& req, const P&) {
  auto limit = LimitParam(req, 1000, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto ts = s.repos.ListTags(req.params["repo"], req.Query("after").value_or(""), *limit + 1);
  if (!ts.ok()) return ErrorResponse(ts.status());
  bool more = ts->size() > *limit;
  if (more) ts->pop_back();
  json out = json::array();
  for (const auto& t : *ts) out.push_back(TagJson(t));
  return JsonResponse(200, Paginated(out, more, more ? ts->back().name : ""));
}

Response CreateTag(Services& s, Request& req, const P&) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto name = StringField(*body, "name", true);
  if (!name.ok()) return ErrorResponse(name.status());
  auto ref = StringField(*body, "ref", true);
  if (!ref.ok()) return ErrorResponse(ref.status());
  auto t = s.repos.CreateTag(req.params["repo"], *name, *ref);
  if (!t.ok()) return ErrorResponse(t.status());
  return JsonResponse(201, TagJson(*t));
}

Response GetTag(Services& s, Request& req, const P&) {
  auto t = s.repos.GetTag(req.params["repo"], req.params["tag"]);
  if (!t.ok()) return ErrorResponse(t.status());
  return JsonResponse(200, TagJson(*t));
}

Response DeleteTag(Services& s, Request& req, const P&) {
  Status st = s.repos.DeleteTag(req.params["repo"], req.params["tag"]);
  if (!st.ok()) return ErrorResponse(st);
  return Response::Text(204, "");
}

Response ResolveRef(Services& s, Request& req, const P&) {
  auto r = s.repos.Resolve(req.params["repo"], req.params["ref"]);
  if (!r.ok()) return ErrorResponse(r.status());
  json j = ToJson(r->commit);
  if (r->branch) j["branch"] = *r->branch;
  return JsonResponse(200, j);
}

Response LogCommits(Services& s, Request& req, const P&) {
  auto limit = LimitParam(req, 100, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  bool more = false;
  auto log = s.repos.Log(req.params["repo"], req.params["ref"], req.Query("path").value_or(""),
                         req.Query("after").value_or(""), *limit, &more);
  if (!log.ok()) return ErrorResponse(log.status());
  json out = json::array();
  for (const auto& c : *log) out.push_back(ToJson(c));
  return JsonResponse(200, Paginated(out, more, more && !log->empty() ? log->back().id : ""));
}

Response DiffRefs(Services& s, Request& req, const P&) {
  auto limit = LimitParam(req, 1000, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  versioning::PageOptions page{req.Query("prefix").value_or(""), req.Query("after").value_or(""),
                               *limit};
  auto d = s.repos.Diff(req.params["repo"], req.params["left"], req.params["right"], page);
  if (!d.ok()) return ErrorResponse(d.status());
  json out = json::array();
  for (const auto& c : d->changes) out.push_back(ToJson(c));
  return JsonResponse(200, Paginated(out, d->truncated, d->next_after));
}

Response MergeRefs(Services& s, Request& req, const P& who) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto strategy_s = StringField(*body, "strategy", false);
  if (!strategy_s.ok()) return ErrorResponse(strategy_s.status());
  versioning::MergeStrategy strategy;
  if (strategy_s->empty() || *strategy_s == "fail") {
    strategy = versioning::MergeStrategy::kFail;
  } else if (*strategy_s == "source-wins") {
    strategy = versioning::MergeStrategy::kSourceWins;
  } else if (*strategy_s == "dest-wins") {
    strategy = versioning::MergeStrategy::kDestWins;
  } else {
    return ErrorResponse(InvalidArgument("unknown merge strategy '" + *strategy_s +
                                         "': use fail, source-wins or dest-wins"));
  }
  auto opts = CommitOptionsFrom(*body, who);
  if (!opts.ok()) return ErrorResponse(opts.status());
  auto m = s.repos.Merge(req.params["repo"], req.params["source"], req.params["dest"], strategy,
                         *opts);
  if (!m.ok()) return ErrorResponse(m.status());
  if (!m->conflicts.empty()) {
    json j{{"error",
            {{"code", "Conflict"},
             {"message", std::to_string(m->conflicts.size()) +
                             " path(s) changed on both sides; nothing was merged. Resolve them, "
                             "or merge with strategy source-wins or dest-wins"}}},
           {"conflicts", m->conflicts}};
    if (!m->conflict_reasons.empty()) j["conflict_reasons"] = m->conflict_reasons;
    return JsonResponse(409, j);
  }
  if (!m->already_up_to_date) s.metrics.AddCommits(1);
  return JsonResponse(m->already_up_to_date ? 200 : 201,
                      json{{"commit", m->commit_id},
                           {"already_up_to_date", m->already_up_to_date},
                           {"changes", m->changes},
                           {"combined", m->resolved}});
}

}  // namespace lakemesh::api::handlers
