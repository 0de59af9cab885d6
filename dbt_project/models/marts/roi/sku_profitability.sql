{#- Profit per seller, marketplace, SKU and day, from the settlement lines (the money that really
    moved), with allocated account-level costs and COGS. See _roi__models.yml for every column.

    Incremental by seller, marketplace and month: account-level costs are allocated by the month's sales,
    so a new or re-issued settlement changes every day of the months its lines fall in; a run deletes and
    rebuilds those months (the settlements picked as in finance.settlement_lines, macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    **replace_by_key(['seller_id', 'marketplace_id', 'posted_month'])
) }}
-- depends_on: {{ ref('stg_spapi__settlement_report_documents') }}
-- depends_on: {{ ref('int_settlement_lines_categorised') }}

with days as (
    select * from {{ ref('int_sku_days_costed') }} as costed_days
    {%- if is_incremental() %}
    where exists (
        select 1
        from {{ ref('int_settlement_lines_categorised') }} as lines
        inner join ({{ settlements_to_refresh(this) }}) as refresh
            on lines.seller_id = refresh.seller_id
            and lines.settlement_id = refresh.settlement_id
        where lines.seller_id = costed_days.seller_id
            and lines.marketplace_id = costed_days.marketplace_id
            and cast({{ dbt.date_trunc('month', 'lines.posted_date') }} as date) = costed_days.posted_month
    )
    {%- endif %}
),

margins as (
    select
        *,
        {{ roi_amount_columns() | join(' + ') }} as net_proceeds,
        {{ roi_amount_columns(contribution_only=true) | join(' + ') }} as contribution_before_cogs
    from days
)

select
    {{ surrogate_key(["seller_id", "marketplace_id", "sku", dbt.cast("posted_date", dbt.type_string())]) }}
        as sku_profitability_id,
    seller_id,
    marketplace_id,
    {{ named_columns('margins.seller_id') }},
    sku,
    posted_date,
    posted_month,
    currency,
    cast(units_sold as bigint) as units_sold,
    cast(units_refunded as bigint) as units_refunded,
    {%- for column in roi_amount_columns() %}
    {{ column }},
    {%- endfor %}
    allocated_amount,
    cast(net_proceeds as decimal(18, 2)) as net_proceeds,
    cast(contribution_before_cogs as decimal(18, 2)) as contribution_before_cogs,
    has_unit_cost,
    cogs,
    cast(contribution_before_cogs - cogs as decimal(18, 2)) as contribution_margin,
    cast(case when gross_sales <> 0 then 100.0 * (contribution_before_cogs - cogs) / gross_sales end
        as decimal(18, 2)) as margin_pct,
    cast(case when cogs <> 0 then 100.0 * (contribution_before_cogs - cogs) / cogs end
        as decimal(18, 2)) as roi_pct,
    cast(case when gross_sales <> 0 then 100.0 * -ad_spend / gross_sales end
        as decimal(18, 2)) as tacos_pct,
    report_created_at,
    report_loaded_at
from margins
{{ join_names('margins.seller_id', 'margins.marketplace_id') }}
