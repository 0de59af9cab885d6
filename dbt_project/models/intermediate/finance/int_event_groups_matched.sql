{#- Settlements matched to financial event groups. A settlement id is not a FinancialEventGroupId:
    the match is the SETTLEMENT_ID related identifier of Finances 2024-06-19 transactions, else the
    same seller, currency and period end (the group closes when the settlement period does).
    One row per settlement; group columns are null when no group matched. -#}
with settlements as (
    select * from {{ ref('stg_spapi__settlement_reports') }}
),

groups as (
    select * from {{ ref('stg_spapi__financial_event_groups') }}
),

by_transactions as (
    select seller_id, settlement_id, min(financial_event_group_id) as financial_event_group_id
    from {{ ref('stg_spapi__financial_transactions') }}
    where settlement_id is not null and financial_event_group_id is not null
    group by seller_id, settlement_id
),

by_period as (
    select
        settlements.seller_id,
        settlements.settlement_id,
        min(groups.financial_event_group_id) as financial_event_group_id
    from settlements
    inner join groups
        on settlements.seller_id = groups.seller_id
        and settlements.currency = groups.currency
        and settlements.settlement_end_at = groups.group_end_at
    group by settlements.seller_id, settlements.settlement_id
),

matched as (
    select
        settlements.settlement_id,
        settlements.seller_id,
        coalesce(by_transactions.financial_event_group_id, by_period.financial_event_group_id)
            as financial_event_group_id,
        case
            when by_transactions.financial_event_group_id is not null then 'settlement_id_identifier'
            when by_period.financial_event_group_id is not null then 'period'
            else 'unmatched'
        end as match_method
    from settlements
    left join by_transactions
        on settlements.seller_id = by_transactions.seller_id
        and settlements.settlement_id = by_transactions.settlement_id
    left join by_period
        on settlements.seller_id = by_period.seller_id
        and settlements.settlement_id = by_period.settlement_id
)

select
    matched.settlement_id,
    matched.seller_id,
    matched.financial_event_group_id,
    matched.match_method,
    groups.processing_status,
    groups.fund_transfer_status,
    groups.fund_transferred_at,
    groups.currency as group_currency,
    groups.original_total_amount as group_original_total_amount,
    groups.converted_total_amount as transferred_amount
from matched
left join groups
    on matched.seller_id = groups.seller_id
    and matched.financial_event_group_id = groups.financial_event_group_id
