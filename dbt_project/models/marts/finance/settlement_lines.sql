{#- Every line of every settlement (newest document version) with its category: the drill-down.

    Incremental by settlement (see macros/incremental.sql): a run deletes and re-inserts every line of
    each settlement with a document created within `settlement_lookback_days` of the newest one already
    here, so a re-issued settlement is replaced as a whole and a daily run reads only recent settlements. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    **replace_by_key(['seller_id', 'settlement_id'])
) }}
-- depends_on: {{ ref('stg_spapi__settlement_report_documents') }}

with lines as (
    select * from {{ ref('int_settlement_lines_categorised') }}
)

select
    lines.settlement_line_id,
    lines.settlement_id,
    lines.report_id,
    lines.report_created_at,
    lines.report_loaded_at,
    lines.line_number,
    lines.seller_id,
    lines.marketplace_id,
    {{ named_columns('lines.seller_id') }},
    lines.transaction_type,
    lines.amount_type,
    lines.amount_description,
    lines.category,
    lines.order_id,
    lines.adjustment_id,
    lines.shipment_id,
    lines.order_item_code,
    lines.sku,
    lines.quantity,
    lines.promotion_id,
    lines.fulfillment_channel,
    lines.posted_date,
    lines.posted_at,
    lines.amount,
    lines.currency
from lines
{%- if is_incremental() %}
inner join ({{ settlements_to_refresh(this) }}) as refresh
    on lines.seller_id = refresh.seller_id
    and lines.settlement_id = refresh.settlement_id
{%- endif %}
{{ join_names('lines.seller_id', 'lines.marketplace_id') }}
