// The Jinja engine's API: errors with template, line and column; loaders and the parse cache;
// native globals, filters and tests; dbt's return() from a macro; macros called from native
// code. (Rendering itself is compared with Jinja2 by test/jinja/test_differential.py.)
#include <gtest/gtest.h>

#include "transform/jinja/jinja.h"

namespace lakemesh::jinja {
namespace {

std::string Render(const Environment& env, std::string_view source, Value context = Value::Dict()) {
  auto r = env.RenderString(source, context);
  return r.ok() ? *r : "ERROR " + r.status().message();
}

TEST(Jinja, ErrorsNameTheTemplateLineAndColumn) {
  Environment env;
  auto t = env.Parse("models/orders.sql", "select 1\n{% if %}\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().rfind("models/orders.sql:2:7: ", 0), 0u) << t.status().message();

  t = env.Parse("m.sql", "a\nb {{ x + }}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().rfind("m.sql:2:10: ", 0), 0u) << t.status().message();

  t = env.Parse("m.sql", "{% for x in y %}\nno end");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("expected 'else' or 'endfor'"), std::string::npos);

  // Errors while rendering point at the expression.
  auto parsed = env.Parse("r.sql", "line one\n  {{ 1 + 'a' }}");
  ASSERT_TRUE(parsed.ok());
  auto r = env.Render(**parsed, Value::Dict());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "r.sql:2:8: unsupported operand type(s) for +: 'int' and 'str'");
  r = env.RenderString("{{ missing.attr }}", Value::Dict());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'missing' is undefined"), std::string::npos);
}

TEST(Jinja, LoaderAndCache) {
  Environment env;
  int loads = 0;
  env.SetLoader([&](const std::string& name) -> Result<std::string> {
    ++loads;
    if (name == "macros.sql") return std::string("{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}");
    return NotFound("no template " + name);
  });
  EXPECT_EQ(Render(env, "{% import 'macros.sql' as m %}{{ m.twice('a') }}{{ m.twice('b') }}"), "aabb");
  EXPECT_EQ(Render(env, "{% from 'macros.sql' import twice %}{{ twice(1) }}"), "11");
  EXPECT_EQ(loads, 1);  // parsed once, kept
  auto t = env.GetTemplate("macros.sql");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->name(), "macros.sql");
  EXPECT_TRUE(env.GetTemplate("nope.sql").status().IsNotFound());
  EXPECT_NE(Render(env, "{% include 'nope.sql' %}").find("ERROR"), std::string::npos);
}

TEST(Jinja, NativeGlobalsFiltersAndTests) {
  Environment env;
  env.AddGlobal("project", Value("shop"));
  env.AddGlobal("ref", Value::Function("ref", [](CallArgs& a, Interpreter&) {
                  return Value("analytics." + a.args.at(0).Str());
                }));
  env.AddFilter("quote", [](CallArgs& a, Interpreter&) { return Value("\"" + a.args.at(0).Str() + "\""); });
  env.AddTest("model", [](CallArgs& a, Interpreter&) {
    return Value(a.args.at(0).is_string() && a.args[0].as_string().rfind("stg_", 0) == 0);
  });
  EXPECT_EQ(Render(env, "{{ project }}: select * from {{ ref('orders') | quote }}"),
            "shop: select * from \"analytics.orders\"");
  EXPECT_EQ(Render(env, "{{ 'stg_a' is model }} {{ 'b' is model }}"), "True False");
  // The context comes before globals.
  Value ctx = Value::Dict();
  ctx.dict().Set(Value("project"), Value("other"));
  EXPECT_EQ(Render(env, "{{ project }}", ctx), "other");
  // Filters by name for map() and select(), including added ones.
  EXPECT_EQ(Render(env, "{{ ['a', 'b'] | map('quote') | join(',') }}"), "\"a\",\"b\"");
  EXPECT_EQ(Render(env, "{{ ['stg_x', 'y'] | select('model') | list }}"), "['stg_x']");
}

TEST(Jinja, ReturnFromMacro) {
  Environment env;
  env.AddGlobal("return", Value::Function("return", [](CallArgs& a, Interpreter&) -> Value {
                  ReturnFromMacro(a.args.empty() ? Value::None() : a.args[0]);
                }));
  EXPECT_EQ(Render(env, "{% macro cols() %}ignored{{ return(['a', 'b']) }}{% endmacro %}"
                        "{{ cols() | join('+') }} {{ cols() | length }}"),
            "a+b 2");
  EXPECT_NE(Render(env, "{{ return(1) }}").find("return() outside a macro"), std::string::npos);
}

TEST(Jinja, MacrosCalledFromNativeCode) {
  Environment env;
  auto t = env.Parse("macros.sql", "{% macro greet(name, punct='!') %}hi {{ name }}{{ punct }}{% endmacro %}");
  ASSERT_TRUE(t.ok());
  auto m = env.GetMacro(**t, "greet", Value::Dict());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // A native function calls it, as adapter.dispatch will.
  env.AddGlobal("dispatch", Value::Function("dispatch", [macro = *m](CallArgs& a, Interpreter& in) {
                  return in.Call(macro, a);
                }));
  EXPECT_EQ(Render(env, "{{ dispatch('you', punct='?') }}"), "hi you?");
  EXPECT_TRUE(env.GetMacro(**t, "nope", Value::Dict()).status().IsNotFound());
}

TEST(Jinja, RunawayRecursionIsAnError) {
  Environment env;
  std::string r = Render(env, "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_NE(r.find("too deep"), std::string::npos) << r;
  env.SetLoader([](const std::string&) -> Result<std::string> { return std::string("{% include 'self' %}"); });
  r = Render(env, "{% include 'self' %}");
  EXPECT_NE(r.find("too deep"), std::string::npos) << r;
}

TEST(Jinja, DbtBlockTags) {
  Options o;
  o.dbt_tags = true;
  Environment env(o);
  auto t = env.Parse("tests/generic.sql",
                     "{% test is_positive(model, column_name) %}"
                     "select * from {{ model }} where {{ column_name }} <= 0"
                     "{% endtest %}"
                     "{% materialization view_like, adapter='lakemesh' %}made{% endmaterialization %}"
                     "{% docs orders %}All the orders.{% enddocs %}");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto test = env.GetMacro(**t, "test_is_positive", Value::Dict());
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  env.AddGlobal("run_test", *test);
  EXPECT_EQ(Render(env, "{{ run_test(model='sales.orders', column_name='amount') }}"),
            "select * from sales.orders where amount <= 0");
  EXPECT_TRUE(env.GetMacro(**t, "materialization_view_like_lakemesh", Value::Dict()).ok());
  auto docs = env.GetMacro(**t, "docs_orders", Value::Dict());
  ASSERT_TRUE(docs.ok());
  env.AddGlobal("doc", *docs);
  EXPECT_EQ(Render(env, "{{ doc() }}"), "All the orders.");
  // Without the option these are unknown tags, as in Jinja2.
  Environment plain;
  EXPECT_FALSE(plain.Parse("x", "{% test t(model) %}{% endtest %}").ok());
}

TEST(Jinja, FloatRepr) {
  EXPECT_EQ(FloatRepr(0.1), "0.1");
  EXPECT_EQ(FloatRepr(1e20), "1e+20");
  EXPECT_EQ(FloatRepr(1e16), "1e+16");
  EXPECT_EQ(FloatRepr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(FloatRepr(0.0001), "0.0001");
  EXPECT_EQ(FloatRepr(0.00001), "1e-05");
  EXPECT_EQ(FloatRepr(-2.5), "-2.5");
  EXPECT_EQ(FloatRepr(3.0), "3.0");
}

}  // namespace
}  // namespace lakemesh::jinja
