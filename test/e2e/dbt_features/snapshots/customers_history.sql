{% snapshot customers_history %}
{{ config(target_schema='features-history', unique_key='id', strategy='timestamp',
          updated_at='updated_at', hard_deletes='invalidate') }}
select * from {{ ref('customers') }}
{% endsnapshot %}
