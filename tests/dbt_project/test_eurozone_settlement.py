"""One EUR settlement for the eurozone storefronts: the sandbox's EU seller sells on Amazon.de and Amazon.fr, and
Amazon.fr's orders are settled in the settlement reported for Amazon.de (as a real EUR settlement shows, DESIGN.md).

Every mart must relate those lines to Amazon.fr, and the settlement must still reconcile as one: its lines, both
storefronts', add up to its total, and its payout is the Amazon.de settlement's.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.built_lakehouse import BuiltLakehouse

pytestmark = pytest.mark.integration

DE, FR = "A1PA6795UKMFR9", "A13V1IB3VIYZZH"


def test_amazon_fr_lines_of_de_settlements_are_fr_and_each_settlement_reconciles(
        built_lakehouse: BuiltLakehouse) -> None:
    rows = built_lakehouse.query(f"""
        select s.settlement_id, s.reported_total_amount, s.lines_amount, sum(l.amount),
               sum(case when l.marketplace_id = '{FR}' then 1 else 0 end),
               sum(case when l.marketplace_id not in ('{DE}', '{FR}') then 1 else 0 end)
        from finance.settlements as s
        inner join finance.settlement_lines as l on s.seller_id = l.seller_id and s.settlement_id = l.settlement_id
        where s.marketplace_id = '{DE}'
        group by all""")
    assert rows, "the EU seller should have Amazon.de settlements"
    truth = {s["settlement_id"]: s for s in built_lakehouse.truth["settlements"]}
    for settlement_id, total, lines_amount, drilled, fr_lines, other_lines in rows:
        assert total == lines_amount == drilled == Decimal(truth[settlement_id]["total"]), settlement_id
        assert other_lines == 0, settlement_id
        assert fr_lines > 0, f"settlement {settlement_id} should carry Amazon.fr lines"
    # The file names them `Amazon.fr`; only the marketplace-name decides, never the settlement's marketplace.
    named = built_lakehouse.query(f"""
        select marketplace_name, marketplace_id, count(*) from intermediate.int_settlement_lines_categorised
        where settlement_id in (select settlement_id from finance.settlements where marketplace_id = '{DE}')
            and transaction_type in ('Order', 'Refund')
        group by all order by 1""")
    assert [(name, mid) for name, mid, _ in named] == [("Amazon.de", DE), ("Amazon.fr", FR)]


def test_the_de_settlements_reconcile_as_the_truth_says(built_lakehouse: BuiltLakehouse) -> None:
    """Those with no planted deposit finding reconcile (or are open); the oracle checks every settlement's status."""
    planted = {d["reference_id"] for d in built_lakehouse.truth["discrepancies"]
               if d["kind"] in ("deposit_missing", "deposit_mismatch")}
    statuses = built_lakehouse.query(f"""
        select settlement_id, reconciliation_status from finance.settlements where marketplace_id = '{DE}'""")
    clean = [status for settlement_id, status in statuses if settlement_id not in planted]
    assert clean and set(clean) <= {"reconciled", "open"}
    assert "reconciled" in clean


def test_fr_is_a_marketplace_of_every_mart_like_the_others(built_lakehouse: BuiltLakehouse) -> None:
    """Orders, the fee audit's postings and refunds, and the ROI marts carry Amazon.fr rows of its own; the truth
    plants findings in Amazon.fr, so the oracle (test_oracle.py) checks them per marketplace."""
    assert {d["marketplace_id"] for d in built_lakehouse.truth["discrepancies"]} >= {FR}
    for table in ("operations.order_fulfillment", "intermediate.int_order_item_fees_expected",
                  "intermediate.int_refunds_matched", "roi.sku_profitability", "roi.marketplace_pnl",
                  "catalog.listing_quality"):
        (count,) = built_lakehouse.query(f"select count(*) from {table} where marketplace_id = '{FR}'")[0]
        assert count > 0, table
    # The fee audit knows every settled Amazon.fr SKU's category (from FR's own listings and fee estimates); a
    # line it does not audit is one whose category Amazon.fr's sourced schedule lacks (seeds/fee_schedules).
    reasons = dict(built_lakehouse.query(f"""
        select coalesce(referral_fee_audit, 'audited'), count(*) from intermediate.int_order_item_fees_expected
        where marketplace_id = '{FR}' group by 1"""))
    assert "category unresolved" not in reasons and reasons.get("no sourced schedule", 0) > 0, reasons


def test_eur_money_without_a_marketplace_is_the_de_settlements(built_lakehouse: BuiltLakehouse) -> None:
    """Event groups and reimbursements name no marketplace; EUR is both Amazon.de's and Amazon.fr's, and Amazon
    pays it in the settlement reported for Amazon.de: they are Amazon.de's, once each."""
    payouts = built_lakehouse.query("""
        select marketplace_id, count(*), count(distinct financial_event_group_id) from finance.payouts
        where currency = 'EUR' group by all""")
    assert [(mid, n == distinct) for mid, n, distinct in payouts] == [(DE, True)]
    forecast = built_lakehouse.query(
        "select distinct marketplace_id from finance.payout_forecast where currency = 'EUR'")
    assert forecast in ([], [(DE,)])
    reimbursements = built_lakehouse.query("""
        select distinct marketplace_id from intermediate.int_fba_reimbursements_joined_marketplaces
        where currency = 'EUR'""")
    assert reimbursements == [(DE,)]
