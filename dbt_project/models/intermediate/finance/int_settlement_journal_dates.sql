{#- Each settlement's journal time zone and the local dates the month-end split needs.

    The time zone is the seller's journal_settings row, else the default row (empty seller_id), else UTC:
    `marketplace` means the local time of the settlement's marketplace (marketplace_time_zones; UTC when the
    marketplace has no row), anything else is an IANA zone name. The deposit journal is dated the settlement's
    end in that zone; lines posted in earlier months go to journals dated each month's last day. -#}
with settlements as (
    select seller_id, settlement_id, marketplace_id, settlement_end_at
    from {{ ref('stg_spapi__settlement_reports') }}
),

settings as (
    select seller_id, time_zone from {{ ref('journal_settings') }}
),

zones as (
    select
        settlements.*,
        coalesce(own.time_zone, fallback.time_zone, 'UTC') as configured_time_zone,
        marketplace_zones.time_zone as marketplace_time_zone
    from settlements
    left join settings as own on own.seller_id = settlements.seller_id
    left join settings as fallback on fallback.seller_id is null
    left join {{ ref('marketplace_time_zones') }} as marketplace_zones
        on marketplace_zones.marketplace_id = settlements.marketplace_id
),

resolved as (
    select
        seller_id,
        settlement_id,
        case when configured_time_zone = 'marketplace' then coalesce(marketplace_time_zone, 'UTC')
             else configured_time_zone end as journal_time_zone,
        settlement_end_at
    from zones
)

select
    seller_id,
    settlement_id,
    journal_time_zone,
    cast({{ utc_to_local('settlement_end_at', 'journal_time_zone') }} as date) as deposit_journal_date,
    cast({{ dbt.date_trunc('month', utc_to_local('settlement_end_at', 'journal_time_zone')) }} as date)
        as deposit_journal_month
from resolved
