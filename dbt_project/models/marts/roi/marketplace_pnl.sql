{#- Profit and loss per seller, marketplace and month: in the marketplace currency, and converted to
    USD (columns `*_usd`) with the month's rate of the `fx_rates` seed, so marketplaces can be added. -#}
{%- set amounts = roi_amount_columns() + ['net_proceeds', 'contribution_before_cogs'] %}
{#- What Amazon charges for selling (advertising is a choice, shown as TACoS; tax is a pass-through). -#}
{%- set amazon_fees = 'referral_fees + refund_commissions + fba_fees + other_fees + storage_fees' %}
{%- set usd_amounts = ['gross_sales', 'refunds', 'ad_spend', 'net_proceeds', 'contribution_before_cogs',
    'cogs', 'contribution_margin'] %}

with months as (
    select
        seller_id,
        marketplace_id,
        posted_month,
        currency,
        sum(units_sold) as units_sold,
        sum(units_refunded) as units_refunded,
        {%- for column in amounts %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        coalesce(sum(cogs), 0) as cogs,
        sum(case when not has_unit_cost and units_sold > 0 then 1 else 0 end) as skus_without_unit_cost
    from {{ ref('sku_profitability_monthly') }}
    group by seller_id, marketplace_id, posted_month, currency
),

fx as (
    select * from {{ ref('stg_seeds__fx_rates') }}
),

pnl as (
    select
        months.*,
        months.contribution_before_cogs - months.cogs as contribution_margin,
        fx.usd_per_unit
    from months
    left join fx
        on months.currency = fx.currency
        and months.posted_month = fx.rate_month
)

select
    {{ surrogate_key(["seller_id", "marketplace_id", dbt.cast("posted_month", dbt.type_string())]) }}
        as marketplace_pnl_id,
    seller_id,
    marketplace_id,
    {{ named_columns('pnl.seller_id') }},
    posted_month,
    currency,
    cast(units_sold as bigint) as units_sold,
    cast(units_refunded as bigint) as units_refunded,
    {%- for column in amounts %}
    cast({{ column }} as decimal(18, 2)) as {{ column }},
    {%- endfor %}
    cast(cogs as decimal(18, 2)) as cogs,
    cast(skus_without_unit_cost as bigint) as skus_without_unit_cost,
    cast(contribution_margin as decimal(18, 2)) as contribution_margin,
    cast(case when gross_sales <> 0 then 100.0 * contribution_margin / gross_sales end as decimal(18, 2))
        as margin_pct,
    cast(case when cogs <> 0 then 100.0 * contribution_margin / cogs end as decimal(18, 2)) as roi_pct,
    cast(case when gross_sales <> 0 then 100.0 * -ad_spend / gross_sales end as decimal(18, 2)) as tacos_pct,
    cast({{ amazon_fees }} as decimal(18, 2)) as amazon_fees,
    cast(case when gross_sales <> 0 then 100.0 * -({{ amazon_fees }}) / gross_sales end as decimal(18, 2))
        as fees_pct_of_sales,
    cast(usd_per_unit as decimal(18, 8)) as fx_usd_per_unit,
    {%- for column in usd_amounts %}
    cast(round({{ column }} * usd_per_unit, 2) as decimal(18, 2)) as {{ column }}_usd{{ "," if not loop.last }}
    {%- endfor %}
from pnl
{{ join_names('pnl.seller_id', 'pnl.marketplace_id') }}
