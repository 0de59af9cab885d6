{#- One row per finding of the settlement reconciliation and fee audit. `kind` uses the sandbox ground
    truth's names where it has one. `amount` is the money at stake (positive); `expected`, `actual` and
    `difference` (actual - expected) show the comparison. Grace periods count from var('as_of'). -#}
{%- set as_of_ts = "cast(" ~ as_of_date() ~ " as timestamp)" -%}

with fees as (
    select * from {{ ref('int_order_item_fees_expected') }}
),

refunds as (
    select * from {{ ref('int_refunds_matched') }}
),

settlements as (
    select * from {{ ref('settlements') }}
),

listings as (
    select seller_id, marketplace_id, sku, price from {{ ref('stg_spapi__listings') }}
),

settled_orders as (
    select distinct seller_id, order_id from {{ ref('int_settlement_lines_categorised') }}
    where order_id is not null
),

order_totals as (
    select
        seller_id,
        order_id,
        max(marketplace_id) as marketplace_id,
        max(currency) as currency,
        sum(item_price + shipping_price + item_tax + shipping_tax + gift_wrap_price + gift_wrap_tax
            + item_promotion_discount + ship_promotion_discount) as order_total
    from {{ ref('stg_spapi__order_items') }}
    group by seller_id, order_id
),

findings as (
    -- Referral fee above the category rule.
    select
        'referral_fee_overcharged' as kind,
        seller_id, marketplace_id, order_id as reference_id, settlement_id, sku,
        expected_referral_fee as expected, charged_referral_fee as actual, currency,
        'Referral fee ' || cast(charged_referral_fee as {{ dbt.type_string() }}) || ' charged on ' || sku || ' in order '
            || order_id || '; the ' || category || ' rule (' || cast(referral_fee_percent as {{ dbt.type_string() }})
            || '% of ' || cast(sales_price as {{ dbt.type_string() }}) || ', at least ' || cast(minimum_fee_per_unit as {{ dbt.type_string() }})
            || ' per unit) gives ' || cast(expected_referral_fee as {{ dbt.type_string() }}) || '.' as explanation
    from fees
    where expected_referral_fee is not null and charged_referral_fee > expected_referral_fee

    union all

    -- FBA fulfilment fee above the fee estimates report's expectation.
    select
        'fba_fee_overcharged', seller_id, marketplace_id, order_id, settlement_id, sku,
        expected_fba_fee, charged_fba_fee, currency,
        'FBA fulfilment fee ' || cast(charged_fba_fee as {{ dbt.type_string() }}) || ' charged on ' || sku || ' in order '
            || order_id || '; the fee estimates report expects ' || cast(expected_fba_fee as {{ dbt.type_string() }})
            || ' for ' || cast(quantity as {{ dbt.type_string() }}) || ' unit(s).'
    from fees
    where expected_fba_fee is not null and charged_fba_fee > expected_fba_fee

    union all

    -- Refund administration fee other than min(5.00, 20% of the refunded referral fee).
    select
        'refund_admin_fee_wrong', seller_id, marketplace_id, order_id, settlement_id, sku,
        expected_refund_admin_fee, charged_refund_admin_fee, currency,
        'Refund administration fee ' || cast(charged_refund_admin_fee as {{ dbt.type_string() }}) || ' kept on the refund of '
            || sku || ' in order ' || order_id || '; min(5.00, 20% of the refunded referral fee '
            || cast(refunded_referral_fee as {{ dbt.type_string() }}) || ') is ' || cast(expected_refund_admin_fee as {{ dbt.type_string() }}) || '.'
    from refunds
    where charged_refund_admin_fee <> expected_refund_admin_fee

    union all

    -- A refund with no original order line in any settlement.
    select
        'refund_without_original', seller_id, marketplace_id, order_id, settlement_id, sku,
        {{ money(0) }}, refunded_sales_amount, currency,
        'Refund of ' || cast(refunded_sales_amount as {{ dbt.type_string() }}) || ' for order ' || coalesce(order_id, '?')
            || ' has no original order line in any loaded settlement.'
    from refunds
    where not has_original_order

    union all

    -- A shipped order with no settlement line after the grace period.
    select
        'order_not_settled', orders.seller_id, orders.marketplace_id, orders.order_id, cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        order_totals.order_total, {{ money(0) }}, order_totals.currency,
        'Order ' || orders.order_id || ' shipped on ' || cast(cast(orders.last_updated_at as date) as {{ dbt.type_string() }})
            || ' (' || cast(order_totals.order_total as {{ dbt.type_string() }}) || ') has no settlement line after '
            || cast({{ var('unsettled_after_days') }} as {{ dbt.type_string() }}) || ' days.'
    from {{ ref('stg_spapi__orders') }} as orders
    inner join order_totals
        on orders.seller_id = order_totals.seller_id
        and orders.order_id = order_totals.order_id
    left join settled_orders
        on orders.seller_id = settled_orders.seller_id
        and orders.order_id = settled_orders.order_id
    where orders.order_status = 'Shipped'
        and settled_orders.order_id is null
        and {{ dbt.dateadd('day', var('unsettled_after_days'), 'orders.last_updated_at') }} <= {{ as_of_ts }}

    union all

    -- Lost or damaged units the ledger still shows unreconciled after the grace period.
    select
        'inventory_not_reimbursed', ledger.seller_id, ledger.marketplace_id, ledger.sku, cast(null as {{ dbt.type_string() }}),
        ledger.sku,
        {{ money('-ledger.unreconciled_quantity * listings.price') }}, {{ money(0) }},
        participations.currency,
        cast(-ledger.unreconciled_quantity as {{ dbt.type_string() }}) || ' unit(s) of ' || ledger.sku || ' lost or damaged in '
            || ledger.fulfillment_center || ' on ' || cast(ledger.event_date as {{ dbt.type_string() }}) || ' (ledger reference '
            || ledger.reference_id || ') not reimbursed after ' || cast({{ var('unreimbursed_after_days') }} as {{ dbt.type_string() }})
            || ' days; value at the listing price ' || cast(listings.price as {{ dbt.type_string() }}) || ' per unit.'
    from {{ ref('stg_spapi__inventory_ledger') }} as ledger
    left join listings
        on ledger.seller_id = listings.seller_id
        and ledger.marketplace_id = listings.marketplace_id
        and ledger.sku = listings.sku
    left join {{ ref('stg_spapi__marketplace_participations') }} as participations
        on ledger.seller_id = participations.seller_id
        and ledger.marketplace_id = participations.marketplace_id
    where ledger.event_type = 'Adjustments'
        and ledger.quantity < 0
        and ledger.unreconciled_quantity < 0
        and {{ dbt.dateadd('day', var('unreimbursed_after_days'), 'ledger.event_at') }} <= {{ as_of_ts }}

    union all

    -- A reimbursement paid below the unit's value (the listing price).
    select
        'reimbursement_below_value', reimbursements.seller_id, reimbursements.marketplace_id,
        reimbursements.reimbursement_id, cast(null as {{ dbt.type_string() }}), reimbursements.sku,
        {{ money('listings.price * reimbursements.quantity_reimbursed_total') }}, reimbursements.amount_total,
        reimbursements.currency,
        'Reimbursement ' || reimbursements.reimbursement_id || ' paid ' || cast(reimbursements.amount_per_unit as {{ dbt.type_string() }})
            || ' per unit for ' || cast(reimbursements.quantity_reimbursed_total as {{ dbt.type_string() }}) || ' unit(s) of '
            || reimbursements.sku || '; the listing price is ' || cast(listings.price as {{ dbt.type_string() }}) || '.'
    from {{ ref('int_fba_reimbursements_joined_marketplaces') }} as reimbursements
    inner join listings
        on reimbursements.seller_id = listings.seller_id
        and reimbursements.marketplace_id = listings.marketplace_id
        and reimbursements.sku = listings.sku
    where reimbursements.amount_per_unit < listings.price

    union all

    -- Settlement-level findings.
    select
        'deposit_missing', seller_id, marketplace_id, settlement_id, settlement_id, cast(null as {{ dbt.type_string() }}),
        reported_total_amount, {{ money(0) }}, currency,
        'Settlement ' || settlement_id || ' (' || cast(reported_total_amount as {{ dbt.type_string() }}) || ' ' || currency
            || ', deposit date ' || cast(deposit_date as {{ dbt.type_string() }}) || ') has no deposit; transfer status: '
            || coalesce(fund_transfer_status, 'no event group') || '.'
    from settlements
    where reconciliation_status = 'deposit missing'

    union all

    select
        'deposit_mismatch', seller_id, marketplace_id, settlement_id, settlement_id, cast(null as {{ dbt.type_string() }}),
        reported_total_amount, transferred_amount, currency,
        'Settlement ' || settlement_id || ' reports ' || cast(reported_total_amount as {{ dbt.type_string() }}) || ' but '
            || cast(transferred_amount as {{ dbt.type_string() }}) || ' was transferred.'
    from settlements
    where transferred_amount is not null and transferred_amount <> reported_total_amount

    union all

    select
        'settlement_total_mismatch', seller_id, marketplace_id, settlement_id, settlement_id, cast(null as {{ dbt.type_string() }}),
        reported_total_amount, lines_amount, currency,
        'Settlement ' || settlement_id || ' reports a total of ' || cast(reported_total_amount as {{ dbt.type_string() }})
            || ' but its lines add up to ' || cast(lines_amount as {{ dbt.type_string() }}) || '.'
    from settlements
    where reported_total_amount <> lines_amount

    union all

    select
        'settlement_reissued', seller_id, marketplace_id, settlement_id, settlement_id, cast(null as {{ dbt.type_string() }}),
        reported_total_amount, reported_total_amount, currency,
        'Settlement ' || settlement_id || ' was issued ' || cast(document_count as {{ dbt.type_string() }})
            || ' times; the newest version is used.'
    from settlements
    where is_reissued

    union all

    select
        'unmapped_lines', lines.seller_id, lines.marketplace_id, lines.settlement_id, lines.settlement_id,
        cast(null as {{ dbt.type_string() }}), {{ money(0) }}, {{ money('sum(lines.amount)') }}, max(lines.currency),
        cast(count(*) as {{ dbt.type_string() }}) || ' line(s) of settlement ' || lines.settlement_id
            || ' have labels the category mapping does not know (e.g. ' || max(lines.amount_type) || ' / '
            || max(lines.amount_description) || '); add them to the settlement_line_categories seed.'
    from {{ ref('int_settlement_lines_categorised') }} as lines
    where lines.category = 'unmapped'
    group by lines.seller_id, lines.marketplace_id, lines.settlement_id
)

select
    {{ dbt.hash("kind || '|' || seller_id || '|' || reference_id || '|' || coalesce(settlement_id, '') || '|' || coalesce(sku, '')") }}
        as reconciliation_exception_id,
    kind,
    seller_id,
    marketplace_id,
    reference_id,
    settlement_id,
    sku,
    {{ money('expected') }} as expected,
    {{ money('actual') }} as actual,
    {{ money('actual - expected') }} as difference,
    {{ money('abs(actual - expected)') }} as amount,
    currency,
    explanation
from findings
