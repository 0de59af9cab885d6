{#- Amazon's point-in-time balances (Finances 2024-06-19 listBalances), one row per balance type. -#}
select
    seller_id,
    marketplace_id,
    account_type,
    balance_type,
    parent_balance_type,
    currency,
    {{ money('amount') }} as amount,
    {{ to_utc('last_updated_time') }} as last_updated_at
from {{ raw_table('balances') }}
