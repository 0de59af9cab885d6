"""Amazon's real selling-fee schedules, read from the product's own seeds (one source of truth).

The CSVs in dbt_project/seeds/fee_schedules/ carry every number with its source (their README.md says how
each rule applies). The sandbox charges referral, closing and refund administration fees from them, and
the fee audit downstream checks the same rows. Where no sourced row is in force (Amazon.ca, most Amazon.fr
categories, UK/DE before 2025-12-02, prices above a bounded top band) these functions return None: the
sandbox then charges its older illustrative rule (fees.py) and plants no fee finding there, and the audit
reports the line as having no sourced schedule.

Amounts are in minor units (cents); a sales price is the line's total (item + shipping - promotions) for
`quantity` units, and every band bound and minimum is per unit, so a bound of B per unit is B x quantity
on the line.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

SCHEDULES_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "fee_schedules"


@dataclass(frozen=True)
class Band:
    kind: str  # none, whole_price or portion
    from_price: int  # per unit, minor units; exclusive except for 0
    to_price: int | None  # per unit, inclusive; None = no upper bound
    percent: Decimal


@dataclass(frozen=True)
class ReferralRule:
    fee_category: str
    effective_from: date
    bands: tuple[Band, ...]
    minimum_per_unit: int  # 0 = no minimum
    source_url: str

    @property
    def kind(self) -> str:
        return self.bands[0].kind


def _minor(text: str) -> int:
    return int(Decimal(text) * 100)


def _rows(name: str) -> list[dict[str, str]]:
    with (SCHEDULES_DIR / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _in_force(row: dict[str, str], on: date) -> bool:
    start = date.fromisoformat(row["effective_from"])
    end = date.fromisoformat(row["effective_to"]) if row["effective_to"] else None
    return start <= on and (end is None or on <= end)


@cache
def _referral_rows() -> tuple[dict[str, str], ...]:
    return tuple(_rows("referral_fee_schedule.csv"))


@cache
def _aliases() -> dict[tuple[str, str, str], str]:
    return {(r["marketplace_id"], r["alias_kind"], r["alias"]): r["fee_category"]
            for r in _rows("fee_category_aliases.csv")}


def fee_category(marketplace_id: str, alias_kind: str, name: str) -> str | None:
    """The schedule's fee category for a name Amazon's data (or the sandbox) gives; the marketplace's own alias wins."""
    aliases = _aliases()
    return aliases.get((marketplace_id, alias_kind, name)) or aliases.get(("*", alias_kind, name))


def referral_rule(marketplace_id: str, category: str | None, on: date) -> ReferralRule | None:
    """The rule in force on `on` (the purchase date) for the fee category in the marketplace, if sourced."""
    rows = [r for r in _referral_rows()
            if r["marketplace_id"] == marketplace_id and r["fee_category"] == category and _in_force(r, on)]
    if not rows:
        return None
    rows.sort(key=lambda r: Decimal(r["band_from_price"]))
    bands = tuple(Band(r["band_kind"], _minor(r["band_from_price"]),
                       _minor(r["band_to_price"]) if r["band_to_price"] else None, Decimal(r["percent"]))
                  for r in rows)
    minimum = _minor(rows[0]["minimum_fee_per_unit"]) if rows[0]["minimum_fee_per_unit"] else 0
    return ReferralRule(category, max(date.fromisoformat(r["effective_from"]) for r in rows), bands, minimum,
                        rows[0]["source_url"])


def _round_half_up(value: Decimal) -> int:
    return int((value * 2 + 1) // 2)


def percentage_fee(rule: ReferralRule, sales_price: int, quantity: int) -> int | None:
    """The percentage part of the referral fee on a line, before the minimum; None above a bounded top band."""
    q = max(quantity, 1)
    top = rule.bands[-1].to_price
    if top is not None and sales_price > top * q:
        return None  # no sourced rate above the highest band
    if rule.kind == "portion":
        hundredths = sum(b.percent * max(0, min(sales_price, (b.to_price or sales_price) * q) - b.from_price * q)
                         for b in rule.bands)
    else:  # none, whole_price: the band the unit price falls in sets the rate of the whole price
        band = next(b for b in rule.bands if b.to_price is None or sales_price <= b.to_price * q)
        hundredths = band.percent * sales_price
    return _round_half_up(Decimal(hundredths) / 100)


def referral_fee(rule: ReferralRule, sales_price: int, quantity: int) -> int | None:
    """Amazon's referral fee: the percentage fee or the per-unit minimum x quantity, whichever is greater."""
    fee = percentage_fee(rule, sales_price, quantity)
    return None if fee is None else max(fee, rule.minimum_per_unit * max(quantity, 1))


def minimum_applies(rule: ReferralRule, sales_price: int, quantity: int) -> bool:
    fee = percentage_fee(rule, sales_price, quantity)
    return fee is not None and fee < rule.minimum_per_unit * max(quantity, 1)


@cache
def _closing_rows() -> tuple[dict[str, str], ...]:
    return tuple(_rows("closing_fees.csv"))


def closing_fee_per_unit(marketplace_id: str, category: str | None, on: date) -> int | None:
    """A media category's per-unit closing fee in force on `on`; None where the category has none sourced."""
    for r in _closing_rows():
        if r["marketplace_id"] == marketplace_id and r["fee_category"] == category and _in_force(r, on):
            return _minor(r["fee_per_unit"])
    return None


@cache
def _refund_rows() -> tuple[dict[str, str], ...]:
    return tuple(_rows("refund_administration_fees.csv"))


def is_media(marketplace_id: str, category: str | None) -> bool:
    """Media for the refund administration fee: a category with a media closing fee in the marketplace."""
    return any(r["marketplace_id"] == marketplace_id and r["fee_category"] == category for r in _closing_rows())


def refund_admin_fee(marketplace_id: str, category: str | None, on: date, refunded_referral_fee: int) -> int | None:
    """Lesser of the fixed amount and a percent of the refunded referral fee (or the fixed amount), if sourced."""
    scope = "media" if is_media(marketplace_id, category) else "non_media"
    for r in _refund_rows():
        if r["marketplace_id"] == marketplace_id and r["product_scope"] == scope and _in_force(r, on):
            fixed = _minor(r["fixed_amount"])
            if r["rule"] == "fixed":
                return fixed
            return min(fixed, _round_half_up(Decimal(refunded_referral_fee) * Decimal(r["percent_of_referral_fee"])
                                             / 100))
    return None


@cache
def fba_fee_change_days() -> dict[str, frozenset[date]]:
    """The days Amazon changed FBA fulfilment fees, per marketplace id (fba_fee_changes.csv)."""
    days: dict[str, set[date]] = {}
    for row in _rows("fba_fee_changes.csv"):
        days.setdefault(row["marketplace_id"], set()).add(date.fromisoformat(row["effective_from"]))
    return {marketplace: frozenset(found) for marketplace, found in days.items()}
