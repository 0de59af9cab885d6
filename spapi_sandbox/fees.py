"""Amazon's selling-fee rules as the sandbox applies them (amounts in minor units, e.g. cents).

These are the rules the generated settlements follow for every line except the planted
discrepancies:
- referral, closing and refund administration fees: Amazon's real schedules (fee_schedules.py, the
  product's seeds) where a sourced rule is in force on the purchase (or refund) date; elsewhere
  (Amazon.ca, categories or dates with no sourced row) the older illustrative rule below, which the
  fee audit does not check: the category's percentage of the item's sales price (principal + shipping
  - promotions) or the per-unit minimum times the quantity, whichever is greater, and
  min(5.00, 20% of the refunded referral fee);
- FBA fulfilment fee: per unit, by size tier and billable weight, changing on sourced days (FBA_FEE_STEPS);
  the settlements charge the fee in force on the purchase date, the fee estimates report and the Product Fees
  API show the one in force on their day (checked against the fee estimates snapshot in force).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from spapi_sandbox import fee_schedules
from spapi_sandbox.marketplaces import MARKETPLACES


@dataclass(frozen=True)
class ReferralRule:
    category: str
    percent: int  # whole percent of the sales price
    minimum_per_unit: int  # minor units, in every currency the sandbox serves


REFERRAL_RULES: dict[str, ReferralRule] = {
    r.category: r
    for r in (
        ReferralRule("Home & Kitchen", 15, 30),
        ReferralRule("Electronics", 8, 30),
        ReferralRule("Beauty & Personal Care", 8, 30),
        ReferralRule("Toys & Games", 15, 30),
        ReferralRule("Sports & Outdoors", 15, 30),
        ReferralRule("Clothing & Accessories", 17, 30),
        ReferralRule("Books", 15, 0),
        ReferralRule("Jewelry", 20, 30),
    )
}

REFUND_ADMIN_FEE_CAP = 500  # 5.00 in the marketplace currency
REFUND_ADMIN_FEE_PERCENT = 20


@dataclass(frozen=True)
class SizeTier:
    name: str
    base_fee: int  # per unit, for billable weight up to included_weight_g
    included_weight_g: int
    step_fee: int  # per started 500 g above included weight
    max_weight_g: int  # heaviest billable weight the tier admits


SIZE_TIERS: dict[str, SizeTier] = {
    t.name: t
    for t in (
        SizeTier("Small standard", 322, 450, 0, 450),
        SizeTier("Large standard", 406, 500, 40, 9000),
        SizeTier("Large bulky", 961, 1000, 38, 22500),
    )
}


def round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half up, as Amazon rounds fees to the cent."""
    return (2 * numerator + denominator) // (2 * denominator)


def referral_fee(category: str, sales_price: int, quantity: int) -> int:
    """Referral fee for one order item: percentage of price, or the per-unit minimum if greater."""
    rule = REFERRAL_RULES[category]
    return max(round_half_up(sales_price * rule.percent, 100), rule.minimum_per_unit * quantity)


def refund_admin_fee(refunded_referral_fee: int) -> int:
    """Amazon keeps min(5.00, 20% of the referral fee) when it refunds the referral fee."""
    return min(REFUND_ADMIN_FEE_CAP, round_half_up(refunded_referral_fee * REFUND_ADMIN_FEE_PERCENT, 100))


@dataclass(frozen=True)
class ItemFees:
    """The referral and closing fee of one order item, and the sourced rule they follow (None: the old rule)."""

    referral: int
    closing: int
    rule: fee_schedules.ReferralRule | None
    shape: str  # what the audit checks: flat, whole_price, portion, minimum; "" when not audited


def fee_category(mkt: str, category: str) -> str | None:
    """The schedule's fee category of a sandbox category in a marketplace (fee_category_aliases.csv)."""
    return fee_schedules.fee_category(MARKETPLACES[mkt].marketplace_id, "sandbox_category", category)


def item_fees(mkt: str, category: str, purchased_on: date, sales_price: int, quantity: int) -> ItemFees:
    """Fees of an order item by the rule in force on its purchase date; the old rule where none is sourced."""
    marketplace_id = MARKETPLACES[mkt].marketplace_id
    schedule_category = fee_category(mkt, category)
    rule = fee_schedules.referral_rule(marketplace_id, schedule_category, purchased_on)
    fee = None if rule is None else fee_schedules.referral_fee(rule, sales_price, quantity)
    closing = (fee_schedules.closing_fee_per_unit(marketplace_id, schedule_category, purchased_on) or 0) * quantity
    if rule is None or fee is None:
        return ItemFees(referral_fee(category, sales_price, quantity), closing, None, "")
    shape = "minimum" if fee_schedules.minimum_applies(rule, sales_price, quantity) else \
        {"none": "flat"}.get(rule.kind, rule.kind)
    return ItemFees(fee, closing, rule, shape)


def estimated_fees(mkt: str, category: str, on: date, price: int) -> tuple[int, int]:
    """(referral, closing) fee of one unit at `price` on a day: what the fee estimates report and the Product
    Fees API quote (by the schedule in force that day, as the settlements charge)."""
    due = item_fees(mkt, category, on, price, 1)
    return due.referral, due.closing


def refund_admin_fee_due(mkt: str, category: str, refunded_on: date, refunded_referral_fee: int) -> tuple[int, bool]:
    """(fee, sourced): the sourced rule in force on the refund date, else the old rule (not audited)."""
    fee = fee_schedules.refund_admin_fee(MARKETPLACES[mkt].marketplace_id, fee_category(mkt, category),
                                         refunded_on, refunded_referral_fee)
    return (refund_admin_fee(refunded_referral_fee), False) if fee is None else (fee, True)


# FBA fulfilment fee changes the sandbox makes, on days Amazon changed them (dbt_project/seeds/fee_schedules/
# fba_fee_changes.csv, whose README cites each). The fee table above is illustrative, and so are these steps
# (minor units per unit), each sized as its announcement's stated average: US 2026-01-15 +0.08 (S9), European
# parcels 2025-12-15 -0.26 GBP / -0.32 EUR (S10). The other sourced days (US 2024, Europe 2024-08-01, and
# 2026-02-01, which changed low-price products only) change nothing here; the audit still never judges across them.
FBA_FEE_STEPS: dict[tuple[str, date], int] = {
    ("US", date(2026, 1, 15)): 8,
    ("UK", date(2025, 12, 15)): -26,
    ("DE", date(2025, 12, 15)): -32,
    ("FR", date(2025, 12, 15)): -32,
}


def fba_fee_per_unit(size_tier: str, billable_weight_g: int, mkt: str, on: date) -> int:
    """FBA fulfilment fee per unit for a size tier and billable weight, in force in a marketplace on a day."""
    tier = SIZE_TIERS[size_tier]
    extra_steps = math.ceil(max(0, billable_weight_g - tier.included_weight_g) / 500)
    changes = sum(step for (code, day), step in FBA_FEE_STEPS.items() if code == mkt and day <= on)
    return tier.base_fee + extra_steps * tier.step_fee + changes


# FBA removal and disposal orders: Amazon charges a fee per removed or disposed unit, by size tier (Seller
# Central "FBA removal order fees"; the Fee Explainer lists Removal and Disposal fee types). The settlement
# shows them as other-transaction lines RemovalComplete / DisposalComplete. The amounts below have the
# schedule's shape (per unit, by size tier) but are illustrative, not a copied schedule.
REMOVAL_FEE_PER_UNIT = {"Small standard": 104, "Large standard": 153, "Large bulky": 412}

# FBA Liquidations (US only, SP-API financesV0 FBALiquidationEvent): the liquidator pays a share of the
# item's value (LiquidationProceedsAmount) and Amazon keeps a fee (LiquidationFeeAmount), shown in the
# settlement as Liquidations ItemPrice/Principal and ItemFees/LiquidationsBrokerageFee. Illustrative rate.
LIQUIDATION_FEE_PERCENT = 15


def removal_fee(size_tier: str, quantity: int) -> int:
    """Removal (or disposal) order fee for `quantity` units of a size tier."""
    return REMOVAL_FEE_PER_UNIT[size_tier] * quantity


def liquidation_fee(proceeds: int) -> int:
    """Amazon's fee on liquidation proceeds, rounded half up to the cent."""
    return round_half_up(proceeds * LIQUIDATION_FEE_PERCENT, 100)
