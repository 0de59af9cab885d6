{#- The ROI rollups (sku_profitability_monthly, sku_profitability_to_date): the amounts they sum, and the
    ratios they recompute on the sums (a ratio of a rollup is never an average of its parts' ratios). -#}

{#- The money columns of roi.sku_profitability that roll up by summing: the categories' columns
    (macros/settlement_categories.sql), then the allocated amount and the two totals. -#}
{% macro roi_summed_amounts() -%}
    {{ return(roi_amount_columns() + ['allocated_amount', 'net_proceeds', 'contribution_before_cogs']) }}
{%- endmacro %}

{#- cogs, contribution_margin, margin_pct, roi_pct, tacos_pct from summed columns of `relation` (an alias);
    COGS-based figures only where the unit cost is known for the whole rollup. -#}
{% macro roi_rollup_ratios(relation) -%}
    {%- set r = relation ~ '.' -%}
    cast(case when {{ r }}has_unit_cost then {{ r }}cogs end as decimal(18, 2)) as cogs,
    cast(case when {{ r }}has_unit_cost then {{ r }}contribution_before_cogs - {{ r }}cogs end as decimal(18, 2))
        as contribution_margin,
    cast(case when {{ r }}has_unit_cost and {{ r }}gross_sales <> 0
        then 100.0 * ({{ r }}contribution_before_cogs - {{ r }}cogs) / {{ r }}gross_sales end as decimal(18, 2))
        as margin_pct,
    cast(case when {{ r }}has_unit_cost and {{ r }}cogs <> 0
        then 100.0 * ({{ r }}contribution_before_cogs - {{ r }}cogs) / {{ r }}cogs end as decimal(18, 2)) as roi_pct,
    cast(case when {{ r }}gross_sales <> 0 then 100.0 * -{{ r }}ad_spend / {{ r }}gross_sales end as decimal(18, 2))
        as tacos_pct
{%- endmacro %}

{#- The summed columns of a rollup's group by: units, every amount, COGS (known for the rollup only if known
    for every part of it). -#}
{% macro roi_rollup_sums() -%}
    sum(units_sold) as units_sold,
    sum(units_refunded) as units_refunded,
    {%- for column in roi_summed_amounts() %}
    sum({{ column }}) as {{ column }},
    {%- endfor %}
    bool_and(has_unit_cost) as has_unit_cost,
    sum(cogs) as cogs
{%- endmacro %}
