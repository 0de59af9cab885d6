{#- Expected fees per settled order item, next to what Amazon charged:
    - referral fee: the category's percent of the sales price (principal + shipping + promotions, the
      promotions being negative), or the per-unit minimum times the quantity, whichever is greater,
      rounded half up to the cent (referral_fee_rules seed);
    - FBA fulfilment fee: the fee estimates report's expected-fulfillment-fee-per-unit x quantity
      (FBA items only). -#}
with postings as (
    select * from {{ ref('int_order_item_settlements_joined') }}
),

categories as (
    select * from {{ ref('int_sku_categories_resolved') }}
),

rules as (
    select * from {{ ref('referral_fee_rules') }}
),

estimates as (
    select * from {{ ref('stg_spapi__fee_estimates') }}
),

priced as (
    select
        postings.*,
        postings.principal_amount + postings.shipping_amount + postings.promotion_amount as sales_price,
        categories.category,
        rules.referral_fee_percent,
        rules.minimum_fee_per_unit,
        estimates.expected_fulfillment_fee_per_unit
    from postings
    left join categories
        on postings.seller_id = categories.seller_id
        and postings.marketplace_id = categories.marketplace_id
        and postings.sku = categories.sku
    left join rules
        on categories.category = rules.category
    left join estimates
        on postings.seller_id = estimates.seller_id
        and postings.marketplace_id = estimates.marketplace_id
        and postings.sku = estimates.sku
)

select
    order_item_settlement_id,
    order_item_id,
    seller_id,
    marketplace_id,
    settlement_id,
    order_id,
    order_item_code,
    sku,
    fulfillment_channel,
    quantity,
    currency,
    posted_at,
    category,
    {{ money('sales_price') }} as sales_price,
    referral_fee_percent,
    minimum_fee_per_unit,
    {{ expected_referral_fee('sales_price', 'referral_fee_percent', 'minimum_fee_per_unit', 'quantity') }}
        as expected_referral_fee,
    {{ money('-referral_fee_amount') }} as charged_referral_fee,
    case
        when fulfillment_channel = 'AFN' or fba_fee_amount <> 0
            then {{ money('expected_fulfillment_fee_per_unit * quantity') }}
        else {{ money(0) }}
    end as expected_fba_fee,
    {{ money('-fba_fee_amount') }} as charged_fba_fee
from priced
