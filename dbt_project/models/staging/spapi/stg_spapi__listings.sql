select
    seller_id || '-' || marketplace_id || '-' || seller_sku as listing_key,
    listing_id,
    seller_id,
    marketplace_id,
    seller_sku as sku,
    asin1 as asin,
    item_name,
    item_description,
    {{ money('price') }} as price,
    quantity,
    {{ to_utc('opened_at') }} as opened_at,
    image_url,
    item_condition,
    fulfillment_channel,
    status as listing_status
from {{ raw_table('listings') }}
