{#- One row per financial event group (a payout period) per seller account and currency: what Amazon
    owes or transferred, its transfer status and the settlement it pays. The marketplace is the settlement's
    (the one it is reported for), else that of the seller's money in the group's currency. -#}
with groups as (
    select * from {{ ref('stg_spapi__financial_event_groups') }}
),

matches as (
    select financial_event_group_id, seller_id, min(settlement_id) as settlement_id
    from {{ ref('int_event_groups_matched') }}
    where financial_event_group_id is not null
    group by financial_event_group_id, seller_id
),

settlements as (
    select settlement_id, seller_id, marketplace_id, reported_total_amount
    from {{ ref('settlements') }}
)

select
    groups.financial_event_group_id,
    groups.seller_id,
    coalesce(settlements.marketplace_id, currency_marketplaces.marketplace_id) as marketplace_id,
    {{ named_columns('groups.seller_id') }},
    matches.settlement_id,
    groups.currency,
    groups.group_start_at,
    groups.group_end_at,
    groups.processing_status,
    groups.fund_transfer_status,
    groups.fund_transferred_at,
    cast(groups.fund_transferred_at as date) as deposit_date,
    groups.original_total_amount as group_total_amount,
    groups.converted_total_amount as transferred_amount,
    settlements.reported_total_amount as settlement_total_amount,
    groups.trace_id,
    groups.account_tail,
    case
        when groups.processing_status = 'Open' then 'open'
        when groups.fund_transfer_status = 'Succeeded' then 'paid'
        when groups.fund_transfer_status = 'Failed' then 'failed'
        -- a closed 0.00 period transfers nothing (Amazon leaves its transfer status Unknown): nothing is owed
        when groups.converted_total_amount is null
            and coalesce(settlements.reported_total_amount, groups.original_total_amount) = 0 then 'nothing due'
        else 'processing'
    end as payout_status
from groups
left join matches
    on groups.seller_id = matches.seller_id
    and groups.financial_event_group_id = matches.financial_event_group_id
left join settlements
    on matches.seller_id = settlements.seller_id
    and matches.settlement_id = settlements.settlement_id
left join {{ ref('int_currency_marketplaces_resolved') }} as currency_marketplaces
    on groups.seller_id = currency_marketplaces.seller_id
    and groups.currency = currency_marketplaces.currency
{{ join_names('groups.seller_id', 'coalesce(settlements.marketplace_id, currency_marketplaces.marketplace_id)') }}
