{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge',
          merge_update_columns=['amount']) }}
select id, customer_id, kind, amount from {{ ref('events') }}
