"""The fee audit on worlds of their own: one charged entirely by Amazon's real fee schedules (no fee finding
planted) must give no fee finding, and a one-year world (issue 13: seed 11, 2 sellers, from 2025-06-01) must
build without errors and give exactly the truth's findings with their amounts. Both span the UK/DE fee changes
of 2025-12-15 and 2026-02-01 (and the UK/DE schedules' first sourced day, 2025-12-02), and the FBA fee changes
of 2025-12-15 (Europe) and 2026-01-15 (US).

Amazon's fee estimates report gives today's estimates only: with only the last day's snapshot, an FBA fee
charged before a change of its marketplace cannot be judged, and must be reported as such (never found, never
silently dropped); with a snapshot on each side of the changes, every one is judged."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from spapi_sandbox.fee_schedules import fba_fee_change_days
from spapi_sandbox.world import DataArguments
from tests.built_lakehouse import BuiltLakehouse, build_lakehouse
from tests.dbt_project.test_oracle import TRUTH_KINDS
from tests.fee_snapshots import Finding, truth_findings, unjudgeable_fba_plants

pytestmark = pytest.mark.integration

FEE_KINDS = ("referral_fee_overcharged", "closing_fee_overcharged", "fba_fee_overcharged", "refund_admin_fee_wrong")
UK_DE = ("A1F83G8C2ARO7P", "A1PA6795UKMFR9")
CLEAN_ARGUMENTS = DataArguments(seed=6, sellers=2, start="2025-11-25", days=75, orders_per_day=8,
                                fee_overcharges=False)
# Issue 13's one-year world at a low order rate, so that it builds in about a minute.
ONE_YEAR_ARGUMENTS = DataArguments(seed=11, sellers=2, start="2025-06-01", days=365, orders_per_day=4)
# The snapshots' world: the months of the FBA fee changes (2025-12-15, 2026-01-15, 2026-02-01) only, a third of
# the year's build. Fee estimate snapshots on 2025-12-01 (before Europe's change of 2025-12-15) and 2026-01-10
# (after it, before the US change of 2026-01-15), besides the last day's (after Europe's 2026-02-01).
SNAPSHOTS_ARGUMENTS = DataArguments(seed=11, sellers=2, start="2025-11-01", days=120, orders_per_day=4)
SNAPSHOT_DAYS = (30, 70)


@pytest.fixture(scope="module")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltLakehouse:
    return build_lakehouse(CLEAN_ARGUMENTS, tmp_path_factory.mktemp("fees-clean"))


@pytest.fixture(scope="module")
def one_year_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltLakehouse:
    return build_lakehouse(ONE_YEAR_ARGUMENTS, tmp_path_factory.mktemp("fees-one-year"))


@pytest.fixture(scope="module")
def world_with_snapshots(tmp_path_factory: pytest.TempPathFactory) -> BuiltLakehouse:
    return build_lakehouse(SNAPSHOTS_ARGUMENTS, tmp_path_factory.mktemp("fees-snapshots"), SNAPSHOT_DAYS)


def reported_findings(built: BuiltLakehouse) -> Counter[Finding]:
    kinds = ", ".join(f"'{k}'" for k in TRUTH_KINDS)
    return Counter(tuple(row) for row in built.query(f"""
        select kind, seller_id, marketplace_id, reference_id, amount
        from finance.reconciliation_exceptions where kind in ({kinds})"""))


def unjudged(built: BuiltLakehouse) -> Counter[Finding]:
    snapshots = [row[0] for row in built.query("select distinct snapshot_date from raw_spapi.fee_estimates")]
    return unjudgeable_fba_plants(built.truth, built.purchased_on, snapshots)


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
    """Only the last day's fee estimates: the FBA overcharges planted before a change cannot be judged; they are
    reported as not audited, and every other planted finding is found with its amount, nothing else."""
    truth, reported = truth_findings(one_year_world.truth), reported_findings(one_year_world)
    unjudgeable = unjudged(one_year_world)
    assert {k[0] for k in truth} >= set(FEE_KINDS)  # the year plants every fee kind
    assert unjudgeable, "the year plants FBA overcharges before a fee change"
    assert truth - unjudgeable - reported == Counter(), "planted but not reported"
    assert reported - (truth - unjudgeable) == Counter(), "reported but not planted"
    not_audited = Counter(one_year_world.query("""
        select seller_id, order_item_code from intermediate.int_order_item_fees_expected
        where fba_fee_audit = 'no fee estimate in force'"""))
    assert all(not_audited[(f[1], f[3])] == 1 for f in unjudgeable), "an unjudged plant must say why"


def test_a_world_with_fee_snapshots_judges_every_fba_fee(world_with_snapshots: BuiltLakehouse) -> None:
    """A snapshot on each side of every FBA fee change: every plant is found exactly, including overcharges on
    orders bought before a change, and no FBA line is left unjudged."""
    built = world_with_snapshots
    assert built.returncode == 0, built.build_output[-5000:]
    truth, reported = truth_findings(built.truth), reported_findings(built)
    assert unjudged(built) == Counter()
    assert truth - reported == Counter(), "planted but not reported"
    assert reported - truth == Counter(), "reported but not planted"
    before_a_change = [f for f in truth if f[0] == "fba_fee_overcharged" and any(
        built.purchased_on[(f[1], f[3])] < change <= date.fromisoformat(built.as_of)
        for change in fba_fee_change_days().get(f[2], frozenset()))]
    assert before_a_change, "an FBA overcharge bought before a fee change is found"
    dates = built.query("""select distinct fba_fee_estimate_date from intermediate.int_order_item_fees_expected
                           where fba_fee_audit = 'audited'""")
    assert {str(row[0]) for row in dates} >= {"2025-12-01", "2026-01-10"}
    assert built.query("""select count(*) from intermediate.int_order_item_fees_expected
                          where fba_fee_audit = 'no fee estimate in force'""")[0][0] == 0
