{#- The marketplace of a seller's money in one currency, for the data that names none (financial event groups,
    the FBA reimbursements report). A currency can be several marketplaces' (an EU seller's Amazon.de and
    Amazon.fr are both EUR), and Amazon settles them in one settlement per currency, reported for one of them
    (a real EUR settlement reported for Amazon.de carries Amazon.fr lines: DESIGN.md). So: the marketplace the
    seller's newest settlement in the currency is reported for, where that money is paid; before the first
    settlement, the seller's marketplace of that currency (the lowest id when several: stable until a
    settlement names one). -#}
with reported as (
    select seller_id, currency, marketplace_id
    from (
        select
            seller_id, currency, marketplace_id,
            row_number() over (
                partition by seller_id, currency order by settlement_end_at desc, settlement_id desc
            ) as recency
        from {{ ref('stg_spapi__settlement_reports') }}
        where marketplace_id is not null
    ) as ranked
    where recency = 1
),

participating as (
    select seller_id, currency, min(marketplace_id) as marketplace_id
    from {{ ref('stg_spapi__marketplace_participations') }}
    group by seller_id, currency
),

currencies as (
    select seller_id, currency from reported
    union
    select seller_id, currency from participating
)

select
    currencies.seller_id || '-' || currencies.currency as currency_marketplace_id,
    currencies.seller_id,
    currencies.currency,
    coalesce(reported.marketplace_id, participating.marketplace_id) as marketplace_id,
    case when reported.marketplace_id is not null then 'settlement' else 'participation' end as resolved_by
from currencies
left join reported
    on currencies.seller_id = reported.seller_id
    and currencies.currency = reported.currency
left join participating
    on currencies.seller_id = participating.seller_id
    and currencies.currency = participating.currency
