#include "table/metadata.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string_view>

namespace lakemesh::table {
namespace {

Status Bad(std::string m) { return InvalidArgument(std::move(m)); }

bool IsInt(const Json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

// An integer member of an object; `what` names the place for messages.
Result<int64_t> IntField(const Json& o, const char* name, std::string_view what) {
  auto it = o.find(name);
  if (it == o.end() || !IsInt(*it)) {
    return Bad(std::string(what) + ": '" + name + "' must be an integer");
  }
  return it->get<int64_t>();
}

Result<std::string> StrField(const Json& o, const char* name, std::string_view what) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_string()) {
    return Bad(std::string(what) + ": '" + name + "' must be a string");
  }
  return it->get<std::string>();
}

bool ParseBracketed(std::string_view s, std::string_view prefix, char open, char close,
                    std::vector<int64_t>* args) {
  if (s.size() < prefix.size() + 2 || s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  if (s.front() != open || s.back() != close) return false;
  s = s.substr(1, s.size() - 2);
  args->clear();
  size_t i = 0;
  while (true) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t start = i;
    int64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      if (v > 1000000000) return false;
      ++i;
    }
    if (i == start) return false;
    args->push_back(v);
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) return true;
    if (s[i] != ',') return false;
    ++i;
  }
}

bool IsPrimitive(std::string_view t) {
  static const std::set<std::string_view> kNames = {
      "boolean", "int",      "long",   "float",        "double",         "date",
      "time",    "timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns", "string",
      "uuid",    "binary",   "unknown", "variant"};
  if (kNames.count(t)) return true;
  std::vector<int64_t> args;
  if (ParseBracketed(t, "decimal", '(', ')', &args)) {
    return args.size() == 2 && args[0] >= 1 && args[0] <= 38 && args[1] <= args[0];
  }
  if (ParseBracketed(t, "fixed", '[', ']', &args)) return args.size() == 1 && args[0] >= 1;
  return false;
}

// Walks a type, checking its shape and collecting field ids.
Status CheckType(const Json& type, std::set<int64_t>* ids, const std::string& where);

Status CheckId(const Json& o, const char* name, std::set<int64_t>* ids, const std::string& where) {
  LM_ASSIGN_OR_RETURN(int64_t id, IntField(o, name, where));
  if (id < 0) return Bad(where + ": '" + name + "' must not be negative");
  if (!ids->insert(id).second) {
    return Bad(where + ": field id " + std::to_string(id) + " is used twice");
  }
  return Status::OK();
}

Status CheckStruct(const Json& st, std::set<int64_t>* ids, const std::string& where) {
  auto fields = st.find("fields");
  if (fields == st.end() || !fields->is_array()) return Bad(where + ": struct needs 'fields'");
  std::set<std::string> names;
  for (const Json& f : *fields) {
    if (!f.is_object()) return Bad(where + ": a struct field must be an object");
    LM_ASSIGN_OR_RETURN(std::string name, StrField(f, "name", where + " field"));
    std::string at = where.empty() ? name : where + "." + name;
    if (name.empty()) return Bad(where + ": a field name is empty");
    if (!names.insert(name).second) return Bad(at + ": the field name is used twice");
    LM_TRY(CheckId(f, "id", ids, at));
    auto req = f.find("required");
    if (req == f.end() || !req->is_boolean()) return Bad(at + ": 'required' must be a boolean");
    auto t = f.find("type");
    if (t == f.end()) return Bad(at + ": 'type' is missing");
    LM_TRY(CheckType(*t, ids, at));
  }
  return Status::OK();
}

Status CheckType(const Json& type, std::set<int64_t>* ids, const std::string& where) {
  if (type.is_string()) {
    if (!IsPrimitive(type.get<std::string>())) {
      return Bad(where + ": unknown type '" + type.get<std::string>() + "'");
    }
    return Status::OK();
  }
  if (!type.is_object()) return Bad(where + ": a type must be a string or an object");
  LM_ASSIGN_OR_RETURN(std::string kind, StrField(type, "type", where));
  if (kind == "struct") return CheckStruct(type, ids, where);
  if (kind == "list") {
    LM_TRY(CheckId(type, "element-id", ids, where));
    auto req = type.find("element-required");
    if (req == type.end() || !req->is_boolean()) {
      return Bad(where + ": 'element-required' must be a boolean");
    }
    auto e = type.find("element");
    if (e == type.end()) return Bad(where + ": list needs 'element'");
    return CheckType(*e, ids, where + ".element");
  }
  if (kind == "map") {
    LM_TRY(CheckId(type, "key-id", ids, where));
    LM_TRY(CheckId(type, "value-id", ids, where));
    auto req = type.find("value-required");
    if (req == type.end() || !req->is_boolean()) {
      return Bad(where + ": 'value-required' must be a boolean");
    }
    auto k = type.find("key");
    auto v = type.find("value");
    if (k == type.end() || v == type.end()) return Bad(where + ": map needs 'key' and 'value'");
    LM_TRY(CheckType(*k, ids, where + ".key"));
    return CheckType(*v, ids, where + ".value");
  }
  return Bad(where + ": unknown type '" + kind + "'");
}

Status CheckSchemaShape(const Json& schema, std::set<int64_t>* ids) {
  if (!schema.is_object()) return Bad("schema must be an object");
  if (schema.value("type", std::string()) != "struct") return Bad("schema type must be 'struct'");
  return CheckStruct(schema, ids, "");
}

int64_t MaxFieldId(const Json& type) {
  int64_t m = 0;
  if (!type.is_object()) return 0;
  std::string kind = type.value("type", std::string());
  if (kind == "struct") {
    for (const Json& f : type["fields"]) {
      m = std::max({m, f["id"].get<int64_t>(), MaxFieldId(f["type"])});
    }
  } else if (kind == "list") {
    m = std::max(type["element-id"].get<int64_t>(), MaxFieldId(type["element"]));
  } else if (kind == "map") {
    m = std::max({type["key-id"].get<int64_t>(), type["value-id"].get<int64_t>(),
                  MaxFieldId(type["key"]), MaxFieldId(type["value"])});
  }
  return m;
}

// Assigns fresh ids: every field of a struct first, then the fields' own children, as the
// reference implementation's AssignFreshIds does, so ids match what other catalogs assign.
void AssignFreshIds(Json& type, int64_t* next, std::map<int64_t, int64_t>* map) {
  if (!type.is_object()) return;
  std::string kind = type.value("type", std::string());
  auto assign = [&](Json& slot) {
    int64_t fresh = ++*next;
    (*map)[slot.get<int64_t>()] = fresh;
    slot = fresh;
  };
  if (kind == "struct") {
    for (Json& f : type["fields"]) assign(f["id"]);
    for (Json& f : type["fields"]) AssignFreshIds(f["type"], next, map);
  } else if (kind == "list") {
    assign(type["element-id"]);
    AssignFreshIds(type["element"], next, map);
  } else if (kind == "map") {
    assign(type["key-id"]);
    assign(type["value-id"]);
    AssignFreshIds(type["key"], next, map);
    AssignFreshIds(type["value"], next, map);
  }
}

// Field id -> type of every field of a schema, nested ones included.
void CollectFields(const Json& type, std::map<int64_t, const Json*>* out) {
  if (!type.is_object()) return;
  std::string kind = type.value("type", std::string());
  if (kind == "struct") {
    for (const Json& f : type["fields"]) {
      (*out)[f["id"].get<int64_t>()] = &f["type"];
      CollectFields(f["type"], out);
    }
  } else if (kind == "list") {
    (*out)[type["element-id"].get<int64_t>()] = &type["element"];
    CollectFields(type["element"], out);
  } else if (kind == "map") {
    (*out)[type["key-id"].get<int64_t>()] = &type["key"];
    (*out)[type["value-id"].get<int64_t>()] = &type["value"];
    CollectFields(type["key"], out);
    CollectFields(type["value"], out);
  }
}

bool ValidTransform(std::string_view t) {
  static const std::set<std::string_view> kNames = {"identity", "year", "month", "day",
                                                     "hour",     "void"};
  if (kNames.count(t)) return true;
  std::vector<int64_t> args;
  if (ParseBracketed(t, "bucket", '[', ']', &args)) return args.size() == 1 && args[0] >= 1;
  if (ParseBracketed(t, "truncate", '[', ']', &args)) return args.size() == 1 && args[0] >= 1;
  return false;
}

// A source id of a partition field or sort field: one id, or the first of "source-ids".
Result<int64_t> SourceId(const Json& f, std::string_view what) {
  if (auto it = f.find("source-id"); it != f.end() && IsInt(*it)) return it->get<int64_t>();
  if (auto it = f.find("source-ids"); it != f.end() && it->is_array() && !it->empty() &&
                                      IsInt((*it)[0])) {
    return (*it)[0].get<int64_t>();
  }
  return Bad(std::string(what) + ": 'source-id' must be an integer");
}

// Checks a partition spec's fields against `schema`, remapping source ids through `remap`
// (fresh ids of a new table) when given, and assigning field ids above *last_partition_id
// to fields that have none.
Status BindSpec(Json& spec, const Json& schema, const std::map<int64_t, int64_t>* remap,
                int64_t* last_partition_id) {
  if (!spec.is_object()) return Bad("partition spec must be an object");
  if (!spec.contains("fields")) spec["fields"] = Json::array();
  if (!spec["fields"].is_array()) return Bad("partition spec: 'fields' must be an array");
  std::map<int64_t, const Json*> fields;
  CollectFields(schema, &fields);
  std::set<std::string> names;
  for (Json& f : spec["fields"]) {
    if (!f.is_object()) return Bad("partition spec: a field must be an object");
    LM_ASSIGN_OR_RETURN(std::string name, StrField(f, "name", "partition field"));
    LM_ASSIGN_OR_RETURN(std::string transform, StrField(f, "transform", "partition field " + name));
    if (!ValidTransform(transform)) {
      return Bad("partition field '" + name + "': unknown transform '" + transform + "'");
    }
    LM_ASSIGN_OR_RETURN(int64_t source, SourceId(f, "partition field " + name));
    if (remap) {
      auto it = remap->find(source);
      if (it == remap->end()) {
        return Bad("partition field '" + name + "': source id " + std::to_string(source) +
                   " is not a field of the schema");
      }
      source = it->second;
      f["source-id"] = source;
      f.erase("source-ids");
    }
    auto src = fields.find(source);
    if (src == fields.end()) {
      return Bad("partition field '" + name + "': source id " + std::to_string(source) +
                 " is not a field of the current schema");
    }
    if (!src->second->is_string()) {
      return Bad("partition field '" + name + "': the source column must be of a primitive type");
    }
    if (name.empty() || !names.insert(name).second) {
      return Bad("partition field names must be non-empty and unique: '" + name + "'");
    }
    if (remap || !f.contains("field-id")) {
      f["field-id"] = ++*last_partition_id;
    } else {
      LM_ASSIGN_OR_RETURN(int64_t id, IntField(f, "field-id", "partition field " + name));
      *last_partition_id = std::max(*last_partition_id, id);
    }
  }
  return Status::OK();
}

Status BindSortOrder(Json& order, const Json& schema, const std::map<int64_t, int64_t>* remap) {
  if (!order.is_object()) return Bad("sort order must be an object");
  if (!order.contains("fields")) order["fields"] = Json::array();
  if (!order["fields"].is_array()) return Bad("sort order: 'fields' must be an array");
  std::map<int64_t, const Json*> fields;
  CollectFields(schema, &fields);
  for (Json& f : order["fields"]) {
    if (!f.is_object()) return Bad("sort order: a field must be an object");
    LM_ASSIGN_OR_RETURN(std::string transform, StrField(f, "transform", "sort field"));
    if (!ValidTransform(transform)) return Bad("sort field: unknown transform '" + transform + "'");
    LM_ASSIGN_OR_RETURN(std::string dir, StrField(f, "direction", "sort field"));
    if (dir != "asc" && dir != "desc") return Bad("sort field: direction must be 'asc' or 'desc'");
    LM_ASSIGN_OR_RETURN(std::string nulls, StrField(f, "null-order", "sort field"));
    if (nulls != "nulls-first" && nulls != "nulls-last") {
      return Bad("sort field: null-order must be 'nulls-first' or 'nulls-last'");
    }
    LM_ASSIGN_OR_RETURN(int64_t source, SourceId(f, "sort field"));
    if (remap) {
      auto it = remap->find(source);
      if (it == remap->end()) {
        return Bad("sort field: source id " + std::to_string(source) +
                   " is not a field of the schema");
      }
      source = it->second;
      f["source-id"] = source;
      f.erase("source-ids");
    }
    if (!fields.count(source)) {
      return Bad("sort field: source id " + std::to_string(source) +
                 " is not a field of the current schema");
    }
  }
  return Status::OK();
}

Json* FindById(Json& list, const char* key, int64_t id) {
  for (Json& e : list) {
    if (e.is_object() && e.contains(key) && IsInt(e[key]) && e[key].get<int64_t>() == id) return &e;
  }
  return nullptr;
}

int64_t MaxId(const Json& list, const char* key, int64_t floor) {
  int64_t m = floor;
  for (const Json& e : list) {
    if (e.is_object() && e.contains(key) && IsInt(e[key])) m = std::max(m, e[key].get<int64_t>());
  }
  return m;
}

// Equality of two elements ignoring their id member (an added schema, spec or sort order that
// equals an existing one reuses its id, as the reference implementation does).
bool SameBut(const Json& a, const Json& b, const char* id_key) {
  Json x = a, y = b;
  x.erase(id_key);
  y.erase(id_key);
  return x == y;
}

const Json* FindSnapshot(const Json& m, int64_t id) {
  for (const Json& s : m["snapshots"]) {
    if (s.value("snapshot-id", int64_t{-2}) == id) return &s;
  }
  return nullptr;
}

void EnsureArrays(Json& m) {
  for (const char* k : {"schemas", "partition-specs", "sort-orders", "snapshots", "snapshot-log",
                        "metadata-log", "statistics", "partition-statistics"}) {
    if (!m.contains(k) || m[k].is_null()) m[k] = Json::array();
  }
  for (const char* k : {"properties", "refs"}) {
    if (!m.contains(k) || m[k].is_null()) m[k] = Json::object();
  }
}

// State kept across the updates of one commit: what "-1" (the last added) refers to.
struct UpdateState {
  std::optional<int64_t> last_schema, last_spec, last_order;
  bool snapshot_time_set = false;
};

Status ApplyOne(Json& m, const Json& u, UpdateState& st, int64_t now_ms) {
  if (!u.is_object()) return Bad("an update must be an object");
  LM_ASSIGN_OR_RETURN(std::string action, StrField(u, "action", "update"));
  const std::string what = "update '" + action + "'";

  if (action == "assign-uuid") {
    LM_ASSIGN_OR_RETURN(std::string uuid, StrField(u, "uuid", what));
    if (m.contains("table-uuid") && m["table-uuid"] != uuid) {
      return Bad("cannot change the table UUID from " + m["table-uuid"].get<std::string>());
    }
    m["table-uuid"] = uuid;
  } else if (action == "upgrade-format-version") {
    LM_ASSIGN_OR_RETURN(int64_t v, IntField(u, "format-version", what));
    int64_t cur = m.value("format-version", int64_t{kFormatVersion});
    if (v < cur) {
      return Bad("cannot downgrade format version from " + std::to_string(cur) + " to " +
                 std::to_string(v));
    }
    if (v > kFormatVersion) {
      return Bad("format version " + std::to_string(v) + " is not supported (lakemesh writes " +
                 std::to_string(kFormatVersion) + ")");
    }
    m["format-version"] = v;
  } else if (action == "add-schema") {
    if (!u.contains("schema")) return Bad(what + ": 'schema' is missing");
    Json schema = u["schema"];
    LM_TRY(ValidateSchema(schema));
    int64_t max_id = MaxFieldId(schema);
    int64_t id = -1;
    for (const Json& s : m["schemas"]) {
      if (SameBut(s, schema, "schema-id")) id = s["schema-id"].get<int64_t>();
    }
    if (id < 0) {
      id = MaxId(m["schemas"], "schema-id", -1) + 1;
      schema["schema-id"] = id;
      m["schemas"].push_back(schema);
    }
    m["last-column-id"] = std::max(m.value("last-column-id", int64_t{0}), max_id);
    st.last_schema = id;
  } else if (action == "set-current-schema") {
    LM_ASSIGN_OR_RETURN(int64_t id, IntField(u, "schema-id", what));
    if (id == -1) {
      if (!st.last_schema) return Bad(what + ": -1 (the last added schema) but none was added");
      id = *st.last_schema;
    }
    if (!FindById(m["schemas"], "schema-id", id)) {
      return Bad(what + ": no schema with id " + std::to_string(id));
    }
    m["current-schema-id"] = id;
  } else if (action == "add-spec") {
    if (!u.contains("spec")) return Bad(what + ": 'spec' is missing");
    Json spec = u["spec"];
    const Json* schema = FindSchema(m);
    if (!schema) return Internal("table metadata has no current schema");
    int64_t last = m.value("last-partition-id", int64_t{kPartitionIdBase});
    LM_TRY(BindSpec(spec, *schema, nullptr, &last));
    int64_t id = -1;
    for (const Json& s : m["partition-specs"]) {
      if (SameBut(s, spec, "spec-id")) id = s["spec-id"].get<int64_t>();
    }
    if (id < 0) {
      id = MaxId(m["partition-specs"], "spec-id", -1) + 1;
      spec["spec-id"] = id;
      m["partition-specs"].push_back(spec);
    }
    m["last-partition-id"] = last;
    st.last_spec = id;
  } else if (action == "set-default-spec") {
    LM_ASSIGN_OR_RETURN(int64_t id, IntField(u, "spec-id", what));
    if (id == -1) {
      if (!st.last_spec) return Bad(what + ": -1 (the last added spec) but none was added");
      id = *st.last_spec;
    }
    if (!FindById(m["partition-specs"], "spec-id", id)) {
      return Bad(what + ": no partition spec with id " + std::to_string(id));
    }
    m["default-spec-id"] = id;
  } else if (action == "add-sort-order") {
    if (!u.contains("sort-order")) return Bad(what + ": 'sort-order' is missing");
    Json order = u["sort-order"];
    const Json* schema = FindSchema(m);
    if (!schema) return Internal("table metadata has no current schema");
    LM_TRY(BindSortOrder(order, *schema, nullptr));
    int64_t id = -1;
    for (const Json& s : m["sort-orders"]) {
      if (SameBut(s, order, "order-id")) id = s["order-id"].get<int64_t>();
    }
    if (id < 0) {
      id = order["fields"].empty() ? 0 : std::max<int64_t>(MaxId(m["sort-orders"], "order-id", 0) + 1, 1);
      order["order-id"] = id;
      if (!FindById(m["sort-orders"], "order-id", id)) m["sort-orders"].push_back(order);
    }
    st.last_order = id;
  } else if (action == "set-default-sort-order") {
    LM_ASSIGN_OR_RETURN(int64_t id, IntField(u, "sort-order-id", what));
    if (id == -1) {
      if (!st.last_order) return Bad(what + ": -1 (the last added order) but none was added");
      id = *st.last_order;
    }
    if (!FindById(m["sort-orders"], "order-id", id)) {
      return Bad(what + ": no sort order with id " + std::to_string(id));
    }
    m["default-sort-order-id"] = id;
  } else if (action == "add-snapshot") {
    if (!u.contains("snapshot") || !u["snapshot"].is_object()) {
      return Bad(what + ": 'snapshot' must be an object");
    }
    const Json& s = u["snapshot"];
    LM_ASSIGN_OR_RETURN(int64_t id, IntField(s, "snapshot-id", "snapshot"));
    LM_ASSIGN_OR_RETURN(int64_t ts, IntField(s, "timestamp-ms", "snapshot"));
    LM_TRY(StrField(s, "manifest-list", "snapshot").status());
    if (!s.contains("summary") || !s["summary"].is_object() ||
        !s["summary"].contains("operation") || !s["summary"]["operation"].is_string()) {
      return Bad("snapshot: 'summary' must be an object with an 'operation'");
    }
    if (FindSnapshot(m, id)) {
      return Bad("snapshot " + std::to_string(id) + " already exists");
    }
    int64_t seq = 0;
    if (s.contains("sequence-number")) {
      LM_ASSIGN_OR_RETURN(seq, IntField(s, "sequence-number", "snapshot"));
    }
    int64_t last_seq = m.value("last-sequence-number", int64_t{0});
    bool has_parent = s.contains("parent-snapshot-id") && !s["parent-snapshot-id"].is_null();
    if (has_parent && !IsInt(s["parent-snapshot-id"])) {
      return Bad("snapshot: 'parent-snapshot-id' must be an integer");
    }
    if (seq <= last_seq && has_parent) {
      return Bad("snapshot " + std::to_string(id) + " has sequence number " + std::to_string(seq) +
                 ", not newer than the table's last sequence number " + std::to_string(last_seq));
    }
    m["snapshots"].push_back(s);
    m["last-sequence-number"] = std::max(last_seq, seq);
    m["last-updated-ms"] = std::max(m.value("last-updated-ms", int64_t{0}), ts);
    st.snapshot_time_set = true;
  } else if (action == "set-snapshot-ref") {
    LM_ASSIGN_OR_RETURN(std::string name, StrField(u, "ref-name", what));
    LM_ASSIGN_OR_RETURN(std::string type, StrField(u, "type", what));
    LM_ASSIGN_OR_RETURN(int64_t id, IntField(u, "snapshot-id", what));
    if (type != "branch" && type != "tag") return Bad(what + ": type must be 'branch' or 'tag'");
    const Json* snap = FindSnapshot(m, id);
    if (!snap) return Bad(what + ": no snapshot with id " + std::to_string(id));
    Json ref = {{"snapshot-id", id}, {"type", type}};
    for (const char* k : {"max-ref-age-ms", "max-snapshot-age-ms", "min-snapshots-to-keep"}) {
      if (u.contains(k) && !u[k].is_null()) {
        if (!IsInt(u[k])) return Bad(what + ": '" + k + "' must be an integer");
        if (type == "tag" && std::string_view(k) != "max-ref-age-ms") {
          return Bad(what + ": a tag cannot have '" + k + "'");
        }
        ref[k] = u[k];
      }
    }
    bool unchanged = m["refs"].contains(name) && m["refs"][name] == ref;
    m["refs"][name] = ref;
    if (name == "main" && !unchanged) {
      m["current-snapshot-id"] = id;
      int64_t when = st.snapshot_time_set ? m["last-updated-ms"].get<int64_t>() : now_ms;
      m["snapshot-log"].push_back({{"timestamp-ms", when}, {"snapshot-id", id}});
    }
  } else if (action == "remove-snapshots") {
    if (!u.contains("snapshot-ids") || !u["snapshot-ids"].is_array()) {
      return Bad(what + ": 'snapshot-ids' must be an array");
    }
    std::set<int64_t> gone;
    for (const Json& id : u["snapshot-ids"]) {
      if (!IsInt(id)) return Bad(what + ": snapshot ids must be integers");
      gone.insert(id.get<int64_t>());
    }
    auto drop = [&](Json& list, const char* key) {
      Json kept = Json::array();
      for (Json& e : list) {
        if (!gone.count(e.value(key, int64_t{-2}))) kept.push_back(std::move(e));
      }
      list = std::move(kept);
    };
    drop(m["snapshots"], "snapshot-id");
    drop(m["snapshot-log"], "snapshot-id");
    drop(m["statistics"], "snapshot-id");
    drop(m["partition-statistics"], "snapshot-id");
    for (auto it = m["refs"].begin(); it != m["refs"].end();) {
      if (gone.count(it.value().value("snapshot-id", int64_t{-2}))) {
        if (it.key() == "main") m["current-snapshot-id"] = -1;
        it = m["refs"].erase(it);
      } else {
        ++it;
      }
    }
  } else if (action == "remove-snapshot-ref") {
    LM_ASSIGN_OR_RETURN(std::string name, StrField(u, "ref-name", what));
    m["refs"].erase(name);
    if (name == "main") m["current-snapshot-id"] = -1;
  } else if (action == "set-location") {
    LM_ASSIGN_OR_RETURN(std::string loc, StrField(u, "location", what));
    if (loc.empty()) return Bad(what + ": location is empty");
    m["location"] = loc;
  } else if (action == "set-properties") {
    if (!u.contains("updates") || !u["updates"].is_object()) {
      return Bad(what + ": 'updates' must be an object");
    }
    for (const auto& [k, v] : u["updates"].items()) {
      if (!v.is_string()) return Bad(what + ": property '" + k + "' must be a string");
      m["properties"][k] = v;
    }
  } else if (action == "remove-properties") {
    if (!u.contains("removals") || !u["removals"].is_array()) {
      return Bad(what + ": 'removals' must be an array");
    }
    for (const Json& k : u["removals"]) {
      if (!k.is_string()) return Bad(what + ": removals must be strings");
      m["properties"].erase(k.get<std::string>());
    }
  } else if (action == "set-statistics" || action == "set-partition-statistics") {
    const char* key = action == "set-statistics" ? "statistics" : "partition-statistics";
    if (!u.contains(key) || !u[key].is_object()) return Bad(what + ": '" + key + "' is missing");
    const Json& stats = u[key];
    LM_ASSIGN_OR_RETURN(int64_t id, IntField(stats, "snapshot-id", what));
    LM_TRY(StrField(stats, "statistics-path", what).status());
    Json kept = Json::array();
    for (Json& e : m[key]) {
      if (e.value("snapshot-id", int64_t{-2}) != id) kept.push_back(std::move(e));
    }
    kept.push_back(stats);
    m[key] = std::move(kept);
  } else if (action == "remove-statistics" || action == "remove-partition-statistics") {
    const char* key = action == "remove-statistics" ? "statistics" : "partition-statistics";
    LM_ASSIGN_OR_RETURN(int64_t id, IntField(u, "snapshot-id", what));
    Json kept = Json::array();
    for (Json& e : m[key]) {
      if (e.value("snapshot-id", int64_t{-2}) != id) kept.push_back(std::move(e));
    }
    m[key] = std::move(kept);
  } else if (action == "remove-partition-specs" || action == "remove-schemas") {
    bool specs = action == "remove-partition-specs";
    const char* ids_key = specs ? "spec-ids" : "schema-ids";
    const char* list_key = specs ? "partition-specs" : "schemas";
    const char* id_key = specs ? "spec-id" : "schema-id";
    const char* in_use = specs ? "default-spec-id" : "current-schema-id";
    if (!u.contains(ids_key) || !u[ids_key].is_array()) {
      return Bad(what + ": '" + ids_key + "' must be an array");
    }
    std::set<int64_t> gone;
    for (const Json& id : u[ids_key]) {
      if (!IsInt(id)) return Bad(what + ": ids must be integers");
      if (id.get<int64_t>() == m.value(in_use, int64_t{-2})) {
        return Bad(what + ": cannot remove " + std::string(specs ? "the default spec " :
                   "the current schema ") + std::to_string(id.get<int64_t>()));
      }
      gone.insert(id.get<int64_t>());
    }
    Json kept = Json::array();
    for (Json& e : m[list_key]) {
      if (!gone.count(e.value(id_key, int64_t{-2}))) kept.push_back(std::move(e));
    }
    m[list_key] = std::move(kept);
  } else if (action == "add-encryption-key" || action == "remove-encryption-key") {
    return Bad(what + ": table encryption is a format version 3 feature; lakemesh writes "
               "format version 2");
  } else {
    return Bad("unknown update action '" + action + "'");
  }
  return Status::OK();
}

}  // namespace

const Json* FindSchema(const Json& m, int64_t schema_id) {
  if (schema_id == -1) schema_id = m.value("current-schema-id", int64_t{-1});
  auto it = m.find("schemas");
  if (it == m.end() || !it->is_array()) return nullptr;
  for (const Json& s : *it) {
    if (s.value("schema-id", int64_t{-2}) == schema_id) return &s;
  }
  return nullptr;
}

Status ValidateSchema(const Json& schema) {
  std::set<int64_t> ids;
  LM_TRY(CheckSchemaShape(schema, &ids));
  if (auto it = schema.find("identifier-field-ids"); it != schema.end() && !it->is_null()) {
    if (!it->is_array()) return Bad("schema: 'identifier-field-ids' must be an array");
    for (const Json& id : *it) {
      if (!IsInt(id) || !ids.count(id.get<int64_t>())) {
        return Bad("schema: identifier field " + id.dump() + " is not a field of the schema");
      }
    }
  }
  return Status::OK();
}

static Result<Json> NewTableMetadataImpl(const NewTable& t) {
  LM_TRY(ValidateSchema(t.schema));
  Json schema = t.schema;
  int64_t next = 0;
  std::map<int64_t, int64_t> remap;
  AssignFreshIds(schema, &next, &remap);
  schema["schema-id"] = 0;
  if (schema.contains("identifier-field-ids") && schema["identifier-field-ids"].is_array()) {
    for (Json& id : schema["identifier-field-ids"]) id = remap[id.get<int64_t>()];
  }
  Json properties = Json::object();
  if (t.properties.is_object()) {
    for (const auto& [k, v] : t.properties.items()) {
      if (!v.is_string()) return Bad("table property '" + k + "' must be a string");
      properties[k] = v;
    }
  } else if (!t.properties.is_null()) {
    return Bad("'properties' must be an object of strings");
  }
  if (properties.contains("format-version")) {
    if (properties["format-version"] != "2") {
      return Bad("format version " + properties["format-version"].get<std::string>() +
                 " is not supported; lakemesh creates format version 2 tables");
    }
    properties.erase("format-version");
  }
  Json spec = t.partition_spec.is_null() ? Json{{"fields", Json::array()}} : t.partition_spec;
  int64_t last_partition_id = kPartitionIdBase;
  LM_TRY(BindSpec(spec, schema, &remap, &last_partition_id));
  spec["spec-id"] = 0;
  Json order = t.write_order.is_null() ? Json{{"fields", Json::array()}} : t.write_order;
  LM_TRY(BindSortOrder(order, schema, &remap));
  int64_t order_id = order["fields"].empty() ? 0 : 1;
  order["order-id"] = order_id;
  Json sort_orders = Json::array();
  if (order_id != 0) sort_orders.push_back({{"order-id", 0}, {"fields", Json::array()}});
  sort_orders.push_back(order);
  return Json{
      {"format-version", kFormatVersion},
      {"table-uuid", t.uuid},
      {"location", t.location},
      {"last-sequence-number", 0},
      {"last-updated-ms", t.now_ms},
      {"last-column-id", next},
      {"current-schema-id", 0},
      {"schemas", Json::array({schema})},
      {"default-spec-id", 0},
      {"partition-specs", Json::array({spec})},
      {"last-partition-id", last_partition_id},
      {"default-sort-order-id", order_id},
      {"sort-orders", sort_orders},
      {"properties", properties},
      {"current-snapshot-id", -1},
      {"refs", Json::object()},
      {"snapshots", Json::array()},
      {"statistics", Json::array()},
      {"partition-statistics", Json::array()},
      {"snapshot-log", Json::array()},
      {"metadata-log", Json::array()},
  };
}

static Status CheckRequirementsImpl(const Json* current, const Json& requirements) {
  if (requirements.is_null()) return Status::OK();
  if (!requirements.is_array()) return Bad("'requirements' must be an array");
  for (const Json& r : requirements) {
    if (!r.is_object()) return Bad("a requirement must be an object");
    LM_ASSIGN_OR_RETURN(std::string type, StrField(r, "type", "requirement"));
    if (type == "assert-create") {
      if (current) return Conflict("Requirement failed: table already exists");
      continue;
    }
    if (!current) return Conflict("Requirement failed: table does not exist");
    const Json& m = *current;
    auto int_field = [&](const char* req_key, const char* meta_key,
                         const char* label) -> Status {
      LM_ASSIGN_OR_RETURN(int64_t want, IntField(r, req_key, "requirement " + type));
      int64_t have = m.value(meta_key, int64_t{-1});
      if (want != have) {
        return Conflict(std::string("Requirement failed: ") + label + " changed: expected id " +
                        std::to_string(want) + " != " + std::to_string(have));
      }
      return Status::OK();
    };
    if (type == "assert-table-uuid") {
      LM_ASSIGN_OR_RETURN(std::string want, StrField(r, "uuid", "requirement " + type));
      if (want != m.value("table-uuid", std::string())) {
        return Conflict("Requirement failed: UUID does not match: expected " +
                        m.value("table-uuid", std::string()) + " != " + want);
      }
    } else if (type == "assert-ref-snapshot-id") {
      LM_ASSIGN_OR_RETURN(std::string ref, StrField(r, "ref", "requirement " + type));
      auto want = r.find("snapshot-id");
      if (want == r.end()) return Bad("requirement " + type + ": 'snapshot-id' is missing");
      const Json& refs = m.contains("refs") ? m["refs"] : Json::object();
      bool exists = refs.contains(ref);
      if (want->is_null()) {
        if (exists) {
          return Conflict("Requirement failed: " + refs[ref].value("type", std::string("branch")) +
                          " " + ref + " was created concurrently");
        }
      } else {
        if (!IsInt(*want)) return Bad("requirement " + type + ": 'snapshot-id' must be an integer");
        if (!exists) return Conflict("Requirement failed: branch or tag " + ref + " is missing, expected " + want->dump());
        int64_t have = refs[ref].value("snapshot-id", int64_t{-1});
        if (have != want->get<int64_t>()) {
          return Conflict("Requirement failed: " + refs[ref].value("type", std::string("branch")) +
                          " " + ref + " has changed: expected id " + want->dump() + " != " +
                          std::to_string(have));
        }
      }
    } else if (type == "assert-last-assigned-field-id") {
      LM_TRY(int_field("last-assigned-field-id", "last-column-id", "last assigned field id"));
    } else if (type == "assert-current-schema-id") {
      LM_TRY(int_field("current-schema-id", "current-schema-id", "current schema"));
    } else if (type == "assert-last-assigned-partition-id") {
      LM_TRY(int_field("last-assigned-partition-id", "last-partition-id",
                       "last assigned partition id"));
    } else if (type == "assert-default-spec-id") {
      LM_TRY(int_field("default-spec-id", "default-spec-id", "default partition spec"));
    } else if (type == "assert-default-sort-order-id") {
      LM_TRY(int_field("default-sort-order-id", "default-sort-order-id", "default sort order"));
    } else {
      return Bad("unknown requirement type '" + type + "'");
    }
  }
  return Status::OK();
}

static Status ApplyUpdatesImpl(Json& metadata, const Json& updates, int64_t now_ms) {
  if (updates.is_null()) return Status::OK();
  if (!updates.is_array()) return Bad("'updates' must be an array");
  EnsureArrays(metadata);
  UpdateState st;
  for (const Json& u : updates) LM_TRY(ApplyOne(metadata, u, st, now_ms));
  if (!updates.empty() && !st.snapshot_time_set) {
    metadata["last-updated-ms"] = std::max(metadata.value("last-updated-ms", int64_t{0}), now_ms);
  }
  return Status::OK();
}

static Status ValidateMetadataImpl(const Json& m) {
  if (!m.is_object()) return Bad("table metadata must be a JSON object");
  LM_ASSIGN_OR_RETURN(int64_t version, IntField(m, "format-version", "table metadata"));
  if (version < 1 || version > kFormatVersion) {
    return Bad("table metadata has format version " + std::to_string(version) +
               "; lakemesh reads versions 1 and 2");
  }
  LM_TRY(StrField(m, "location", "table metadata").status());
  if (version >= 2) {
    LM_TRY(StrField(m, "table-uuid", "table metadata").status());
    LM_TRY(IntField(m, "last-sequence-number", "table metadata").status());
    for (const char* k : {"current-schema-id", "default-spec-id", "last-partition-id",
                          "default-sort-order-id"}) {
      LM_TRY(IntField(m, k, "table metadata").status());
    }
    for (const char* k : {"schemas", "partition-specs", "sort-orders"}) {
      if (!m.contains(k) || !m[k].is_array()) {
        return Bad(std::string("table metadata: '") + k + "' must be an array");
      }
    }
  }
  LM_TRY(IntField(m, "last-updated-ms", "table metadata").status());
  LM_TRY(IntField(m, "last-column-id", "table metadata").status());
  if (m.contains("schemas")) {
    for (const Json& s : m["schemas"]) LM_TRY(ValidateSchema(s));
    if (version >= 2 && !FindSchema(m)) {
      return Bad("table metadata: current-schema-id names no schema");
    }
  }
  return Status::OK();
}

// The public entry points: request JSON of any shape gets an error, never an exception.
template <typename F>
static auto Guarded(F f) -> decltype(f()) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    return Bad(std::string("malformed Iceberg JSON: ") + e.what());
  }
}

Result<Json> NewTableMetadata(const NewTable& t) {
  return Guarded([&] { return NewTableMetadataImpl(t); });
}
Status CheckRequirements(const Json* current, const Json& requirements) {
  return Guarded([&] { return CheckRequirementsImpl(current, requirements); });
}
Status ApplyUpdates(Json& metadata, const Json& updates, int64_t now_ms) {
  return Guarded([&] { return ApplyUpdatesImpl(metadata, updates, now_ms); });
}
Status ValidateMetadata(const Json& m) {
  return Guarded([&] { return ValidateMetadataImpl(m); });
}

}  // namespace lakemesh::table
