"""The sandbox reads Amazon's fee schedules from the product's seeds and applies them as their README says:
the worked examples of dbt_project/seeds/fee_schedules/README.md, computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from spapi_sandbox import fee_schedules, fees
from spapi_sandbox.marketplaces import MARKETPLACES

US, UK, CA = "ATVPDKIKX0DER", "A1F83G8C2ARO7P", "A2EUQ1WTGCTBG2"
DAY = date(2026, 3, 1)


def us_fee(category: str, price: int, quantity: int = 1) -> int | None:
    rule = fee_schedules.referral_rule(US, category, DAY)
    assert rule is not None
    return fee_schedules.referral_fee(rule, price, quantity)


@pytest.mark.parametrize(("category", "price", "quantity", "fee"), [
    ("Beauty, Health and Personal Care", 800, 1, 64),  # whole price, up to 10.00: 8% x 8.00
    ("Beauty, Health and Personal Care", 1200, 1, 180),  # above 10.00: 15% of the whole 12.00
    ("Beauty, Health and Personal Care", 1800, 2, 144),  # 9.00 a unit: 8% x 18.00
    ("Jewelry", 30000, 1, 5250),  # portion: 20% x 250.00 + 5% x 50.00
    ("Jewelry", 60000, 2, 10500),  # two units of 300.00
    ("Electronics Accessories", 15000, 1, 1900),  # 15% x 100.00 + 8% x 50.00
    ("Home and Kitchen", 150, 1, 30),  # 15% x 1.50 = 0.225 < minimum 0.30
    ("Home and Kitchen", 1010, 1, 152),  # 1.515 rounded half up
    ("Media - Books, DVD, Music, Software, Video", 100, 1, 15),  # no minimum
])
def test_referral_fee_shapes(category: str, price: int, quantity: int, fee: int) -> None:
    assert us_fee(category, price, quantity) == fee


def test_the_rule_in_force_on_the_purchase_date() -> None:
    before = fee_schedules.referral_rule(UK, "Clothing and Accessories", date(2025, 12, 10))
    after = fee_schedules.referral_rule(UK, "Clothing and Accessories", date(2025, 12, 20))
    assert before is not None and after is not None
    assert fee_schedules.referral_fee(before, 1200, 1) == 96  # 8% up to 15.00 until 2025-12-14
    assert fee_schedules.referral_fee(after, 1200, 1) == 60  # 5% from 2025-12-15
    assert fee_schedules.referral_fee(after, 4500, 1) is None  # above the highest sourced band (40.00)
    assert fee_schedules.referral_rule(UK, "Clothing and Accessories", date(2025, 11, 30)) is None  # not sourced
    assert fee_schedules.referral_rule(CA, "Home and Kitchen", DAY) is None  # Amazon.ca: nothing sourced


def test_closing_and_refund_administration_fees() -> None:
    media = fees.fee_category("US", "Books")
    assert fee_schedules.closing_fee_per_unit(US, media, DAY) == 180
    assert fee_schedules.closing_fee_per_unit(US, "Home and Kitchen", DAY) is None
    assert fee_schedules.refund_admin_fee(US, "Home and Kitchen", DAY, 5175) == 500  # 20% x 51.75 > 5.00
    assert fee_schedules.refund_admin_fee(US, "Home and Kitchen", DAY, 855) == 171  # 20% x 8.55
    assert fee_schedules.refund_admin_fee(US, media, DAY, 300) == 0  # media refunded in full
    assert fee_schedules.refund_admin_fee(CA, "Home and Kitchen", DAY, 855) is None


def test_the_sandbox_charges_its_old_rule_only_where_nothing_is_sourced() -> None:
    sourced = fees.item_fees("US", "Clothing & Accessories", DAY, 1200, 1)
    assert (sourced.referral, sourced.shape) == (60, "whole_price")  # 5% up to 15.00, not the old 17%
    unsourced = fees.item_fees("CA", "Clothing & Accessories", DAY, 1200, 1)
    assert (unsourced.rule, unsourced.referral, unsourced.shape) == (None, fees.referral_fee(
        "Clothing & Accessories", 1200, 1), "")


def test_the_fba_fee_changes_on_sourced_days_only() -> None:
    """The sandbox changes its (illustrative) FBA fee only on days fba_fee_changes.csv sources for the marketplace,
    and the fee in force the day before and on the day differ by the step: US +0.08 on 2026-01-15 (S9)."""
    sourced = fee_schedules.fba_fee_change_days()
    for (code, day), _ in fees.FBA_FEE_STEPS.items():
        assert day in sourced[MARKETPLACES[code].marketplace_id], (code, day)
    before = fees.fba_fee_per_unit("Small standard", 300, "US", date(2026, 1, 14))
    assert before == 322
    assert fees.fba_fee_per_unit("Small standard", 300, "US", date(2026, 1, 15)) == 330
    assert fees.fba_fee_per_unit("Large standard", 1200, "UK", date(2025, 12, 15)) == 406 + 2 * 40 - 26
    assert fees.fba_fee_per_unit("Small standard", 300, "CA", date(2026, 6, 1)) == 322  # no sourced change
