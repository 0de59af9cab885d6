"""Renderers shared by the API handlers: times, decimal amounts and each model's Money shape.

The world keeps money as int minor units and times as epoch seconds; Amazon's models each spell
money differently (`Amount` as a string in Orders v0, `CurrencyAmount` as a number in Finances v0,
`amount` as a decimal string in Orders 2026-01-01, ...). One function per shape keeps the
handlers free of formatting details and the shapes exactly as the models define them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from spapi_sandbox.money import minor_digits

_ISO_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(?P<tz>Z|z|[+-]\d{2}:?\d{2})?)?"
)


def iso(ts: int) -> str:
    """Epoch seconds -> ISO-8601 UTC as Amazon writes it: 2026-01-02T03:04:05Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(ts: int) -> str:
    """Epoch seconds -> the UTC calendar date, 2026-01-02."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def parse_iso(value: str) -> int:
    """Parse an ISO-8601 date or date-time (Z, offset or none = UTC) to epoch seconds.

    Clients send all of `2026-01-02`, `2026-01-02T03:04:05Z`, `...05.123Z` and `...05+01:00`;
    Amazon accepts them all, so the sandbox does too. Raises ValueError for anything else.
    """
    found = _ISO_RE.fullmatch(value.strip())
    if not found:
        raise ValueError(f"not an ISO-8601 date-time: {value!r}")
    text = found["date"] + "T" + (found["time"] or "00:00:00")
    tz = found["tz"] or "Z"
    text += "+00:00" if tz in ("Z", "z") else tz[:3] + ":" + tz[-2:]
    parsed = datetime.fromisoformat(text)
    return int(parsed.timestamp())


def decimal_str(minor: int, currency: str) -> str:
    """Minor units -> a plain decimal string with the currency's digits: 1234 -> "12.34"."""
    digits = minor_digits(currency)
    if digits == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def decimal_num(minor: int, currency: str) -> float | int:
    """Minor units -> a JSON number: 1234 -> 12.34 (shortest repr, exact to the cent)."""
    digits = minor_digits(currency)
    return minor if digits == 0 else minor / 10**digits


def to_minor(amount: object, currency: str) -> int:
    """A decimal amount (number or string) -> minor units; ValueError if not exact to the minor unit."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    scaled = value.scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more digits than {currency} allows")
    return int(scaled)


# --- one Money shape per model -------------------------------------------------------------

def money_orders_v0(minor: int, currency: str) -> dict:
    """Orders v0 `Money`: {"CurrencyCode": "USD", "Amount": "12.34"} (Amount is a string)."""
    return {"CurrencyCode": currency, "Amount": decimal_str(minor, currency)}


def money_orders_2026(minor: int, currency: str) -> dict:
    """Orders 2026-01-01 `Money`: {"amount": "12.34", "currencyCode": "USD"} (amount is a Decimal string)."""
    return {"amount": decimal_str(minor, currency), "currencyCode": currency}


def currency_finances_v0(minor: int, currency: str) -> dict:
    """Finances v0 `Currency`: {"CurrencyCode": "USD", "CurrencyAmount": 12.34} (a number)."""
    return {"CurrencyCode": currency, "CurrencyAmount": decimal_num(minor, currency)}


def currency_finances_2024(minor: int, currency: str) -> dict:
    """Finances 2024-06-19 `Currency`: {"currencyCode": "USD", "currencyAmount": 12.34}."""
    return {"currencyCode": currency, "currencyAmount": decimal_num(minor, currency)}


def money_fees_v0(minor: int, currency: str) -> dict:
    """Product Fees v0 `MoneyType`: {"CurrencyCode": "USD", "Amount": 12.34} (a number)."""
    return {"CurrencyCode": currency, "Amount": decimal_num(minor, currency)}
