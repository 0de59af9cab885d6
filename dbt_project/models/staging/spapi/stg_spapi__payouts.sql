{#- Amazon's payouts (Transfers 2024-06-01 listPayouts), one per settlement period. -#}
select
    payout_id,
    seller_id,
    marketplace_id,
    account_type,
    nullif(settlement_id, '') as settlement_id,
    current_status,
    {{ to_utc('status_updated_date') }} as status_updated_at,
    failure_reason,
    payout_type,
    currency,
    {{ money('amount') }} as amount,
    account_tail,
    payment_method,
    trace_id,
    {{ to_utc('creation_date') }} as created_at,
    {{ to_utc('period_start') }} as period_start_at,
    {{ to_utc('period_end') }} as period_end_at
from {{ raw_table('payouts') }}
