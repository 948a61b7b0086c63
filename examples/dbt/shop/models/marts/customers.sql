with orders as (
    select * from {{ ref('orders') }}
)

select
    c.customer_id,
    c.first_name,
    c.last_name,
    c.country,
    count(o.order_id) as number_of_orders,
    min(o.order_date) as first_order,
    coalesce(sum(o.total_amount), 0) as lifetime_value
from {{ ref('stg_customers') }} c
left join orders o using (customer_id)
group by 1, 2, 3, 4
