#include "transform/dbt/project.h"

#include "transform/jinja/jinja.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace lakemesh::dbt {
namespace {

namespace fs = std::filesystem;
using jinja::Value;

// Configuration keys dbt knows, so that `materialized: view` (without '+') under a folder in
// dbt_project.yml is read as configuration and not as a folder.
const std::set<std::string>& ConfigKeys() {
  static const std::set<std::string> k = {
      "materialized", "enabled", "tags", "schema", "database", "alias", "pre-hook", "post-hook",
      "pre_hook", "post_hook", "persist_docs", "full_refresh", "unique_key", "incremental_strategy",
      "on_schema_change", "meta", "docs", "grants", "contract", "sql_header", "quote_columns",
      "column_types", "delimiter", "severity", "warn_if", "error_if", "store_failures", "where",
      "limit", "fail_calc", "strategy", "updated_at", "check_cols", "target_schema",
      "target_database", "partition_by", "cluster_by", "group", "access", "packages",
      "invalidate_hard_deletes", "hard_deletes", "snapshot_meta_column_names", "dbt_valid_to_current",
      "merge_update_columns", "merge_exclude_columns", "incremental_predicates"};
  return k;
}

Value FromYaml(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return Value::None();
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      for (const auto& e : n) items.push_back(FromYaml(e));
      return Value::List(std::move(items));
    }
    case YAML::NodeType::Map: {
      Value d = Value::Dict();
      for (const auto& kv : n) d.dict().Set(FromYaml(kv.first), FromYaml(kv.second));
      return d;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return Value(s);  // quoted: a string
      if (s == "true" || s == "True" || s == "TRUE") return Value(true);
      if (s == "false" || s == "False" || s == "FALSE") return Value(false);
      if (s == "null" || s == "Null" || s == "NULL" || s == "~") return Value::None();
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+')) {
        char* end = nullptr;
        errno = 0;
        long long i = std::strtoll(s.c_str(), &end, 10);
        if (end && *end == '\0' && errno == 0) return Value(static_cast<int64_t>(i));
        double d = std::strtod(s.c_str(), &end);
        if (end && *end == '\0') return Value(d);
      }
      return Value(s);
    }
  }
  return Value::None();
}

std::string Where(const std::string& file, const YAML::Node& n) {
  return file + ":" + std::to_string(n.Mark().line + 1);
}

Result<YAML::Node> ReadYaml(const std::string& root, const std::string& file) {
  std::ifstream in(fs::path(root) / file);
  if (!in) return NotFound("cannot read " + file);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return YAML::Load(ss.str());
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

std::vector<std::string> Paths(const YAML::Node& project, const char* key, std::vector<std::string> dflt) {
  const YAML::Node n = project[key];
  if (!n) return dflt;
  std::vector<std::string> out;
  if (n.IsSequence()) {
    for (const auto& e : n) out.push_back(e.as<std::string>());
  } else if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
  }
  return out;
}

// Files under `dir` (relative to root) ending in one of `exts`, relative to root, sorted.
std::vector<std::string> FilesUnder(const std::string& root, const std::string& dir,
                                    const std::vector<std::string>& exts) {
  std::vector<std::string> out;
  fs::path base = fs::path(root) / dir;
  std::error_code ec;
  if (!fs::is_directory(base, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') continue;
    for (const std::string& e : exts) {
      if (it->path().extension() == e) {
        out.push_back(fs::relative(it->path(), root).generic_string());
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const std::string& root, const std::string& file) {
  std::ifstream in(fs::path(root) / file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The {% snapshot name %} ... {% endsnapshot %} blocks of a snapshot file: (name, body).
Result<std::vector<std::pair<std::string, std::string>>> SnapshotBlocks(const std::string& text,
                                                                        const std::string& file) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  auto tag = [&](size_t from, const char* word, size_t* begin, size_t* end, std::string* arg) {
    for (size_t at = text.find("{%", from); at != std::string::npos; at = text.find("{%", at + 2)) {
      size_t close = text.find("%}", at + 2);
      if (close == std::string::npos) return false;
      std::string inner = text.substr(at + 2, close - at - 2);
      if (!inner.empty() && inner.front() == '-') inner.erase(0, 1);
      if (!inner.empty() && inner.back() == '-') inner.pop_back();
      std::istringstream words(inner);
      std::string first;
      words >> first;
      if (first != word) continue;
      *begin = at;
      *end = close + 2;
      if (arg) words >> *arg;
      return true;
    }
    return false;
  };
  while (true) {
    size_t b = 0, e = 0, eb = 0, ee = 0;
    std::string name;
    if (!tag(pos, "snapshot", &b, &e, &name)) break;
    if (name.empty()) return InvalidArgument(file + ": a {% snapshot %} block needs a name");
    if (!tag(e, "endsnapshot", &eb, &ee, nullptr)) {
      return InvalidArgument(file + ": the snapshot '" + name + "' has no {% endsnapshot %}");
    }
    out.emplace_back(name, text.substr(e, eb - e));
    pos = ee;
  }
  if (out.empty()) {
    return InvalidArgument(file + ": a snapshot file holds {% snapshot name %} ... {% endsnapshot %} blocks");
  }
  return out;
}

void MergeConfig(Value& into, const Value& from) {
  for (const auto& [k, v] : from.dict().items) {
    // Tags add up, as dbt merges them; everything else is replaced.
    if (k.is_string() && k.as_string() == "tags") {
      Value* have = into.dict().Find(std::string_view("tags"));
      std::vector<Value> tags = have && have->is_list() ? have->list().items
                                : have && have->is_string() ? std::vector<Value>{*have}
                                                            : std::vector<Value>{};
      for (const auto& t : v.is_list() ? v.list().items : std::vector<Value>{v}) tags.push_back(t);
      into.dict().Set(Value("tags"), Value::List(std::move(tags)));
      continue;
    }
    into.dict().Set(k, v);
  }
}

// The configuration at `fqn` (project, folders..., name) from a resource block of
// dbt_project.yml (models:, seeds:, ...): each level's keys that are configuration.
Value ConfigAt(const YAML::Node& block, const std::vector<std::string>& fqn) {
  Value config = Value::Dict();
  YAML::Node level;
  level.reset(block);
  auto take = [&](const YAML::Node& n) {
    if (!n.IsMap()) return;
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      bool plus = !key.empty() && key[0] == '+';
      std::string name = plus ? key.substr(1) : key;
      if (plus || (ConfigKeys().count(name) && !kv.second.IsMap()) || name == "meta" ||
          name == "docs" || name == "grants") {
        Value one = Value::Dict();
        one.dict().Set(Value(name), FromYaml(kv.second));
        MergeConfig(config, one);
      }
    }
  };
  take(level);
  for (size_t i = 0; i < fqn.size(); ++i) {
    if (!level.IsMap()) break;
    YAML::Node next = level[fqn[i]];
    if (!next) break;
    level.reset(next);  // rebind: assigning a YAML::Node would overwrite what it refers to
    take(level);
  }
  return config;
}

Result<std::vector<TestSpec>> ReadTests(const YAML::Node& list, const std::string& where,
                                        const std::string& column) {
  std::vector<TestSpec> out;
  if (!list) return out;
  if (!list.IsSequence()) return InvalidArgument(where + ": tests must be a list");
  for (const auto& t : list) {
    TestSpec spec;
    spec.column = column;
    spec.args = Value::Dict();
    spec.config = Value::Dict();
    if (t.IsScalar()) {
      spec.name = t.as<std::string>();
    } else if (t.IsMap() && t.size() == 1) {
      auto kv = *t.begin();
      spec.name = kv.first.as<std::string>();
      if (kv.second.IsMap()) {
        for (const auto& a : kv.second) {
          const std::string key = a.first.as<std::string>();
          if (key == "config") {
            spec.config = FromYaml(a.second);
          } else if (key == "arguments" && a.second.IsMap()) {  // dbt 1.10's form
            for (const auto& b : a.second) spec.args.dict().Set(Value(b.first.as<std::string>()), FromYaml(b.second));
          } else if (key == "name") {
            // a custom name for the test node; the test itself is the map's key
          } else if (key == "severity" || key == "where" || key == "warn_if" || key == "error_if" ||
                     key == "store_failures" || key == "limit" || key == "tags") {
            spec.config.dict().Set(Value(key), FromYaml(a.second));
          } else {
            spec.args.dict().Set(Value(key), FromYaml(a.second));
          }
        }
      } else if (!kv.second.IsNull()) {
        return InvalidArgument(Where(where, t) + ": the arguments of test '" + spec.name + "' must be a map");
      }
    } else {
      return InvalidArgument(Where(where, t) + ": a test is a name or a map of one name to its arguments");
    }
    if (spec.name.empty()) return InvalidArgument(Where(where, t) + ": a test without a name");
    out.push_back(std::move(spec));
  }
  return out;
}

Result<std::vector<ColumnSpec>> ReadColumns(const YAML::Node& list, const std::string& file) {
  std::vector<ColumnSpec> out;
  if (!list) return out;
  if (!list.IsSequence()) return InvalidArgument(Where(file, list) + ": columns must be a list");
  for (const auto& c : list) {
    if (!c.IsMap() || !c["name"]) return InvalidArgument(Where(file, c) + ": a column needs a name");
    ColumnSpec col;
    col.name = c["name"].as<std::string>();
    if (c["description"]) col.description = c["description"].as<std::string>();
    if (c["data_type"]) col.data_type = c["data_type"].as<std::string>();
    for (const char* key : {"tests", "data_tests"}) {
      LM_ASSIGN_OR_RETURN(auto tests, ReadTests(c[key], file, col.name));
      col.tests.insert(col.tests.end(), tests.begin(), tests.end());
    }
    out.push_back(std::move(col));
  }
  return out;
}

}  // namespace

const char* NodeKindName(NodeKind k) {
  switch (k) {
    case NodeKind::kModel: return "model";
    case NodeKind::kSeed: return "seed";
    case NodeKind::kTest: return "test";
    case NodeKind::kSnapshot: return "snapshot";
  }
  return "node";
}

const Node* Project::FindByName(NodeKind kind, const std::string& n) const {
  auto it = nodes.find(std::string(NodeKindName(kind)) + "." + name + "." + n);
  return it == nodes.end() ? nullptr : &it->second;
}

Result<ProfileTarget> LoadProfile(const std::string& dir, const std::string& profile,
                                  const std::string& target) {
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / "profiles.yml", ec)) return NotFound("no profiles.yml in " + dir);
  LM_ASSIGN_OR_RETURN(YAML::Node y, ReadYaml(dir, "profiles.yml"));
  const std::string file = (fs::path(dir) / "profiles.yml").string();
  if (!y.IsMap() || !y[profile]) {
    return InvalidArgument(file + ": no profile '" + profile + "' (the project's profile:)");
  }
  const YAML::Node p = y[profile];
  std::string name = target;
  if (name.empty()) name = p["target"] ? p["target"].as<std::string>() : "dev";
  if (!p["outputs"] || !p["outputs"][name]) {
    return InvalidArgument(file + ": profile '" + profile + "' has no output '" + name + "'");
  }
  const YAML::Node o = p["outputs"][name];
  jinja::Environment env;
  env.AddGlobal("env_var", jinja::Value::Function("env_var", [](jinja::CallArgs& a, jinja::Interpreter&) -> jinja::Value {
    if (a.args.empty()) jinja::RaiseError("env_var() takes a name");
    if (const char* v = std::getenv(a.args[0].Str().c_str())) return jinja::Value(std::string(v));
    if (a.args.size() > 1) return a.args[1];
    jinja::RaiseError("Env var required but not provided: '" + a.args[0].Str() + "'");
  }));
  auto get = [&](const char* key) -> Result<std::string> {
    if (!o[key]) return std::string();
    std::string v = o[key].as<std::string>();
    if (v.find("{{") == std::string::npos) return v;
    LM_ASSIGN_OR_RETURN(std::string r, env.RenderString(v, jinja::Value::Dict()));
    return r;
  };
  LM_ASSIGN_OR_RETURN(std::string type, get("type"));
  if (type != "lakemesh") {
    return InvalidArgument(file + ": output '" + name + "' of profile '" + profile + "' is of type '" +
                           type + "'; lakemesh runs outputs of type: lakemesh");
  }
  ProfileTarget t;
  t.name = name;
  LM_ASSIGN_OR_RETURN(t.schema, get("schema"));
  LM_ASSIGN_OR_RETURN(t.branch, get("branch"));
  LM_ASSIGN_OR_RETURN(t.data, get("data"));
  LM_ASSIGN_OR_RETURN(t.pg, get("pg"));
  LM_ASSIGN_OR_RETURN(t.url, get("url"));
  LM_ASSIGN_OR_RETURN(std::string threads, get("threads"));
  if (!threads.empty()) t.threads = std::max(1, std::atoi(threads.c_str()));
  return t;
}

Result<jinja::Value> ParseYamlValue(const std::string& text) {
  try {
    return FromYaml(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument("YAML: " + e.msg);
  }
}

Result<Project> LoadProject(const std::string& dir) {
  Project p;
  p.root = dir;
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / "dbt_project.yml", ec)) {
    return NotFound("no dbt_project.yml in " + dir + " (is it a dbt project?)");
  }
  LM_ASSIGN_OR_RETURN(YAML::Node y, ReadYaml(dir, "dbt_project.yml"));
  if (!y.IsMap() || !y["name"]) return InvalidArgument("dbt_project.yml: the project needs a name");
  p.name = y["name"].as<std::string>();
  if (y["version"]) p.version = y["version"].as<std::string>();
  if (y["profile"]) p.profile = y["profile"].as<std::string>();
  p.model_paths = Paths(y, "model-paths", Paths(y, "source-paths", {"models"}));
  p.seed_paths = Paths(y, "seed-paths", Paths(y, "data-paths", {"seeds"}));
  p.test_paths = Paths(y, "test-paths", {"tests"});
  p.macro_paths = Paths(y, "macro-paths", {"macros"});
  p.snapshot_paths = Paths(y, "snapshot-paths", {"snapshots"});
  if (y["target-path"]) p.target_path = y["target-path"].as<std::string>();
  for (const auto& [key, into] : {std::pair<const char*, std::vector<std::string>*>{"on-run-start", &p.on_run_start},
                                  {"on-run-end", &p.on_run_end}}) {
    const YAML::Node h = y[key];
    if (!h || h.IsNull()) continue;
    if (h.IsScalar()) {
      into->push_back(h.as<std::string>());
    } else if (h.IsSequence()) {
      for (const auto& e : h) into->push_back(e.as<std::string>());
    } else {
      return InvalidArgument("dbt_project.yml: " + std::string(key) + " is SQL or a list of SQL");
    }
  }
  p.vars = y["vars"] ? FromYaml(y["vars"]) : Value::Dict();
  if (!p.vars.is_dict()) return InvalidArgument("dbt_project.yml: vars must be a map");

  // Nodes: models, seeds, singular tests, snapshots.
  struct Kind {
    NodeKind kind;
    const std::vector<std::string>* paths;
    const char* block;  // its configuration block in dbt_project.yml
    std::vector<std::string> exts;
  };
  const Kind kinds[] = {{NodeKind::kModel, &p.model_paths, "models", {".sql"}},
                        {NodeKind::kSeed, &p.seed_paths, "seeds", {".csv"}},
                        {NodeKind::kTest, &p.test_paths, "tests", {".sql"}},
                        {NodeKind::kSnapshot, &p.snapshot_paths, "snapshots", {".sql"}}};
  std::map<std::string, std::string> by_name;  // "model:orders" -> file, for duplicates
  // A node of `kind` named `name` from `file` (under resource folder `base`), with the
  // configuration dbt_project.yml gives its folder.
  auto add = [&](NodeKind kind, const char* block, const std::string& base, const std::string& file,
                 const std::string& name, std::string code) -> Status {
    Node n;
    n.kind = kind;
    n.file = file;
    n.path = fs::relative(fs::path(dir) / file, fs::path(dir) / base).generic_string();
    fs::path rel(n.path);
    n.name = name;
    n.fqn.push_back(p.name);
    for (const auto& part : rel.parent_path()) n.fqn.push_back(part.string());
    n.fqn.push_back(n.name);
    n.unique_id = std::string(NodeKindName(kind)) + "." + p.name + "." + n.name;
    n.raw_code = std::move(code);
    std::vector<std::string> folders(n.fqn.begin() + 1, n.fqn.end());
    n.config = y[block] && y[block][p.name] ? ConfigAt(y[block][p.name], folders) : Value::Dict();
    if (y[block]) {  // configuration at the top of the block applies to every project
      Value top = ConfigAt(y[block], {});
      MergeConfig(top, n.config);
      n.config = top;
    }
    std::string key = std::string(NodeKindName(kind)) + ":" + n.name;
    if (auto it = by_name.find(key); it != by_name.end()) {
      return InvalidArgument("two " + std::string(NodeKindName(kind)) + "s are named '" + n.name +
                             "': " + it->second + " and " + file);
    }
    by_name[key] = file;
    p.nodes[n.unique_id] = std::move(n);
    return Status::OK();
  };
  for (const Kind& k : kinds) {
    for (const std::string& base : *k.paths) {
      for (const std::string& file : FilesUnder(dir, base, k.exts)) {
        std::string code = k.kind == NodeKind::kSeed ? "" : ReadFile(dir, file);
        if (k.kind != NodeKind::kSnapshot) {
          LM_TRY(add(k.kind, k.block, base, file, fs::path(file).stem().string(), std::move(code)));
          continue;
        }
        // A snapshot file holds {% snapshot name %} ... {% endsnapshot %} blocks.
        LM_ASSIGN_OR_RETURN(auto blocks, SnapshotBlocks(code, file));
        for (auto& [name, body] : blocks) LM_TRY(add(k.kind, k.block, base, file, name, std::move(body)));
      }
    }
  }
  for (const std::string& base : p.macro_paths) {
    for (const std::string& file : FilesUnder(dir, base, {".sql"})) p.macro_files.push_back(file);
  }

  // Schema YAML: descriptions, columns, tests and configuration of models and seeds; sources.
  std::vector<std::string> yaml_files;
  for (const auto* paths : {&p.model_paths, &p.seed_paths, &p.snapshot_paths}) {
    for (const std::string& base : *paths) {
      for (const std::string& f : FilesUnder(dir, base, {".yml", ".yaml"})) yaml_files.push_back(f);
    }
  }
  for (const std::string& file : yaml_files) {
    LM_ASSIGN_OR_RETURN(YAML::Node doc, ReadYaml(dir, file));
    if (!doc.IsMap()) continue;
    p.schema_files.push_back(file);
    for (const auto& [block, kind] : std::vector<std::pair<const char*, NodeKind>>{
             {"models", NodeKind::kModel}, {"seeds", NodeKind::kSeed}, {"snapshots", NodeKind::kSnapshot}}) {
      const YAML::Node list = doc[block];
      if (!list) continue;
      if (!list.IsSequence()) return InvalidArgument(Where(file, list) + ": " + block + " must be a list");
      for (const auto& m : list) {
        if (!m.IsMap() || !m["name"]) return InvalidArgument(Where(file, m) + ": an entry needs a name");
        const std::string name = m["name"].as<std::string>();
        auto it = p.nodes.find(std::string(NodeKindName(kind)) + "." + p.name + "." + name);
        if (it == p.nodes.end() && kind == NodeKind::kSnapshot && m["relation"]) {
          // A snapshot in YAML (dbt 1.9): of a relation, `ref('x')` or `source('a', 'b')`.
          const std::string relation = m["relation"].as<std::string>();
          std::string base = p.snapshot_paths.empty() ? "snapshots" : p.snapshot_paths[0];
          for (const auto& b : p.snapshot_paths) {
            if (file.rfind(b + "/", 0) == 0) base = b;
          }
          LM_TRY(add(kind, "snapshots", base, file, name, "select * from {{ " + relation + " }}"));
          it = p.nodes.find(std::string(NodeKindName(kind)) + "." + p.name + "." + name);
        }
        // Versioned models (dbt 1.5): each version is its own file, <name>_v<v>.sql or
        // defined_in, its own node (model.<project>.<name>.v<v>) and relation (<name>_v<v>).
        std::vector<std::pair<Node*, YAML::Node>> described;  // each with its version's entry
        if (kind == NodeKind::kModel && m["versions"]) {
          if (!m["versions"].IsSequence()) return InvalidArgument(Where(file, m["versions"]) + ": versions must be a list");
          std::string latest;
          for (const auto& ve : m["versions"]) {
            if (!ve.IsMap() || !ve["v"]) return InvalidArgument(Where(file, ve) + ": a version needs v");
            const std::string v = ve["v"].as<std::string>();
            const std::string defined_in = ve["defined_in"] ? ve["defined_in"].as<std::string>() : name + "_v" + v;
            auto file_node = p.nodes.find("model." + p.name + "." + defined_in);
            if (file_node == p.nodes.end()) {
              return InvalidArgument(Where(file, ve) + ": version " + v + " of model '" + name +
                                     "' is defined in " + defined_in + ".sql, and there is no such model");
            }
            Node n = std::move(file_node->second);
            p.nodes.erase(file_node);
            n.name = name;
            n.version = v;
            n.fqn.back() = name;  // as dbt names it: project, folders, name, v<v>
            n.fqn.push_back("v" + v);
            n.unique_id = "model." + p.name + "." + name + ".v" + v;
            if (!n.config.dict().Find(std::string_view("alias"))) {
              n.config.dict().Set(Value("alias"), Value(name + "_v" + v));
            }
            const std::string uid = n.unique_id;
            p.versions[name][v] = uid;
            Node& placed = p.nodes[uid] = std::move(n);
            described.emplace_back(&placed, ve);
            latest = v;  // the last listed, unless latest_version says
          }
          p.latest_version[name] = m["latest_version"] ? m["latest_version"].as<std::string>() : latest;
          if (!p.versions[name].count(p.latest_version[name])) {
            return InvalidArgument(Where(file, m) + ": latest_version " + p.latest_version[name] + " of model '" +
                                   name + "' is not among its versions");
          }
        } else if (it == p.nodes.end()) {
          return InvalidArgument(Where(file, m) + ": " + NodeKindName(kind) + " '" + name +
                                 "' is described here but there is no such " + NodeKindName(kind));
        } else {
          described.emplace_back(&it->second, YAML::Node());
        }
        for (auto& [np, version] : described) {
          Node& n = *np;
          if (m["description"]) n.description = m["description"].as<std::string>();
          for (const YAML::Node& from : {YAML::Node(m), version}) {
            if (!from.IsDefined() || from.IsNull() || !from["config"]) continue;
            Value c = FromYaml(from["config"]);
            if (!c.is_dict()) return InvalidArgument(Where(file, from["config"]) + ": config must be a map");
            MergeConfig(n.config, c);
          }
          LM_ASSIGN_OR_RETURN(n.columns, ReadColumns(m["columns"], file));
          for (const char* key : {"tests", "data_tests"}) {
            LM_ASSIGN_OR_RETURN(auto tests, ReadTests(m[key], file, ""));
            n.tests.insert(n.tests.end(), tests.begin(), tests.end());
          }
        }
      }
    }
    if (const YAML::Node sources = doc["sources"]) {
      if (!sources.IsSequence()) return InvalidArgument(Where(file, sources) + ": sources must be a list");
      for (const auto& s : sources) {
        if (!s.IsMap() || !s["name"]) return InvalidArgument(Where(file, s) + ": a source needs a name");
        const std::string source = s["name"].as<std::string>();
        const std::string schema = s["schema"] ? s["schema"].as<std::string>() : source;
        for (const auto& t : s["tables"]) {
          if (!t.IsMap() || !t["name"]) return InvalidArgument(Where(file, t) + ": a source table needs a name");
          SourceTable st;
          st.source_name = source;
          st.name = t["name"].as<std::string>();
          st.schema = schema;
          st.identifier = t["identifier"] ? t["identifier"].as<std::string>() : st.name;
          if (t["description"]) st.description = t["description"].as<std::string>();
          st.unique_id = "source." + p.name + "." + source + "." + st.name;
          LM_ASSIGN_OR_RETURN(st.columns, ReadColumns(t["columns"], file));
          for (const char* key : {"tests", "data_tests"}) {
            LM_ASSIGN_OR_RETURN(auto tests, ReadTests(t[key], file, ""));
            st.tests.insert(st.tests.end(), tests.begin(), tests.end());
          }
          p.sources.push_back(std::move(st));
        }
      }
    }
  }
  return p;
}

}  // namespace lakemesh::dbt
