{#- sku_profitability rolled up to calendar months (by posted date); ratios recomputed on the sums. -#}
{{ config(materialized='table', schema='roi') }}

{%- set amounts = ['gross_sales', 'shipping_revenue', 'promotions', 'refunds', 'referral_fees',
    'refund_commissions', 'fba_fees', 'other_fees', 'storage_fees', 'reimbursements', 'ad_spend',
    'adjustments', 'unmapped_amount', 'tax_collected', 'tax_withheld', 'allocated_amount', 'net_proceeds',
    'contribution_before_cogs'] %}

with months as (
    select
        seller_id,
        marketplace_id,
        sku,
        posted_month,
        currency,
        sum(units_sold) as units_sold,
        sum(units_refunded) as units_refunded,
        {%- for column in amounts %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        -- COGS is known for the month only if it is known for every day with units
        bool_and(has_unit_cost) as has_unit_cost,
        sum(cogs) as cogs
    from {{ ref('sku_profitability') }}
    group by seller_id, marketplace_id, sku, posted_month, currency
)

select
    {{ surrogate_key(["seller_id", "marketplace_id", "sku", dbt.cast("posted_month", dbt.type_string())]) }}
        as sku_profitability_monthly_id,
    seller_id,
    marketplace_id,
    sku,
    posted_month,
    currency,
    cast(units_sold as bigint) as units_sold,
    cast(units_refunded as bigint) as units_refunded,
    {%- for column in amounts %}
    cast({{ column }} as decimal(18, 2)) as {{ column }},
    {%- endfor %}
    has_unit_cost,
    cast(case when has_unit_cost then cogs end as decimal(18, 2)) as cogs,
    cast(case when has_unit_cost then contribution_before_cogs - cogs end as decimal(18, 2))
        as contribution_margin,
    cast(case when has_unit_cost and gross_sales <> 0
        then 100.0 * (contribution_before_cogs - cogs) / gross_sales end as decimal(18, 2)) as margin_pct,
    cast(case when has_unit_cost and cogs <> 0
        then 100.0 * (contribution_before_cogs - cogs) / cogs end as decimal(18, 2)) as roi_pct,
    cast(case when gross_sales <> 0 then 100.0 * -ad_spend / gross_sales end as decimal(18, 2)) as tacos_pct
from months
