#include "table/view.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

namespace lakemesh::table {
namespace {

Status Bad(std::string m) { return InvalidArgument(std::move(m)); }

bool IsInt(const Json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

Status CheckStringMap(const Json& j, const std::string& what) {
  if (j.is_null()) return Status::OK();
  if (!j.is_object()) return Bad(what + " must be an object of strings");
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) return Bad(what + ": '" + k + "' must be a string");
  }
  return Status::OK();
}

Status CheckVersion(const Json& v) {
  if (!v.is_object()) return Bad("view version must be an object");
  for (const char* k : {"version-id", "timestamp-ms", "schema-id"}) {
    if (!v.contains(k) || !IsInt(v[k])) {
      return Bad(std::string("view version: '") + k + "' must be an integer");
    }
  }
  LM_TRY(CheckStringMap(v.value("summary", Json()), "view version summary"));
  if (!v.contains("representations") || !v["representations"].is_array() ||
      v["representations"].empty()) {
    return Bad("view version: 'representations' must be a non-empty array");
  }
  for (const Json& r : v["representations"]) {
    if (!r.is_object() || r.value("type", Json()) != "sql" || !r.contains("sql") ||
        !r["sql"].is_string() || !r.contains("dialect") || !r["dialect"].is_string()) {
      return Bad("view version: each representation needs type 'sql', 'sql' and 'dialect'");
    }
  }
  auto ns = v.find("default-namespace");
  if (ns == v.end() || !ns->is_array()) {
    return Bad("view version: 'default-namespace' must be an array of strings");
  }
  for (const Json& p : *ns) {
    if (!p.is_string()) return Bad("view version: 'default-namespace' must hold strings");
  }
  // One representation per dialect, as the spec asks.
  std::vector<std::string> dialects;
  for (const Json& r : v["representations"]) {
    std::string d = r["dialect"].get<std::string>();
    std::transform(d.begin(), d.end(), d.begin(), ::tolower);
    if (std::find(dialects.begin(), dialects.end(), d) != dialects.end()) {
      return Bad("view version: two representations for dialect '" + d + "'");
    }
    dialects.push_back(d);
  }
  return Status::OK();
}

int64_t MaxOf(const Json& list, const char* key, int64_t floor) {
  int64_t m = floor;
  for (const Json& e : list) {
    if (e.is_object() && e.contains(key) && IsInt(e[key])) m = std::max(m, e[key].get<int64_t>());
  }
  return m;
}

struct ViewState {
  std::optional<int64_t> last_schema, last_version;
};

Status AddSchema(Json& m, Json schema, ViewState& st) {
  LM_TRY(ValidateSchema(schema));
  for (const Json& s : m["schemas"]) {
    Json a = s, b = schema;
    a.erase("schema-id");
    b.erase("schema-id");
    if (a == b) {
      st.last_schema = s["schema-id"].get<int64_t>();
      return Status::OK();
    }
  }
  int64_t id = MaxOf(m["schemas"], "schema-id", -1) + 1;
  schema["schema-id"] = id;
  m["schemas"].push_back(std::move(schema));
  st.last_schema = id;
  return Status::OK();
}

Status AddVersion(Json& m, Json v, ViewState& st) {
  LM_TRY(CheckVersion(v));
  if (v["schema-id"] == -1) {
    if (!st.last_schema) return Bad("view version: schema-id -1 but no schema was added");
    v["schema-id"] = *st.last_schema;
  }
  bool schema_known = false;
  for (const Json& s : m["schemas"]) schema_known |= s["schema-id"] == v["schema-id"];
  if (!schema_known) return Bad("view version: no schema with id " + v["schema-id"].dump());
  // A version equal to an existing one (but for id and time) is that version.
  for (const Json& e : m["versions"]) {
    Json a = e, b = v;
    for (const char* k : {"version-id", "timestamp-ms"}) {
      a.erase(k);
      b.erase(k);
    }
    if (a == b) {
      st.last_version = e["version-id"].get<int64_t>();
      return Status::OK();
    }
  }
  int64_t id = MaxOf(m["versions"], "version-id", 0) + 1;
  v["version-id"] = id;
  m["versions"].push_back(std::move(v));
  st.last_version = id;
  return Status::OK();
}

Status SetCurrent(Json& m, int64_t id, const ViewState& st, int64_t now_ms) {
  if (id == -1) {
    if (!st.last_version) return Bad("set-current-view-version -1 but no version was added");
    id = *st.last_version;
  }
  bool known = false;
  for (const Json& v : m["versions"]) known |= v["version-id"] == id;
  if (!known) return Bad("no view version with id " + std::to_string(id));
  if (m.value("current-version-id", int64_t{-1}) != id) {
    m["current-version-id"] = id;
    m["version-log"].push_back({{"version-id", id}, {"timestamp-ms", now_ms}});
  }
  // Keep at most version.history.num-entries versions (default 10), never the current one.
  size_t keep = 10;
  if (auto p = m["properties"].find("version.history.num-entries");
      p != m["properties"].end() && p->is_string()) {
    keep = std::max(1LL, std::atoll(p->get<std::string>().c_str()));
  }
  while (m["versions"].size() > keep) {
    auto& vs = m["versions"];
    auto oldest = std::min_element(vs.begin(), vs.end(), [&](const Json& a, const Json& b) {
      bool ac = a["version-id"] == m["current-version-id"];
      bool bc = b["version-id"] == m["current-version-id"];
      if (ac != bc) return bc;  // the current version sorts last
      return a["version-id"].get<int64_t>() < b["version-id"].get<int64_t>();
    });
    vs.erase(oldest);
  }
  return Status::OK();
}

Status ApplyOne(Json& m, const Json& u, ViewState& st, int64_t now_ms) {
  if (!u.is_object() || !u.contains("action") || !u["action"].is_string()) {
    return Bad("a view update needs an 'action'");
  }
  const std::string action = u["action"].get<std::string>();
  if (action == "assign-uuid") {
    if (!u.contains("uuid") || !u["uuid"].is_string()) return Bad("assign-uuid needs 'uuid'");
    if (m.contains("view-uuid") && m["view-uuid"] != u["uuid"]) {
      return Bad("cannot change the view UUID");
    }
    m["view-uuid"] = u["uuid"];
  } else if (action == "upgrade-format-version") {
    if (!u.contains("format-version") || u["format-version"] != kViewFormatVersion) {
      return Bad("view format version must be 1");
    }
  } else if (action == "add-schema") {
    if (!u.contains("schema")) return Bad("add-schema needs 'schema'");
    LM_TRY(AddSchema(m, u["schema"], st));
  } else if (action == "set-location") {
    if (!u.contains("location") || !u["location"].is_string()) {
      return Bad("set-location needs 'location'");
    }
    m["location"] = u["location"];
  } else if (action == "set-properties") {
    if (!u.contains("updates")) return Bad("set-properties needs 'updates'");
    LM_TRY(CheckStringMap(u["updates"], "set-properties updates"));
    for (const auto& [k, v] : u["updates"].items()) m["properties"][k] = v;
  } else if (action == "remove-properties") {
    if (!u.contains("removals") || !u["removals"].is_array()) {
      return Bad("remove-properties needs 'removals'");
    }
    for (const Json& k : u["removals"]) {
      if (!k.is_string()) return Bad("remove-properties: removals must be strings");
      m["properties"].erase(k.get<std::string>());
    }
  } else if (action == "add-view-version") {
    if (!u.contains("view-version")) return Bad("add-view-version needs 'view-version'");
    Json v = u["view-version"];
    if (v.is_object() && !v.contains("timestamp-ms")) v["timestamp-ms"] = now_ms;
    LM_TRY(AddVersion(m, std::move(v), st));
  } else if (action == "set-current-view-version") {
    if (!u.contains("view-version-id") || !IsInt(u["view-version-id"])) {
      return Bad("set-current-view-version needs 'view-version-id'");
    }
    LM_TRY(SetCurrent(m, u["view-version-id"].get<int64_t>(), st, now_ms));
  } else {
    return Bad("unknown view update action '" + action + "'");
  }
  return Status::OK();
}

template <typename F>
auto Guarded(F f) -> decltype(f()) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    return Bad(std::string("malformed Iceberg view JSON: ") + e.what());
  }
}

}  // namespace

Result<Json> NewViewMetadata(const Json& request, const std::string& location,
                             const std::string& uuid, int64_t now_ms) {
  return Guarded([&]() -> Result<Json> {
    if (!request.is_object()) return Bad("the request must be a JSON object");
    if (!request.contains("schema")) return Bad("'schema' is missing");
    if (!request.contains("view-version")) return Bad("'view-version' is missing");
    LM_TRY(CheckStringMap(request.value("properties", Json()), "'properties'"));
    Json m = {{"view-uuid", uuid},
              {"format-version", kViewFormatVersion},
              {"location", location},
              {"schemas", Json::array()},
              {"versions", Json::array()},
              {"version-log", Json::array()},
              {"current-version-id", -1},
              {"properties", request.value("properties", Json::object())}};
    if (m["properties"].is_null()) m["properties"] = Json::object();
    ViewState st;
    LM_TRY(AddSchema(m, request["schema"], st));
    Json v = request["view-version"];
    if (v.is_object()) {
      v["schema-id"] = *st.last_schema;  // the spec: replaced by the id of the given schema
      if (!v.contains("timestamp-ms")) v["timestamp-ms"] = now_ms;
    }
    LM_TRY(AddVersion(m, std::move(v), st));
    LM_TRY(SetCurrent(m, -1, st, now_ms));
    return m;
  });
}

Status CheckViewRequirements(const Json& current, const Json& requirements) {
  return Guarded([&]() -> Status {
    if (requirements.is_null()) return Status::OK();
    if (!requirements.is_array()) return Bad("'requirements' must be an array");
    for (const Json& r : requirements) {
      if (!r.is_object() || r.value("type", Json()) != "assert-view-uuid") {
        return Bad("unknown view requirement " + r.dump());
      }
      if (!r.contains("uuid") || r["uuid"] != current.value("view-uuid", Json())) {
        return Conflict("Requirement failed: view UUID does not match");
      }
    }
    return Status::OK();
  });
}

Status ApplyViewUpdates(Json& metadata, const Json& updates, int64_t now_ms) {
  return Guarded([&]() -> Status {
    if (updates.is_null()) return Status::OK();
    if (!updates.is_array()) return Bad("'updates' must be an array");
    for (const char* k : {"schemas", "versions", "version-log"}) {
      if (!metadata.contains(k) || !metadata[k].is_array()) metadata[k] = Json::array();
    }
    if (!metadata.contains("properties") || !metadata["properties"].is_object()) {
      metadata["properties"] = Json::object();
    }
    ViewState st;
    for (const Json& u : updates) LM_TRY(ApplyOne(metadata, u, st, now_ms));
    return Status::OK();
  });
}

Status ValidateViewMetadata(const Json& m) {
  return Guarded([&]() -> Status {
    if (!m.is_object()) return Bad("view metadata must be a JSON object");
    if (m.value("format-version", Json()) != kViewFormatVersion) {
      return Bad("view metadata must have format version 1");
    }
    for (const char* k : {"view-uuid", "location"}) {
      if (!m.contains(k) || !m[k].is_string()) {
        return Bad(std::string("view metadata: '") + k + "' must be a string");
      }
    }
    for (const char* k : {"schemas", "versions", "version-log"}) {
      if (!m.contains(k) || !m[k].is_array()) {
        return Bad(std::string("view metadata: '") + k + "' must be an array");
      }
    }
    bool current = false;
    for (const Json& v : m["versions"]) {
      LM_TRY(CheckVersion(v));
      current |= v["version-id"] == m.value("current-version-id", Json());
    }
    if (!current) return Bad("view metadata: current-version-id names no version");
    for (const Json& s : m["schemas"]) LM_TRY(ValidateSchema(s));
    return Status::OK();
  });
}

}  // namespace lakemesh::table
