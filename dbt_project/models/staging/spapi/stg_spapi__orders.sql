{#- Orders without PII: the ship-to city/state/postal code are the report's coarse location only. -#}
select
    amazon_order_id as order_id,
    seller_id,
    marketplace_id,
    nullif(merchant_order_id, '') as merchant_order_id,
    {{ to_utc('purchased_at') }} as purchased_at,
    {{ to_utc('last_updated_at') }} as last_updated_at,
    order_status,
    fulfillment_channel,
    sales_channel,
    ship_service_level,
    currency,
    ship_country,
    is_business_order
from {{ raw_table('orders') }}
