"""The ROI, operations and catalog marts against the data they come from.

The profitability mart must add up to the settlement lines (the money that really moved) per marketplace,
month and category, to the cent, with account-level costs allocated without losing a cent; the P&L must be
its monthly sums; fulfilment and listing quality must cover every order and listing once.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.built_lakehouse import BuiltLakehouse

pytestmark = pytest.mark.integration

# Mart column of each settlement line category (reserves, transfers and loans are cash movements, not profit).
CATEGORY_COLUMNS = {
    "principal": "gross_sales", "shipping": "shipping_revenue", "promotion": "promotions", "refund": "refunds",
    "referral_fee": "referral_fees", "refund_commission": "refund_commissions", "fba_fulfillment_fee": "fba_fees",
    "other_fee": "other_fees", "storage_fee": "storage_fees", "reimbursement": "reimbursements",
    "ad_spend": "ad_spend", "adjustment": "adjustments", "unmapped": "unmapped_amount", "tax": "tax_collected",
    "withheld_tax": "tax_withheld", "liquidation_proceeds": "liquidation_proceeds",
}


def test_profitability_totals_equal_settlement_lines_by_category(built_lakehouse: BuiltLakehouse) -> None:
    settled = {
        (row[0], row[1], row[2], row[3]): Decimal(row[4])
        for row in built_lakehouse.query("""
            select seller_id, marketplace_id, cast(date_trunc('month', posted_date) as date), category, sum(amount)
            from intermediate.int_settlement_lines_categorised
            where category not in ('reserve_held', 'reserve_released', 'transfer', 'loan')
            group by all""")
    }
    unions = " union all ".join(
        f"select seller_id, marketplace_id, posted_month, '{category}', sum({column}) "
        f"from roi.sku_profitability group by all"
        for category, column in CATEGORY_COLUMNS.items())
    mart = {(row[0], row[1], row[2], row[3]): Decimal(row[4]) for row in built_lakehouse.query(unions)}
    differences = {key: (amount, mart.get(key, Decimal(0))) for key, amount in settled.items()
                   if mart.get(key, Decimal(0)) != amount}
    differences.update({key: (Decimal(0), amount) for key, amount in mart.items()
                        if key not in settled and amount != 0})
    assert settled, "the build should have settlement lines"
    assert not differences, f"(settlement lines, mart) differ: {differences}"


def test_gross_sales_per_sku_equal_principal_lines(built_lakehouse: BuiltLakehouse) -> None:
    rows = built_lakehouse.query("""
        with lines as (
            select seller_id, marketplace_id, sku, sum(amount) as principal, sum(quantity) as units
            from intermediate.int_settlement_lines_categorised
            where category = 'principal' and transaction_type = 'Order'
            group by all
        ),
        mart as (
            select seller_id, marketplace_id, sku, sum(gross_sales) as gross_sales, sum(units_sold) as units
            from roi.sku_profitability group by all
        )
        select lines.*, mart.gross_sales, mart.units
        from lines left join mart using (seller_id, marketplace_id, sku)
        where mart.gross_sales is distinct from lines.principal or mart.units is distinct from lines.units""")
    assert not rows, f"SKUs whose gross sales or units differ from their principal lines: {rows[:10]}"


def test_margin_roi_and_tacos_follow_their_definitions(built_lakehouse: BuiltLakehouse) -> None:
    rows = built_lakehouse.query("""
        select sku_profitability_id from roi.sku_profitability
        where contribution_before_cogs <> net_proceeds - tax_collected - tax_withheld
           or contribution_margin is distinct from contribution_before_cogs - cogs
           or (gross_sales <> 0 and tacos_pct <> round(100.0 * -ad_spend / gross_sales, 2))
           or (cogs <> 0 and roi_pct <> round(100.0 * contribution_margin / cogs, 2))
           or (cogs = 0 and roi_pct is not null)
           or (gross_sales = 0 and (margin_pct is not null or tacos_pct is not null))""")
    assert not rows, f"rows that break the ROI arithmetic: {rows[:10]}"


def test_marketplace_pnl_is_the_sum_of_the_monthly_rollup(built_lakehouse: BuiltLakehouse) -> None:
    rows = built_lakehouse.query("""
        with monthly as (
            select seller_id, marketplace_id, posted_month, sum(net_proceeds) as net_proceeds,
                   sum(gross_sales) as gross_sales
            from roi.sku_profitability_monthly group by all
        )
        select pnl.marketplace_pnl_id
        from roi.marketplace_pnl as pnl
        full outer join monthly using (seller_id, marketplace_id, posted_month)
        where pnl.net_proceeds is distinct from monthly.net_proceeds
           or pnl.gross_sales is distinct from monthly.gross_sales
           or pnl.net_proceeds_usd is distinct from round(pnl.net_proceeds * pnl.fx_usd_per_unit, 2)""")
    assert not rows, f"P&L months that differ from the SKU rollup or its USD conversion: {rows}"
    missing_rates = built_lakehouse.query("select count(*) from roi.marketplace_pnl where fx_usd_per_unit is null")
    assert missing_rates == [(0,)], "the fx_rates seed should cover every month of the sandbox"


def test_order_fulfillment_covers_every_order_once(built_lakehouse: BuiltLakehouse) -> None:
    (orders,) = built_lakehouse.query("select count(*) from staging.stg_spapi__orders")
    (counted,) = built_lakehouse.query("""
        select sum(orders), sum(shipped_orders + cancelled_orders + open_orders)
        from operations.order_fulfillment""")
    assert counted == (orders[0], orders[0])
    # The sandbox ships FBA orders within 30 hours: only merchant-fulfilled ones can be late.
    (late_afn,) = built_lakehouse.query("""
        select count(*) from intermediate.int_orders_shipments_timed
        where fulfillment_channel = 'Amazon' and ship_latency_hours > 48""")
    assert late_afn == (0,)


def test_listing_quality_scores_every_listing(built_lakehouse: BuiltLakehouse) -> None:
    (listings,) = built_lakehouse.query("select count(*) from staging.stg_spapi__listings")
    (scored,) = built_lakehouse.query("""
        select count(*) from catalog.listing_quality
        where quality_score between 0 and 100
          and (quality_score = 100) = (score_reasons = 'complete')""")
    assert scored == listings
