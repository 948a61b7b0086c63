#!/usr/bin/python3
"""Writes corpus.json: templates (with contexts) that the differential test renders with both
lakemesh's Jinja engine and Python's Jinja2. Edit the cases here and rerun this script."""
import json
import os

C = []


def case(name, template, context=None, templates=None, **options):
    c = {"name": name, "template": template}
    if context is not None:
        c["context"] = context
    if templates:
        c["templates"] = templates
    if options:
        c["options"] = options
    C.append(c)


# Expressions and literals
case("literals", "{{ 1 }} {{ 1.5 }} {{ 'a' }} {{ \"b\" }} {{ true }} {{ False }} {{ none }} {{ [1, 'x', none] }} {{ (1, 2) }} {{ (1,) }} {{ {'a': 1, 'b': [2]} }}")
case("floats", "{{ 0.1 }} {{ 1e20 }} {{ 1.0 }} {{ 2.5e-5 }} {{ 1/3 }} {{ 10/2 }} {{ 0.0001 }} {{ 123456789012345678.0 }}")
case("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 7.5 // 2 }}")
case("strings_ops", "{{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ 1 ~ 2 ~ 'x' }} {{ 'a' in 'cat' }} {{ 'z' not in 'cat' }} {{ [1] + [2] }}")
case("compare", "{{ 1 < 2 < 3 }} {{ 1 < 2 > 3 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 != 2 }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }}")
case("logic", "{{ 1 and 2 }} {{ 0 and 2 }} {{ 0 or 'x' }} {{ not 0 }} {{ none or [] or 'last' }} {{ 'y' if 1 > 2 else 'n' }} {{ 'only' if false }}|")
case("subscript", "{{ items[0] }} {{ items[-1] }} {{ items[1:] }} {{ items[::-1] }} {{ items[0:2] }} {{ d['k'] }} {{ d.k }} {{ 'hello'[1:3] }} {{ items.0 }}",
     {"items": [1, 2, 3], "d": {"k": "v"}})
case("names", "{{ user.name }} is {{ user.age }}; {{ user.missing }}|{{ nothing }}|", {"user": {"name": "Ada", "age": 36}})
case("adjacent_strings", "{{ 'a' 'b' \"c\" }}")
case("escapes", "{{ 'tab\\there' }}|{{ \"q'uote\" }}|{{ 'back\\\\slash' }}|{{ ['it\\'s', \"a\\\"b\"] }}")

# Statements
case("if", "{% if x > 2 %}big{% elif x > 1 %}mid{% else %}small{% endif %}", {"x": 2})
case("for_basic", "{% for i in items %}{{ loop.index }}:{{ i }}{% if not loop.last %},{% endif %}{% endfor %}", {"items": ["a", "b", "c"]})
case("for_loopvars", "{% for i in [10, 20, 30] %}[{{ loop.index0 }} {{ loop.revindex }} {{ loop.revindex0 }} {{ loop.first }} {{ loop.last }} {{ loop.length }} {{ loop.previtem }} {{ loop.nextitem }}]{% endfor %}")
case("for_else", "{% for i in [] %}{{ i }}{% else %}empty{% endfor %}")
case("for_filter", "{% for i in range(10) if i is odd %}{{ i }}{{ loop.index }} {% endfor %}")
case("for_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for a, (b, c) in [(1, (2, 3))] %}{{ a }}{{ b }}{{ c }}{% endfor %}", {"d": {"x": 1, "y": 2}})
case("for_dict", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}})
case("for_cycle_changed", "{% for i in [1, 1, 2, 3, 3] %}{{ loop.cycle('o', 'e') }}{% if loop.changed(i) %}!{% endif %}{% endfor %}")
case("for_scope", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}")
case("namespace", "{% set ns = namespace(total=0) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}")
case("loopcontrols", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}")
case("set", "{% set a = 1 %}{% set b, c = 2, 3 %}{{ a }}{{ b }}{{ c }}{% set t = 'x', 'y' %}{{ t }}")
case("set_block", "{% set body %}hello {{ name }}{% endset %}[{{ body }}]{% set up | upper %}shout{% endset %}{{ up }}", {"name": "you"})
case("macro", "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ada') }} {{ greet('Bob', greeting='Hi') }} {{ greet(name='Cy', greeting='Yo') }}")
case("macro_varargs", "{% macro m(a) %}{{ a }}|{{ varargs }}|{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}")
case("macro_defaults_ref", "{% macro m(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ m(3) }} {{ m(3, 1) }}")
case("macro_missing_arg", "{% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }}")
case("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}")
case("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}")
case("call_block_args", "{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(x, n) each(['a', 'b']) %}{{ n }}={{ x }} {% endcall %}")
case("filter_block", "{% filter upper %}quiet {{ 'words' }}{% endfilter %}|{% filter replace('a', 'o') | title %}banana{% endfilter %}")
case("raw", "{% raw %}{{ not rendered }} {% if %}{% endraw %}!")
case("do", "{% set l = [] %}{% do l.append(1) %}{% do l.extend([2, 3]) %}{{ l }}{% set d = {} %}{% do d.update({'a': 1}) %}{{ d }}")
case("with", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}|")
case("comments", "a{# a comment {{ x }} #}b{#- trimmed -#}  c")
case("import", "{% import 'm.sql' as m %}{{ m.hello('x') }} {{ m.value }}",
     templates={"m.sql": "{% macro hello(n) %}hi {{ n }}{% endmacro %}{% set value = 42 %}ignored output"})
case("from_import", "{% from 'm.sql' import hello as h, value %}{{ h('y') }} {{ value }}",
     templates={"m.sql": "{% macro hello(n) %}hey {{ n }}{% endmacro %}{% set value = 7 %}"})
case("include", "start {% include 'part.sql' %} end", {"x": "ctx"},
     templates={"part.sql": "part sees {{ x }}"})
case("include_missing", "a{% include 'nope.sql' ignore missing %}b")

# Whitespace control
case("ws_minus", "a  {%- if true -%}  b  {%- endif -%}  c\n{{- ' d ' -}}\n e")
case("ws_lines", "select\n    {%- for c in cols %}\n    {{ c }}{{ ',' if not loop.last }}\n    {%- endfor %}\nfrom t\n", {"cols": ["a", "b"]})
case("trim_blocks", "{% if true %}\nline\n{% endif %}\nafter\n", trim_blocks=True)
case("lstrip_blocks", "x\n    {% if true %}\n    y\n    {% endif %}\nz", lstrip_blocks=True)
case("trim_and_lstrip", "<ul>\n  {% for i in [1, 2] %}\n  <li>{{ i }}</li>\n  {% endfor %}\n</ul>\n", trim_blocks=True, lstrip_blocks=True)
case("plus_disables_lstrip", "a\n    {%+ if true %}b{% endif %}", lstrip_blocks=True)
case("keep_trailing_newline", "line\n", keep_trailing_newline=True)
case("trailing_newline", "line\n\n")

# Filters
case("filters_strings", "{{ 'hello world'|title }} {{ 'HeLLo'|lower }} {{ 'x'|upper }} {{ 'abc'|capitalize }} {{ '  pad  '|trim }} {{ 'a-b-c'|replace('-', '+') }} {{ 'abc'|reverse }} {{ 'abc'|length }} {{ 'hello'|center(11) }}|")
case("filters_lists", "{{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ ['b', 'A', 'c']|sort }} {{ [1, 2, 3]|sum }} {{ [1, 2]|first }} {{ [1, 2]|last }} {{ [1, 2, 2, 1]|unique|list }} {{ [1, 5, 3]|max }} {{ [1, 5, 3]|min }} {{ [1, 2, 3]|join('-') }} {{ [1, 2, 3]|reverse|list }}")
case("filters_default", "{{ missing|default('dflt') }} {{ ''|default('empty', true) }} {{ none|default('n') }} {{ 0|d('zero', boolean=true) }}")
case("filters_numbers", "{{ '42'|int + 1 }} {{ '3.5'|float }} {{ 'x'|int }} {{ 3.7|int }} {{ -3|abs }} {{ 2.5|round }} {{ 2.567|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ '0x1f'|int(0, 16) }}")
case("filters_map_select", "{{ users|map(attribute='name')|join(', ') }} {{ users|selectattr('active')|map(attribute='name')|list }} {{ users|rejectattr('active')|list|length }} {{ [1, 2, 3, 4]|select('even')|list }} {{ [1, 2, 3]|reject('odd')|list }} {{ ['a', 'B']|map('upper')|list }} {{ [1, 2, 3, 4]|select('divisibleby', 2)|list }}",
     {"users": [{"name": "ada", "active": True}, {"name": "bob", "active": False}]})
case("filters_dict", "{{ d|dictsort }} {{ d|dictsort(by='value') }} {{ d|items|list }} {{ d|length }}", {"d": {"b": 1, "a": 3}})
case("filters_tojson", "{{ {'b': [1, 'x', none, true], 'a': 1.5}|tojson }} {{ 'a<b'|tojson }}")
case("filters_indent", "{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'x\\ny'|indent('> ') }}")
case("filters_batch", "{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 'x')|list }}")
case("filters_format", "{{ '%s-%d'|format('a', 3) }} {{ '%s and %s' % ('x', 'y') }} {{ '%05.1f'|format(3.14159) }}")
case("filters_misc", "{{ 'a b  c'|wordcount }} {{ 'hello world foo'|truncate(9) }} {{ [1, 2]|list|string }} {{ 'a&b'|e }} {{ 'x y'|urlencode }} {{ [1, 2, 3]|length }}")

case("filters_groupby", "{% for g in users|groupby('city') %}{{ g.grouper }}:{{ g.list|map(attribute='n')|join(',') }};{% endfor %}|{% for k, v in users|groupby('city') %}{{ k }}{{ v|length }}{% endfor %}|{{ users|groupby('city')|first }}|{% for g in users|groupby('zip', default='none') %}{{ g.grouper }}{% endfor %}",
     {"users": [{"n": 1, "city": "B"}, {"n": 2, "city": "a"}, {"n": 3, "city": "b"}]})
case("filters_slice", "{{ [1, 2, 3, 4, 5]|slice(2)|list }} {{ [1, 2, 3, 4, 5, 6, 7]|slice(3, 'x')|list }} {{ []|slice(2)|list }}")
case("filters_striptags", "{{ '<p>Hello <b>world</b></p>\n  <!-- no -->&amp; more'|striptags }}")

# Tests
case("tests", "{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ none is none }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is string }} {{ 1 is number }} {{ [1] is sequence }} {{ {} is mapping }} {{ 1 is integer }} {{ 1.0 is float }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ x is not none }} {{ 2 is in [1, 2] }} {{ 1 is eq 1 }} {{ 3 is gt 2 }} {{ true is sameas true }} {{ false is boolean }} {{ range is callable }}", {"x": 1})

# Methods
case("methods_str", "{{ 'a,b,c'.split(',') }} {{ 'a b'.split() }} {{ 'a,b,c'.split(',', 1) }} {{ ' x '.strip() }} {{ 'xxhixx'.strip('x') }} {{ 'Hi'.upper() }} {{ 'a-b'.replace('-', '_') }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ ', '.join(['a', 'b']) }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.count('a') }} {{ '{} and {}'.format(1, 2) }} {{ '{0}{name}'.format('x', name='y') }} {{ '12'.isdigit() }} {{ '7'.zfill(3) }}")
case("methods_list_dict", "{% set l = [3, 1] %}{% do l.insert(0, 9) %}{{ l.pop() }} {{ l }} {{ l.index(9) }} {{ l.count(3) }}{% set d = {'a': 1} %} {{ d.get('a') }} {{ d.get('z', 'none') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.pop('a') }} {{ d }} {{ d.setdefault('n', 5) }} {{ d }}")
case("globals", "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ dict(a=1, b=2) }} {% set j = joiner(' | ') %}{% for i in [1, 2, 3] %}{{ j() }}{{ i }}{% endfor %} {% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}")

# dbt-style SQL
case("dbt_like_model", """{%- set payment_methods = ['credit_card', 'coupon', 'bank_transfer'] -%}
with payments as (
    select * from {{ ref_name }}
),
final as (
    select
        order_id,
        {% for method in payment_methods -%}
        sum(case when payment_method = '{{ method }}' then amount else 0 end) as {{ method }}_amount
        {%- if not loop.last %},{% endif %}
        {% endfor -%}
    from payments
    group by 1
)
select * from final
""", {"ref_name": "analytics.stg_payments"})
case("dbt_like_macro", """{% macro cents_to_dollars(column_name, precision=2) -%}
    ({{ column_name }} / 100)::numeric(16, {{ precision }})
{%- endmacro %}
select {{ cents_to_dollars('amount') }} as amount, {{ cents_to_dollars('tax', 4) }} as tax
""")
case("dbt_like_config", """{%- set cfg = {'materialized': 'incremental', 'unique_key': 'id'} -%}
{%- if cfg.materialized == 'incremental' and cfg.get('unique_key') %}
merge on {{ cfg['unique_key'] }}
{%- endif %}
{{ cfg | tojson }}""")

# More: scoping, nesting and Python semantics
case("set_in_if_leaks", "{% if true %}{% set x = 5 %}{% endif %}{{ x }}")
case("nested_macros", "{% macro outer(x) %}{% macro inner(y) %}<{{ y }}>{% endmacro %}{{ inner(x) }}{{ inner(x * 2) }}{% endmacro %}{{ outer(2) }}")
case("macro_calls_macro", "{% macro a() %}A{{ b() }}{% endmacro %}{% macro b() %}B{% endmacro %}{{ a() }}")
case("macro_sees_globals", "{% set g = 'global' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}")
case("caller_in_loop", "{% macro rows(n) %}{% for i in range(n) %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(i) rows(3) %}[{{ i }}]{% endcall %}")
case("loop_over_string", "{% for ch in 'abc' %}{{ ch }}-{% endfor %}")
case("loop_nested", "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}")
case("loop_length_filtered", "{% for i in range(6) if i > 2 %}{{ loop.length }}{% endfor %}")
case("defined_chain", "{{ d.x is defined }} {{ d.y is defined }} {{ missing is defined }} {{ d.x.z is defined }}", {"d": {"x": {}}})
case("repr_nested", "{{ {'a': [1, {'b': 'c'}], 'd': (1, 'e'), 'f': none, 'g': true, 'h': 1.5} }}")
case("percent_none", "{{ '%s|%s' % (none, true) }}")
case("int_float_mix", "{{ 1 + 1.5 }} {{ 3 * 0.5 }} {{ 10 // 3.0 }} {{ 2 ** 0.5 }} {{ 1 == true }} {{ true + true }}")
case("string_compare_chain", "{{ 'a' < 'b' <= 'b' }} {{ [1, 2] == [1, 2] }} {{ (1, 2) == [1, 2] }}")
case("ws_set_trim", "a\n{%- set x = 1 -%}\n{{- x -}}\n b")
case("ws_comment_lines", "x\n{# c #}\ny", trim_blocks=True)
case("elif_chain", "{% for v in [1, 2, 3, 4] %}{% if v == 1 %}one{% elif v == 2 %}two{% elif v == 3 %}three{% else %}many{% endif %} {% endfor %}")
case("import_with_context", "{% set who = 'ctx' %}{% import 'm.sql' as m with context %}{{ m.hi() }}", {"who": "context-var"},
     templates={"m.sql": "{% macro hi() %}hi {{ who }}{% endmacro %}"})
case("dict_iteration_order", "{% for k, v in {'z': 1, 'a': 2, 'm': 3}.items() %}{{ k }}{% endfor %}")
case("list_mutation_shared", "{% set a = [1] %}{% set b = a %}{% do b.append(2) %}{{ a }}")
case("neg_index_slice", "{{ [1, 2, 3, 4][-2:] }} {{ 'abcdef'[::2] }} {{ [1, 2, 3][5:] }} {{ 'abc'[-1] }}")
case("filter_chain_args", "{{ ['b', 'a', 'c']|sort|join(', ')|upper }} {{ 'x,y'.split(',')|map('upper')|join }}")
case("tests_in_if", "{% if x is string and x|length > 2 %}long{% endif %}{% if y is not defined %} no-y{% endif %}", {"x": "abcd"})
case("concat_types", "{{ 1 ~ none ~ true ~ [1] }}")
case("err_undefined_call", "{{ nothing() }}")
case("err_div_zero", "{{ 1 / 0 }}")

# Errors: both must fail
case("err_syntax", "{% if %}")
case("err_unclosed", "{% for x in y %}")
case("err_unknown_filter", "{{ 1|nofilter }}")
case("err_undefined_attr", "{{ missing.attr }}")
case("err_type", "{{ 1 + 'a' }}")
case("err_macro_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}")
case("err_unknown_tag", "{% frobnicate %}")

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "corpus.json"), "w") as f:
    json.dump(C, f, indent=1)
    f.write("\n")
print("wrote %d cases" % len(C))
