{#- The acceptance check as a model: per seller, marketplace, month and category, the settlement lines'
    total next to roi.sku_profitability's total. `is_equal` is tested to be true everywhere, so a
    profitability mart that drops or double-counts a cent fails the build. -#}
{%- set categories = roi_category_columns() %}

with settled as (
    select
        seller_id,
        marketplace_id,
        currency,
        cast({{ dbt.date_trunc('month', 'posted_date') }} as date) as posted_month,
        category,
        sum(amount) as amount
    from {{ ref('int_settlement_lines_categorised') }}
    where {{ is_roi_category('category') }}
    group by 1, 2, 3, 4, 5
),

mart as (
    {%- for category, column in categories %}
    select
        seller_id, marketplace_id, currency, posted_month,
        '{{ category }}' as category,
        sum({{ column }}) as amount
    from {{ ref('sku_profitability') }}
    group by seller_id, marketplace_id, currency, posted_month
    {{ "union all" if not loop.last }}
    {%- endfor %}
)

select
    coalesce(settled.seller_id, mart.seller_id) || '|' || coalesce(settled.marketplace_id, mart.marketplace_id)
        || '|' || coalesce(settled.currency, mart.currency)
        || '|' || {{ to_text('coalesce(settled.posted_month, mart.posted_month)') }}
        || '|' || coalesce(settled.category, mart.category) as reconciliation_key,
    coalesce(settled.seller_id, mart.seller_id) as seller_id,
    coalesce(settled.marketplace_id, mart.marketplace_id) as marketplace_id,
    coalesce(settled.currency, mart.currency) as currency,
    coalesce(settled.posted_month, mart.posted_month) as posted_month,
    coalesce(settled.category, mart.category) as category,
    coalesce(settled.amount, 0) as settlement_lines_amount,
    coalesce(mart.amount, 0) as sku_profitability_amount,
    coalesce(settled.amount, 0) = coalesce(mart.amount, 0) as is_equal
from settled
full outer join mart
    on settled.seller_id = mart.seller_id
    and settled.marketplace_id = mart.marketplace_id
    and settled.currency = mart.currency
    and settled.posted_month = mart.posted_month
    and settled.category = mart.category
