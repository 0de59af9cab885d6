{#- One row per seller id the lakehouse knows, with the account's name: the store name Amazon reports for it
    (Sellers API getMarketplaceParticipations `storeName`), else the seller id (a lakehouse of imported
    settlement files alone never called the Sellers API). A seller with several store names (one per
    marketplace) gets the first in name order, so the name is stable from run to run. -#}
with sellers as (
    select seller_id from {{ ref('stg_spapi__settlement_reports') }}
    union
    select seller_id from {{ ref('stg_spapi__marketplace_participations') }}
    union
    select seller_id from {{ ref('stg_spapi__financial_event_groups') }}
    union
    select seller_id from {{ ref('stg_spapi__orders') }}
    union
    select seller_id from {{ ref('stg_spapi__listings') }}
),

stores as (
    select seller_id, min(store_name) as store_name
    from {{ ref('stg_spapi__marketplace_participations') }}
    where store_name is not null and store_name <> ''
    group by seller_id
)

select
    sellers.seller_id,
    coalesce(stores.store_name, sellers.seller_id) as account_name
from sellers
left join stores
    on sellers.seller_id = stores.seller_id
