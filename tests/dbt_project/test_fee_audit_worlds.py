"""The fee audit on worlds of their own: one charged entirely by Amazon's real fee schedules (no fee finding
planted) must give no fee finding, and a one-year world (issue 13: seed 11, 2 sellers, from 2025-06-01) must
build without errors and give exactly the truth's findings with their amounts. Both span the UK/DE fee changes
of 2025-12-15 and 2026-02-01 (and the UK/DE schedules' first sourced day, 2025-12-02)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from spapi_sandbox.world import DataArguments
from tests.built_lakehouse import BuiltLakehouse, build_lakehouse
from tests.dbt_project.test_oracle import TRUTH_KINDS

pytestmark = pytest.mark.integration

FEE_KINDS = ("referral_fee_overcharged", "closing_fee_overcharged", "fba_fee_overcharged", "refund_admin_fee_wrong")
UK_DE = ("A1F83G8C2ARO7P", "A1PA6795UKMFR9")
CLEAN_ARGUMENTS = DataArguments(seed=6, sellers=2, start="2025-11-25", days=75, orders_per_day=8,
                                fee_overcharges=False)
# Issue 13's one-year world at a low order rate, so that it builds in about a minute.
ONE_YEAR_ARGUMENTS = DataArguments(seed=11, sellers=2, start="2025-06-01", days=365, orders_per_day=4)


@pytest.fixture(scope="module")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltLakehouse:
    return build_lakehouse(CLEAN_ARGUMENTS, tmp_path_factory.mktemp("fees-clean"))


@pytest.fixture(scope="module")
def one_year_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltLakehouse:
    return build_lakehouse(ONE_YEAR_ARGUMENTS, tmp_path_factory.mktemp("fees-one-year"))


def fee_findings(built: BuiltLakehouse) -> list[tuple]:
    kinds = ", ".join(f"'{k}'" for k in FEE_KINDS)
    return built.query(f"""select kind, marketplace_id, reference_id, amount, explanation
                           from finance.reconciliation_exceptions where kind in ({kinds})""")


def test_a_world_charged_by_the_real_schedules_gives_no_fee_finding(clean_world: BuiltLakehouse) -> None:
    assert clean_world.returncode == 0, clean_world.build_output[-5000:]
    assert not [d for d in clean_world.truth["discrepancies"] if d["kind"] in FEE_KINDS]
    assert fee_findings(clean_world) == []


def test_the_clean_world_is_audited_on_every_shape_and_on_both_sides_of_a_fee_change(
        clean_world: BuiltLakehouse) -> None:
    """Zero findings must come from audited lines, not from lines left out."""
    shapes = {row[0] for row in clean_world.query("""
        select case when expected_referral_fee = minimum_fee_per_unit * quantity then 'minimum' else band_kind end
        from intermediate.int_order_item_fees_expected where referral_fee_audit = 'audited'""")}
    assert {"none", "whole_price", "portion", "minimum"} <= shapes
    assert clean_world.query("""select count(*) from intermediate.int_order_item_fees_expected
                                where expected_closing_fee > 0""")[0][0] > 0
    rules = {row for row in clean_world.query(f"""
        select distinct category, rule_effective_from from intermediate.int_order_item_fees_expected
        where referral_fee_audit = 'audited' and marketplace_id in {UK_DE}
            and category = 'Clothing and Accessories'""")}
    assert {str(start) for _, start in rules} >= {"2025-12-02", "2025-12-15"}, rules
    audited_refunds = clean_world.query("""select count(*) from intermediate.int_refunds_matched
                                           where expected_refund_admin_fee is not null""")
    assert audited_refunds[0][0] > 0


def test_one_year_world_builds_without_errors(one_year_world: BuiltLakehouse) -> None:
    assert one_year_world.returncode == 0, one_year_world.build_output[-5000:]


def test_one_year_world_oracle_is_exact_with_amounts(one_year_world: BuiltLakehouse) -> None:
    truth = Counter((d["kind"], d["seller_id"], d["marketplace_id"], d["reference_id"], Decimal(d["amount"]))
                    for d in one_year_world.truth["discrepancies"])
    kinds = ", ".join(f"'{k}'" for k in TRUTH_KINDS)
    reported = Counter(tuple(row) for row in one_year_world.query(f"""
        select kind, seller_id, marketplace_id, reference_id, amount
        from finance.reconciliation_exceptions where kind in ({kinds})"""))
    assert {k[0] for k in truth} >= set(FEE_KINDS)  # the year plants every fee kind
    assert truth - reported == Counter(), "planted but not reported"
    assert reported - truth == Counter(), "reported but not planted"
