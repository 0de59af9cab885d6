select
    settlement_id,
    seller_id,
    marketplace_id,
    report_id,
    {{ to_utc('settlement_start_at') }} as settlement_start_at,
    {{ to_utc('settlement_end_at') }} as settlement_end_at,
    {{ to_utc('deposit_at') }} as deposit_at,
    cast({{ to_utc('deposit_at') }} as date) as deposit_date,
    {{ to_utc('report_created_at') }} as report_created_at,
    currency,
    {{ money('total_amount') }} as total_amount,
    {{ money('lines_amount_sum') }} as parsed_lines_amount,
    line_count as reported_line_count,
    coalesce(quarantined_lines, 0) as quarantined_line_count,
    number_format
from {{ raw_table('settlement_reports') }}
