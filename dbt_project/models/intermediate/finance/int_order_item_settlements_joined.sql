{#- One row per settled order item posting (an Order transaction's lines for one order item in one
    settlement): the settlement lines pivoted by category, joined to the order item they settle.

    Incremental by settlement like finance.settlement_lines (macros/incremental.sql): a run rebuilds the
    settlements within the lookback, and those with a posting whose order item had not arrived yet. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    **replace_by_key(['seller_id', 'settlement_id'])
) }}
-- depends_on: {{ ref('stg_spapi__settlement_report_documents') }}

{%- if is_incremental() %}

with refresh as (
    {{ settlements_to_refresh(this) }}
    union
    -- order items can arrive after their settlement: retry the postings still without one
    select seller_id, settlement_id from {{ this }} where not has_order_item
),

lines as (
    select settlement_lines.*
    from {{ ref('int_settlement_lines_categorised') }} as settlement_lines
    inner join refresh
        on settlement_lines.seller_id = refresh.seller_id
        and settlement_lines.settlement_id = refresh.settlement_id
    where settlement_lines.transaction_type = 'Order' and settlement_lines.order_id is not null
),
{%- else %}

with lines as (
    select * from {{ ref('int_settlement_lines_categorised') }}
    where transaction_type = 'Order' and order_id is not null
),
{%- endif %}

postings as (
    select
        seller_id,
        marketplace_id,
        settlement_id,
        order_id,
        coalesce(order_item_code, sku) as order_item_code,
        sku,
        max(fulfillment_channel) as fulfillment_channel,
        max(coalesce(quantity, 0)) as quantity,
        max(currency) as currency,
        min(posted_at) as posted_at,
        max(report_created_at) as report_created_at,
        max(report_loaded_at) as report_loaded_at,
        sum(case when category = 'principal' then amount else 0 end) as principal_amount,
        sum(case when category = 'shipping' then amount else 0 end) as shipping_amount,
        sum(case when category = 'promotion' then amount else 0 end) as promotion_amount,
        sum(case when category = 'tax' then amount else 0 end) as tax_amount,
        sum(case when category = 'withheld_tax' then amount else 0 end) as withheld_tax_amount,
        sum(case when category = 'referral_fee' then amount else 0 end) as referral_fee_amount,
        sum(case when category = 'fba_fulfillment_fee' then amount else 0 end) as fba_fee_amount,
        sum(case when category = 'other_fee' then amount else 0 end) as other_fee_amount,
        -- the media closing fee (an other_fee line), which the fee audit checks on its own
        sum(case when amount_type = 'ItemFees' and amount_description = 'VariableClosingFee' then amount else 0 end)
            as closing_fee_amount,
        sum(amount) as total_amount,
        count(*) as line_count
    from lines
    group by seller_id, marketplace_id, settlement_id, order_id, coalesce(order_item_code, sku), sku
),

order_items as (
    select * from {{ ref('stg_spapi__order_items') }}
)

select
    postings.seller_id || '-' || postings.settlement_id || '-' || postings.order_id || '-'
        || postings.order_item_code as order_item_settlement_id,
    order_items.order_item_id,
    postings.seller_id,
    postings.marketplace_id,
    postings.settlement_id,
    postings.order_id,
    postings.order_item_code,
    postings.sku,
    postings.fulfillment_channel,
    postings.quantity,
    postings.currency,
    postings.posted_at,
    postings.report_created_at,
    postings.report_loaded_at,
    {{ money('postings.principal_amount') }} as principal_amount,
    {{ money('postings.shipping_amount') }} as shipping_amount,
    {{ money('postings.promotion_amount') }} as promotion_amount,
    {{ money('postings.tax_amount') }} as tax_amount,
    {{ money('postings.withheld_tax_amount') }} as withheld_tax_amount,
    {{ money('postings.referral_fee_amount') }} as referral_fee_amount,
    {{ money('postings.fba_fee_amount') }} as fba_fee_amount,
    {{ money('postings.other_fee_amount') }} as other_fee_amount,
    {{ money('postings.closing_fee_amount') }} as closing_fee_amount,
    {{ money('postings.total_amount') }} as total_amount,
    postings.line_count,
    order_items.order_item_id is not null as has_order_item
from postings
left join order_items
    on postings.seller_id = order_items.seller_id
    and postings.order_id = order_items.order_id
    and postings.sku = order_items.sku
