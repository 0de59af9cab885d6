{#- FBA reimbursements with a marketplace: the report has no marketplace column, so a row without one gets
    the marketplace of the seller's money in the row's currency (int_currency_marketplaces_resolved: a currency
    can be several marketplaces', EUR Amazon.de's and Amazon.fr's). -#}
with reimbursements as (
    select * from {{ ref('stg_spapi__fba_reimbursements') }}
),

marketplaces as (
    select seller_id, marketplace_id, currency from {{ ref('int_currency_marketplaces_resolved') }}
)

select
    reimbursements.fba_reimbursement_id,
    reimbursements.reimbursement_id,
    reimbursements.seller_id,
    coalesce(reimbursements.marketplace_id, marketplaces.marketplace_id) as marketplace_id,
    reimbursements.approved_at,
    reimbursements.case_id,
    reimbursements.order_id,
    reimbursements.reason,
    reimbursements.sku,
    reimbursements.fnsku,
    reimbursements.asin,
    reimbursements.condition,
    reimbursements.currency,
    reimbursements.amount_per_unit,
    reimbursements.amount_total,
    reimbursements.quantity_reimbursed_cash,
    reimbursements.quantity_reimbursed_inventory,
    reimbursements.quantity_reimbursed_total,
    reimbursements.original_reimbursement_id,
    reimbursements.original_reimbursement_type
from reimbursements
left join marketplaces
    on reimbursements.marketplace_id is null
    and reimbursements.seller_id = marketplaces.seller_id
    and reimbursements.currency = marketplaces.currency
