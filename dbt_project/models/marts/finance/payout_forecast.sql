{#- For each open financial event group: when the next deposit should arrive and how much it should be.
    The account's own history (closed groups of the same seller and currency) gives the period length
    (the latest closed period's),
    the lag from period end to transfer and the average net amount per day; without history, 14 days,
    2 days and the amount posted so far. expected_amount = posted so far + daily average x days left.
    Next to it, Amazon's own expected payout for the same period (Transfers 2024-06-01 listExpectedPayouts: the
    same seller, currency and period start) and the difference, Amazon's minus ours. -#}
{%- set as_of_ts = "cast(" ~ as_of_date() ~ " as timestamp)" -%}

with groups as (
    select * from {{ ref('stg_spapi__financial_event_groups') }}
),

closed as (
    select
        *,
        row_number() over (partition by seller_id, currency order by group_end_at desc) as recency
    from groups
    where processing_status = 'Closed' and group_end_at is not null
),

history as (
    select
        seller_id,
        currency,
        count(*) as closed_group_count,
        max(case when recency = 1 then {{ dbt.datediff('group_start_at', 'group_end_at', 'second') }} end)
            as period_seconds,
        avg(case when fund_transferred_at is not null
            then {{ dbt.datediff('group_end_at', 'fund_transferred_at', 'second') }} end) as transfer_lag_seconds,
        sum(original_total_amount) as closed_total_amount,
        sum({{ dbt.datediff('group_start_at', 'group_end_at', 'second') }}) as closed_seconds
    from closed
    group by seller_id, currency
),

open_groups as (
    select
        groups.financial_event_group_id,
        groups.seller_id,
        groups.currency,
        groups.group_start_at,
        groups.original_total_amount as posted_amount,
        coalesce(history.closed_group_count, 0) as history_group_count,
        coalesce(history.period_seconds, 14 * 86400) as period_seconds,
        coalesce(history.transfer_lag_seconds, 2 * 86400) as transfer_lag_seconds,
        case when history.closed_seconds > 0
            then history.closed_total_amount / history.closed_seconds * 86400 end as average_daily_amount
    from groups
    left join history
        on groups.seller_id = history.seller_id
        and groups.currency = history.currency
    where groups.processing_status = 'Open'
),

amazon_expected as (
    select seller_id, currency, period_start_at, amount, status, scheduled_at
    from {{ ref('stg_spapi__expected_payouts') }}
),

projected as (
    select
        *,
        {{ dbt.dateadd('second', 'cast(period_seconds as bigint)', 'group_start_at') }} as expected_close_at,
        greatest(
            {{ dbt.datediff(as_of_ts, dbt.dateadd('second', 'cast(period_seconds as bigint)', 'group_start_at'), 'second') }},
            0
        ) / 86400.0 as days_left
    from open_groups
)

select
    projected.financial_event_group_id,
    projected.seller_id,
    currency_marketplaces.marketplace_id,
    {{ named_columns('projected.seller_id') }},
    projected.currency,
    group_start_at,
    expected_close_at,
    cast({{ dbt.dateadd('second', 'cast(transfer_lag_seconds as bigint)', 'expected_close_at') }} as date)
        as expected_deposit_date,
    {{ money('posted_amount') }} as posted_amount,
    {{ money('posted_amount + coalesce(average_daily_amount, 0) * days_left') }} as expected_amount,
    cast(history_group_count as bigint) as history_group_count,
    amazon_expected.amount as amazon_expected_amount,
    amazon_expected.status as amazon_payout_status,
    cast(amazon_expected.scheduled_at as date) as amazon_scheduled_date,
    {{ money('amazon_expected.amount - ' ~ money('posted_amount + coalesce(average_daily_amount, 0) * days_left')) }}
        as amazon_difference_amount
from projected
left join {{ ref('int_currency_marketplaces_resolved') }} as currency_marketplaces
    on projected.seller_id = currency_marketplaces.seller_id
    and projected.currency = currency_marketplaces.currency
left join amazon_expected
    on projected.seller_id = amazon_expected.seller_id
    and projected.currency = amazon_expected.currency
    and projected.group_start_at = amazon_expected.period_start_at
{{ join_names('projected.seller_id', 'currency_marketplaces.marketplace_id') }}
