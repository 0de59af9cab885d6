{#- Each listing (seller, marketplace, SKU) with the catalog facts of its ASIN in that marketplace. -#}
select
    listings.listing_key,
    listings.seller_id,
    listings.marketplace_id,
    listings.sku,
    listings.asin,
    listings.listing_status,
    listings.fulfillment_channel,
    catalog_items.catalog_item_id is not null as has_catalog_item,
    coalesce(nullif(trim(catalog_items.item_name), ''), nullif(trim(listings.item_name), '')) as title,
    catalog_items.bullet_point_count,
    catalog_items.image_count,
    catalog_items.attribute_count,
    catalog_items.has_item_dimensions,
    catalog_items.has_package_dimensions,
    nullif(trim(catalog_items.browse_node_id), '') as browse_node_id
from {{ ref('stg_spapi__listings') }} as listings
left join {{ ref('stg_spapi__catalog_items') }} as catalog_items
    on listings.marketplace_id = catalog_items.marketplace_id
    and listings.asin = catalog_items.asin
