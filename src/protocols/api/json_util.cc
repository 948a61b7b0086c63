#include "protocols/api/json_util.h"

#include "base/hash.h"
#include "base/json_depth.h"
#include "base/time.h"

namespace lakemesh::api {

server::Response JsonResponse(int status, const json& body) {
  server::Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.body.push_back('\n');
  r.headers.Set("Content-Type", "application/json");
  return r;
}

Result<std::string> ReadBody(server::Request& req, size_t max) {
  std::string data;
  char buf[16384];
  while (true) {
    LM_ASSIGN_OR_RETURN(size_t n, req.body->Read(buf, sizeof(buf)));
    if (n == 0) break;
    data.append(buf, n);
    if (data.size() > max) {
      return ResourceExhausted("request body larger than " + std::to_string(max >> 20) + " MiB");
    }
  }
  return data;
}

Result<json> ReadJsonBody(server::Request& req) {
  LM_ASSIGN_OR_RETURN(std::string data, ReadBody(req, 1 << 20));
  if (data.empty()) return json::object();
  json j = json::parse(data, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("request body is not valid JSON");
  if (JsonDeeperThan(j, kMaxJsonDepth)) {
    return InvalidArgument("request body nests more than " + std::to_string(kMaxJsonDepth) +
                           " levels deep");
  }
  if (!j.is_object()) return InvalidArgument("request body must be a JSON object");
  return j;
}

Result<std::string> StringField(const json& body, const std::string& name, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return InvalidArgument("field '" + name + "' is required");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument("field '" + name + "' must be a string");
  return it->get<std::string>();
}

Result<size_t> LimitParam(const server::Request& req, size_t def, size_t max) {
  auto v = req.Query("limit");
  if (!v) return def;
  size_t n = 0;
  if (v->empty() || v->size() > 9) {
    return InvalidArgument("limit must be a number from 1 to " + std::to_string(max));
  }
  for (char c : *v) {
    if (c < '0' || c > '9') {
      return InvalidArgument("limit must be a number from 1 to " + std::to_string(max));
    }
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (n < 1 || n > max) {
    return InvalidArgument("limit must be a number from 1 to " + std::to_string(max));
  }
  return n;
}

Result<std::string> RequiredQuery(const server::Request& req, const std::string& name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return InvalidArgument("query parameter '" + name + "' is required");
  return *v;
}

json ToJson(const versioning::Commit& c) {
  return json{{"id", c.id},
              {"parents", c.parents},
              {"author", c.author},
              {"message", c.message},
              {"created", FormatRfc3339(c.created_micros)},
              {"metadata", c.metadata},
              {"generation", c.generation}};
}

static json EntryJson(const std::string& path, const versioning::Entry& e) {
  json j{{"path", path},
         {"size", e.size},
         {"etag", e.etag},
         {"mtime", FormatRfc3339(e.mtime_micros)},
         {"content_type", e.content_type},
         {"physical_address", e.address}};
  if (!e.metadata.empty()) j["metadata"] = e.metadata;
  return j;
}

json ToJson(const versioning::ObjectInfo& o) { return EntryJson(o.path, o.entry); }

json ToJson(const versioning::Change& c) {
  json j{{"path", c.path}, {"type", versioning::ChangeTypeName(c.type)}};
  if (c.left) j["left"] = EntryJson(c.path, *c.left);
  if (c.right) j["right"] = EntryJson(c.path, *c.right);
  return j;
}

json Paginated(json results, bool has_more, const std::string& next_after) {
  return json{{"results", std::move(results)},
              {"pagination", {{"has_more", has_more}, {"next_after", next_after}}}};
}

}  // namespace lakemesh::api
