{% snapshot orders_status %}
{#- Every status an order went through, with when it held it (SCD type 2). -#}
{{ config(unique_key='order_id', strategy='check', check_cols=['status']) }}

select order_id, customer_id, order_date, status
from {{ ref('stg_orders') }}

{% endsnapshot %}
