{#- The report has no marketplace column: it is the seller's marketplace that uses the row's currency. -#}
with reimbursements as (
    select * from {{ source('raw_spapi', 'fba_reimbursements') }}
),

marketplaces as (
    select seller_id, marketplace_id, default_currency_code as currency
    from {{ source('raw_spapi', 'marketplace_participations') }}
)

select
    reimbursements.seller_id || '-' || reimbursements.reimbursement_id || '-' || reimbursements.sku
        as fba_reimbursement_id,
    reimbursements.reimbursement_id,
    reimbursements.seller_id,
    coalesce(reimbursements.marketplace_id, marketplaces.marketplace_id) as marketplace_id,
    {{ to_utc('reimbursements.approved_at') }} as approved_at,
    nullif(reimbursements.case_id, '') as case_id,
    nullif(reimbursements.amazon_order_id, '') as order_id,
    reimbursements.reason,
    reimbursements.sku,
    reimbursements.fnsku,
    reimbursements.asin,
    reimbursements.condition,
    reimbursements.currency,
    {{ money('reimbursements.amount_per_unit') }} as amount_per_unit,
    {{ money('reimbursements.amount_total') }} as amount_total,
    reimbursements.quantity_reimbursed_cash,
    reimbursements.quantity_reimbursed_inventory,
    reimbursements.quantity_reimbursed_total,
    nullif(reimbursements.original_reimbursement_id, '') as original_reimbursement_id,
    nullif(reimbursements.original_reimbursement_type, '') as original_reimbursement_type
from reimbursements
left join marketplaces
    on reimbursements.marketplace_id is null
    and reimbursements.seller_id = marketplaces.seller_id
    and reimbursements.currency = marketplaces.currency
