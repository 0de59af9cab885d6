{#- One row per refund posting (a Refund transaction's lines for one adjustment and order item), joined to
    the original order item's settlement; with the refunded referral fee, the refund administration fee
    Amazon kept and the one the rule in force on the refund date gives (refund_administration_fees seed):
    `lesser_of` the fixed amount and a percent of the refunded referral fee, or `fixed`. The rule is per
    marketplace and product scope: media (a fee category with a media closing fee there) or non-media. No
    expectation (not audited) where the SKU's category is unresolved or no sourced rule is in force. -#}
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
),

categories as (
    select * from {{ ref('int_sku_categories_resolved') }}
),

media_categories as (
    select distinct marketplace_id, fee_category from {{ ref('closing_fees') }}
),

admin_rules as (
    select * from {{ ref('refund_administration_fees') }}
),

scoped as (
    select
        refunds.*,
        categories.category,
        case
            when categories.category is null then null
            when media_categories.fee_category is not null then 'media'
            else 'non_media'
        end as product_scope
    from refunds
    left join categories
        on refunds.seller_id = categories.seller_id
        and refunds.marketplace_id = categories.marketplace_id
        and refunds.sku = categories.sku
    left join media_categories
        on refunds.marketplace_id = media_categories.marketplace_id
        and categories.category = media_categories.fee_category
),

ruled as (
    select
        scoped.*,
        admin_rules.rule as admin_fee_rule,
        admin_rules.fixed_amount as admin_fee_fixed_amount,
        admin_rules.percent_of_referral_fee as admin_fee_percent,
        admin_rules.source_url as admin_fee_source_url,
        admin_rules.source_title || coalesce(' (copy of ' || {{ to_text('admin_rules.source_as_of') }} || ')', '') as admin_fee_source
    from scoped
    left join admin_rules
        on scoped.marketplace_id = admin_rules.marketplace_id
        and scoped.product_scope = admin_rules.product_scope
        and {{ in_force('admin_rules', 'cast(scoped.refunded_at as date)') }}
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
    refunds.category,
    refunds.product_scope,
    refunds.admin_fee_rule,
    refunds.admin_fee_fixed_amount,
    refunds.admin_fee_percent,
    refunds.admin_fee_source_url,
    refunds.admin_fee_source,
    {{ expected_refund_admin_fee('refunds.refunded_referral_fee', 'refunds.admin_fee_rule',
                                 'refunds.admin_fee_fixed_amount', 'refunds.admin_fee_percent') }}
        as expected_refund_admin_fee,
    {{ money('refunds.total_amount') }} as total_amount,
    originals.original_settlement_id,
    {{ money('originals.original_referral_fee') }} as original_referral_fee,
    originals.order_id is not null as has_original_order
from ruled as refunds
left join originals
    on refunds.seller_id = originals.seller_id
    and refunds.order_id = originals.order_id
    and refunds.order_item_code = originals.order_item_code
