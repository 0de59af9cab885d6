select
    financial_event_group_id,
    seller_id,
    processing_status,
    fund_transfer_status,
    {{ to_utc('fund_transfer_date') }} as fund_transferred_at,
    trace_id,
    account_tail,
    {{ to_utc('financial_event_group_start') }} as group_start_at,
    {{ to_utc('financial_event_group_end') }} as group_end_at,
    coalesce(original_total__currency_code, converted_total__currency_code) as currency,
    {{ money('original_total__currency_amount') }} as original_total_amount,
    converted_total__currency_code as converted_currency,
    {{ money('converted_total__currency_amount') }} as converted_total_amount,
    {{ money('beginning_balance__currency_amount') }} as beginning_balance_amount
from {{ raw_table('financial_event_groups') }}
