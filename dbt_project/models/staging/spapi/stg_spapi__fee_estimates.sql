{#- One row per SKU and snapshot day: Amazon's report holds today's estimates only, the lakehouse keeps each
    day's (dlt_sources/spapi/fba_reports.py). A row loaded before snapshot_date existed, not yet upgraded by an
    ingest (spapi_elt/lakehouse_upgrades.py), is the snapshot of its load day, as that upgrade dates it. -#}
with estimates as (
    select
        *,
        coalesce(snapshot_date, cast({{ dbt.dateadd('day', 'cast(floor(cast(_dlt_load_id as double) / 86400) as integer)',
                                                    "cast('1970-01-01' as date)") }} as date)) as snapshot_day
    from {{ raw_table('fee_estimates') }}
)

select
    seller_id || '-' || marketplace_id || '-' || sku || '-' || {{ to_text('snapshot_day') }} as fee_estimate_id,
    snapshot_day as snapshot_date,
    seller_id,
    marketplace_id,
    sku,
    fnsku,
    asin,
    product_name,
    product_group,
    brand,
    fulfilled_by,
    product_size_tier,
    currency,
    {{ money('your_price') }} as your_price,
    {{ money('sales_price') }} as sales_price,
    item_package_weight,
    unit_of_weight,
    {{ money('estimated_fee_total') }} as estimated_fee_total,
    {{ money('estimated_referral_fee_per_unit') }} as estimated_referral_fee_per_unit,
    {{ money('estimated_variable_closing_fee') }} as estimated_variable_closing_fee,
    {{ money('expected_fulfillment_fee_per_unit') }} as expected_fulfillment_fee_per_unit
from estimates
