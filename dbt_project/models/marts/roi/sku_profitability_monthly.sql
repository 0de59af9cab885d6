{#- sku_profitability rolled up to calendar months (by posted date); ratios recomputed on the sums. -#}
{%- set amounts = roi_summed_amounts() %}

with months as (
    select
        seller_id,
        marketplace_id,
        sku,
        posted_month,
        currency,
        {{ roi_rollup_sums() }}
    from {{ ref('sku_profitability') }}
    group by seller_id, marketplace_id, sku, posted_month, currency
)

select
    {{ surrogate_key(["seller_id", "marketplace_id", "sku", dbt.cast("posted_month", dbt.type_string())]) }}
        as sku_profitability_monthly_id,
    seller_id,
    marketplace_id,
    {{ named_columns('months.seller_id') }},
    sku,
    posted_month,
    currency,
    cast(units_sold as bigint) as units_sold,
    cast(units_refunded as bigint) as units_refunded,
    {%- for column in amounts %}
    cast({{ column }} as decimal(18, 2)) as {{ column }},
    {%- endfor %}
    has_unit_cost,
    {{ roi_rollup_ratios('months') }}
from months
{{ join_names('months.seller_id', 'months.marketplace_id') }}
