#include "sql/eager_aggregation.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <vector>

namespace lakemesh::sql {
namespace {

using Json = nlohmann::json;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Str(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsNull(const Json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null();
}

bool EmptyArray(const Json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() || (it->is_array() && it->empty());
}

// --- building expressions as json_serialize_sql writes them ---------------------------------

Json ColumnRef(const std::string& table, const std::string& column) {
  return {{"class", "COLUMN_REF"}, {"type", "COLUMN_REF"}, {"alias", ""},
          {"query_location", 0},   {"column_names", Json::array({table, column})}};
}

Json Function(const std::string& name, Json children, bool is_operator = false) {
  return {{"class", "FUNCTION"},
          {"type", "FUNCTION"},
          {"alias", ""},
          {"query_location", 0},
          {"function_name", name},
          {"schema", ""},
          {"children", std::move(children)},
          {"filter", nullptr},
          {"order_bys", {{"type", "ORDER_MODIFIER"}, {"orders", Json::array()}}},
          {"distinct", false},
          {"is_operator", is_operator},
          {"export_state", false},
          {"catalog", ""}};
}

Json Constant(int64_t v) {
  return {{"class", "CONSTANT"},
          {"type", "VALUE_CONSTANT"},
          {"alias", ""},
          {"query_location", 0},
          {"value", {{"type", {{"id", "BIGINT"}, {"type_info", nullptr}}},
                     {"is_null", false},
                     {"value", v}}}};
}

Json Cast(Json child, const std::string& type) {
  return {{"class", "CAST"},
          {"type", "OPERATOR_CAST"},
          {"alias", ""},
          {"query_location", 0},
          {"child", std::move(child)},
          {"cast_type", {{"id", type}, {"type_info", nullptr}}},
          {"try_cast", false}};
}

Json Coalesce(Json a, Json b) {
  return {{"class", "OPERATOR"},
          {"type", "OPERATOR_COALESCE"},
          {"alias", ""},
          {"query_location", 0},
          {"children", Json::array({std::move(a), std::move(b)})}};
}

Json And(std::vector<Json> terms) {
  if (terms.size() == 1) return std::move(terms[0]);
  return {{"class", "CONJUNCTION"},
          {"type", "CONJUNCTION_AND"},
          {"alias", ""},
          {"query_location", 0},
          {"children", Json(std::move(terms))}};
}

void Conjuncts(const Json& e, std::vector<Json>* out) {
  if (Str(e, "class") == "CONJUNCTION" && Str(e, "type") == "CONJUNCTION_AND" &&
      e.contains("children") && e["children"].is_array()) {
    for (const Json& c : e["children"]) Conjuncts(c, out);
    return;
  }
  out->push_back(e);
}

// "decimal(10,2)" -> 2; nullopt for other types.
std::optional<int> DecimalScale(const std::string& type) {
  if (type.rfind("decimal(", 0) != 0) return std::nullopt;
  size_t comma = type.find(',');
  if (comma == std::string::npos) return std::nullopt;
  int scale = 0;
  for (size_t i = comma + 1; i < type.size() && type[i] != ')'; ++i) {
    if (type[i] == ' ') continue;
    if (!std::isdigit(static_cast<unsigned char>(type[i]))) return std::nullopt;
    scale = scale * 10 + (type[i] - '0');
    if (scale > 38) return std::nullopt;
  }
  return scale;
}

class Rewriter {
 public:
  Rewriter(const StatsLookup& stats, const FunctionKinds& kinds,
           const EagerAggregationOptions& options)
      : stats_(stats), kinds_(kinds), options_(options) {}

  bool Try(Json& node);

 private:
  struct Leaf {
    std::string binding;  // lower case
    std::string name;     // as the query writes it (alias, else the table's name)
    Json* node = nullptr;
    const TableStats* stats = nullptr;
  };
  struct Use {
    int leaf = -1;  // -1: a select-list alias
    std::string column;
    Json* ref = nullptr;
  };
  // A join's condition, split, so that conjuncts can be moved below it.
  struct JoinCondition {
    Json* join = nullptr;
    std::vector<Json> conjuncts;
  };

  bool CollectLeaves(Json& from);
  std::optional<Use> Resolve(Json& ref) const;
  // Columns and aggregates of an expression; false where it holds what the rewrite does not
  // understand (a subquery, a star, an unknown function, a column of no table).
  bool Visit(Json& e, std::vector<Use>* uses, std::vector<Json*>* aggregates) const;
  std::set<int> LeavesOf(const std::vector<Use>& uses) const {
    std::set<int> out;
    for (const Use& u : uses) {
      if (u.leaf >= 0) out.insert(u.leaf);
    }
    return out;
  }

  const StatsLookup& stats_;
  const FunctionKinds& kinds_;
  const EagerAggregationOptions& options_;
  std::vector<Leaf> leaves_;
  std::vector<JoinCondition> joins_;
  std::set<std::string> aliases_;  // of the select list, lower case
};

bool Rewriter::CollectLeaves(Json& from) {
  const std::string type = Str(from, "type");
  if (type == "JOIN") {
    if (Str(from, "join_type") != "INNER" || Str(from, "ref_type") != "REGULAR" ||
        !EmptyArray(from, "using_columns") || IsNull(from, "condition") ||
        !from.contains("left") || !from.contains("right")) {
      return false;
    }
    JoinCondition jc;
    jc.join = &from;
    Conjuncts(from["condition"], &jc.conjuncts);
    joins_.push_back(std::move(jc));
    return CollectLeaves(from["left"]) && CollectLeaves(from["right"]);
  }
  if (type != "BASE_TABLE" || !IsNull(from, "at_clause") || !IsNull(from, "sample") ||
      !EmptyArray(from, "column_name_alias") || !Str(from, "catalog_name").empty()) {
    return false;
  }
  Leaf leaf;
  leaf.name = Str(from, "alias").empty() ? Str(from, "table_name") : Str(from, "alias");
  leaf.binding = Lower(leaf.name);
  leaf.node = &from;
  leaf.stats = stats_(Str(from, "schema_name"), Str(from, "table_name"));
  if (!leaf.stats || leaf.name.empty()) return false;
  for (const Leaf& other : leaves_) {
    if (other.binding == leaf.binding) return false;
  }
  leaves_.push_back(std::move(leaf));
  return true;
}

std::optional<Rewriter::Use> Rewriter::Resolve(Json& ref) const {
  const Json& names = ref["column_names"];
  if (!names.is_array() || names.empty() || names.size() > 2) return std::nullopt;
  for (const Json& n : names) {
    if (!n.is_string()) return std::nullopt;
  }
  Use use;
  use.ref = &ref;
  if (names.size() == 2) {
    const std::string binding = Lower(names[0].get<std::string>());
    use.column = Lower(names[1].get<std::string>());
    for (size_t i = 0; i < leaves_.size(); ++i) {
      if (leaves_[i].binding != binding) continue;
      if (!leaves_[i].stats->columns.count(use.column)) return std::nullopt;
      use.leaf = static_cast<int>(i);
      return use;
    }
    return std::nullopt;  // a struct field, an outer query's column: not understood
  }
  use.column = Lower(names[0].get<std::string>());
  int found = 0;
  for (size_t i = 0; i < leaves_.size(); ++i) {
    if (leaves_[i].stats->columns.count(use.column)) {
      use.leaf = static_cast<int>(i);
      ++found;
    }
  }
  const bool alias = aliases_.count(use.column) > 0;
  if (found == 1 && !alias) return use;
  if (found == 0 && alias) {
    use.leaf = -1;
    return use;
  }
  return std::nullopt;  // ambiguous, or no such column
}

bool Rewriter::Visit(Json& e, std::vector<Use>* uses, std::vector<Json*>* aggregates) const {
  if (e.is_array()) {
    for (Json& c : e) {
      if (!Visit(c, uses, aggregates)) return false;
    }
    return true;
  }
  if (!e.is_object()) return true;
  if (e.contains("class")) {
    static const std::set<std::string> kUnderstood = {
        "CONSTANT", "PARAMETER", "COLUMN_REF", "FUNCTION", "COMPARISON", "CONJUNCTION",
        "CAST",     "CASE",      "OPERATOR",   "BETWEEN",  "WINDOW",     "COLLATE"};
    const std::string cls = Str(e, "class");
    if (!kUnderstood.count(cls)) return false;
    if (cls == "CONSTANT" || cls == "PARAMETER") return true;
    if (cls == "COLUMN_REF") {
      auto use = Resolve(e);
      if (!use) return false;
      uses->push_back(*use);
      return true;
    }
    if (cls == "FUNCTION") {
      if (!Str(e, "schema").empty() || !Str(e, "catalog").empty()) return false;
      const std::string name = Lower(Str(e, "function_name"));
      if (kinds_.aggregates.count(name)) {
        if (!aggregates) return false;  // an aggregate inside an aggregate
        aggregates->push_back(&e);
        return true;
      }
      if (!kinds_.scalars.count(name)) return false;
    }
  }
  for (auto& [key, value] : e.items()) {
    if (!Visit(value, uses, aggregates)) return false;
  }
  return true;
}

bool Rewriter::Try(Json& node) {
  if (Str(node, "type") != "SELECT_NODE" || !node.contains("from_table") ||
      Str(node["from_table"], "type") != "JOIN" ||
      Str(node, "aggregate_handling") != "STANDARD_HANDLING" || !IsNull(node, "qualify") ||
      !IsNull(node, "sample") || !node.contains("select_list") ||
      !node["select_list"].is_array()) {
    return false;
  }
  Json& groups = node["group_expressions"];
  Json& sets = node["group_sets"];
  if (!groups.is_array() || !sets.is_array()) return false;
  if (!groups.empty()) {  // one grouping set of every expression (no ROLLUP, CUBE, sets)
    if (sets.size() != 1 || !sets[0].is_array() || sets[0].size() != groups.size()) return false;
    std::set<uint64_t> seen;
    for (const Json& i : sets[0]) {
      if (!i.is_number_unsigned() || i.get<uint64_t>() >= groups.size()) return false;
      seen.insert(i.get<uint64_t>());
    }
    if (seen.size() != groups.size()) return false;
  } else if (!sets.empty()) {
    return false;
  }
  if (node.contains("modifiers") && node["modifiers"].is_array()) {
    for (const Json& m : node["modifiers"]) {
      static const std::set<std::string> kAbove = {"ORDER_MODIFIER", "LIMIT_MODIFIER",
                                                   "LIMIT_PERCENT_MODIFIER", "DISTINCT_MODIFIER"};
      if (!kAbove.count(Str(m, "type"))) return false;
    }
  }
  if (!CollectLeaves(node["from_table"])) return false;
  for (const Json& item : node["select_list"]) {
    if (!Str(item, "alias").empty()) aliases_.insert(Lower(Str(item, "alias")));
  }

  // What is above the aggregation: the select list, HAVING, the modifiers.
  std::vector<Use> above;
  std::vector<Json*> aggregates;
  if (!Visit(node["select_list"], &above, &aggregates)) return false;
  if (!IsNull(node, "having") && !Visit(node["having"], &above, &aggregates)) return false;
  if (node.contains("modifiers") && !Visit(node["modifiers"], &above, &aggregates)) return false;
  if (aggregates.empty()) return false;

  // Below it: GROUP BY (a constant there is a position in the select list), WHERE, the joins.
  std::vector<const Json*> group_terms;
  std::vector<Use> grouped;
  for (Json& g : groups) {
    if (Str(g, "class") == "CONSTANT") {
      const Json& v = g["value"];
      if (!v.contains("value") || !v["value"].is_number_integer()) return false;
      int64_t pos = v["value"].get<int64_t>();
      if (pos < 1 || pos > static_cast<int64_t>(node["select_list"].size())) return false;
      group_terms.push_back(&node["select_list"][pos - 1]);
      continue;
    }
    std::vector<Use> uses;
    if (!Visit(g, &uses, nullptr)) return false;
    group_terms.push_back(&g);
    grouped.insert(grouped.end(), uses.begin(), uses.end());
  }
  std::vector<Json> where;
  if (!IsNull(node, "where_clause")) Conjuncts(node["where_clause"], &where);

  // The large table: the one whose columns the aggregates read.
  struct Aggregate {
    Json* node;
    std::string name;
    std::vector<Use> uses;
    std::set<int> leaves;
  };
  std::vector<Aggregate> aggs;
  std::set<int> fact_leaves;
  for (Json* a : aggregates) {
    Aggregate agg{a, Lower(Str(*a, "function_name")), {}, {}};
    if (!IsNull(*a, "filter") || a->value("export_state", false)) return false;
    const Json& orders = (*a)["order_bys"];
    if (orders.is_object() && !EmptyArray(orders, "orders")) return false;
    if (!Visit((*a)["children"], &agg.uses, nullptr)) return false;
    agg.leaves = LeavesOf(agg.uses);
    if (agg.leaves.size() > 1) return false;
    if (!a->value("distinct", false) && agg.leaves.size() == 1 &&
        (agg.name == "sum" || agg.name == "count" || agg.name == "avg")) {
      fact_leaves.insert(*agg.leaves.begin());
    }
    aggs.push_back(std::move(agg));
  }
  if (fact_leaves.size() > 1) return false;
  int fact = -1;
  if (fact_leaves.size() == 1) {
    fact = *fact_leaves.begin();
  } else {  // count(*), min, max, DISTINCT: the largest table
    for (size_t i = 0; i < leaves_.size(); ++i) {
      if (fact < 0 || leaves_[i].stats->rows > leaves_[fact].stats->rows) fact = static_cast<int>(i);
    }
  }
  const Leaf& f = leaves_[fact];

  // The aggregates: merged from per-key partial results, left to the outer query, or a reason
  // not to rewrite.
  std::set<std::string> keys;  // columns of the large table the pre-aggregation groups by
  std::vector<Aggregate*> merged;
  bool distinct_keys = false;
  for (Aggregate& agg : aggs) {
    const bool distinct = agg.node->value("distinct", false);
    const bool on_fact = agg.leaves.count(fact) > 0;
    if (distinct) {
      if (!on_fact) continue;  // of the other tables' columns: the same rows reach it
      const Json& children = (*agg.node)["children"];
      if (children.size() != 1 || Str(children[0], "class") != "COLUMN_REF") return false;
      keys.insert(agg.uses[0].column);  // the distinct values survive grouping by them
      distinct_keys = true;
      continue;
    }
    if (!on_fact && !agg.leaves.empty()) {
      // Of the other tables' columns: min and max see the same values, anything else would
      // count each of them once per key instead of once per row.
      if (agg.name == "min" || agg.name == "max") continue;
      return false;
    }
    if (agg.name == "avg") {
      const Json& children = (*agg.node)["children"];
      if (children.size() != 1 || Str(children[0], "class") != "COLUMN_REF" || !on_fact) {
        return false;
      }
      const std::string& type = f.stats->columns.at(agg.uses[0].column).type;
      auto scale = DecimalScale(type);
      if (type != "int" && type != "long" && !(scale && *scale <= 18)) return false;
    } else if (agg.name != "sum" && agg.name != "count" && agg.name != "count_star" &&
               agg.name != "min" && agg.name != "max") {
      return false;
    }
    merged.push_back(&agg);
  }
  if (merged.empty() && !distinct_keys) return false;

  // Conditions: those on the large table alone go below; equalities with another table make
  // its column a key; conditions on the other tables stay (and, when the statistics decide,
  // keep the rewrite from being chosen: a selective filter on a small table makes DuckDB skip
  // most of the large one, which aggregating it first would not).
  bool other_filters = false;
  auto classify = [&](const Json& c, std::vector<Json>* below, std::vector<Json>* kept) {
    std::vector<Use> uses;
    Json copy = c;
    if (!Visit(copy, &uses, nullptr)) return false;
    std::set<int> ls = LeavesOf(uses);
    for (const Use& u : uses) {
      if (u.leaf < 0) return false;  // an alias below the aggregation
    }
    if (ls.size() == 1 && *ls.begin() == fact) {
      below->push_back(c);
      return true;
    }
    const std::string cmp = Str(c, "type");
    const bool column_equality =
        Str(c, "class") == "COMPARISON" &&
        (cmp == "COMPARE_EQUAL" || cmp == "COMPARE_NOT_DISTINCT_FROM") &&
        Str(c["left"], "class") == "COLUMN_REF" && Str(c["right"], "class") == "COLUMN_REF" &&
        ls.size() == 2;
    if (ls.count(fact)) {
      if (!column_equality) return false;
      for (const Use& u : uses) {
        if (u.leaf == fact) keys.insert(u.column);
      }
    } else if (!column_equality) {
      other_filters = true;
    }
    kept->push_back(c);
    return true;
  };
  std::vector<Json> below;
  std::vector<std::vector<Json>> join_kept(joins_.size());
  for (size_t j = 0; j < joins_.size(); ++j) {
    for (const Json& c : joins_[j].conjuncts) {
      if (!classify(c, &below, &join_kept[j])) return false;
    }
    if (join_kept[j].empty()) return false;
  }
  std::vector<Json> where_kept;
  for (const Json& c : where) {
    if (!classify(c, &below, &where_kept)) return false;
  }
  if (keys.empty()) return false;  // not joined by a column of its own
  // GROUP BY a column of the large table: a key too; an expression of its columns is not.
  for (const Json* g : group_terms) {
    std::vector<Use> uses;
    Json copy = *g;
    std::vector<Json*> none;
    if (!Visit(copy, &uses, &none) || !none.empty()) return false;
    std::set<int> ls = LeavesOf(uses);
    if (!ls.count(fact)) continue;
    if (Str(*g, "class") != "COLUMN_REF" || uses.size() != 1) return false;
    keys.insert(uses[0].column);
  }
  // Above the aggregation, the large table's columns can only be keys.
  for (const Use& u : above) {
    if (u.leaf == fact && !keys.count(u.column)) return false;
  }

  if (options_.mode == EagerAggregationMode::kOff) return false;
  if (options_.mode == EagerAggregationMode::kAuto) {
    if (other_filters || f.stats->rows < options_.min_rows) return false;
    // The keys' combinations, from their ranges: the most rows the pre-aggregation yields.
    double combinations = 1;
    for (const std::string& k : keys) {
      const ColumnStats& c = f.stats->columns.at(k);
      if (!c.min || !c.max || *c.max < *c.min) return false;
      combinations *= static_cast<double>(*c.max) - static_cast<double>(*c.min) + 1;
    }
    if (combinations * static_cast<double>(options_.reduction) >
        static_cast<double>(f.stats->rows)) {
      return false;
    }
  }

  // The pre-aggregation: the keys, then one or two partial results per merged aggregate
  // (the same aggregate written twice, in the select list and ORDER BY say, computed once).
  Json select = Json::array();
  Json group_by = Json::array();
  Json set = Json::array();
  for (const std::string& k : keys) {
    Json key = ColumnRef(f.name, k);
    Json item = key;
    item["alias"] = k;
    set.push_back(group_by.size());
    group_by.push_back(std::move(key));
    select.push_back(std::move(item));
  }
  std::map<std::string, Json> done;  // the aggregate (without its alias) -> its merged form
  int next = 0;
  auto partial = [&](Json agg) {
    const std::string name = "__lm_a" + std::to_string(next++);
    agg["alias"] = name;
    select.push_back(std::move(agg));
    return Function("sum", Json::array({ColumnRef(f.name, name)}));
  };
  for (Aggregate* agg : merged) {
    Json key = *agg->node;
    key["alias"] = "";
    std::function<void(Json&)> unplace = [&](Json& j) {
      if (j.is_object()) {
        if (j.contains("query_location")) j["query_location"] = 0;
        for (auto& [k, v] : j.items()) unplace(v);
      } else if (j.is_array()) {
        for (Json& v : j) unplace(v);
      }
    };
    unplace(key);
    const std::string canonical = key.dump();
    const std::string alias = Str(*agg->node, "alias");
    auto it = done.find(canonical);
    if (it == done.end()) {
      Json out;
      Json original = *agg->node;
      original["alias"] = "";
      if (agg->name == "sum") {
        out = partial(original);
      } else if (agg->name == "count" || agg->name == "count_star") {
        out = Cast(Coalesce(partial(original), Constant(0)), "BIGINT");
      } else if (agg->name == "min" || agg->name == "max") {
        Json inner = partial(original);
        inner["function_name"] = agg->name;
        out = std::move(inner);
      } else {  // avg: as DuckDB computes it, the sum over the count
        Json sum = original;
        sum["function_name"] = "sum";
        Json count = original;
        count["function_name"] = "count";
        Json total = partial(sum);
        Json n = partial(count);
        auto scale = DecimalScale(f.stats->columns.at(agg->uses[0].column).type);
        if (!scale) {
          out = Function("/", Json::array({std::move(total), std::move(n)}), true);
        } else {
          // A decimal's average is its unscaled sum over count x 10^scale, in doubles.
          int64_t power = 1;
          for (int i = 0; i < *scale; ++i) power *= 10;
          Json unscaled = Cast(
              Cast(Function("*", Json::array({std::move(total), Constant(power)}), true),
                   "HUGEINT"),
              "DOUBLE");
          Json divisor =
              Cast(Function("*", Json::array({std::move(n), Constant(power)}), true), "DOUBLE");
          out = Function("/", Json::array({std::move(unscaled), std::move(divisor)}), true);
        }
      }
      it = done.emplace(canonical, std::move(out)).first;
    }
    *agg->node = it->second;
    (*agg->node)["alias"] = alias;
  }

  Json pre = {{"type", "SELECT_NODE"},
              {"modifiers", Json::array()},
              {"cte_map", {{"map", Json::array()}}},
              {"select_list", std::move(select)},
              {"from_table", *f.node},
              {"where_clause", below.empty() ? Json(nullptr) : And(below)},
              {"group_expressions", std::move(group_by)},
              {"group_sets", Json::array({std::move(set)})},
              {"aggregate_handling", "STANDARD_HANDLING"},
              {"having", nullptr},
              {"sample", nullptr},
              {"qualify", nullptr}};
  for (size_t j = 0; j < joins_.size(); ++j) {
    (*joins_[j].join)["condition"] = And(std::move(join_kept[j]));
  }
  node["where_clause"] = where_kept.empty() ? Json(nullptr) : And(std::move(where_kept));
  *f.node = {{"type", "SUBQUERY"},
             {"alias", f.name},
             {"sample", nullptr},
             {"query_location", 0},
             {"subquery", {{"node", std::move(pre)}, {"named_param_map", Json::array()}}},
             {"column_name_alias", Json::array()}};
  return true;
}

int Walk(Json& j, const StatsLookup& stats, const FunctionKinds& kinds,
         const EagerAggregationOptions& options) {
  int n = 0;
  if (j.is_array()) {
    for (Json& c : j) n += Walk(c, stats, kinds, options);
    return n;
  }
  if (!j.is_object()) return 0;
  for (auto& [key, value] : j.items()) n += Walk(value, stats, kinds, options);
  if (Str(j, "type") == "SELECT_NODE" && j.contains("from_table") &&
      Str(j["from_table"], "type") == "JOIN") {
    Json copy = j;  // a rewrite that gives up half-way leaves the node as it was
    Rewriter r(stats, kinds, options);
    if (r.Try(copy)) {
      j = std::move(copy);
      ++n;
    }
  }
  return n;
}

}  // namespace

int PushAggregatesBelowJoins(Json& statements, const StatsLookup& stats,
                             const FunctionKinds& kinds, const EagerAggregationOptions& options) {
  if (options.mode == EagerAggregationMode::kOff) return 0;
  return Walk(statements, stats, kinds, options);
}

}  // namespace lakemesh::sql
