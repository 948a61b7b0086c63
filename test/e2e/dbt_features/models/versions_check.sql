{{ config(materialized='table') }}
select
  '{{ ref('dim_customers') }}' as latest,
  '{{ ref('dim_customers', v=2) }}' as v2,
  (select count(*) from {{ ref('dim_customers') }}) as latest_rows,
  (select min(tier_rank) from {{ ref('dim_customers', version=2) }}) as best_rank
