"""The dbt seeds that encode Amazon's rules agree with the rules the sandbox generates data by (the fee
schedules are one set of files both read: tests/spapi_sandbox/test_fee_schedules.py)."""

from __future__ import annotations

import csv

from spapi_elt.dbt_runner import DBT_PROJECT
from spapi_sandbox.generate import build_world
from spapi_sandbox.world import DataArguments

SEEDS = DBT_PROJECT / "seeds"
CATEGORIES = {"principal", "shipping", "tax", "withheld_tax", "promotion", "referral_fee", "fba_fulfillment_fee",
              "other_fee", "refund", "refund_commission", "reimbursement", "reserve_held", "reserve_released",
              "ad_spend", "storage_fee", "adjustment", "transfer",
              "liquidation_proceeds", "loan"}


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_category_mapping_is_unambiguous_and_known() -> None:
    rows = read_seed("settlement_line_categories")
    keys = [(r["transaction_type"], r["amount_type"], r["amount_description"]) for r in rows]
    assert len(keys) == len(set(keys)), "one category per label"
    assert {r["category"] for r in rows} <= CATEGORIES
    assert all(r["source"].strip() for r in rows), "every label names its source"


def category_of(rows: list[dict[str, str]], transaction_type: str, amount_type: str, description: str) -> str:
    """The seed's rule, as int_settlement_lines_categorised applies it: the most specific matching row wins."""
    matches = [r for r in rows if r["amount_type"] == amount_type
               and r["transaction_type"] in (transaction_type, "*") and r["amount_description"] in (description, "*")]
    if not matches:
        return "unmapped"
    best = min(matches, key=lambda r: (r["transaction_type"] == "*", r["amount_description"] == "*"))
    return best["category"]


def test_every_label_the_sandbox_emits_has_a_category() -> None:
    """No settlement line the sandbox can write is `unmapped`: a new posting kind needs its seed row first."""
    world = build_world(DataArguments(seed=11, sellers=2, start="2026-01-01", days=120, orders_per_day=10))
    labels = {(p.transaction_type, c.amount_type, c.description)
              for s in world.sellers for p in s.postings for c in p.components}
    assert ("Liquidations", "ItemPrice", "Principal") in labels  # the world exercises the new kinds
    assert ("other-transaction", "other-transaction", "RemovalComplete") in labels
    rows = read_seed("settlement_line_categories")
    unmapped = {label for label in labels if category_of(rows, *label) == "unmapped"}
    assert not unmapped, f"labels the sandbox emits that the seed does not know: {unmapped}"
    assert category_of(rows, "Liquidations", "ItemPrice", "Principal") == "liquidation_proceeds"
    assert category_of(rows, "Order", "ItemPrice", "Principal") == "principal"
