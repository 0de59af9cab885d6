{#- The report has no marketplace column: marketplace_id is mostly null here; int_fba_reimbursements_joined_marketplaces
    takes it from the seller's marketplace that uses the row's currency. -#}
select
    seller_id || '-' || reimbursement_id || '-' || sku as fba_reimbursement_id,
    reimbursement_id,
    seller_id,
    marketplace_id,
    {{ to_utc('approved_at') }} as approved_at,
    nullif(case_id, '') as case_id,
    nullif(amazon_order_id, '') as order_id,
    reason,
    sku,
    fnsku,
    asin,
    condition,
    currency,
    {{ money('amount_per_unit') }} as amount_per_unit,
    {{ money('amount_total') }} as amount_total,
    quantity_reimbursed_cash,
    quantity_reimbursed_inventory,
    quantity_reimbursed_total,
    nullif(original_reimbursement_id, '') as original_reimbursement_id,
    nullif(original_reimbursement_type, '') as original_reimbursement_type
from {{ raw_table('fba_reimbursements') }}
