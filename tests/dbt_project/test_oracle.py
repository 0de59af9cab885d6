"""The oracle: the finance marts against the sandbox's ground truth.

Every discrepancy the sandbox planted must be found with the right kind and amount, and nothing else
of those kinds reported (precision and recall 100%), compared per (kind, seller, marketplace,
reference). Every settlement the truth calls consistent must reconcile in the settlements mart.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from dlt_sources.spapi.settings import TRANSFERS_MARKETPLACE_IDS
from spapi_sandbox.api.balances import open_balance, settlement_marketplaces
from spapi_sandbox.generate import build_world
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.money import minor_digits
from tests.built_lakehouse import ORACLE_ARGUMENTS, BuiltLakehouse

pytestmark = pytest.mark.integration

# The kinds the sandbox can plant (spapi_sandbox/generate.py); the mart may report others besides.
TRUTH_KINDS = ("referral_fee_overcharged", "closing_fee_overcharged", "fba_fee_overcharged", "refund_admin_fee_wrong",
               "order_not_settled",
               "inventory_not_reimbursed", "reimbursement_below_value", "deposit_missing", "deposit_mismatch",
               "settlement_summary_mismatch")

Key = tuple[str, str, str, str, str]


def planted(truth: dict) -> dict[Key, Decimal]:
    found: dict[Key, Decimal] = defaultdict(Decimal)
    for d in truth["discrepancies"]:
        found[(d["kind"], d["seller_id"], d["marketplace_id"], d["reference_id"], d["currency"])] += \
            Decimal(d["amount"])
    return dict(found)


def reported(built: BuiltLakehouse) -> dict[Key, Decimal]:
    kinds = ", ".join(f"'{k}'" for k in TRUTH_KINDS)
    rows = built.query(f"""
        select kind, seller_id, marketplace_id, reference_id, currency, sum(amount)
        from finance.reconciliation_exceptions where kind in ({kinds})
        group by all""")
    return {tuple(row[:5]): Decimal(row[5]) for row in rows}


def test_dbt_build_passes(built_lakehouse: BuiltLakehouse) -> None:
    assert built_lakehouse.returncode == 0, built_lakehouse.build_output[-5000:]


def test_the_truth_plants_every_kind(built_lakehouse: BuiltLakehouse) -> None:
    kinds = {d["kind"] for d in built_lakehouse.truth["discrepancies"]}
    assert kinds == set(TRUTH_KINDS), "the oracle's data should plant every kind"


def test_every_planted_discrepancy_is_found(built_lakehouse: BuiltLakehouse) -> None:
    expected, got = planted(built_lakehouse.truth), reported(built_lakehouse)
    missing = {key: amount for key, amount in expected.items() if key not in got}
    assert not missing, f"planted but not reported: {missing}"


def test_nothing_else_is_reported(built_lakehouse: BuiltLakehouse) -> None:
    expected, got = planted(built_lakehouse.truth), reported(built_lakehouse)
    extra = {key: amount for key, amount in got.items() if key not in expected}
    assert not extra, f"reported but not planted: {extra}"


def test_amounts_equal_the_truth(built_lakehouse: BuiltLakehouse) -> None:
    expected, got = planted(built_lakehouse.truth), reported(built_lakehouse)
    wrong = {key: (expected[key], got[key]) for key in expected if key in got and got[key] != expected[key]}
    assert not wrong, f"(truth, reported) amounts differ: {wrong}"


def test_consistent_settlements_reconcile(built_lakehouse: BuiltLakehouse) -> None:
    rows = built_lakehouse.query("""
        select settlement_id, seller_id, reported_total_amount, lines_amount, line_count, is_reissued,
               transferred_amount, reconciliation_status
        from finance.settlements""")
    mart = {(r[0], r[1]): r for r in rows}
    truth_settlements = built_lakehouse.truth["settlements"]
    findings = {d["reference_id"]: d["kind"] for d in built_lakehouse.truth["discrepancies"]
                if d["kind"] in ("deposit_missing", "deposit_mismatch")}
    assert set(mart) == {(s["settlement_id"], s["seller_id"]) for s in truth_settlements}
    for s in truth_settlements:
        row = mart[(s["settlement_id"], s["seller_id"])]
        _, _, total, lines_amount, line_count, reissued, transferred, status = row
        assert total == Decimal(s["total"]) == lines_amount, s
        assert line_count == s["lines"], s
        assert reissued == s["reissued"], s
        assert status == expected_status(s, findings), (s, row)
        assert transferred == (None if s["deposit"] is None else Decimal(s["deposit"])), (s, row)


def expected_status(settlement: dict, findings: dict[str, str]) -> str:
    """What the truth implies: consistent ones reconcile, planted deposit findings show, the rest is open; a
    settlement totalling 0.00 has nothing to deposit and reconciles without a transfer."""
    planted_kind = findings.get(settlement["settlement_id"])
    if Decimal(settlement["total"]) == 0 and planted_kind is None:
        return "reconciled"
    if planted_kind == "deposit_missing":
        return "deposit missing"
    if planted_kind == "deposit_mismatch":
        return "difference"
    return "open" if settlement["deposit"] is None else "reconciled"


def test_drill_down_adds_up_to_each_settlement(built_lakehouse: BuiltLakehouse) -> None:
    rows = built_lakehouse.query("""
        select s.settlement_id, s.lines_amount, coalesce(sum(l.amount), 0)
        from finance.settlements as s
        left join finance.settlement_lines as l
            on s.seller_id = l.seller_id and s.settlement_id = l.settlement_id
        group by all""")
    assert rows
    assert all(lines == drilled for _, lines, drilled in rows), rows


def test_no_line_is_unmapped(built_lakehouse: BuiltLakehouse) -> None:
    assert built_lakehouse.query(
        "select count(*) from finance.settlement_lines where category = 'unmapped'") == [(0,)]


def test_amazons_summary_agrees_with_each_settlement_but_the_planted_one(built_lakehouse: BuiltLakehouse) -> None:
    """Every settlement has Amazon's summary, label for label the file's; only the planted ones differ, by the
    planted amount in net proceeds and in one category. Summaries come from Finances, not Transfers: every seller
    has them, the Amazon.com one too, so each seller's planted mismatch is found."""
    planted = [d for d in built_lakehouse.truth["discrepancies"] if d["kind"] == "settlement_summary_mismatch"]
    planted_deltas = {d["reference_id"]: Decimal(d["amount"]) for d in planted}
    world = build_world(ORACLE_ARGUMENTS)
    assert {d["seller_id"] for d in planted} == {s.account.seller_id for s in world.sellers}
    assert "US" in {c for s in world.sellers for c in s.account.marketplace_codes}
    rows = built_lakehouse.query("""
        select settlement_id, summary_difference_amount, summary_labels_matched, summary_mismatched_category_count
        from finance.settlements""")
    assert len(rows) == len(built_lakehouse.truth["settlements"])
    assert planted_deltas and set(planted_deltas) <= {r[0] for r in rows}
    for settlement_id, difference, labels_matched, mismatched in rows:
        assert labels_matched is True, settlement_id
        delta = planted_deltas.get(settlement_id, Decimal(0))
        assert difference == delta, settlement_id
        assert mismatched == (1 if delta else 0), settlement_id


def test_the_forecast_shows_amazons_expected_payout_and_the_difference(built_lakehouse: BuiltLakehouse) -> None:
    """Each open group's row carries the payout the sandbox's world expects for its period (what the period would
    deposit if it closed now, spapi_sandbox/api/balances.py), and Amazon's figure minus ours, where Transfers
    serves the marketplace (Amazon.de here); elsewhere (Amazon.com, .ca, .co.uk) Amazon's columns are empty."""
    world = build_world(ORACLE_ARGUMENTS)
    served = {code for code, m in MARKETPLACES.items() if m.marketplace_id in TRANSFERS_MARKETPLACE_IDS}
    deposits = {(seller.account.seller_id, deposit.settlement.event_group_id):
                (code, Decimal(deposit.amount).scaleb(-minor_digits(MARKETPLACES[code].currency)))
                for seller in world.sellers for code in settlement_marketplaces(seller)
                for deposit in open_balance(seller, code, world.now).deposits}
    amazon = {key: amount for key, (code, amount) in deposits.items() if code in served}
    rows = built_lakehouse.query("""
        select seller_id, financial_event_group_id, expected_amount, amazon_expected_amount, amazon_difference_amount,
               amazon_payout_status
        from finance.payout_forecast""")
    assert rows and len(rows) == len(deposits)
    assert amazon and len(amazon) < len(deposits)
    assert {(r[0], r[1]) for r in rows if r[3] is not None} == set(amazon)
    for seller_id, group_id, ours, theirs, difference, status in rows:
        if (seller_id, group_id) not in amazon:
            assert (theirs, difference, status) == (None, None, None), group_id
            continue
        assert theirs == amazon[(seller_id, group_id)], group_id
        assert difference == theirs - ours, group_id
        assert status == ("SCHEDULED" if theirs > 0 else "NO_PAYOUT_EXPECTED"), group_id


def test_amazons_expected_payouts_and_payouts_exist_only_where_transfers_is_served(
        built_lakehouse: BuiltLakehouse) -> None:
    """transfers_2024-06-01.json: DE, FR, IT, ES, SE, NL, PL and BE only. The NA seller has none of them; the EU
    seller has them for Amazon.de (whose settlement carries Amazon.fr), not for Amazon.co.uk."""
    world = build_world(ORACLE_ARGUMENTS)
    with_de = {s.account.seller_id for s in world.sellers if "DE" in s.account.marketplace_codes}
    assert with_de and with_de != {s.account.seller_id for s in world.sellers}
    for table in ("stg_spapi__expected_payouts", "stg_spapi__payouts"):
        found = built_lakehouse.query(f"select distinct seller_id, marketplace_id from staging.{table}")
        assert {seller for seller, _ in found} == with_de, table
        assert {marketplace for _, marketplace in found} == {MARKETPLACES["DE"].marketplace_id}, table
    de_closed = sum(1 for s in world.sellers for x in s.settlements if x.closed and x.marketplace == "DE")
    assert built_lakehouse.query("select count(*) from staging.stg_spapi__payouts") == [(de_closed,)]
