{#- sku_profitability_monthly rolled up over the whole settled period per seller, marketplace and SKU; ratios
    recomputed on the sums (a month's ROI cannot be averaged into a period's). -#}
{%- set amounts = roi_summed_amounts() %}

with months as (
    select * from {{ ref('sku_profitability_monthly') }}
),

days as (
    -- the first and last posted day, which the monthly rollup does not keep
    select seller_id, marketplace_id, sku, min(posted_date) as first_posted_date, max(posted_date) as last_posted_date
    from {{ ref('sku_profitability') }}
    group by seller_id, marketplace_id, sku
),

skus as (
    select
        seller_id,
        marketplace_id,
        sku,
        currency,
        count(*) as month_count,
        {{ roi_rollup_sums() }}
    from months
    group by seller_id, marketplace_id, sku, currency
)

select
    {{ surrogate_key(["skus.seller_id", "skus.marketplace_id", "skus.sku"]) }} as sku_profitability_to_date_id,
    skus.seller_id,
    skus.marketplace_id,
    {{ named_columns('skus.seller_id') }},
    skus.sku,
    days.first_posted_date,
    days.last_posted_date,
    cast(skus.month_count as bigint) as month_count,
    skus.currency,
    cast(skus.units_sold as bigint) as units_sold,
    cast(skus.units_refunded as bigint) as units_refunded,
    {%- for column in amounts %}
    cast(skus.{{ column }} as decimal(18, 2)) as {{ column }},
    {%- endfor %}
    skus.has_unit_cost,
    {{ roi_rollup_ratios('skus') }}
from skus
left join days
    on skus.seller_id = days.seller_id
    and skus.marketplace_id = days.marketplace_id
    and skus.sku = days.sku
{{ join_names('skus.seller_id', 'skus.marketplace_id') }}
