#include "base/time.h"
#include "protocols/api/handlers/handlers.h"
#include "protocols/api/json_util.h"

namespace lakemesh::api::handlers {

static json KeyJson(const governance::AccessKey& k) {
  json j{{"access_key_id", k.id},
         {"owner", k.owner},
         {"description", k.description},
         {"created", FormatRfc3339(k.created_micros)}};
  if (!k.secret.empty()) j["secret_access_key"] = k.secret;
  return j;
}

Response ListKeys(Services& s, Request&, const P&) {
  auto keys = s.credentials.ListKeys();
  if (!keys.ok()) return ErrorResponse(keys.status());
  json out = json::array();
  for (const auto& k : *keys) out.push_back(KeyJson(k));
  return JsonResponse(200, Paginated(out, false, ""));
}

Response CreateKey(Services& s, Request& req, const P& who) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  auto owner = StringField(*body, "owner", false);
  if (!owner.ok()) return ErrorResponse(owner.status());
  auto desc = StringField(*body, "description", false);
  if (!desc.ok()) return ErrorResponse(desc.status());
  auto k = s.credentials.CreateKey(owner->empty() ? who.name : *owner, *desc);
  if (!k.ok()) return ErrorResponse(k.status());
  return JsonResponse(201, KeyJson(*k));
}

Response RevokeKey(Services& s, Request& req, const P&) {
  Status st = s.credentials.RevokeKey(req.params["id"]);
  if (!st.ok()) return ErrorResponse(st);
  return Response::Text(204, "");
}

Response CreateToken(Services& s, Request& req, const P& who) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  int64_t ttl = 3600;
  if (auto it = body->find("ttl_seconds"); it != body->end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() <= 0 ||
        it->get<int64_t>() > 90LL * 24 * 3600) {
      return ErrorResponse(InvalidArgument("ttl_seconds must be from 1 to 7776000 (90 days)"));
    }
    ttl = it->get<int64_t>();
  }
  auto t = s.credentials.IssueToken(who, ttl * 1000000);
  if (!t.ok()) return ErrorResponse(t.status());
  return JsonResponse(201, json{{"token", t->token}, {"expires", FormatRfc3339(t->expires_micros)}});
}

Response WhoAmI(Services& s, Request&, const P& who) {
  // The listeners tell clients where the other protocols are (`lakemesh sql` finds the
  // PostgreSQL port this way).
  return JsonResponse(200, json{{"name", who.name},
                                {"access_key_id", who.access_key_id},
                                {"listeners", s.listeners}});
}

static Result<int64_t> DurationField(const json& body, const char* name, int64_t def) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return def;
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    return InvalidArgument(std::string("field '") + name + "' must be a number of seconds >= 0");
  }
  return it->get<int64_t>() * 1000000;
}

Response CollectGarbage(Services& s, Request& req, const P&) {
  auto body = ReadJsonBody(req);
  if (!body.ok()) return ErrorResponse(body.status());
  versioning::GcOptions opts;
  auto retention = DurationField(*body, "retention_seconds", opts.retention_micros);
  if (!retention.ok()) return ErrorResponse(retention.status());
  auto grace = DurationField(*body, "grace_seconds", opts.grace_micros);
  if (!grace.ok()) return ErrorResponse(grace.status());
  opts.retention_micros = *retention;
  opts.grace_micros = *grace;
  if (auto it = body->find("dry_run"); it != body->end() && it->is_boolean()) {
    opts.dry_run = it->get<bool>();
  }
  auto abandoned = DurationField(*body, "abandoned_upload_seconds", versioning::kAbandonedUploadMicros);
  if (!abandoned.ok()) return ErrorResponse(abandoned.status());
  auto r = s.repos.CollectGarbage(opts);
  if (!r.ok()) return ErrorResponse(r.status());
  size_t aborted = 0, bucket_blobs = 0;
  if (!opts.dry_run) {
    auto a = s.uploads.CollectAbandoned(*abandoned);
    if (!a.ok()) return ErrorResponse(a.status());
    auto b = s.buckets.CollectGarbage(opts.grace_micros);
    if (!b.ok()) return ErrorResponse(b.status());
    aborted = *a;
    bucket_blobs = *b;
  }
  return JsonResponse(200, json{{"commits_kept", r->commits_kept},
                                {"uploads_aborted", aborted},
                                {"bucket_blobs_deleted", bucket_blobs},
                                {"blobs_scanned", r->blobs_scanned},
                                {"blobs_live", r->blobs_live},
                                {"blobs_deleted", r->blobs_deleted},
                                {"bytes_deleted", r->bytes_deleted},
                                {"dry_run", opts.dry_run}});
}

}  // namespace lakemesh::api::handlers
