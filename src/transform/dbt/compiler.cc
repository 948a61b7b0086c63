#include "transform/dbt/compiler.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <set>


namespace lakemesh::dbt {

using jinja::CallArgs;
using jinja::Interpreter;
using jinja::Value;

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// `s` for inside a SQL string literal: quotes doubled.
std::string Quote(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out;
}

std::string StrOf(const Value& d, const char* key, const std::string& dflt = "") {
  if (!d.is_dict()) return dflt;
  const Value* v = d.dict().Find(std::string_view(key));
  return v && !v->is_none() && !v->is_undefined() ? v->Str() : dflt;
}

void MergeInto(Value& config, const Value& more) {
  for (const auto& [k, v] : more.dict().items) {
    if (k.is_string() && k.as_string() == "tags") {
      Value* have = config.dict().Find(std::string_view("tags"));
      std::vector<Value> tags = have && have->is_list() ? have->list().items : std::vector<Value>{};
      if (have && have->is_string()) tags.push_back(*have);
      for (const auto& t : v.is_list() ? v.list().items : std::vector<Value>{v}) tags.push_back(t);
      config.dict().Set(Value("tags"), Value::List(std::move(tags)));
    } else {
      config.dict().Set(k, v);
    }
  }
}

// `sql` with the ephemeral models' SQL in front as common table expressions.
std::string InjectCtes(const std::string& sql, const std::vector<std::pair<std::string, std::string>>& ctes) {
  if (ctes.empty()) return sql;
  std::string with = "with ";
  for (size_t i = 0; i < ctes.size(); ++i) {
    with += (i ? ",\n" : "") + ctes[i].first + " as (\n" + ctes[i].second + "\n)";
  }
  // Past whitespace and comments: does the statement start with its own WITH?
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i]))) {
      ++i;
    } else if (sql.compare(i, 2, "--") == 0) {
      size_t nl = sql.find('\n', i);
      i = nl == std::string::npos ? sql.size() : nl + 1;
    } else if (sql.compare(i, 2, "/*") == 0) {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  if (Lower(sql.substr(i, 4)) == "with" &&
      (i + 4 >= sql.size() || !(std::isalnum(static_cast<unsigned char>(sql[i + 4])) || sql[i + 4] == '_'))) {
    // Join the statement's own WITH: "with <ours>, <its ctes> select ..."
    return with + ",\n" + sql.substr(i + 4);
  }
  return with + "\n" + sql;
}

// dbt's generic data tests, as dbt defines them; a project's own test of the same name wins.
constexpr const char* kGenericTests = R"sql(
{% test unique(model, column_name) %}
select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}
{% test not_null(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is null
{% endtest %}
{% test accepted_values(model, column_name, values, quote=True) %}
with all_values as (
    select {{ column_name }} as value_field, count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from all_values
where value_field not in (
    {% for value in values -%}
    {% if quote -%}'{{ value }}'{%- else -%}{{ value }}{%- endif -%}
    {%- if not loop.last -%},{%- endif %}
    {%- endfor %}
)
{% endtest %}
{% macro statement(name=None, fetch_result=False, auto_begin=True, language='sql') -%}
{%- if execute -%}{%- do __lm_statement(name, fetch_result, caller()) -%}{%- endif -%}
{%- endmacro %}
{% test relationships(model, column_name, to, field) %}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),
parent as (
    select {{ field }} as to_field
    from {{ to }}
)
select from_field
from child
left join parent on child.from_field = parent.to_field
where parent.to_field is null
{% endtest %}
)sql";


// dbt's cross-database macros (docs.getdbt.com/reference/dbt-jinja-functions/cross-database-macros)
// in lakemesh's SQL: each is `dbt.<name>`, `adapter.dispatch('<name>')` and, unless the project
// has a macro of that name, `<name>`.
constexpr const char* kCrossDatabaseMacros = R"sql(
{% macro lakemesh__current_timestamp() %}now(){% endmacro %}
{% macro lakemesh__date_trunc(datepart, date) %}date_trunc('{{ datepart }}', {{ date }}){% endmacro %}
{% macro lakemesh__dateadd(datepart, interval, from_date_or_timestamp) %}({{ from_date_or_timestamp }} + ((interval '1 {{ datepart }}') * ({{ interval }}))){% endmacro %}
{% macro lakemesh__datediff(first_date, second_date, datepart) %}date_diff('{{ datepart }}', cast({{ first_date }} as timestamp), cast({{ second_date }} as timestamp)){% endmacro %}
{% macro lakemesh__last_day(date, datepart) %}cast(date_trunc('{{ datepart }}', {{ date }}) + interval '1 {{ datepart }}' - interval '1 day' as date){% endmacro %}
{% macro lakemesh__date(year, month, day) %}make_date({{ year }}, {{ month }}, {{ day }}){% endmacro %}
{% macro lakemesh__safe_cast(field, type) %}try_cast({{ field }} as {{ type }}){% endmacro %}
{% macro lakemesh__cast(field, type) %}cast({{ field }} as {{ type }}){% endmacro %}
{% macro lakemesh__concat(fields) %}{{ fields | join(' || ') }}{% endmacro %}
{% macro lakemesh__hash(field) %}md5(cast({{ field }} as varchar)){% endmacro %}
{% macro lakemesh__split_part(string_text, delimiter_text, part_number) %}split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }}){% endmacro %}
{% macro lakemesh__listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
{%- if limit_num -%}array_to_string(list_slice(list({{ measure }} {{ order_by_clause or '' }}), 1, {{ limit_num }}), {{ delimiter_text }})
{%- else -%}string_agg({{ measure }}, {{ delimiter_text }} {{ order_by_clause or '' }}){%- endif -%}
{%- endmacro %}
{% macro lakemesh__string_literal(value) %}'{{ value | replace("'", "''") }}'{% endmacro %}
{% macro lakemesh__escape_single_quotes(expression) %}{{ expression | replace("'", "''") }}{% endmacro %}
{% macro lakemesh__any_value(expression) %}any_value({{ expression }}){% endmacro %}
{% macro lakemesh__bool_or(expression) %}bool_or({{ expression }}){% endmacro %}
{% macro lakemesh__cast_bool_to_text(field) %}cast({{ field }} as varchar){% endmacro %}
{% macro lakemesh__position(substring_text, string_text) %}position({{ substring_text }} in {{ string_text }}){% endmacro %}
{% macro lakemesh__replace(field, old_chars, new_chars) %}replace({{ field }}, {{ old_chars }}, {{ new_chars }}){% endmacro %}
{% macro lakemesh__right(string_text, length_expression) %}right({{ string_text }}, {{ length_expression }}){% endmacro %}
{% macro lakemesh__length(expression) %}length({{ expression }}){% endmacro %}
{% macro lakemesh__array_construct(inputs=[], data_type=none) %}[{{ inputs | join(', ') }}]{% endmacro %}
{% macro lakemesh__array_append(array, new_element) %}list_append({{ array }}, {{ new_element }}){% endmacro %}
{% macro lakemesh__array_concat(array_1, array_2) %}list_concat({{ array_1 }}, {{ array_2 }}){% endmacro %}
{% macro lakemesh__except() %}except{% endmacro %}
{% macro lakemesh__intersect() %}intersect{% endmacro %}
{% macro lakemesh__type_string() %}varchar{% endmacro %}
{% macro lakemesh__type_timestamp() %}timestamp{% endmacro %}
{% macro lakemesh__type_int() %}integer{% endmacro %}
{% macro lakemesh__type_bigint() %}bigint{% endmacro %}
{% macro lakemesh__type_float() %}double{% endmacro %}
{% macro lakemesh__type_numeric() %}numeric(28, 6){% endmacro %}
{% macro lakemesh__type_boolean() %}boolean{% endmacro %}
)sql";

// A query's result as dbt's templates see an agate table: rows (each indexable by position and
// by column name), columns (with name and values()), column_names. Values that are all
// integers or all numbers in a column become numbers, as agate infers them.
Value TableValue(const QueryResult& r) {
  const size_t ncols = r.columns.size();
  std::vector<int> kind(ncols, 2);  // 2: integers so far, 1: numbers, 0: text
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < ncols && c < row.size(); ++c) {
      if (!row[c] || kind[c] == 0) continue;
      const std::string& v = *row[c];
      char* end = nullptr;
      errno = 0;
      (void)std::strtoll(v.c_str(), &end, 10);
      if (!v.empty() && end && *end == '\0' && errno == 0) continue;
      end = nullptr;
      (void)std::strtod(v.c_str(), &end);
      kind[c] = !v.empty() && end && *end == '\0' && v.find_first_of("nNiI") == std::string::npos ? std::min(kind[c], 1) : 0;
    }
  }
  auto value = [&](const std::optional<std::string>& v, size_t c) -> Value {
    if (!v) return Value::None();
    if (kind[c] == 2) return Value(static_cast<int64_t>(std::strtoll(v->c_str(), nullptr, 10)));
    if (kind[c] == 1) return Value(std::strtod(v->c_str(), nullptr));
    return Value(*v);
  };
  std::vector<Value> rows;
  std::vector<std::vector<Value>> by_column(ncols);
  for (const auto& row : r.rows) {
    std::vector<Value> items;
    for (size_t c = 0; c < ncols; ++c) {
      items.push_back(c < row.size() ? value(row[c], c) : Value::None());
      by_column[c].push_back(items.back());
    }
    Value t = Value::Tuple(std::move(items));
    t.list().fields = r.columns;
    rows.push_back(std::move(t));
  }
  std::vector<Value> columns, names;
  for (size_t c = 0; c < ncols; ++c) {
    Value col = Value::Object("<agate.Column " + r.columns[c] + ">");
    col.dict().Set(Value("name"), Value(r.columns[c]));
    Value values = Value::Tuple(std::move(by_column[c]));
    col.dict().Set(Value("values"), Value::Function("values", [values](CallArgs&, Interpreter&) { return values; }));
    col.dict().Set(Value("data_type"), Value(kind[c] == 0 ? "Text" : "Number"));
    columns.push_back(std::move(col));
    names.emplace_back(r.columns[c]);
  }
  const size_t nrows = rows.size();
  Value t = Value::Object("<agate.Table: " + std::to_string(nrows) + " rows>");
  t.dict().Set(Value("rows"), Value::List(std::move(rows)));
  t.dict().Set(Value("columns"), Value::List(std::move(columns)));
  t.dict().Set(Value("column_names"), Value::Tuple(std::move(names)));
  t.dict().Set(Value("print_table"), Value::Function("print_table", [](CallArgs&, Interpreter&) { return Value(""); }));
  return t;
}

// Python's datetime and date as templates use them (modules.datetime): attributes, strftime(),
// isoformat(), str().
Value DateTimeValue(std::chrono::system_clock::time_point tp, bool utc, bool date_only) {
  const auto since = tp.time_since_epoch();
  const time_t secs = static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(since).count());
  const int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(since).count() % 1000000;
  std::tm tm{};
  if (utc) {
    gmtime_r(&secs, &tm);
  } else {
    localtime_r(&secs, &tm);
  }
  char buf[64];
  std::strftime(buf, sizeof(buf), date_only ? "%Y-%m-%d" : "%Y-%m-%d %H:%M:%S", &tm);
  std::string text = buf;
  if (!date_only && micros) {
    char us[16];
    std::snprintf(us, sizeof(us), ".%06lld", static_cast<long long>(micros));
    text += us;
  }
  Value v = Value::Object(text);
  auto& d = v.dict();
  d.Set(Value("year"), Value(tm.tm_year + 1900));
  d.Set(Value("month"), Value(tm.tm_mon + 1));
  d.Set(Value("day"), Value(tm.tm_mday));
  if (!date_only) {
    d.Set(Value("hour"), Value(tm.tm_hour));
    d.Set(Value("minute"), Value(tm.tm_min));
    d.Set(Value("second"), Value(tm.tm_sec));
    d.Set(Value("microsecond"), Value(micros));
  }
  d.Set(Value("strftime"), Value::Function("strftime", [tm](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty()) jinja::RaiseError("strftime() takes a format");
    const std::string fmt = a.args[0].Str();
    std::vector<char> out(fmt.size() * 4 + 64);
    size_t n = std::strftime(out.data(), out.size(), fmt.c_str(), &tm);
    return Value(std::string(out.data(), n));
  }));
  std::string iso = text;
  if (!date_only) iso[10] = 'T';
  d.Set(Value("isoformat"), Value::Function("isoformat", [iso](CallArgs&, Interpreter&) { return Value(iso); }));
  if (!date_only) {
    d.Set(Value("date"), Value::Function("date", [tp, utc](CallArgs&, Interpreter&) {
      return DateTimeValue(tp, utc, true);
    }));
  }
  return v;
}

Value DateTimeModule() {
  Value datetime = Value::Dict();
  Value dt = Value::Dict();
  dt.dict().Set(Value("now"), Value::Function("now", [](CallArgs&, Interpreter&) {
    return DateTimeValue(std::chrono::system_clock::now(), false, false);
  }));
  dt.dict().Set(Value("utcnow"), Value::Function("utcnow", [](CallArgs&, Interpreter&) {
    return DateTimeValue(std::chrono::system_clock::now(), true, false);
  }));
  Value date = Value::Dict();
  date.dict().Set(Value("today"), Value::Function("today", [](CallArgs&, Interpreter&) {
    return DateTimeValue(std::chrono::system_clock::now(), false, true);
  }));
  datetime.dict().Set(Value("datetime"), dt);
  datetime.dict().Set(Value("date"), date);
  Value modules = Value::Dict();
  modules.dict().Set(Value("datetime"), datetime);
  return modules;
}

}  // namespace

Compiler::Compiler(const Project& project, Target target, Value vars)
    : project_(project), target_(std::move(target)), vars_(std::move(vars)) {
  jinja::Options o;
  o.dbt_tags = true;
  o.max_steps = 50'000'000;
  env_ = std::make_unique<jinja::Environment>(o);
  if (target_.schema.empty()) target_.schema = project_.name;
}

Compiler::~Compiler() = default;

// A name as SQL writes it: plain when it is a plain identifier, else double-quoted (domains may
// hold '-': sales-finance).
std::string SqlName(const std::string& name) {
  bool plain = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    plain = plain && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_');
  }
  if (plain) return name;
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Value Compiler::RelationValue(const std::string& schema, const std::string& identifier) const {
  Value r = Value::Object(SqlName(schema) + "." + SqlName(identifier));
  auto& d = r.dict();
  d.Set(Value("database"), Value("lakemesh"));
  d.Set(Value("schema"), Value(schema));
  d.Set(Value("identifier"), Value(identifier));
  d.Set(Value("name"), Value(identifier));
  d.Set(Value("table"), Value(identifier));
  return r;
}

Status Compiler::LoadMacros() {
  LM_ASSIGN_OR_RETURN(auto builtin, env_->Parse("<dbt generic tests>", kGenericTests));
  macro_templates_.push_back(builtin);
  LM_ASSIGN_OR_RETURN(auto generic, env_->Macros(*builtin, Value::Dict()));
  std::map<std::string, Value> builtins(generic.begin(), generic.end());
  LM_ASSIGN_OR_RETURN(auto cross, env_->Parse("<dbt cross-database macros>", kCrossDatabaseMacros));
  macro_templates_.push_back(cross);
  LM_ASSIGN_OR_RETURN(auto cross_macros, env_->Macros(*cross, Value::Dict()));
  Value dbt = Value::Dict();  // the `dbt` namespace: dbt.date_trunc(...)
  for (auto& [name, fn] : cross_macros) {
    builtins[name] = fn;  // lakemesh__date_trunc, for adapter.dispatch
    const std::string plain = name.substr(std::string("lakemesh__").size());
    dbt.dict().Set(Value(plain), fn);
    builtins.emplace(plain, fn);
  }
  for (const std::string& file : project_.macro_files) {
    auto source = [&]() -> Result<std::string> {
      std::string path = project_.root + "/" + file;
      FILE* f = std::fopen(path.c_str(), "rb");
      if (!f) return NotFound("cannot read " + file);
      std::string text;
      char buf[65536];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
      std::fclose(f);
      return text;
    }();
    if (!source.ok()) return source.status();
    LM_ASSIGN_OR_RETURN(auto t, env_->Parse(file, *source));
    macro_templates_.push_back(t);
    LM_ASSIGN_OR_RETURN(auto macros, env_->Macros(*t, Value::Dict()));
    for (auto& [name, fn] : macros) {
      if (macros_.count(name)) {
        return InvalidArgument(file + ": macro '" + name + "' is defined twice in the project");
      }
      macros_[name] = fn;
      env_->AddGlobal(name, fn);
    }
  }
  // dbt.<name> dispatches as dbt's search order does: the project's own lakemesh__, duckdb__
  // or default__<name> before lakemesh's.
  for (const auto& [k, v] : dbt.dict().items) {
    for (const char* prefix : {"lakemesh__", "duckdb__", "default__"}) {
      if (auto own = macros_.find(std::string(prefix) + k.Str()); own != macros_.end()) {
        dbt.dict().Set(k, own->second);
        break;
      }
    }
  }
  for (auto& [name, fn] : builtins) {
    if (macros_.count(name)) continue;
    macros_[name] = fn;
    env_->AddGlobal(name, fn);
  }
  env_->AddGlobal("dbt", dbt);
  return Status::OK();
}

// Data tests from schema YAML become test nodes: each renders its test macro with the model's
// relation, the column and the test's arguments (strings such as "ref('customers')" are the
// expressions they spell, as in dbt).
Status Compiler::AddDataTests() {
  struct Pending {
    const Node* model;
    const TestSpec* spec;
  };
  std::vector<Pending> specs;
  for (const auto& [uid, node] : project_.nodes) {
    auto it = nodes_.find(uid);
    if (it == nodes_.end() || !it->second.enabled) continue;
    for (const auto& c : node.columns) {
      for (const auto& t : c.tests) specs.push_back({&node, &t});
    }
    for (const auto& t : node.tests) specs.push_back({&node, &t});
  }
  std::set<std::string> used;
  for (const Pending& p : specs) {
    const TestSpec& t = *p.spec;
    std::string macro = "test_" + t.name;
    if (size_t dot = t.name.rfind('.'); dot != std::string::npos) macro = "test_" + t.name.substr(dot + 1);
    if (!macros_.count(macro)) {
      return InvalidArgument(p.model->file + ": " + p.model->name + " has a test '" + t.name +
                             "', but there is no such generic test (a macro " + macro + ")");
    }
    std::string name = t.name + "_" + p.model->name + (p.model->version.empty() ? "" : "_v" + p.model->version) +
                       (t.column.empty() ? "" : "_" + t.column);
    for (char& ch : name) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
    }
    std::string unique = name;
    for (int k = 2; used.count(unique); ++k) unique = name + "_" + std::to_string(k);
    used.insert(unique);
    std::string call = "{{ " + macro + "(model=__model";
    if (!t.column.empty()) call += ", column_name=__column";
    size_t i = 0;
    for (const auto& [k, v] : t.args.dict().items) {
      const std::string key = k.Str();
      if (v.is_string() && (v.as_string().rfind("ref(", 0) == 0 || v.as_string().rfind("source(", 0) == 0)) {
        call += ", " + key + "=" + v.as_string();
      } else {
        call += ", " + key + "=__arg" + std::to_string(i);
      }
      ++i;
    }
    call += ") }}";
    Node n;
    n.kind = NodeKind::kTest;
    n.name = unique;
    n.unique_id = "test." + project_.name + "." + unique;
    n.file = p.model->file;
    n.path = p.model->path;
    n.fqn = {project_.name, unique};
    n.raw_code = call;
    n.config = Value::Dict();
    n.config.dict().items = t.config.dict().items;
    generated_.push_back(std::move(n));
    const Node& node = generated_.back();
    CompiledNode c;
    c.node = &node;
    c.unique_id = node.unique_id;
    c.config = node.config;
    c.materialized = "test";
    c.tested = p.model->unique_id;
    c.test_name = t.name;
    c.test_column = t.column;
    c.test_args = t.args;
    c.depends_on.push_back(p.model->unique_id);
    nodes_[c.unique_id] = std::move(c);
  }
  return Status::OK();
}

Status Compiler::Recompile(const std::string& uid, bool incremental) {
  CompiledNode& n = nodes_.at(uid);
  if (n.node->kind == NodeKind::kSeed) return Status::OK();
  incremental_ = incremental;
  auto code = RenderNode(n, /*execute=*/true);
  incremental_ = false;
  if (!code.ok()) return code.status();
  n.compiled_code = Trim(*code);
  return Status::OK();
}

Result<std::vector<std::string>> Compiler::Hooks(const std::string& uid, const char* which) {
  CompiledNode& n = nodes_.at(uid);
  std::vector<std::string> out;
  // dbt_project.yml spells them pre-hook, config() pre_hook; a hook is SQL or {sql: ...}.
  std::string dashed = which;
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  for (const std::string& key : {std::string(which), dashed}) {
    const Value* v = n.config.dict().Find(std::string_view(key));
    if (!v || v->is_none()) continue;
    for (const Value& h : v->is_list() ? v->list().items : std::vector<Value>{*v}) {
      const Value* sql = h.is_dict() ? h.dict().Find(std::string_view("sql")) : &h;
      if (!sql) continue;
      std::vector<std::string> ctes;
      Value ctx = Context(n, /*execute=*/true, &ctes);
      LM_ASSIGN_OR_RETURN(std::string text, env_->RenderString(sql->Str(), ctx));
      text = Trim(text);
      if (!text.empty()) out.push_back(std::move(text));
    }
  }
  return out;
}

Result<std::vector<std::string>> Compiler::RunHooks(const char* which) {
  std::vector<std::string> out;
  const std::vector<std::string>& hooks = std::string(which) == "on-run-start" ? project_.on_run_start
                                                                                : project_.on_run_end;
  Value ctx = Value::Dict();
  Value target = Value::Dict();
  target.dict().Set(Value("name"), Value(target_.name));
  target.dict().Set(Value("schema"), Value(target_.schema));
  target.dict().Set(Value("type"), Value("lakemesh"));
  target.dict().Set(Value("branch"), Value(target_.branch));
  ctx.dict().Set(Value("target"), target);
  ctx.dict().Set(Value("execute"), Value(true));
  ctx.dict().Set(Value("graph"), graph_);
  ctx.dict().Set(Value("modules"), DateTimeModule());
  for (const std::string& h : hooks) {
    LM_ASSIGN_OR_RETURN(std::string text, env_->RenderString(h, ctx));
    text = Trim(text);
    if (!text.empty()) out.push_back(std::move(text));
  }
  return out;
}

Value Compiler::Context(CompiledNode& n, bool execute, std::vector<std::string>* ctes) {
  Value ctx = Value::Dict();
  auto set = [&](const char* k, Value v) { ctx.dict().Set(Value(k), std::move(v)); };
  CompiledNode* self = &n;
  auto depend = [self](const std::string& uid) {
    if (std::find(self->depends_on.begin(), self->depends_on.end(), uid) == self->depends_on.end()) {
      self->depends_on.push_back(uid);
    }
  };

  set("ref", Value::Function("ref", [this, self, execute, ctes, depend](CallArgs& a, Interpreter&) -> Value {
    std::vector<std::string> parts;
    for (const auto& v : a.args) parts.push_back(v.Str());
    if (parts.empty() || parts.size() > 2) jinja::RaiseError("ref() takes a model name (and a package name first)");
    const std::string name = parts.back();
    if (parts.size() == 2 && parts[0] != project_.name) {
      jinja::RaiseError("'" + self->unique_id + "' depends on package '" + parts[0] +
                        "', which this project does not have");
    }
    const Node* target = nullptr;
    const Value* version = nullptr;
    for (const auto& [k, v] : a.kwargs) {
      if (k == "v" || k == "version") version = &v;
    }
    if (auto versions = project_.versions.find(name); versions != project_.versions.end()) {
      // A versioned model: the version asked for, else the latest.
      const std::string v = version ? version->Str() : project_.latest_version.at(name);
      auto uid = versions->second.find(v);
      if (uid == versions->second.end()) {
        jinja::RaiseError("'" + self->unique_id + "' depends on version " + v + " of model '" + name +
                          "', which it does not have");
      }
      target = &project_.nodes.at(uid->second);
    } else if (version) {
      jinja::RaiseError("'" + self->unique_id + "' depends on version " + version->Str() + " of '" + name +
                        "', which has no versions");
    }
    for (NodeKind k : {NodeKind::kModel, NodeKind::kSeed, NodeKind::kSnapshot}) {
      if (!target) target = project_.FindByName(k, name);
    }
    if (!target) {
      jinja::RaiseError("'" + self->unique_id + "' depends on a node named '" + name +
                        "' which was not found");
    }
    depend(target->unique_id);
    auto it = nodes_.find(target->unique_id);
    if (it == nodes_.end() || !it->second.enabled) {
      jinja::RaiseError("'" + self->unique_id + "' depends on a node named '" + name +
                        "' which is disabled");
    }
    const CompiledNode& t = it->second;
    if (execute && t.materialized == "ephemeral") {
      if (std::find(ctes->begin(), ctes->end(), t.unique_id) == ctes->end()) ctes->push_back(t.unique_id);
      return Value::Object(SqlName("__dbt__cte__" + t.alias));
    }
    return RelationValue(t.schema.empty() ? target_.schema : t.schema, t.alias.empty() ? name : t.alias);
  }));

  set("source", Value::Function("source", [this, self, depend](CallArgs& a, Interpreter&) -> Value {
    if (a.args.size() != 2) jinja::RaiseError("source() takes a source name and a table name");
    const std::string source = a.args[0].Str(), table = a.args[1].Str();
    for (const SourceTable& s : project_.sources) {
      if (s.source_name == source && s.name == table) {
        depend(s.unique_id);
        Value r = RelationValue(s.schema, s.identifier);
        // Building on a branch: sources are read as they are on main (the branch exists only
        // in the domains the build writes).
        if (target_.branch != "main") r.dict().display = SqlName(s.schema) + ".\"" + s.identifier + "@main\"";
        return r;
      }
    }
    jinja::RaiseError("'" + self->unique_id + "' depends on a source named '" + source + "." + table +
                      "' which was not found");
  }));

  // config(materialized='table', ...) during parsing; config.get() / config.require() always.
  Value attrs = Value::Dict();
  attrs.dict().Set(Value("get"), Value::Function("get", [self](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty()) jinja::RaiseError("config.get() takes a key");
    const Value* v = self->config.dict().Find(a.args[0]);
    if (v) return *v;
    const Value* dflt = a.Find(1, "default");
    return dflt ? *dflt : Value::None();
  }));
  attrs.dict().Set(Value("require"), Value::Function("require", [self](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty()) jinja::RaiseError("config.require() takes a key");
    const Value* v = self->config.dict().Find(a.args[0]);
    if (!v) jinja::RaiseError("'" + self->unique_id + "' needs the configuration '" + a.args[0].Str() + "'");
    return *v;
  }));
  set("config", Value::Function("config", [self, execute](CallArgs& a, Interpreter&) -> Value {
    if (execute) return Value("");  // taken while parsing
    Value more = Value::Dict();
    if (!a.args.empty()) {
      if (!a.args[0].is_dict()) jinja::RaiseError("config() takes keyword arguments or a dict");
      more.dict().items = a.args[0].dict().items;
    }
    for (const auto& [k, v] : a.kwargs) more.dict().Set(Value(k), v);
    MergeInto(self->config, more);
    return Value("");
  }, attrs));

  set("var", Value::Function("var", [this, self](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty()) jinja::RaiseError("var() takes a name");
    const Value key = a.args[0];
    if (const Value* v = vars_.is_dict() ? vars_.dict().Find(key) : nullptr) return *v;
    if (const Value* v = project_.vars.dict().Find(key)) return *v;
    if (a.args.size() > 1) return a.args[1];
    jinja::RaiseError("Required var '" + key.Str() + "' not found in config (" + self->unique_id +
                      "): set it in dbt_project.yml's vars or with --vars");
  }));
  set("env_var", Value::Function("env_var", [](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty()) jinja::RaiseError("env_var() takes a name");
    const std::string name = a.args[0].Str();
    if (const char* v = std::getenv(name.c_str())) return Value(std::string(v));
    if (a.args.size() > 1) return a.args[1];
    jinja::RaiseError("Env var required but not provided: '" + name + "'");
  }));

  set("this", RelationValue(n.schema.empty() ? target_.schema : n.schema,
                            n.alias.empty() ? n.node->name : n.alias));
  Value target = Value::Dict();
  target.dict().Set(Value("name"), Value(target_.name));
  target.dict().Set(Value("schema"), Value(target_.schema));
  target.dict().Set(Value("type"), Value("lakemesh"));
  target.dict().Set(Value("database"), Value("lakemesh"));
  target.dict().Set(Value("threads"), Value(target_.threads));
  target.dict().Set(Value("branch"), Value(target_.branch));
  target.dict().Set(Value("profile_name"), Value(project_.profile));
  set("target", target);
  set("execute", Value(execute));
  set("is_incremental", Value::Function("is_incremental", [this](CallArgs&, Interpreter&) {
    return Value(incremental_);
  }));
  // log(msg, info=True) prints (once: when the node runs); without info it goes nowhere, as
  // dbt's debug log is not kept.
  set("log", Value::Function("log", [this, execute](CallArgs& a, Interpreter&) {
    const Value* info = a.Find(1, "info");
    if (execute && info && info->Truthy() && on_log_ && !a.args.empty()) on_log_(a.args[0].Str());
    return Value("");
  }));
  set("return", Value::Function("return", [](CallArgs& a, Interpreter&) -> Value {
    jinja::ReturnFromMacro(a.args.empty() ? Value::None() : a.args[0]);
  }));
  Value exceptions = Value::Dict();
  exceptions.dict().Set(Value("raise_compiler_error"),
                        Value::Function("raise_compiler_error", [self](CallArgs& a, Interpreter&) -> Value {
                          jinja::RaiseError("Compilation Error in " + self->unique_id + ": " +
                                            (a.args.empty() ? std::string() : a.args[0].Str()));
                        }));
  exceptions.dict().Set(Value("warn"), Value::Function("warn", [](CallArgs&, Interpreter&) { return Value(""); }));
  set("exceptions", exceptions);
  Value adapter = Value::Dict();
  adapter.dict().Set(Value("quote"), Value::Function("quote", [](CallArgs& a, Interpreter&) -> Value {
    std::string s = a.args.empty() ? "" : a.args[0].Str();
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return Value(out + "\"");
  }));
  adapter.dict().Set(Value("dispatch"), Value::Function("dispatch", [this](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty()) jinja::RaiseError("adapter.dispatch() takes a macro name");
    const std::string name = a.args[0].Str();
    for (const std::string& candidate : {"lakemesh__" + name, "duckdb__" + name, "default__" + name}) {
      auto it = macros_.find(candidate);
      if (it != macros_.end()) return it->second;
    }
    jinja::RaiseError("adapter.dispatch: no macro lakemesh__" + name + " or default__" + name);
  }));
  // Introspection: the relation, if it exists (None while parsing), and its columns.
  adapter.dict().Set(Value("get_relation"), Value::Function("get_relation", [this, execute](CallArgs& a, Interpreter&) -> Value {
    const Value* schema = a.Find(1, "schema");
    const Value* identifier = a.Find(2, "identifier");
    if (!schema || !identifier) jinja::RaiseError("adapter.get_relation() takes database, schema and identifier");
    if (!execute) return Value::None();
    if (!executor_) jinja::RaiseError("adapter.get_relation() needs a database (give --data, or run against a server)");
    const std::string sch = schema->Str(), id = identifier->Str();
    auto probe = executor_->Execute("SELECT * FROM " + SqlName(sch) + "." + SqlName(id) + " LIMIT 0");
    if (!probe.ok()) return Value::None();
    Value r = RelationValue(sch, id);
    std::string type = "table";
    auto kind = executor_->Execute("SELECT table_type FROM information_schema.tables WHERE table_schema = '" +
                                   Quote(sch) + "' AND table_name = '" + Quote(id) + "'");
    if (kind.ok() && !kind->rows.empty() && kind->rows[0][0] && *kind->rows[0][0] == "VIEW") type = "view";
    r.dict().Set(Value("type"), Value(type));
    r.dict().Set(Value("is_table"), Value(type == "table"));
    r.dict().Set(Value("is_view"), Value(type == "view"));
    return r;
  }));
  adapter.dict().Set(Value("get_columns_in_relation"), Value::Function("get_columns_in_relation", [this, execute](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty() || !a.args[0].is_dict()) jinja::RaiseError("adapter.get_columns_in_relation() takes a relation");
    if (!execute) return Value::List();
    if (!executor_) jinja::RaiseError("adapter.get_columns_in_relation() needs a database (give --data, or run against a server)");
    const Value& rel = a.args[0];
    std::string name = rel.dict().display ? *rel.dict().display : rel.Str();
    auto described = executor_->Execute("DESCRIBE " + name);
    std::vector<Value> columns;
    if (!described.ok()) return Value::List();
    for (const auto& row : described->rows) {
      if (row.size() < 2 || !row[0] || !row[1]) continue;
      Value c = Value::Object(*row[0]);
      c.dict().Set(Value("name"), Value(*row[0]));
      c.dict().Set(Value("column"), Value(*row[0]));
      c.dict().Set(Value("quoted"), Value("\"" + *row[0] + "\""));
      c.dict().Set(Value("data_type"), Value(*row[1]));
      c.dict().Set(Value("dtype"), Value(*row[1]));
      columns.push_back(std::move(c));
    }
    return Value::List(std::move(columns));
  }));
  set("adapter", adapter);
  // run_query(sql): the result as an agate table (None while parsing). statement blocks keep
  // theirs for load_result(name).
  set("run_query", Value::Function("run_query", [this, execute](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty()) jinja::RaiseError("run_query() takes SQL");
    if (!execute) return Value::None();
    return Query(a.args[0].Str());
  }));
  set("__lm_statement", Value::Function("statement", [this, execute](CallArgs& a, Interpreter&) -> Value {
    if (!execute || a.args.size() < 3) return Value("");
    Value table = Query(a.args[2].Str());
    if (!a.args[0].is_none() && !a.args[0].is_undefined()) {
      Value result = Value::Dict();
      Value response = Value::Dict();
      response.dict().Set(Value("_message"), table.dict().Find(std::string_view("__tag"))
                                                  ? *table.dict().Find(std::string_view("__tag")) : Value(""));
      result.dict().Set(Value("response"), response);
      result.dict().Set(Value("data"), a.args[1].Truthy() ? *table.dict().Find(std::string_view("rows")) : Value::List());
      result.dict().Set(Value("table"), a.args[1].Truthy() ? table : Value::None());
      statement_results_[a.args[0].Str()] = result;
    }
    return Value("");
  }));
  set("load_result", Value::Function("load_result", [this](CallArgs& a, Interpreter&) -> Value {
    if (a.args.empty()) jinja::RaiseError("load_result() takes a statement's name");
    auto it = statement_results_.find(a.args[0].Str());
    return it == statement_results_.end() ? Value::None() : it->second;
  }));
  set("modules", DateTimeModule());
  set("graph", graph_);
  if (!n.tested.empty()) {  // a data test: the model it tests, its column, its arguments
    const CompiledNode& m = nodes_.at(n.tested);
    set("__model", RelationValue(m.schema.empty() ? target_.schema : m.schema,
                                 m.alias.empty() ? m.node->name : m.alias));
    set("__column", Value(n.test_column));
    size_t i = 0;
    for (const auto& [k, v] : n.test_args.dict().items) set(("__arg" + std::to_string(i++)).c_str(), v);
  }
  Value model = Value::Dict();
  model.dict().Set(Value("unique_id"), Value(n.unique_id));
  model.dict().Set(Value("name"), Value(n.node->name));
  model.dict().Set(Value("resource_type"), Value(NodeKindName(n.node->kind)));
  model.dict().Set(Value("config"), n.config);
  model.dict().Set(Value("tags"), Value::List([&] {
    std::vector<Value> t;
    for (const auto& s : n.tags) t.emplace_back(s);
    return t;
  }()));
  set("model", model);
  return ctx;
}

Value Compiler::Query(const std::string& sql) {
  if (!executor_) {
    jinja::RaiseError("run_query and statement blocks need a database (give --data, or run against a server)");
  }
  auto r = executor_->Execute(sql);
  if (!r.ok()) jinja::RaiseError("Database Error: " + r.status().message());
  Value t = TableValue(*r);
  t.dict().Set(Value("__tag"), Value(r->tag));
  return t;
}

// The graph context variable: every node and source as the manifest describes them.
Value Compiler::GraphValue() const {
  auto strings = [](const std::vector<std::string>& v) {
    std::vector<Value> out;
    for (const auto& s : v) out.emplace_back(s);
    return Value::List(std::move(out));
  };
  Value nodes = Value::Dict();
  for (const auto& [uid, n] : nodes_) {
    Value d = Value::Dict();
    auto set = [&](const char* k, Value v) { d.dict().Set(Value(k), std::move(v)); };
    set("unique_id", Value(uid));
    set("name", Value(n.node->name));
    set("resource_type", Value(NodeKindName(n.node->kind)));
    set("package_name", Value(project_.name));
    set("path", Value(n.node->path));
    set("original_file_path", Value(n.node->file));
    set("fqn", strings(n.node->fqn));
    set("database", Value("lakemesh"));
    set("schema", Value(n.schema));
    set("alias", Value(n.alias));
    set("identifier", Value(n.alias));
    set("relation_name", Value(n.node->kind == NodeKind::kTest ? std::string() : SqlName(n.schema) + "." + SqlName(n.alias)));
    set("config", n.config);
    set("tags", strings(n.tags));
    set("description", Value(n.node->description));
    set("raw_code", Value(n.node->raw_code));
    Value deps = Value::Dict();
    deps.dict().Set(Value("nodes"), strings(n.depends_on));
    deps.dict().Set(Value("macros"), Value::List());
    set("depends_on", deps);
    Value columns = Value::Dict();
    for (const auto& c : n.node->columns) {
      Value col = Value::Dict();
      col.dict().Set(Value("name"), Value(c.name));
      col.dict().Set(Value("description"), Value(c.description));
      col.dict().Set(Value("data_type"), c.data_type.empty() ? Value::None() : Value(c.data_type));
      columns.dict().Set(Value(c.name), col);
    }
    set("columns", columns);
    if (!n.tested.empty()) {
      set("attached_node", Value(n.tested));
      Value meta = Value::Dict();
      meta.dict().Set(Value("name"), Value(n.test_name));
      meta.dict().Set(Value("kwargs"), n.test_args);
      set("test_metadata", meta);
    }
    nodes.dict().Set(Value(uid), d);
  }
  Value sources = Value::Dict();
  for (const SourceTable& s : project_.sources) {
    Value d = Value::Dict();
    d.dict().Set(Value("unique_id"), Value(s.unique_id));
    d.dict().Set(Value("name"), Value(s.name));
    d.dict().Set(Value("source_name"), Value(s.source_name));
    d.dict().Set(Value("resource_type"), Value("source"));
    d.dict().Set(Value("schema"), Value(s.schema));
    d.dict().Set(Value("identifier"), Value(s.identifier));
    d.dict().Set(Value("database"), Value("lakemesh"));
    d.dict().Set(Value("description"), Value(s.description));
    d.dict().Set(Value("relation_name"), Value(SqlName(s.schema) + "." + SqlName(s.identifier)));
    sources.dict().Set(Value(s.unique_id), d);
  }
  Value g = Value::Dict();
  g.dict().Set(Value("nodes"), nodes);
  g.dict().Set(Value("sources"), sources);
  for (const char* k : {"exposures", "metrics", "groups", "semantic_models", "saved_queries"}) {
    g.dict().Set(Value(k), Value::Dict());
  }
  return g;
}

Result<std::string> Compiler::RenderNode(CompiledNode& n, bool execute) {
  statement_results_.clear();
  std::vector<std::string> ctes;
  Value ctx = Context(n, execute, &ctes);
  LM_ASSIGN_OR_RETURN(auto t, env_->Parse(n.node->file, n.node->raw_code));
  LM_ASSIGN_OR_RETURN(std::string sql, env_->Render(*t, ctx));
  if (!execute || ctes.empty()) return sql;
  std::vector<std::pair<std::string, std::string>> inlined;
  for (const std::string& uid : ctes) {
    const CompiledNode& e = nodes_.at(uid);
    inlined.emplace_back("__dbt__cte__" + e.alias, e.compiled_code);
  }
  return InjectCtes(sql, inlined);
}

Result<std::string> Compiler::SchemaFor(const CompiledNode& n) {
  // A snapshot's target_schema (dbt before 1.9) is the schema itself.
  if (n.node->kind == NodeKind::kSnapshot && !StrOf(n.config, "target_schema").empty()) {
    return StrOf(n.config, "target_schema");
  }
  const std::string custom = StrOf(n.config, "schema");
  if (macros_.count("generate_schema_name")) {
    Value ctx = Value::Dict();
    ctx.dict().Set(Value("custom"), custom.empty() ? Value::None() : Value(custom));
    Value node = Value::Dict();
    node.dict().Set(Value("name"), Value(n.node->name));
    node.dict().Set(Value("unique_id"), Value(n.unique_id));
    node.dict().Set(Value("fqn"), Value::List([&] {
      std::vector<Value> f;
      for (const auto& s : n.node->fqn) f.emplace_back(s);
      return f;
    }()));
    ctx.dict().Set(Value("node"), node);
    Value target = Value::Dict();
    target.dict().Set(Value("schema"), Value(target_.schema));
    target.dict().Set(Value("name"), Value(target_.name));
    ctx.dict().Set(Value("target"), target);
    LM_ASSIGN_OR_RETURN(std::string s, env_->RenderString("{{ generate_schema_name(custom, node) }}", ctx));
    return Trim(s);
  }
  // dbt's default joins them with '_'; a domain's name has '-' instead (a repository name).
  return custom.empty() ? target_.schema : target_.schema + "-" + custom;
}

Status Compiler::CompileAll(bool execute) {
  LM_TRY(LoadMacros());
  graph_ = Value::Dict();
  graph_.dict().Set(Value("nodes"), Value::Dict());
  graph_.dict().Set(Value("sources"), Value::Dict());
  // First pass: configuration and dependencies.
  for (const auto& [uid, node] : project_.nodes) {
    CompiledNode n;
    n.node = &node;
    n.unique_id = uid;
    n.config = Value::Dict();
    n.config.dict().items = node.config.dict().items;
    nodes_[uid] = std::move(n);
  }
  for (auto& [uid, n] : nodes_) {
    if (n.node->kind != NodeKind::kSeed) {
      auto parsed = RenderNode(n, /*execute=*/false);
      if (!parsed.ok()) return parsed.status();
    }
    const Value* enabled = n.config.dict().Find(std::string_view("enabled"));
    n.enabled = !enabled || enabled->Truthy();
    switch (n.node->kind) {
      case NodeKind::kModel: n.materialized = Lower(StrOf(n.config, "materialized", "view")); break;
      case NodeKind::kSeed: n.materialized = "seed"; break;
      case NodeKind::kTest: n.materialized = "test"; break;
      case NodeKind::kSnapshot: n.materialized = "snapshot"; break;
    }
    if (const Value* tags = n.config.dict().Find(std::string_view("tags"))) {
      for (const auto& t : tags->is_list() ? tags->list().items : std::vector<Value>{*tags}) n.tags.push_back(t.Str());
    }
    n.alias = StrOf(n.config, "alias", n.node->name);
  }
  for (auto& [uid, n] : nodes_) {
    if (n.node->kind == NodeKind::kTest) continue;
    LM_ASSIGN_OR_RETURN(n.schema, SchemaFor(n));
  }
  LM_TRY(AddDataTests());
  for (auto& [uid, n] : nodes_) {  // what data tests depend on besides their model: ref('x') args
    if (!n.tested.empty()) LM_TRY(RenderNode(n, /*execute=*/false).status());
  }
  graph_ = GraphValue();
  if (!execute) return Status::OK();
  // Second pass, in dependency order (an ephemeral model's SQL is needed by those that use it).
  LM_ASSIGN_OR_RETURN(std::vector<std::string> order, Order());
  for (const std::string& uid : order) {
    CompiledNode& n = nodes_.at(uid);
    if (n.node->kind == NodeKind::kSeed) continue;
    n.depends_on.clear();
    if (!n.tested.empty()) n.depends_on.push_back(n.tested);
    LM_ASSIGN_OR_RETURN(n.compiled_code, RenderNode(n, /*execute=*/true));
    n.compiled_code = Trim(n.compiled_code);
  }
  return Status::OK();
}

Result<std::vector<std::string>> Compiler::Order() const {
  std::map<std::string, size_t> pending;  // unmet dependencies on enabled nodes
  std::map<std::string, std::vector<std::string>> dependents;
  for (const auto& [uid, n] : nodes_) {
    if (!n.enabled) continue;
    size_t count = 0;
    for (const std::string& d : n.depends_on) {
      auto it = nodes_.find(d);
      if (it == nodes_.end() || !it->second.enabled) continue;  // sources, disabled nodes
      ++count;
      dependents[d].push_back(uid);
    }
    pending[uid] = count;
  }
  // Deterministic: by name, except that a test runs as soon as what it tests has (as dbt build
  // does, so that a failing test stops what depends on its model). Tests sort first.
  std::set<std::pair<int, std::string>> ready;
  auto key = [&](const std::string& uid) {
    return std::make_pair(nodes_.at(uid).node->kind == NodeKind::kTest ? 0 : 1, uid);
  };
  std::vector<std::string> out;
  for (const auto& [uid, count] : pending) {
    if (count == 0) ready.insert(key(uid));
  }
  while (!ready.empty()) {
    std::string uid = ready.begin()->second;
    ready.erase(ready.begin());
    out.push_back(uid);
    for (const std::string& d : dependents[uid]) {
      if (--pending[d] == 0) ready.insert(key(d));
    }
  }
  if (out.size() != pending.size()) {
    std::string cycle;
    for (const auto& [uid, count] : pending) {
      if (count > 0) cycle += (cycle.empty() ? "" : ", ") + uid;
    }
    return InvalidArgument("the project's models depend on each other in a cycle: " + cycle);
  }
  return out;
}

}  // namespace lakemesh::dbt
