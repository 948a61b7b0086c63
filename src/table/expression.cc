#include "table/expression.h"

#include <cctype>
#include <cmath>

#include "base/json_depth.h"

namespace lakemesh::table {
namespace {

using Json = nlohmann::json;

Status Bad(std::string m) { return InvalidArgument(std::move(m)); }

struct OpName {
  Expr::Op op;
  const char* name;
  const char* symbol;
};
constexpr OpName kOps[] = {
    {Expr::kTrue, "true", "true"},           {Expr::kFalse, "false", "false"},
    {Expr::kAnd, "and", "and"},              {Expr::kOr, "or", "or"},
    {Expr::kNot, "not", "not"},              {Expr::kLt, "lt", "<"},
    {Expr::kLtEq, "lt-eq", "<="},            {Expr::kGt, "gt", ">"},
    {Expr::kGtEq, "gt-eq", ">="},            {Expr::kEq, "eq", "="},
    {Expr::kNotEq, "not-eq", "!="},          {Expr::kStartsWith, "starts-with", "starts with"},
    {Expr::kNotStartsWith, "not-starts-with", "not starts with"},
    {Expr::kIn, "in", "in"},                 {Expr::kNotIn, "not-in", "not in"},
    {Expr::kIsNull, "is-null", "is null"},   {Expr::kNotNull, "not-null", "is not null"},
    {Expr::kIsNan, "is-nan", "is nan"},      {Expr::kNotNan, "not-nan", "is not nan"},
};

const OpName& Info(Expr::Op op) {
  for (const auto& o : kOps) {
    if (o.op == op) return o;
  }
  return kOps[0];
}

bool IsUnary(Expr::Op op) {
  return op == Expr::kIsNull || op == Expr::kNotNull || op == Expr::kIsNan || op == Expr::kNotNan;
}
bool IsSet(Expr::Op op) { return op == Expr::kIn || op == Expr::kNotIn; }

// A term: "name", {"type":"reference","name":"x"}, or a transform term (not supported here).
Result<std::string> ParseTerm(const Json& t) {
  if (t.is_string()) return t.get<std::string>();
  if (t.is_object() && t.value("type", std::string()) == "reference" && t.contains("name") &&
      t["name"].is_string()) {
    return t["name"].get<std::string>();
  }
  if (t.is_object() && t.value("type", std::string()) == "transform") {
    return Bad("transform terms in filters are not supported: " + t.dump());
  }
  return Bad("expected a field reference: " + t.dump());
}

// A literal: a bare value or {"type":"literal","value":v}.
Json ParseLiteral(const Json& v) {
  if (v.is_object() && v.value("type", std::string()) == "literal" && v.contains("value")) {
    return v["value"];
  }
  return v;
}

Expr::Op Negate(Expr::Op op) {
  switch (op) {
    case Expr::kTrue: return Expr::kFalse;
    case Expr::kFalse: return Expr::kTrue;
    case Expr::kLt: return Expr::kGtEq;
    case Expr::kLtEq: return Expr::kGt;
    case Expr::kGt: return Expr::kLtEq;
    case Expr::kGtEq: return Expr::kLt;
    case Expr::kEq: return Expr::kNotEq;
    case Expr::kNotEq: return Expr::kEq;
    case Expr::kStartsWith: return Expr::kNotStartsWith;
    case Expr::kNotStartsWith: return Expr::kStartsWith;
    case Expr::kIn: return Expr::kNotIn;
    case Expr::kNotIn: return Expr::kIn;
    case Expr::kIsNull: return Expr::kNotNull;
    case Expr::kNotNull: return Expr::kIsNull;
    case Expr::kIsNan: return Expr::kNotNan;
    case Expr::kNotNan: return Expr::kIsNan;
    default: return op;
  }
}

// Pushes `not` down to the predicates (De Morgan); the result has no kNot.
Expr PushNot(const Expr& e, bool negate) {
  switch (e.op) {
    case Expr::kNot: return PushNot(e.children[0], !negate);
    case Expr::kAnd:
    case Expr::kOr: {
      Expr out;
      out.op = (e.op == Expr::kAnd) != negate ? Expr::kAnd : Expr::kOr;
      out.children = {PushNot(e.children[0], negate), PushNot(e.children[1], negate)};
      return out;
    }
    default: {
      Expr out = e;
      if (negate) out.op = Negate(e.op);
      return out;
    }
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Finds a field by dotted name through structs; fields inside lists and maps are refused.
Status Resolve(const Json& schema, const std::string& name, bool cs, int32_t* id,
               PrimitiveType* type) {
  const Json* st = &schema;
  std::string_view rest = name;
  while (true) {
    const Json* fields = st->contains("fields") ? &(*st)["fields"] : nullptr;
    if (!fields || !fields->is_array()) break;
    // The longest field name that matches a prefix of `rest` (names may contain dots).
    const Json* found = nullptr;
    size_t used = 0;
    for (const Json& f : *fields) {
      std::string fname = f.value("name", std::string());
      if (fname.size() > rest.size() || fname.size() <= used) continue;
      std::string_view head = rest.substr(0, fname.size());
      bool match = cs ? head == fname : EqualsIgnoreCase(head, fname);
      if (match && (fname.size() == rest.size() || rest[fname.size()] == '.')) {
        found = &f;
        used = fname.size();
      }
    }
    if (!found) break;
    const Json& t = (*found)["type"];
    if (used == rest.size()) {
      if (!t.is_string()) {
        return Bad("column '" + name + "' is not of a primitive type; filters compare primitives");
      }
      LM_ASSIGN_OR_RETURN(*type, ParsePrimitiveType(t.get<std::string>()));
      *id = (*found)["id"].get<int32_t>();
      return Status::OK();
    }
    if (!t.is_object() || t.value("type", std::string()) != "struct") {
      return Bad("column '" + name + "': only fields of structs can be filtered on");
    }
    st = &t;
    rest.remove_prefix(used + 1);
  }
  return Bad("unknown column '" + name + "' in filter");
}

std::string Quote(const Literal& v) {
  Json j = ToJson(v);
  if (j.is_string()) return "'" + j.get<std::string>() + "'";
  return j.dump();
}

// --- evaluation helpers ------------------------------------------------------------------------

bool StartsWith(const Literal& v, const Literal& prefix) {
  return v.s.size() >= prefix.s.size() && v.s.compare(0, prefix.s.size(), prefix.s) == 0;
}

bool IsNaN(const Literal& v) {
  return (v.type.id == TypeId::kFloat || v.type.id == TypeId::kDouble) && std::isnan(v.d);
}

// Rows might match `p` given a range [lo, hi] of the non-null, non-NaN values (either may be
// unknown), and whether the values are all null. Used for summaries and for metrics.
struct Stats {
  std::optional<Literal> lo, hi;
  bool nulls_only = false;    // every value is null
  bool no_nulls = false;      // no value is null
  bool no_nans = false;       // no value is NaN
  bool nans_only = false;     // every value is NaN
};

bool MightMatchRange(const Expr& p, const Stats& s) {
  switch (p.op) {
    case Expr::kIsNull: return !s.no_nulls;
    case Expr::kNotNull: return !s.nulls_only;
    case Expr::kIsNan: return !s.no_nans;
    case Expr::kNotNan: return !s.nans_only;
    default: break;
  }
  if (s.nulls_only || s.nans_only) {
    // Comparisons never match null; NaN matches only not-eq / not-in, which are handled below.
    return p.op == Expr::kNotEq || p.op == Expr::kNotIn || p.op == Expr::kNotStartsWith;
  }
  static const Literal kNone;
  const Literal& v = p.values.empty() ? kNone : p.values[0];
  switch (p.op) {
    case Expr::kLt: return !s.lo || Compare(*s.lo, v) < 0;
    case Expr::kLtEq: return !s.lo || Compare(*s.lo, v) <= 0;
    case Expr::kGt: return !s.hi || Compare(*s.hi, v) > 0;
    case Expr::kGtEq: return !s.hi || Compare(*s.hi, v) >= 0;
    case Expr::kEq:
      if (IsNaN(v)) return !s.no_nans;
      return (!s.lo || Compare(*s.lo, v) <= 0) && (!s.hi || Compare(*s.hi, v) >= 0);
    case Expr::kIn:
      for (const Literal& x : p.values) {
        if ((!s.lo || Compare(*s.lo, x) <= 0) && (!s.hi || Compare(*s.hi, x) >= 0)) return true;
      }
      return false;
    case Expr::kStartsWith: {
      if (s.lo) {
        // Every value is >= lo; a value starting with v is < v + \xff...; if lo's prefix of v's
        // length is greater than v, nothing can start with v.
        std::string lp = s.lo->s.substr(0, v.s.size());
        if (lp > v.s) return false;
      }
      if (s.hi) {
        std::string hp = s.hi->s.substr(0, v.s.size());
        if (hp < v.s) return false;
      }
      return true;
    }
    case Expr::kNotStartsWith:
      // Only when all values share the prefix (lo and hi both start with it) can none match.
      return !(s.lo && s.hi && s.no_nulls && StartsWith(*s.lo, v) && StartsWith(*s.hi, v));
    default: return true;  // not-eq, not-in
  }
}

}  // namespace

// ------------------------------------------------------------------------------------------------

Expr Expr::And(Expr a, Expr b) {
  if (a.op == kFalse || b.op == kFalse) return False();
  if (a.op == kTrue) return b;
  if (b.op == kTrue) return a;
  Expr e{kAnd};
  e.children = {std::move(a), std::move(b)};
  return e;
}

Expr Expr::Or(Expr a, Expr b) {
  if (a.op == kTrue || b.op == kTrue) return True();
  if (a.op == kFalse) return b;
  if (b.op == kFalse) return a;
  Expr e{kOr};
  e.children = {std::move(a), std::move(b)};
  return e;
}

Expr Expr::Not(Expr a) {
  if (a.op == kTrue) return False();
  if (a.op == kFalse) return True();
  Expr e{kNot};
  e.children = {std::move(a)};
  return e;
}

Expr Expr::Predicate(Op op, std::string column, std::vector<Json> values) {
  Expr e{op};
  e.column = std::move(column);
  e.raw = std::move(values);
  return e;
}

static Result<Expr> ParseExpressionImpl(const Json& j) {
  if (j.is_boolean()) return j.get<bool>() ? Expr::True() : Expr::False();
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Bad("a filter must be a boolean or an object with a 'type': " + j.dump());
  }
  std::string type = j["type"].get<std::string>();
  const OpName* info = nullptr;
  for (const auto& o : kOps) {
    if (type == o.name) info = &o;
  }
  if (!info) return Bad("unknown filter type '" + type + "'");
  Expr::Op op = info->op;
  switch (op) {
    case Expr::kTrue: return Expr::True();
    case Expr::kFalse: return Expr::False();
    case Expr::kAnd:
    case Expr::kOr: {
      if (!j.contains("left") || !j.contains("right")) {
        return Bad("'" + type + "' needs 'left' and 'right'");
      }
      LM_ASSIGN_OR_RETURN(Expr l, ParseExpressionImpl(j["left"]));
      LM_ASSIGN_OR_RETURN(Expr r, ParseExpressionImpl(j["right"]));
      Expr e{op};
      e.children = {std::move(l), std::move(r)};
      return e;
    }
    case Expr::kNot: {
      if (!j.contains("child")) return Bad("'not' needs 'child'");
      LM_ASSIGN_OR_RETURN(Expr c, ParseExpressionImpl(j["child"]));
      Expr e{Expr::kNot};
      e.children = {std::move(c)};
      return e;
    }
    default: break;
  }
  const char* term_key = j.contains("term") ? "term" : IsUnary(op) || IsSet(op) ? "child" : "left";
  if (!j.contains(term_key)) return Bad("'" + type + "' needs a 'term'");
  LM_ASSIGN_OR_RETURN(std::string column, ParseTerm(j[term_key]));
  std::vector<Json> values;
  if (IsSet(op)) {
    if (!j.contains("values")) return Bad("'" + type + "' needs 'values'");
    const Json& vs = j["values"];
    const Json* arr = &vs;
    if (vs.is_object() && vs.value("type", std::string()) == "literals" && vs.contains("values")) {
      arr = &vs["values"];
    }
    if (!arr->is_array()) return Bad("'values' must be an array");
    for (const Json& v : *arr) values.push_back(ParseLiteral(v));
  } else if (!IsUnary(op)) {
    const char* value_key = j.contains("value") ? "value" : "right";
    if (!j.contains(value_key)) return Bad("'" + type + "' needs a 'value'");
    values.push_back(ParseLiteral(j[value_key]));
  }
  return Expr::Predicate(op, std::move(column), std::move(values));
}

Result<Expr> ParseExpression(const Json& j) {
  if (JsonDeeperThan(j, kMaxJsonDepth)) {
    return Bad("a filter may nest at most " + std::to_string(kMaxJsonDepth) + " levels");
  }
  try {
    return ParseExpressionImpl(j);
  } catch (const nlohmann::json::exception& e) {
    return Bad(std::string("malformed filter: ") + e.what());
  }
}

Json ToJson(const Expr& e) {
  switch (e.op) {
    case Expr::kTrue: return true;
    case Expr::kFalse: return false;
    case Expr::kAnd:
    case Expr::kOr:
      return {{"type", Info(e.op).name},
              {"left", ToJson(e.children[0])},
              {"right", ToJson(e.children[1])}};
    case Expr::kNot: return {{"type", "not"}, {"child", ToJson(e.children[0])}};
    default: break;
  }
  Json out = {{"type", Info(e.op).name}, {"term", e.column}};
  std::vector<Json> vals;
  if (!e.values.empty()) {
    for (const Literal& v : e.values) vals.push_back(table::ToJson(v));
  } else {
    vals = e.raw;
  }
  if (IsSet(e.op)) {
    out["values"] = vals;
  } else if (!IsUnary(e.op) && !vals.empty()) {
    out["value"] = vals[0];
  }
  return out;
}

std::string ToString(const Expr& e) {
  switch (e.op) {
    case Expr::kTrue: return "true";
    case Expr::kFalse: return "false";
    case Expr::kAnd:
    case Expr::kOr:
      return "(" + ToString(e.children[0]) + " " + Info(e.op).name + " " +
             ToString(e.children[1]) + ")";
    case Expr::kNot: return "not " + ToString(e.children[0]);
    default: break;
  }
  std::string col = e.column.empty() ? "#" + std::to_string(e.field_id) : e.column;
  std::string out = col + " " + Info(e.op).symbol;
  if (IsUnary(e.op)) return out;
  std::vector<std::string> vals;
  if (!e.values.empty()) {
    for (const Literal& v : e.values) vals.push_back(Quote(v));
  } else {
    for (const Json& v : e.raw) vals.push_back(v.dump());
  }
  if (IsSet(e.op)) {
    std::string list;
    for (size_t i = 0; i < vals.size(); ++i) list += (i ? ", " : "") + vals[i];
    return out + " (" + list + ")";
  }
  return out + " " + (vals.empty() ? "?" : vals[0]);
}

Result<Expr> Bind(const Expr& e, const Json& schema, bool case_sensitive) {
  if (!e.IsPredicate()) {
    Expr out{e.op};
    for (const Expr& c : e.children) {
      LM_ASSIGN_OR_RETURN(Expr b, Bind(c, schema, case_sensitive));
      out.children.push_back(std::move(b));
    }
    if (e.op == Expr::kNot) return PushNot(out, false);
    return out;
  }
  Expr out = e;
  LM_TRY(Resolve(schema, e.column, case_sensitive, &out.field_id, &out.type));
  out.values.clear();
  if ((e.op == Expr::kIsNan || e.op == Expr::kNotNan) && out.type.id != TypeId::kFloat &&
      out.type.id != TypeId::kDouble) {
    return Bad("'" + std::string(Info(e.op).symbol) + "' needs a float or double column; '" +
               e.column + "' is " + TypeName(out.type));
  }
  if ((e.op == Expr::kStartsWith || e.op == Expr::kNotStartsWith) &&
      out.type.id != TypeId::kString) {
    return Bad("'starts with' needs a string column; '" + e.column + "' is " +
               TypeName(out.type));
  }
  for (const Json& raw : e.raw) {
    if (raw.is_null()) return Bad("a filter literal cannot be null; use is-null");
    auto v = FromJson(out.type, raw);
    if (!v.ok()) {
      return Bad("filter on '" + e.column + "' (" + TypeName(out.type) + "): " +
                 v.status().message());
    }
    out.values.push_back(std::move(*v));
  }
  if (!IsUnary(e.op) && !IsSet(e.op) && out.values.size() != 1) {
    return Bad("'" + std::string(Info(e.op).symbol) + "' needs one value");
  }
  return out;
}

Expr ProjectToPartition(const Expr& e, const PartitionSpec& spec) {
  switch (e.op) {
    case Expr::kTrue:
    case Expr::kFalse: return e;
    case Expr::kAnd:
      return Expr::And(ProjectToPartition(e.children[0], spec),
                       ProjectToPartition(e.children[1], spec));
    case Expr::kOr:
      return Expr::Or(ProjectToPartition(e.children[0], spec),
                      ProjectToPartition(e.children[1], spec));
    case Expr::kNot: return Expr::True();  // bound filters have no `not`
    default: break;
  }
  Expr result = Expr::True();
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    const PartitionField& pf = spec.fields[i];
    if (pf.source_id != e.field_id || pf.transform.kind == Transform::kUnknown ||
        pf.transform.kind == Transform::kVoid) {
      continue;
    }
    Expr p;
    p.field_id = static_cast<int32_t>(i);
    p.type = pf.type;
    p.column = pf.name;
    const Transform& t = pf.transform;
    auto transformed = [&](Expr::Op op) -> std::optional<Expr> {
      p.op = op;
      p.values.clear();
      for (const Literal& v : e.values) {
        auto r = Apply(t, v);
        if (!r.ok() || !*r) return std::nullopt;
        p.values.push_back(**r);
      }
      return p;
    };
    std::optional<Expr> proj;
    switch (e.op) {
      case Expr::kIsNull:
      case Expr::kNotNull:
        p.op = e.op;
        proj = p;
        break;
      case Expr::kIsNan:
      case Expr::kNotNan:
        if (t.kind == Transform::kIdentity) {
          p.op = e.op;
          proj = p;
        }
        break;
      case Expr::kEq:
      case Expr::kIn:
        proj = transformed(e.op);
        break;
      case Expr::kNotEq:
      case Expr::kNotIn:
        if (t.kind == Transform::kIdentity) proj = transformed(e.op);
        break;
      case Expr::kLt:
      case Expr::kLtEq:
        if (t.kind == Transform::kIdentity) {
          proj = transformed(e.op);
        } else if (t.Monotonic()) {
          proj = transformed(Expr::kLtEq);
        }
        break;
      case Expr::kGt:
      case Expr::kGtEq:
        if (t.kind == Transform::kIdentity) {
          proj = transformed(e.op);
        } else if (t.Monotonic()) {
          proj = transformed(Expr::kGtEq);
        }
        break;
      case Expr::kStartsWith:
        if (t.kind == Transform::kIdentity ||
            (t.kind == Transform::kTruncate && pf.type.id == TypeId::kString)) {
          proj = transformed(Expr::kStartsWith);
        }
        break;
      case Expr::kNotStartsWith:
        if (t.kind == Transform::kIdentity) proj = transformed(e.op);
        break;
      default:
        break;
    }
    if (proj) result = Expr::And(std::move(result), std::move(*proj));
  }
  return result;
}

bool MatchPartition(const Expr& e, const PartitionTuple& tuple) {
  switch (e.op) {
    case Expr::kTrue: return true;
    case Expr::kFalse: return false;
    case Expr::kAnd: return MatchPartition(e.children[0], tuple) &&
                            MatchPartition(e.children[1], tuple);
    case Expr::kOr: return MatchPartition(e.children[0], tuple) ||
                           MatchPartition(e.children[1], tuple);
    case Expr::kNot: return !MatchPartition(e.children[0], tuple);
    default: break;
  }
  if (e.field_id < 0 || static_cast<size_t>(e.field_id) >= tuple.size()) return true;
  const std::optional<Literal>& v = tuple[e.field_id];
  if (e.op == Expr::kIsNull) return !v;
  if (e.op == Expr::kNotNull) return v.has_value();
  if (!v) return false;
  switch (e.op) {
    case Expr::kIsNan: return IsNaN(*v);
    case Expr::kNotNan: return !IsNaN(*v);
    case Expr::kLt: return Compare(*v, e.values[0]) < 0;
    case Expr::kLtEq: return Compare(*v, e.values[0]) <= 0;
    case Expr::kGt: return Compare(*v, e.values[0]) > 0;
    case Expr::kGtEq: return Compare(*v, e.values[0]) >= 0;
    case Expr::kEq: return Compare(*v, e.values[0]) == 0;
    case Expr::kNotEq: return Compare(*v, e.values[0]) != 0;
    case Expr::kStartsWith: return StartsWith(*v, e.values[0]);
    case Expr::kNotStartsWith: return !StartsWith(*v, e.values[0]);
    case Expr::kIn:
    case Expr::kNotIn: {
      bool in = false;
      for (const Literal& x : e.values) in = in || Compare(*v, x) == 0;
      return e.op == Expr::kIn ? in : !in;
    }
    default: return true;
  }
}

bool MightMatchSummaries(const Expr& e, const PartitionSpec& spec,
                         const std::vector<FieldSummary>& summaries) {
  switch (e.op) {
    case Expr::kTrue: return true;
    case Expr::kFalse: return false;
    case Expr::kAnd: return MightMatchSummaries(e.children[0], spec, summaries) &&
                            MightMatchSummaries(e.children[1], spec, summaries);
    case Expr::kOr: return MightMatchSummaries(e.children[0], spec, summaries) ||
                           MightMatchSummaries(e.children[1], spec, summaries);
    case Expr::kNot: return true;
    default: break;
  }
  size_t i = static_cast<size_t>(e.field_id);
  if (e.field_id < 0 || i >= summaries.size() || i >= spec.fields.size()) return true;
  const FieldSummary& fs = summaries[i];
  const PrimitiveType& t = spec.fields[i].type;
  Stats s;
  if (fs.lower_bound) {
    auto v = FromBytes(t, *fs.lower_bound);
    if (v.ok() && !IsNaN(*v)) s.lo = std::move(*v);
  }
  if (fs.upper_bound) {
    auto v = FromBytes(t, *fs.upper_bound);
    if (v.ok() && !IsNaN(*v)) s.hi = std::move(*v);
  }
  s.no_nulls = !fs.contains_null;
  s.no_nans = fs.contains_nan.has_value() && !*fs.contains_nan;
  // Bounds are null only when every value is null or NaN.
  bool no_bounds = !fs.lower_bound && !fs.upper_bound;
  s.nulls_only = no_bounds && fs.contains_null && s.no_nans;
  s.nans_only = no_bounds && !fs.contains_null && fs.contains_nan.value_or(false);
  return MightMatchRange(e, s);
}

bool MightMatchMetrics(const Expr& e, const DataFile& f) {
  switch (e.op) {
    case Expr::kTrue: return true;
    case Expr::kFalse: return false;
    case Expr::kAnd: return MightMatchMetrics(e.children[0], f) &&
                            MightMatchMetrics(e.children[1], f);
    case Expr::kOr: return MightMatchMetrics(e.children[0], f) ||
                           MightMatchMetrics(e.children[1], f);
    case Expr::kNot: return true;
    default: break;
  }
  if (f.record_count == 0) return false;
  Stats s;
  const int64_t* values = Lookup(f.value_counts, e.field_id);
  const int64_t* nulls = Lookup(f.null_value_counts, e.field_id);
  const int64_t* nans = Lookup(f.nan_value_counts, e.field_id);
  if (const std::string* lo = Lookup(f.lower_bounds, e.field_id)) {
    auto v = FromBytes(e.type, *lo);
    if (v.ok() && !IsNaN(*v)) s.lo = std::move(*v);
  }
  if (const std::string* hi = Lookup(f.upper_bounds, e.field_id)) {
    auto v = FromBytes(e.type, *hi);
    if (v.ok() && !IsNaN(*v)) s.hi = std::move(*v);
  }
  s.no_nulls = nulls && *nulls == 0;
  s.nulls_only = values && nulls && *values == *nulls;
  s.no_nans = (nans && *nans == 0) ||
              (e.type.id != TypeId::kFloat && e.type.id != TypeId::kDouble);
  s.nans_only = values && nans && *values == *nans;
  return MightMatchRange(e, s);
}

}  // namespace lakemesh::table
