#include "catalog/product.h"

#include <yaml-cpp/yaml.h>

#include "base/coding.h"
#include "versioning/repository.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

namespace lakemesh::catalog {
namespace {

using Json = nlohmann::json;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A YAML document as JSON: plain scalars typed as YAML 1.2's core schema reads them (quoted
// ones stay strings).
Json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& e : n) a.push_back(ToJson(e));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = ToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+')) {
        char* end = nullptr;
        errno = 0;
        long long i = std::strtoll(s.c_str(), &end, 10);
        if (end && *end == '\0' && errno == 0) return static_cast<int64_t>(i);
        double d = std::strtod(s.c_str(), &end);
        if (end && *end == '\0') return d;
      }
      return s;
    }
  }
  return nullptr;
}

std::string Str(const Json& o, const char* key, const std::string& dflt = "") {
  if (!o.is_object()) return dflt;
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return dflt;
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool Bool(const Json& o, const char* key) {
  if (!o.is_object()) return false;
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

bool IsSemver(const std::string& v) {
  int parts = 0;
  size_t i = 0;
  while (i < v.size() && parts < 3) {
    size_t start = i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    if (i == start) return false;
    ++parts;
    if (i < v.size() && v[i] == '.' && parts < 3) ++i;
    else break;
  }
  // A pre-release or build suffix may follow: 1.0.0-rc.1
  return parts == 3 && (i == v.size() || v[i] == '-' || v[i] == '+');
}

const std::vector<std::string>& Operators() {
  static const std::vector<std::string> ops = {
      "mustBe", "mustNotBe", "mustBeGreaterThan", "mustBeGreaterOrEqualTo", "mustBeLessThan",
      "mustBeLessOrEqualTo", "mustBeBetween", "mustNotBeBetween"};
  return ops;
}

// Seconds in `value` `unit` (ODCS units: d, day, days; h, hr, hours; m, min, minutes; s).
std::optional<int64_t> Seconds(double value, std::string unit) {
  unit = Lower(unit);
  int64_t per = 0;
  if (unit == "d" || unit == "day" || unit == "days") per = 86400;
  else if (unit == "h" || unit == "hr" || unit == "hour" || unit == "hours") per = 3600;
  else if (unit == "m" || unit == "min" || unit == "minute" || unit == "minutes") per = 60;
  else if (unit == "s" || unit == "sec" || unit == "second" || unit == "seconds" || unit.empty()) per = 1;
  else return std::nullopt;
  return static_cast<int64_t>(value * static_cast<double>(per));
}

Result<QualityRule> ParseRule(const Json& q, const std::string& where, const std::string& column) {
  if (!q.is_object()) return InvalidArgument(where + ": a quality rule is a map");
  QualityRule r;
  r.column = column;
  r.name = Str(q, "name");
  r.named = !r.name.empty();
  r.description = Str(q, "description");
  r.severity = Lower(Str(q, "severity", "error"));
  r.unit = Lower(Str(q, "unit", "rows"));
  r.query = Str(q, "query");
  r.metric = Str(q, "metric", Str(q, "rule"));
  r.type = Lower(Str(q, "type", r.query.empty() ? "library" : "sql"));
  if (r.type == "text") return r;  // words only: nothing to check
  if (r.type == "sql") {
    if (r.query.empty()) return InvalidArgument(where + ": a sql quality rule needs a query");
  } else if (r.type == "library") {
    static const std::set<std::string> metrics = {"rowCount", "nullValues", "missingValues",
                                                  "duplicateValues", "invalidValues"};
    if (!metrics.count(r.metric)) {
      return InvalidArgument(where + ": unknown quality metric '" + r.metric +
                             "' (rowCount, nullValues, missingValues, duplicateValues, invalidValues)");
    }
    if (r.metric != "rowCount" && column.empty()) {
      return InvalidArgument(where + ": the metric " + r.metric + " belongs to a column (under its properties)");
    }
  } else {
    return InvalidArgument(where + ": quality rule type '" + r.type + "' is not one of library, sql, text");
  }
  if (r.unit != "rows" && r.unit != "percent") {
    return InvalidArgument(where + ": unit '" + r.unit + "' is rows or percent");
  }
  for (const std::string& op : Operators()) {
    auto it = q.find(op);
    if (it == q.end()) continue;
    if (!r.op.empty()) return InvalidArgument(where + ": a quality rule has one comparison, not " + r.op + " and " + op);
    r.op = op;
    if (op == "mustBeBetween" || op == "mustNotBeBetween") {
      if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number() || !(*it)[1].is_number()) {
        return InvalidArgument(where + ": " + op + " takes two numbers, smallest first");
      }
      r.value = (*it)[0].get<double>();
      r.value2 = (*it)[1].get<double>();
      if (r.value > r.value2) return InvalidArgument(where + ": " + op + " takes the smallest number first");
    } else {
      if (!it->is_number()) return InvalidArgument(where + ": " + op + " takes a number");
      r.value = it->get<double>();
    }
  }
  if (r.op.empty()) {
    return InvalidArgument(where + ": a quality rule needs a comparison (mustBe, mustBeGreaterThan, "
                                   "mustBeLessOrEqualTo, mustBeBetween, ...)");
  }
  if (r.name.empty()) {
    r.name = r.type == "sql" ? "sql check" : r.metric + (column.empty() ? "" : "(" + column + ")");
  }
  return r;
}

}  // namespace

bool QualityRule::Holds(double m) const {
  constexpr double eps = 1e-9;
  if (op == "mustBe") return std::fabs(m - value) < eps;
  if (op == "mustNotBe") return std::fabs(m - value) >= eps;
  if (op == "mustBeGreaterThan") return m > value;
  if (op == "mustBeGreaterOrEqualTo") return m >= value;
  if (op == "mustBeLessThan") return m < value;
  if (op == "mustBeLessOrEqualTo") return m <= value;
  if (op == "mustBeBetween") return m >= value && m <= value2;
  if (op == "mustNotBeBetween") return m < value || m > value2;
  return true;
}

std::string QualityRule::Describe() const {
  auto num = [](double d) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", d);
    return std::string(buf);
  };
  static const std::map<std::string, std::string> sym = {
      {"mustBe", "="}, {"mustNotBe", "!="}, {"mustBeGreaterThan", ">"}, {"mustBeGreaterOrEqualTo", ">="},
      {"mustBeLessThan", "<"}, {"mustBeLessOrEqualTo", "<="}};
  std::string what = type == "sql" ? (name.empty() ? "sql check" : name)
                                   : (named ? name + ": " : "") + metric + (column.empty() ? "" : "(" + column + ")");
  std::string cmp;
  if (op == "mustBeBetween") cmp = " between " + num(value) + " and " + num(value2);
  else if (op == "mustNotBeBetween") cmp = " not between " + num(value) + " and " + num(value2);
  else if (auto it = sym.find(op); it != sym.end()) cmp = " " + it->second + " " + num(value);
  return what + cmp + (unit == "percent" ? " percent" : "");
}

std::string LogicalTypeOf(const std::string& sql_type) {
  const std::string t = Lower(sql_type);
  auto starts = [&](const char* p) { return t.rfind(p, 0) == 0; };
  if (starts("bigint") || starts("int") || starts("smallint") || starts("tinyint") || starts("hugeint") ||
      starts("ubigint") || starts("uinteger") || starts("long")) {
    return "integer";
  }
  if (starts("decimal") || starts("numeric") || starts("double") || starts("float") || starts("real")) return "number";
  if (starts("bool")) return "boolean";
  if (starts("timestamp")) return "timestamp";
  if (starts("date")) return "date";
  if (starts("time")) return "time";
  if (t.find("[]") != std::string::npos || starts("list") || starts("array")) return "array";
  if (starts("struct") || starts("map") || starts("json")) return "object";
  return "string";
}

Result<Product> ParseProduct(const std::string& yaml, const std::string& domain, const std::string& path) {
  if (!IsValidUtf8(yaml)) return InvalidArgument(path + ": a product file is UTF-8 text");
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return InvalidArgument(path + ": a product file is a YAML map (name:, owner:, outputPorts:, ...)");
  Product p;
  p.path = path;
  p.source = yaml;
  p.domain = domain;
  p.document = ToJson(root);
  const Json& d = p.document;
  p.name = Str(d, "name");
  if (p.name.empty()) return InvalidArgument(path + ": the product needs a name");
  if (p.domain.empty()) p.domain = Str(d, "domain");  // a file read on its own
  if (p.domain.empty()) return InvalidArgument(path + ": the product names no domain (domain:)");
  if (!Str(d, "domain").empty() && Str(d, "domain") != p.domain) {
    return InvalidArgument(path + ": the product says domain '" + Str(d, "domain") +
                           "' but is kept in the repository of domain '" + domain + "'");
  }
  p.owner = Str(d, "owner");
  if (p.owner.empty() && d.contains("team") && d["team"].is_object()) p.owner = Str(d["team"], "name");
  p.description = Str(d, "description");
  if (d.contains("description") && d["description"].is_object()) {  // ODCS: {purpose, usage, limitations}
    p.description = Str(d["description"], "purpose");
  }
  if (d.contains("tags")) {
    if (!d["tags"].is_array()) return InvalidArgument(path + ": tags is a list");
    for (const auto& t : d["tags"]) p.tags.push_back(t.is_string() ? t.get<std::string>() : t.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  p.status = Lower(Str(d, "status", "draft"));
  if (p.status != "draft" && p.status != "published" && p.status != "deprecated") {
    return InvalidArgument(path + ": status '" + p.status + "' is not one of draft, published, deprecated");
  }
  p.version = Str(d, "version", "0.1.0");
  if (!IsSemver(p.version)) {
    return InvalidArgument(path + ": version '" + p.version + "' is not a semantic version (MAJOR.MINOR.PATCH)");
  }
  if (d.contains("inputPorts")) {
    if (!d["inputPorts"].is_array()) return InvalidArgument(path + ": inputPorts is a list");
    for (const auto& in : d["inputPorts"]) {
      InputPort ip;
      ip.product = in.is_string() ? in.get<std::string>() : Str(in, "product");
      if (ip.product.find('.') == std::string::npos) {
        return InvalidArgument(path + ": an input port names a product as domain.name, not '" + ip.product + "'");
      }
      p.inputs.push_back(ip);
    }
  }
  if (!d.contains("outputPorts") || !d["outputPorts"].is_array() || d["outputPorts"].empty()) {
    return InvalidArgument(path + ": the product needs outputPorts: a list of tables or views it publishes");
  }
  std::set<std::string> port_names;
  for (size_t i = 0; i < d["outputPorts"].size(); ++i) {
    const Json& o = d["outputPorts"][i];
    OutputPort port;
    port.table = Str(o, "table");
    port.name = Str(o, "name", port.table);
    const std::string where = path + ": output port " + (port.name.empty() ? std::to_string(i + 1) : port.name);
    if (port.table.empty()) return InvalidArgument(where + " needs a table (a table or view of the domain)");
    if (!port_names.insert(port.name).second) return InvalidArgument(where + " is named twice");
    port.description = Str(o, "description");
    Json contract = o.contains("contract") ? o["contract"] : Json::object();
    if (!contract.is_object()) return InvalidArgument(where + ": contract is an ODCS data contract (a map)");
    // ODCS's required fields, filled in when left out.
    if (!contract.contains("apiVersion")) contract["apiVersion"] = "v3.1.0";
    if (!contract.contains("kind")) contract["kind"] = "DataContract";
    if (!contract.contains("id")) contract["id"] = p.domain + "." + p.name + "." + port.name;
    if (!contract.contains("version")) contract["version"] = p.version;
    if (!contract.contains("status")) contract["status"] = p.status == "published" ? "active" : p.status;
    if (Str(contract, "kind") != "DataContract") return InvalidArgument(where + ": the contract's kind is DataContract");
    if (Str(contract, "apiVersion").rfind("v3.", 0) != 0) {
      return InvalidArgument(where + ": the contract is an Open Data Contract Standard v3 contract (apiVersion v3.x)");
    }
    if (contract.contains("schema")) {
      if (!contract["schema"].is_array()) return InvalidArgument(where + ": the contract's schema is a list");
      // The schema object of this port's table (else the only one).
      const Json* object = nullptr;
      for (const Json& s : contract["schema"]) {
        if (Str(s, "physicalName", Str(s, "name")) == port.table) object = &s;
      }
      if (!object && contract["schema"].size() == 1) object = &contract["schema"][0];
      if (!object) {
        return InvalidArgument(where + ": the contract's schema has no object named " + port.table);
      }
      if (object->contains("properties")) {
        if (!(*object)["properties"].is_array()) return InvalidArgument(where + ": properties is a list");
        std::set<std::string> names;
        for (const Json& c : (*object)["properties"]) {
          ContractColumn col;
          col.name = Str(c, "physicalName", Str(c, "name"));
          if (col.name.empty()) return InvalidArgument(where + ": a column of the contract has no name");
          if (!names.insert(col.name).second) return InvalidArgument(where + ": column " + col.name + " is listed twice");
          col.logical_type = Str(c, "logicalType");
          col.physical_type = Str(c, "physicalType");
          col.description = Str(c, "description");
          col.required = Bool(c, "required");
          col.unique = Bool(c, "unique");
          col.primary_key = Bool(c, "primaryKey");
          col.classification = Str(c, "classification");
          static const std::set<std::string> logical = {"string", "date", "timestamp", "time", "number",
                                                        "integer", "object", "array", "boolean"};
          if (!col.logical_type.empty() && !logical.count(col.logical_type)) {
            return InvalidArgument(where + ": column " + col.name + " has logicalType '" + col.logical_type +
                                   "' (string, integer, number, boolean, date, timestamp, time, object, array)");
          }
          if (c.contains("quality")) {
            if (!c["quality"].is_array()) return InvalidArgument(where + ": quality is a list");
            for (const Json& q : c["quality"]) {
              LM_ASSIGN_OR_RETURN(QualityRule r, ParseRule(q, where + ", column " + col.name, col.name));
              if (r.type != "text") port.quality.push_back(std::move(r));
            }
          }
          port.columns.push_back(std::move(col));
        }
      }
      if (object->contains("quality")) {
        if (!(*object)["quality"].is_array()) return InvalidArgument(where + ": quality is a list");
        for (const Json& q : (*object)["quality"]) {
          LM_ASSIGN_OR_RETURN(QualityRule r, ParseRule(q, where, ""));
          if (r.type != "text") port.quality.push_back(std::move(r));
        }
      }
    }
    if (contract.contains("slaProperties")) {
      if (!contract["slaProperties"].is_array()) return InvalidArgument(where + ": slaProperties is a list");
      for (const Json& sla : contract["slaProperties"]) {
        const std::string property = Lower(Str(sla, "property"));
        if (property != "freshness" && property != "latency") continue;
        if (!sla.contains("value") || !sla["value"].is_number()) {
          return InvalidArgument(where + ": the freshness SLO needs a number as its value");
        }
        auto secs = Seconds(sla["value"].get<double>(), Str(sla, "unit", "h"));
        if (!secs) return InvalidArgument(where + ": freshness unit '" + Str(sla, "unit") + "' (d, h, m or s)");
        port.freshness_seconds = *secs;
        std::string element = Str(sla, "element");
        if (size_t dot = element.rfind('.'); dot != std::string::npos) element = element.substr(dot + 1);
        port.freshness_column = element;
        if (element.empty()) return InvalidArgument(where + ": the freshness SLO names its column: element: table.column");
      }
    }
    port.contract = std::move(contract);
    p.outputs.push_back(std::move(port));
  }
  return p;
}

Json ProductJson(const Product& p, bool detail) {
  Json outputs = Json::array();
  for (const auto& o : p.outputs) {
    if (!detail) {
      outputs.push_back({{"name", o.name}, {"table", o.table}, {"description", o.description},
                         {"columns", o.columns.size()}, {"quality", o.quality.size()}});
      continue;
    }
    Json cols = Json::array();
    for (const auto& c : o.columns) {
      cols.push_back({{"name", c.name}, {"logicalType", c.logical_type}, {"physicalType", c.physical_type},
                      {"description", c.description}, {"required", c.required}, {"unique", c.unique},
                      {"primaryKey", c.primary_key}, {"classification", c.classification}});
    }
    Json quality = Json::array();
    for (const auto& q : o.quality) {
      quality.push_back({{"name", q.name}, {"type", q.type}, {"column", q.column}, {"rule", q.Describe()},
                         {"severity", q.severity}});
    }
    Json port = {{"name", o.name}, {"table", o.table}, {"description", o.description}, {"columns", cols},
                 {"quality", quality}, {"contract", o.contract}};
    if (o.freshness_seconds > 0) {
      port["freshness"] = {{"maxAgeSeconds", o.freshness_seconds}, {"column", o.freshness_column}};
    }
    outputs.push_back(std::move(port));
  }
  Json inputs = Json::array();
  for (const auto& i : p.inputs) inputs.push_back(i.product);
  return {{"id", p.id()}, {"name", p.name}, {"domain", p.domain}, {"owner", p.owner},
          {"description", p.description}, {"tags", p.tags}, {"status", p.status},
          {"version", p.version}, {"inputPorts", inputs}, {"outputPorts", outputs}, {"path", p.path}};
}

std::optional<int> MajorVersion(const std::string& version) {
  if (!IsSemver(version)) return std::nullopt;
  return std::atoi(version.c_str());
}

namespace {

// Whether a column of type `after` holds every value of type `before` (a widening, or the same).
bool Widens(const std::string& before, const std::string& after) {
  const std::string b = Lower(before), a = Lower(after);
  if (b == a || b.empty() || a.empty()) return true;
  static const std::vector<std::string> ints = {"tinyint", "smallint", "integer", "bigint", "hugeint"};
  auto norm = [](const std::string& t) { return t == "int" ? std::string("integer") : t; };
  auto rank = [&](const std::string& t) {
    auto it = std::find(ints.begin(), ints.end(), norm(t));
    return it == ints.end() ? -1 : static_cast<int>(it - ints.begin());
  };
  if (norm(b) == norm(a)) return true;
  const int rb = rank(b), ra = rank(a);
  if (rb >= 0 && ra >= 0) return ra >= rb;
  if (rb >= 0 && (a == "double" || a.rfind("decimal", 0) == 0)) return true;
  if (b == "float" && a == "double") return true;
  if (b == "date" && a.rfind("timestamp", 0) == 0) return true;
  if (a == "varchar" || a == "string" || a == "text") return true;  // anything reads as text
  // decimal(p,s) -> decimal(p2,s) with p2 >= p
  if (b.rfind("decimal(", 0) == 0 && a.rfind("decimal(", 0) == 0) {
    int pb = 0, sb = 0, pa = 0, sa = 0;
    if (std::sscanf(b.c_str(), "decimal(%d,%d)", &pb, &sb) == 2 &&
        std::sscanf(a.c_str(), "decimal(%d,%d)", &pa, &sa) == 2) {
      return sa == sb && pa >= pb;
    }
  }
  return false;
}

}  // namespace

std::vector<ContractChange> CompareContracts(const Product& before, const Product& after) {
  std::vector<ContractChange> out;
  for (const OutputPort& b : before.outputs) {
    auto a = std::find_if(after.outputs.begin(), after.outputs.end(), [&](const OutputPort& o) { return o.name == b.name; });
    if (a == after.outputs.end()) {
      out.push_back({true, b.name, "", "output port removed"});
      continue;
    }
    if (a->table != b.table) out.push_back({true, b.name, "", "now reads table " + a->table + " instead of " + b.table});
    for (const ContractColumn& bc : b.columns) {
      auto ac = std::find_if(a->columns.begin(), a->columns.end(), [&](const ContractColumn& c) { return c.name == bc.name; });
      if (ac == a->columns.end()) {
        out.push_back({true, b.name, bc.name, "column removed (or renamed)"});
        continue;
      }
      const std::string bt = bc.physical_type.empty() ? bc.logical_type : bc.physical_type;
      const std::string at = ac->physical_type.empty() ? ac->logical_type : ac->physical_type;
      if (Lower(bt) != Lower(at)) {
        bool widened = Widens(bt, at) ||
                       (bc.physical_type.empty() && ac->physical_type.empty() && bt == "integer" && at == "number");
        out.push_back({!widened, b.name, bc.name,
                       std::string(widened ? "type widened" : "type narrowed or changed") + " from " + bt + " to " + at});
      }
      if (bc.required && !ac->required) out.push_back({true, b.name, bc.name, "no longer required (may hold NULLs)"});
      if (bc.unique && !ac->unique) out.push_back({true, b.name, bc.name, "no longer unique"});
      if (bc.classification != ac->classification) {
        out.push_back({false, b.name, bc.name,
                       "classification changed from '" + bc.classification + "' to '" + ac->classification + "'"});
      }
    }
    for (const ContractColumn& ac : a->columns) {
      if (std::none_of(b.columns.begin(), b.columns.end(), [&](const ContractColumn& c) { return c.name == ac.name; })) {
        out.push_back({false, b.name, ac.name, "column added"});
      }
    }
    if (b.freshness_seconds > 0 && (a->freshness_seconds == 0 || a->freshness_seconds > b.freshness_seconds)) {
      out.push_back({true, b.name, "", "freshness SLO loosened"});
    }
    // Quality rules, by what they check: reported, not breaking (the shape of the data holds).
    auto rules = [](const OutputPort& o) {
      std::set<std::string> r;
      for (const auto& q : o.quality) r.insert(q.Describe());
      return r;
    };
    const std::set<std::string> br = rules(b), ar = rules(*a);
    for (const auto& r : br) {
      if (!ar.count(r)) out.push_back({false, b.name, "", "quality rule removed: " + r});
    }
    for (const auto& r : ar) {
      if (!br.count(r)) out.push_back({false, b.name, "", "quality rule added: " + r});
    }
  }
  for (const OutputPort& a : after.outputs) {
    if (std::none_of(before.outputs.begin(), before.outputs.end(), [&](const OutputPort& o) { return o.name == a.name; })) {
      out.push_back({false, a.name, "", "output port added"});
    }
  }
  return out;
}

Result<Policies> ParsePolicies(const std::string& yaml, const std::string& path) {
  Policies out;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return out;
  if (!root.IsMap()) return InvalidArgument(path + ": the policies are a YAML map (owner_required: true, ...)");
  const std::map<std::string, bool*> fields = {
      {"owner_required", &out.owner_required},
      {"description_required", &out.description_required},
      {"column_descriptions_required", &out.column_descriptions_required},
      {"personal_data_classified", &out.personal_data_classified},
      {"snake_case_names", &out.snake_case_names}};
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    auto it = fields.find(key);
    if (it == fields.end()) {
      std::string known;
      for (const auto& [k, v] : fields) known += (known.empty() ? "" : ", ") + k;
      return InvalidArgument(path + ": unknown policy '" + key + "' (" + known + ")");
    }
    const Json v = ToJson(kv.second);
    if (!v.is_boolean()) return InvalidArgument(path + ": policy " + key + " is true or false");
    *it->second = v.get<bool>();
  }
  return out;
}

std::vector<std::string> CheckPolicies(const Product& p, const Policies& policies) {
  std::vector<std::string> out;
  auto snake = [](const std::string& s) {
    if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
    });
  };
  if (policies.owner_required && p.owner.empty()) out.push_back("product " + p.id() + " has no owner");
  if (policies.description_required && p.description.empty()) out.push_back("product " + p.id() + " has no description");
  if (policies.snake_case_names && !snake(p.name)) {
    out.push_back("product name '" + p.name + "' is not snake_case (a-z, 0-9, _; starting with a letter)");
  }
  static const std::vector<std::string> personal = {"email", "phone", "name", "address", "birth", "ssn",
                                                    "passport", "ip_address", "iban", "surname"};
  for (const OutputPort& o : p.outputs) {
    if (policies.snake_case_names && !snake(o.name)) out.push_back("output port name '" + o.name + "' is not snake_case");
    if (o.columns.empty()) out.push_back("output port " + o.name + " of " + p.id() + " has no contract columns");
    for (const ContractColumn& c : o.columns) {
      if (policies.column_descriptions_required && c.description.empty()) {
        out.push_back("column " + o.name + "." + c.name + " has no description");
      }
      if (policies.personal_data_classified && c.classification.empty()) {
        const std::string n = Lower(c.name);
        for (const std::string& hint : personal) {
          if (n.find(hint) != std::string::npos) {
            out.push_back("column " + o.name + "." + c.name + " looks like personal data (" + hint +
                          ") and has no classification");
            break;
          }
        }
      }
    }
  }
  return out;
}

std::string ProductTemplate(const std::string& domain, const std::string& name, const std::string& owner,
                            const std::string& table,
                            const std::vector<std::pair<std::string, std::string>>& columns) {
  std::string y;
  y += "# A data product of domain " + domain + " (docs/products.md). Its output ports carry contracts\n";
  y += "# in the Open Data Contract Standard v3; `lakemesh product validate` checks this file and\n";
  y += "# `lakemesh product publish` checks it against the tables before it is published.\n";
  y += "name: " + name + "\n";
  y += "domain: " + domain + "\n";
  y += "owner: " + (owner.empty() ? domain + "-team" : owner) + "\n";
  y += "description: >-\n  What this product holds, for whom, and how it is made.\n";
  y += "tags: [" + domain + "]\n";
  y += "status: draft\n";
  y += "version: 0.1.0\n";
  y += "inputPorts: []\n";
  y += "outputPorts:\n";
  y += "  - name: " + table + "\n";
  y += "    table: " + table + "\n";
  y += "    contract:\n";
  y += "      apiVersion: v3.1.0\n";
  y += "      kind: DataContract\n";
  y += "      id: " + domain + "." + name + "." + table + "\n";
  y += "      version: 0.1.0\n";
  y += "      status: draft\n";
  y += "      schema:\n";
  y += "        - name: " + table + "\n";
  y += "          physicalName: " + table + "\n";
  y += "          physicalType: table\n";
  y += "          properties:\n";
  if (columns.empty()) {
    y += "            - name: id\n              logicalType: integer\n              required: true\n";
    y += "              unique: true\n              description: ''\n";
  }
  for (const auto& [col, type] : columns) {
    y += "            - name: " + col + "\n";
    y += "              logicalType: " + LogicalTypeOf(type) + "\n";
    y += "              physicalType: " + type + "\n";
    y += "              description: ''\n";
  }
  y += "          quality:\n";
  y += "            - metric: rowCount\n              mustBeGreaterThan: 0\n";
  return y;
}

namespace {

constexpr size_t kMaxProductFile = 4 << 20;

Result<std::string> ReadObject(versioning::Repositories& repos, const versioning::ObjectInfo& o) {
  if (o.entry.size > kMaxProductFile) {
    return InvalidArgument(o.path + " is " + std::to_string(o.entry.size) + " bytes; a product file is at most 4 MiB");
  }
  LM_ASSIGN_OR_RETURN(auto reader, repos.OpenObject(o.entry));
  std::string text;
  char buf[65536];
  while (true) {
    LM_ASSIGN_OR_RETURN(size_t n, reader->Read(buf, sizeof(buf)));
    if (n == 0) break;
    text.append(buf, n);
  }
  return text;
}

// Parsed product files by (domain, path, blob address): a blob's bytes never change, so a listing
// reads and parses only the files that changed since it last saw them. Bounded; cleared when full.
class ParsedFiles {
 public:
  Result<Product> Get(versioning::Repositories& repos, const std::string& domain,
                      const versioning::ObjectInfo& o) {
    if (o.entry.address.empty()) return Parse(repos, domain, o);
    const std::string key = domain + '\0' + o.path + '\0' + o.entry.address;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) return it->second;
    }
    Result<Product> p = Parse(repos, domain, o);
    if (!p.ok() && p.status().code() != ErrorCode::kInvalidArgument) return p;  // may pass later
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() >= kMaxEntries) cache_.clear();
    cache_.emplace(key, p);
    return p;
  }

 private:
  static constexpr size_t kMaxEntries = 20000;
  static Result<Product> Parse(versioning::Repositories& repos, const std::string& domain,
                               const versioning::ObjectInfo& o) {
    LM_ASSIGN_OR_RETURN(std::string text, ReadObject(repos, o));
    return ParseProduct(text, domain, o.path);
  }
  std::mutex mu_;
  std::unordered_map<std::string, Result<Product>> cache_;
};

ParsedFiles& Parsed() {
  static ParsedFiles* files = new ParsedFiles();
  return *files;
}

bool IsProductFile(const std::string& path) {
  auto ends = [&](const char* suffix) {
    const size_t n = std::strlen(suffix);
    return path.size() > n && path.compare(path.size() - n, n, suffix) == 0;
  };
  return path.rfind("products/", 0) == 0 && path.find('/', 9) == std::string::npos &&
         (ends(".yaml") || ends(".yml"));
}

}  // namespace

Result<DomainProducts> LoadProducts(versioning::Repositories& repos, const std::string& domain,
                                    const std::string& ref) {
  DomainProducts out;
  versioning::ListOptions opts;
  opts.prefix = "products/";
  opts.delimiter = "/";
  while (true) {
    LM_ASSIGN_OR_RETURN(versioning::Listing page, repos.ListObjects(domain, ref, opts));
    for (const auto& o : page.objects) {
      if (!IsProductFile(o.path)) continue;
      auto p = Parsed().Get(repos, domain, o);
      if (!p.ok()) {
        out.broken.emplace_back(o.path, p.status().message());
        continue;
      }
      const std::string stem = o.path.substr(9, o.path.rfind('.') - 9);
      if (p->name != stem) {
        out.broken.emplace_back(o.path, o.path + ": names the product '" + p->name +
                                            "'; a product's file is products/<name>.yaml");
        continue;
      }
      out.products.push_back(std::move(*p));
    }
    if (!page.truncated) break;
    opts.after = page.next_after;
  }
  return out;
}

Result<Product> LoadProduct(versioning::Repositories& repos, const std::string& domain,
                            const std::string& ref, const std::string& name) {
  for (const char* ext : {".yaml", ".yml"}) {
    const std::string path = "products/" + name + ext;
    auto o = repos.StatObject(domain, ref, path);
    if (o.status().IsNotFound()) continue;
    if (!o.ok()) return o.status();
    return Parsed().Get(repos, domain, *o);
  }
  return NotFound("domain " + domain + " has no product " + name + " at " + ref + " (products/" + name + ".yaml)");
}

}  // namespace lakemesh::catalog
