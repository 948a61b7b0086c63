select id, name, case tier when 'gold' then 1 else 2 end as tier_rank from {{ ref('customers') }}
