{#- Amazon's summary of each settlement (Finances 2024-06-19 listSummary by period, the summaries that carry a
    SETTLEMENT_ID): one row per leaf breakdown, its path split into levels. The sandbox's paths are the settlement
    file's labels (transaction-type > amount-type > amount-description); a real account's may be other words. -#}
select
    seller_id,
    settlement_id,
    marketplace_id,
    breakdown_path,
    breakdown_depth,
    nullif({{ dbt.split_part('breakdown_path', "' > '", 1) }}, '') as breakdown_level_1,
    nullif({{ dbt.split_part('breakdown_path', "' > '", 2) }}, '') as breakdown_level_2,
    nullif({{ dbt.split_part('breakdown_path', "' > '", 3) }}, '') as breakdown_level_3,
    currency,
    {{ money('amount') }} as amount,
    {{ money('net_proceeds') }} as net_proceeds_amount,
    {{ to_utc('period_start') }} as period_start_at,
    {{ to_utc('period_end') }} as period_end_at
from {{ raw_table('settlement_summaries') }}
