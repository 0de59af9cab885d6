{#- One row per seller, marketplace, SKU and posted day: the settlement amounts pivoted by category
    (signed as in the settlement: fees negative), units, and COGS.

    COGS = units sold x the SKU's unit cost (seed named by var `unit_costs_seed`, default `unit_costs`),
    converted from the cost's currency to the marketplace currency with the month's rates of the
    `fx_rates` seed. A unit-cost row with an empty seller_id applies to that SKU for every seller; a
    row with the seller's id wins. SKUs with no unit cost get null COGS (has_unit_cost = false). -#}
{%- set categories = roi_category_columns() %}

with amounts as (
    select * from {{ ref('int_settlement_amounts_allocated') }}
),

pivoted as (
    select
        seller_id,
        marketplace_id,
        currency,
        sku,
        posted_date,
        cast({{ dbt.date_trunc('month', 'posted_date') }} as date) as posted_month,
        sum(units_sold) as units_sold,
        sum(units_refunded) as units_refunded,
        {%- for category, column in categories %}
        sum(case when category = '{{ category }}' then amount else 0 end) as {{ column }},
        {%- endfor %}
        sum(case when is_allocated then amount else 0 end) as allocated_amount,
        max(report_created_at) as report_created_at,
        max(report_loaded_at) as report_loaded_at
    from amounts
    group by seller_id, marketplace_id, currency, sku, posted_date
),

unit_costs as (
    select
        nullif(trim({{ to_text('seller_id') }}), '') as seller_id,
        {{ to_text('sku') }} as sku,
        cast(unit_cost as decimal(18, 4)) as unit_cost,
        upper({{ to_text('currency') }}) as currency
    from {{ ref(var('unit_costs_seed')) }}
),

fx as (
    select * from {{ ref('stg_seeds__fx_rates') }}
),

costed as (
    select
        pivoted.*,
        coalesce(seller_cost.unit_cost, any_seller_cost.unit_cost) as unit_cost,
        coalesce(seller_cost.currency, any_seller_cost.currency) as unit_cost_currency
    from pivoted
    left join unit_costs as seller_cost
        on pivoted.seller_id = seller_cost.seller_id
        and pivoted.sku = seller_cost.sku
    left join unit_costs as any_seller_cost
        on any_seller_cost.seller_id is null
        and pivoted.sku = any_seller_cost.sku
)

select
    costed.seller_id,
    costed.marketplace_id,
    costed.currency,
    costed.sku,
    costed.posted_date,
    costed.posted_month,
    costed.units_sold,
    costed.units_refunded,
    {%- for category, column in categories %}
    cast(costed.{{ column }} as decimal(18, 2)) as {{ column }},
    {%- endfor %}
    cast(costed.allocated_amount as decimal(18, 2)) as allocated_amount,
    costed.unit_cost is not null as has_unit_cost,
    cast(
        case
            when costed.unit_cost is null then null
            when costed.unit_cost_currency = costed.currency then costed.units_sold * costed.unit_cost
            else costed.units_sold * costed.unit_cost * cost_fx.usd_per_unit / sales_fx.usd_per_unit
        end
    as decimal(18, 2)) as cogs,
    costed.report_created_at,
    costed.report_loaded_at
from costed
left join fx as cost_fx
    on costed.unit_cost_currency = cost_fx.currency
    and costed.posted_month = cost_fx.rate_month
left join fx as sales_fx
    on costed.currency = sales_fx.currency
    and costed.posted_month = sales_fx.rate_month
