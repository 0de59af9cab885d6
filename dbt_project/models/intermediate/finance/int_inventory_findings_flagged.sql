{#- Inventory findings (rows of finance.reconciliation_exceptions): lost or damaged units the ledger still shows
    unreconciled var('unreimbursed_after_days') after the loss (counted back from var('as_of')), and a
    reimbursement paid below the unit's value. A unit's value is its listing price. -#}
{%- set as_of_ts = "cast(" ~ as_of_date() ~ " as timestamp)" -%}

with listings as (
    select seller_id, marketplace_id, sku, price from {{ ref('stg_spapi__listings') }}
)

-- Lost or damaged units not reimbursed after the grace period: their value is expected, nothing came.
select
    'inventory_not_reimbursed' as kind,
    ledger.seller_id,
    ledger.marketplace_id,
    ledger.reference_id,  -- the loss itself: a SKU lost twice is two findings
    cast(null as {{ dbt.type_string() }}) as settlement_id,
    ledger.sku,
    {{ money('-ledger.unreconciled_quantity * listings.price') }} as expected,
    {{ money(0) }} as actual,
    participations.currency,
    {{ to_text('-ledger.unreconciled_quantity') }} || ' unit(s) of ' || ledger.sku || ' lost or damaged in '
        || ledger.fulfillment_center || ' on ' || {{ to_text('ledger.event_date') }} || ' (ledger reference '
        || ledger.reference_id || ') not reimbursed after ' || {{ to_text(var('unreimbursed_after_days')) }}
        || ' days; value at the listing price ' || {{ to_text('listings.price') }} || ' per unit.' as explanation
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

-- A reimbursement paid below the unit's value.
select
    'reimbursement_below_value' as kind,
    reimbursements.seller_id,
    reimbursements.marketplace_id,
    reimbursements.reimbursement_id as reference_id,
    cast(null as {{ dbt.type_string() }}) as settlement_id,
    reimbursements.sku,
    {{ money('listings.price * reimbursements.quantity_reimbursed_total') }} as expected,
    reimbursements.amount_total as actual,
    reimbursements.currency,
    'Reimbursement ' || reimbursements.reimbursement_id || ' paid ' || {{ to_text('reimbursements.amount_per_unit') }}
        || ' per unit for ' || {{ to_text('reimbursements.quantity_reimbursed_total') }} || ' unit(s) of '
        || reimbursements.sku || '; the listing price is ' || {{ to_text('listings.price') }} || '.' as explanation
from {{ ref('int_fba_reimbursements_joined_marketplaces') }} as reimbursements
inner join listings
    on reimbursements.seller_id = listings.seller_id
    and reimbursements.marketplace_id = listings.marketplace_id
    and reimbursements.sku = listings.sku
where reimbursements.amount_per_unit < listings.price
