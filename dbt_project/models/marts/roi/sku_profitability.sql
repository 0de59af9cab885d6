{#- Profit per seller, marketplace, SKU and day, from the settlement lines (the money that really
    moved), with allocated account-level costs and COGS. See _roi__models.yml for every column. -#}
{{ config(materialized='table', schema='roi') }}

with days as (
    select * from {{ ref('int_sku_days_costed') }}
),

margins as (
    select
        *,
        gross_sales + shipping_revenue + promotions + refunds + referral_fees + refund_commissions
            + fba_fees + other_fees + storage_fees + reimbursements + ad_spend + adjustments
            + unmapped_amount + tax_collected + tax_withheld as net_proceeds,
        gross_sales + shipping_revenue + promotions + refunds + referral_fees + refund_commissions
            + fba_fees + other_fees + storage_fees + reimbursements + ad_spend + adjustments
            + unmapped_amount as contribution_before_cogs
    from days
)

select
    {{ dbt.hash(dbt.concat(["seller_id", "'|'", "marketplace_id", "'|'", "sku", "'|'",
                            dbt.cast("posted_date", dbt.type_string())])) }} as sku_profitability_id,
    seller_id,
    marketplace_id,
    sku,
    posted_date,
    posted_month,
    currency,
    cast(units_sold as bigint) as units_sold,
    cast(units_refunded as bigint) as units_refunded,
    gross_sales,
    shipping_revenue,
    promotions,
    refunds,
    referral_fees,
    refund_commissions,
    fba_fees,
    other_fees,
    storage_fees,
    reimbursements,
    ad_spend,
    adjustments,
    unmapped_amount,
    tax_collected,
    tax_withheld,
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
        as decimal(18, 2)) as tacos_pct
from margins
