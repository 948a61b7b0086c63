// JSON helpers shared by the API handlers: responses, request bodies, parameters, and the JSON
// form of the versioning types.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "server/http.h"
#include "versioning/repository.h"

namespace lakemesh::api {

using nlohmann::json;

server::Response JsonResponse(int status, const json& body);
// The error response for a non-OK status.
server::Response ErrorResponse(const Status& status);

// Reads the whole body; kResourceExhausted past `max` bytes.
Result<std::string> ReadBody(server::Request& req, size_t max);
// Reads and parses a JSON object body (at most 1 MiB). kInvalidArgument if it is not one.
Result<json> ReadJsonBody(server::Request& req);
// A string field; "" when absent; kInvalidArgument when present with another type.
Result<std::string> StringField(const json& body, const std::string& name, bool required);
// `limit` query parameter in [1, max], default `def`.
Result<size_t> LimitParam(const server::Request& req, size_t def, size_t max);
Result<std::string> RequiredQuery(const server::Request& req, const std::string& name);

json ToJson(const versioning::Commit& c);
json ToJson(const versioning::ObjectInfo& o);
json ToJson(const versioning::Change& c);
json Paginated(json results, bool has_more, const std::string& next_after);

}  // namespace lakemesh::api
