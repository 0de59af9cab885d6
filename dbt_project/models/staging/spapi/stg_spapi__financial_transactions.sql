select
    transaction_id,
    seller_id,
    coalesce(marketplace_id, marketplace_details__marketplace_id, selling_partner_metadata__marketplace_id)
        as marketplace_id,
    nullif(order_id, '') as order_id,
    nullif(settlement_id, '') as settlement_id,
    nullif(financial_event_group_id, '') as financial_event_group_id,
    transaction_type,
    transaction_status,
    description,
    {{ to_utc('posted_date') }} as posted_at,
    total_amount__currency_code as currency,
    {{ money('total_amount__currency_amount') }} as total_amount
from {{ raw_table('financial_transactions') }}
