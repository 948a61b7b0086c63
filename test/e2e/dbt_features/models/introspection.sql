{{ config(materialized='table') }}
{%- set kinds = run_query("select distinct kind from " ~ ref('events') ~ " order by 1") -%}
{%- call statement('n_customers', fetch_result=True) -%}
  select count(*) as n from {{ ref('customers') }}
{%- endcall -%}
{%- set n = load_result('n_customers')['data'][0][0] if execute else 0 -%}
{%- set events = adapter.get_relation(database=this.database, schema=ref('events').schema, identifier='events') -%}
{%- set missing = adapter.get_relation(database=this.database, schema=this.schema, identifier='no_such_table') -%}
{%- set cols = adapter.get_columns_in_relation(ref('customers')) -%}
{%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | map(attribute='name') | sort -%}
select
  '{{ (kinds.columns[0].values() | join("|")) if execute else "" }}' as kinds,
  {{ n }} as customers,
  '{{ events.type if events else "none" }}' as events_type,
  '{{ "none" if missing is none else "found" }}' as missing,
  '{{ cols | map(attribute="name") | join("|") }}' as customer_columns,
  '{{ models | join("|") }}' as models,
  {{ modules.datetime.datetime.utcnow().year }} as year,
  '{{ modules.datetime.date.today().strftime("%Y") }}' as today_year
{{ log('introspection sees ' ~ n ~ ' customers', info=True) }}
