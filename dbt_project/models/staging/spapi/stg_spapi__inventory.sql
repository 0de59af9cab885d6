select
    seller_id || '-' || marketplace_id || '-' || seller_sku as inventory_id,
    seller_id,
    marketplace_id,
    seller_sku as sku,
    asin,
    fn_sku as fnsku,
    condition,
    product_name,
    {{ to_utc('last_updated_time') }} as last_updated_at,
    total_quantity,
    inventory_details__fulfillable_quantity as fulfillable_quantity,
    inventory_details__inbound_working_quantity as inbound_working_quantity,
    inventory_details__inbound_shipped_quantity as inbound_shipped_quantity,
    inventory_details__inbound_receiving_quantity as inbound_receiving_quantity,
    inventory_details__unfulfillable_quantity__total_unfulfillable_quantity as unfulfillable_quantity,
    inventory_details__researching_quantity__total_researching_quantity as researching_quantity,
    inventory_details__reserved_quantity__total_reserved_quantity as reserved_quantity
from {{ raw_table('inventory') }}
