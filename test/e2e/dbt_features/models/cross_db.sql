{{ config(materialized='table') }}
select
  {{ dbt.date_trunc('month', "cast('2026-03-15' as date)") }} as month_start,
  cast({{ dbt.dateadd('day', 3, "cast('2026-03-15' as date)") }} as date) as plus3,
  {{ dbt.datediff("cast('2026-03-01' as date)", "cast('2026-03-15' as date)", 'day') }} as days,
  {{ dbt.safe_cast("'x'", dbt.type_int()) }} as bad_int,
  {{ dbt.concat(["'a'", "'b'"]) }} as ab,
  {{ dbt.split_part("'a-b-c'", "'-'", 2) }} as b,
  {{ dbt.last_day("cast('2026-02-10' as date)", 'month') }} as feb_end,
  {{ dbt.string_literal("it's") }} as lit,
  (select {{ dbt.listagg('kind', "','", 'order by kind') }} from {{ ref('events') }}) as kinds,
  {{ hash("'x'") }} as h,
  '{{ adapter.dispatch('type_string', 'dbt')() }}' as type_name
