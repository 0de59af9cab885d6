{#- One row per refund posting (a Refund transaction's lines for one adjustment and order item), joined to
    the original order item's settlement; with the refunded referral fee, the refund administration fee
    Amazon kept and the one the rule expects: min(5.00, 20% of the refunded referral fee). -#}
with lines as (
    select * from {{ ref('int_settlement_lines_categorised') }}
    where transaction_type = 'Refund'
),

refunds as (
    select
        seller_id,
        marketplace_id,
        settlement_id,
        order_id,
        adjustment_id,
        coalesce(order_item_code, sku) as order_item_code,
        sku,
        max(currency) as currency,
        min(posted_at) as refunded_at,
        max(coalesce(quantity, 0)) as quantity,
        sum(case when category in ('refund', 'principal', 'shipping') then amount else 0 end) as refunded_sales_amount,
        sum(case when category = 'referral_fee' then amount else 0 end) as refunded_referral_fee,
        sum(case when category = 'refund_commission' then -amount else 0 end) as charged_refund_admin_fee,
        sum(amount) as total_amount
    from lines
    group by seller_id, marketplace_id, settlement_id, order_id, adjustment_id, coalesce(order_item_code, sku), sku
),

originals as (
    select
        seller_id,
        order_id,
        order_item_code,
        min(settlement_id) as original_settlement_id,
        sum(charged_referral_fee) as original_referral_fee
    from {{ ref('int_order_item_fees_expected') }}
    group by seller_id, order_id, order_item_code
)

select
    refunds.seller_id || '-' || refunds.settlement_id || '-' || coalesce(refunds.adjustment_id, refunds.order_id)
        || '-' || refunds.order_item_code as refund_id,
    refunds.seller_id,
    refunds.marketplace_id,
    refunds.settlement_id,
    refunds.order_id,
    refunds.adjustment_id,
    refunds.order_item_code,
    refunds.sku,
    refunds.currency,
    refunds.refunded_at,
    refunds.quantity,
    {{ money('refunds.refunded_sales_amount') }} as refunded_sales_amount,
    {{ money('refunds.refunded_referral_fee') }} as refunded_referral_fee,
    {{ money('refunds.charged_refund_admin_fee') }} as charged_refund_admin_fee,
    {{ expected_refund_admin_fee('refunds.refunded_referral_fee') }} as expected_refund_admin_fee,
    {{ money('refunds.total_amount') }} as total_amount,
    originals.original_settlement_id,
    {{ money('originals.original_referral_fee') }} as original_referral_fee,
    originals.order_id is not null as has_original_order
from refunds
left join originals
    on refunds.seller_id = originals.seller_id
    and refunds.order_id = originals.order_id
    and refunds.order_item_code = originals.order_item_code
