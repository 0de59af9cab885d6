select
    marketplace_id || '-' || asin as catalog_item_id,
    marketplace_id,
    asin,
    item_name,
    brand,
    manufacturer,
    product_type,
    color,
    browse_node_id,
    bullet_point_count,
    image_count,
    attribute_count,
    has_item_dimensions,
    has_package_dimensions
from {{ raw_table('catalog_items') }}
