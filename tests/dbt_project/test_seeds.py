"""The dbt seeds that encode Amazon's rules agree with the rules the sandbox generates data by."""

from __future__ import annotations

import csv
from decimal import Decimal

from spapi_elt.dbt_runner import DBT_PROJECT
from spapi_sandbox import fees

SEEDS = DBT_PROJECT / "seeds"
CATEGORIES = {"principal", "shipping", "tax", "withheld_tax", "promotion", "referral_fee", "fba_fulfillment_fee",
              "other_fee", "refund", "refund_commission", "reimbursement", "reserve_held", "reserve_released",
              "ad_spend", "storage_fee", "adjustment", "transfer",
              "liquidation_proceeds", "loan"}


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_referral_fee_rules_equal_the_sandbox_rules() -> None:
    rules = {row["category"]: (int(row["referral_fee_percent"]), Decimal(row["minimum_fee_per_unit"]))
             for row in read_seed("referral_fee_rules")}
    sandbox = {r.category: (r.percent, Decimal(r.minimum_per_unit) / 100) for r in fees.REFERRAL_RULES.values()}
    assert rules == sandbox


def test_category_mapping_is_unambiguous_and_known() -> None:
    rows = read_seed("settlement_line_categories")
    keys = [(r["transaction_type"], r["amount_type"], r["amount_description"]) for r in rows]
    assert len(keys) == len(set(keys)), "one category per label"
    assert {r["category"] for r in rows} <= CATEGORIES
