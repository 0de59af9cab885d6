{#- The payout Amazon expects per marketplace and period (Transfers 2024-06-01 listExpectedPayouts). -#}
select
    seller_id,
    marketplace_id,
    account_type,
    nullif(settlement_id, '') as settlement_id,
    status,
    currency,
    {{ money('amount') }} as amount,
    {{ to_utc('period_start') }} as period_start_at,
    {{ to_utc('period_end') }} as period_end_at,
    {{ to_utc('scheduled_date') }} as scheduled_at
from {{ raw_table('expected_payouts') }}
