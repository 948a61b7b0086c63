{{ config(materialized='incremental', on_schema_change=var('on_schema_change', 'append_new_columns')) }}
select id, amount{% if var('with_kind', false) %}, kind{% endif %}
from {{ ref('events') }}
{% if is_incremental() %}
where id > (select max(id) from {{ this }})
{% endif %}
