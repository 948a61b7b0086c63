{{ config(materialized='incremental', unique_key='order_date') }}

select
    order_date,
    count(*) as orders,
    sum(total_amount) as revenue
from {{ ref('orders') }}
where status != 'returned'
{% if is_incremental() %}
  -- only the days since the last run (and the last day again, which may have grown)
  and order_date >= (select max(order_date) from {{ this }})
{% endif %}
group by order_date
