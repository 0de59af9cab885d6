{#- The fee category of each seller SKU per marketplace, from Amazon's own data first: the fee estimates
    report's product-group where the SKU has one (FBA SKUs), else the catalog product type of the listing's
    ASIN, each translated through fee_category_aliases (a row for the marketplace wins over `*`). A SKU whose
    name has no alias keeps fee_category null: it is reported as unresolved and not audited (never guessed). -#}
with listings as (
    select seller_id, marketplace_id, sku, asin from {{ ref('stg_spapi__listings') }}
),

-- the newest snapshot of each SKU (the report is kept one snapshot per day)
estimates as (
    select seller_id, marketplace_id, sku, product_group
    from (
        select
            seller_id, marketplace_id, sku, product_group,
            row_number() over (partition by seller_id, marketplace_id, sku order by snapshot_date desc) as recency
        from {{ ref('stg_spapi__fee_estimates') }}
    ) as snapshots
    where recency = 1
),

catalog as (
    select marketplace_id, asin, product_type from {{ ref('stg_spapi__catalog_items') }}
),

-- one fee category per (marketplace or '*', source, name); the sandbox writes its own names into product-group
aliases as (
    select
        marketplace_id,
        case when alias_kind = 'catalog_product_type' then 'catalog' else 'fee_estimates' end as source,
        alias,
        min(fee_category) as fee_category
    from {{ ref('fee_category_aliases') }}
    where alias_kind in ('fee_estimates_product_group', 'sandbox_category', 'catalog_product_type')
    group by marketplace_id, case when alias_kind = 'catalog_product_type' then 'catalog' else 'fee_estimates' end,
        alias
),

skus as (
    select seller_id, marketplace_id, sku from listings
    union
    select seller_id, marketplace_id, sku from estimates
),

named as (
    select
        skus.seller_id,
        skus.marketplace_id,
        skus.sku,
        estimates.product_group,
        catalog.product_type
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
),

resolved as (
    select
        named.*,
        coalesce(group_here.fee_category, group_anywhere.fee_category) as category_by_group,
        coalesce(type_here.fee_category, type_anywhere.fee_category) as category_by_type
    from named
    left join aliases as group_here
        on group_here.source = 'fee_estimates' and group_here.alias = named.product_group
        and group_here.marketplace_id = named.marketplace_id
    left join aliases as group_anywhere
        on group_anywhere.source = 'fee_estimates' and group_anywhere.alias = named.product_group
        and group_anywhere.marketplace_id = '*'
    left join aliases as type_here
        on type_here.source = 'catalog' and type_here.alias = named.product_type
        and type_here.marketplace_id = named.marketplace_id
    left join aliases as type_anywhere
        on type_anywhere.source = 'catalog' and type_anywhere.alias = named.product_type
        and type_anywhere.marketplace_id = '*'
)

select
    seller_id || '-' || marketplace_id || '-' || sku as sku_category_id,
    seller_id,
    marketplace_id,
    sku,
    coalesce(category_by_group, category_by_type) as category,
    case
        when category_by_group is not null then 'fee_estimates'
        when category_by_type is not null then 'catalog'
    end as category_source,
    coalesce(product_group, product_type) as amazon_category_name
from resolved
