{#- The referral-fee category of each seller SKU per marketplace: the fee estimates report's
    product-group where the SKU has one (FBA SKUs), else the catalog product type of the listing's
    ASIN, translated through the referral_fee_rules seed. -#}
with listings as (
    select seller_id, marketplace_id, sku, asin from {{ ref('stg_spapi__listings') }}
),

estimates as (
    select seller_id, marketplace_id, sku, product_group from {{ ref('stg_spapi__fee_estimates') }}
),

catalog as (
    select marketplace_id, asin, product_type from {{ ref('stg_spapi__catalog_items') }}
),

rules as (
    select * from {{ ref('referral_fee_rules') }}
),

skus as (
    select seller_id, marketplace_id, sku from listings
    union
    select seller_id, marketplace_id, sku from estimates
)

select
    skus.seller_id || '-' || skus.marketplace_id || '-' || skus.sku as sku_category_id,
    skus.seller_id,
    skus.marketplace_id,
    skus.sku,
    coalesce(estimates.product_group, by_type.category) as category,
    case
        when estimates.product_group is not null then 'fee_estimates'
        when by_type.category is not null then 'catalog'
    end as category_source
from skus
left join estimates
    on skus.seller_id = estimates.seller_id
    and skus.marketplace_id = estimates.marketplace_id
    and skus.sku = estimates.sku
left join listings
    on skus.seller_id = listings.seller_id
    and skus.marketplace_id = listings.marketplace_id
    and skus.sku = listings.sku
left join catalog
    on listings.marketplace_id = catalog.marketplace_id
    and listings.asin = catalog.asin
left join rules as by_type
    on catalog.product_type = by_type.catalog_product_type
