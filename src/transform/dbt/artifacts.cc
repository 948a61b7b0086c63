#include "transform/dbt/artifacts.h"

#include "base/hash.h"
#include "base/time.h"

namespace lakemesh::dbt {
namespace {

using Json = nlohmann::json;

// A template value as JSON (configuration, test arguments).
Json ToJson(const jinja::Value& v) {
  switch (v.kind()) {
    case jinja::Value::Kind::kBool: return v.as_bool();
    case jinja::Value::Kind::kInt: return v.as_int();
    case jinja::Value::Kind::kFloat: return v.as_float();
    case jinja::Value::Kind::kString: return v.as_string();
    case jinja::Value::Kind::kList: {
      Json a = Json::array();
      for (const auto& e : v.list().items) a.push_back(ToJson(e));
      return a;
    }
    case jinja::Value::Kind::kDict: {
      Json o = Json::object();
      for (const auto& [k, e] : v.dict().items) o[k.Str()] = ToJson(e);
      return o;
    }
    default: return nullptr;
  }
}

// Every artifact's metadata; the manifest's also names the project and adapter (the others'
// schemas allow nothing more).
Json Metadata(const char* schema, const std::string& invocation_id, const Compiler* manifest_of) {
  Json m = {{"dbt_schema_version", std::string("https://schemas.getdbt.com/dbt/") + schema},
            {"dbt_version", kArtifactsDbtVersion},
            {"generated_at", FormatRfc3339(NowMicros())},
            {"invocation_id", invocation_id},
            {"env", Json::object()}};
  if (manifest_of) {
    m["project_name"] = manifest_of->project().name;
    m["adapter_type"] = "lakemesh";
  }
  return m;
}

std::string ResourceFolder(const Node& n) {
  // original_file_path is relative to the project; path to the resource folder.
  return n.path;
}

}  // namespace

Json Manifest(const Compiler& c, const std::string& invocation_id) {
  Json nodes = Json::object(), sources = Json::object(), parents = Json::object(),
       children = Json::object();
  for (const SourceTable& s : c.project().sources) {
    sources[s.unique_id] = {
        {"database", "lakemesh"},
        {"schema", s.schema},
        {"name", s.name},
        {"resource_type", "source"},
        {"package_name", c.project().name},
        {"path", ""},
        {"original_file_path", ""},
        {"unique_id", s.unique_id},
        {"fqn", {c.project().name, s.source_name, s.name}},
        {"source_name", s.source_name},
        {"identifier", s.identifier},
        {"relation_name", s.schema + "." + s.identifier},
        {"description", s.description},
        {"columns", Json::object()}};
    parents[s.unique_id] = Json::array();
    children[s.unique_id] = Json::array();
  }
  for (const auto& [uid, n] : c.nodes()) {
    const Node& node = *n.node;
    Json columns = Json::object();
    for (const auto& col : node.columns) {
      columns[col.name] = {{"name", col.name},
                           {"description", col.description},
                           {"data_type", col.data_type.empty() ? Json(nullptr) : Json(col.data_type)},
                           {"meta", Json::object()},
                           {"tags", Json::array()}};
    }
    Json config = ToJson(n.config);
    if (!config.is_object()) config = Json::object();
    config["materialized"] = n.materialized;
    config["enabled"] = n.enabled;
    // Hooks as the manifest has them: pre-hook / post-hook, lists of {sql, transaction, index}.
    for (const char* hook : {"pre-hook", "post-hook"}) {
      std::string underscored = hook;
      underscored[3] = '_';
      Json hooks = Json::array();
      for (const std::string& key : {std::string(hook), underscored}) {
        if (!config.contains(key)) continue;
        Json v = config[key];
        config.erase(key);
        for (const Json& h : v.is_array() ? v : Json::array({v})) {
          const Json sql = h.is_object() ? h.value("sql", Json("")) : h;
          hooks.push_back({{"sql", sql.is_string() ? sql.get<std::string>() : sql.dump()},
                           {"transaction", true},
                           {"index", hooks.size()}});
        }
      }
      config[hook] = hooks;
    }
    Json deps = Json::array();
    for (const auto& d : n.depends_on) deps.push_back(d);
    Json j = {{"database", "lakemesh"},
              {"schema", n.schema},
              {"name", node.name},
              {"resource_type", NodeKindName(node.kind)},
              {"package_name", c.project().name},
              {"path", ResourceFolder(node)},
              {"original_file_path", node.file},
              {"unique_id", uid},
              {"fqn", node.fqn},
              {"alias", n.alias},
              {"checksum", {{"name", "sha256"}, {"checksum", ToHex(Sha256(node.raw_code))}}},
              {"config", config},
              {"tags", n.tags},
              {"description", node.description},
              {"columns", columns},
              {"meta", Json::object()},
              {"depends_on", {{"macros", Json::array()}, {"nodes", deps}}},
              {"raw_code", node.raw_code},
              {"language", "sql"},
              {"compiled", node.kind != NodeKind::kSeed},
              {"compiled_code", n.compiled_code}};
    if (node.kind != NodeKind::kTest) j["relation_name"] = n.relation();
    if (node.kind == NodeKind::kSeed) {  // a seed is not compiled and depends on macros only
      for (const char* k : {"language", "compiled", "compiled_code"}) j.erase(k);
      j["depends_on"] = {{"macros", Json::array()}};
      j["raw_code"] = "";
      j["root_path"] = c.project().root;
    }
    if (!node.version.empty()) {
      j["version"] = node.version;
      j["latest_version"] = c.project().latest_version.at(node.name);
    }
    if (!n.tested.empty()) {
      j["attached_node"] = n.tested;
      j["column_name"] = n.test_column.empty() ? Json(nullptr) : Json(n.test_column);
      j["test_metadata"] = {{"name", n.test_name}, {"kwargs", ToJson(n.test_args)}};
    }
    nodes[uid] = std::move(j);
    parents[uid] = deps;
    if (!children.contains(uid)) children[uid] = Json::array();
    for (const auto& d : n.depends_on) children[d].push_back(uid);
  }
  return {{"metadata", Metadata("manifest/v12.json", invocation_id, &c)},
          {"nodes", nodes},
          {"sources", sources},
          {"macros", Json::object()},
          {"docs", Json::object()},
          {"exposures", Json::object()},
          {"metrics", Json::object()},
          {"groups", Json::object()},
          {"selectors", Json::object()},
          {"disabled", Json::object()},
          {"parent_map", parents},
          {"child_map", children},
          {"group_map", Json::object()},
          {"saved_queries", Json::object()},
          {"semantic_models", Json::object()},
          {"unit_tests", Json::object()}};
}

Json Catalog(const std::vector<CatalogTable>& nodes, const std::vector<CatalogTable>& sources,
             const std::string& invocation_id) {
  auto tables = [](const std::vector<CatalogTable>& list) {
    Json out = Json::object();
    for (const CatalogTable& t : list) {
      Json columns = Json::object();
      int index = 1;
      for (const auto& [name, type] : t.columns) {
        columns[name] = {{"type", type}, {"index", index++}, {"name", name}, {"comment", nullptr}};
      }
      out[t.unique_id] = {
          {"metadata", {{"type", t.view ? "VIEW" : "BASE TABLE"}, {"schema", t.schema}, {"name", t.name},
                        {"database", "lakemesh"}, {"comment", nullptr}, {"owner", nullptr}}},
          {"columns", columns},
          {"stats", {{"has_stats", {{"id", "has_stats"}, {"label", "Has Stats?"}, {"value", false},
                                    {"include", false},
                                    {"description", "Indicates whether there are statistics for this table"}}}}},
          {"unique_id", t.unique_id}};
    }
    return out;
  };
  return {{"metadata", Metadata("catalog/v1.json", invocation_id, nullptr)},
          {"nodes", tables(nodes)},
          {"sources", tables(sources)},
          {"errors", nullptr}};
}

Json RunResults(const Compiler& c, const std::vector<NodeResult>& results, double elapsed,
                const std::string& invocation_id, const std::string& command) {
  Json out = Json::array();
  for (const NodeResult& r : results) {
    const auto& n = c.nodes().at(r.unique_id);
    Json j = {{"status", r.status},
              {"timing", Json::array()},
              {"thread_id", "Thread-" + std::to_string(r.thread + 1)},
              {"execution_time", r.seconds},
              {"adapter_response", {{"_message", r.message}, {"code", r.message.substr(0, r.message.find(' '))}}},
              {"message", r.message},
              {"failures", r.resource == "test" ? Json(r.failures) : Json(nullptr)},
              {"unique_id", r.unique_id},
              {"compiled", n.node->kind != NodeKind::kSeed},
              {"compiled_code", n.compiled_code},
              {"relation_name", r.relation.empty() ? Json(nullptr) : Json(r.relation)}};
    out.push_back(std::move(j));
  }
  return {{"metadata", Metadata("run-results/v6.json", invocation_id, nullptr)},
          {"results", out},
          {"elapsed_time", elapsed},
          {"args", {{"which", command}, {"target", c.target().name}}}};
}

}  // namespace lakemesh::dbt
