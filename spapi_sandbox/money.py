"""Minor units (int cents, or whole yen) to the decimal strings Amazon and the truth file write."""

from __future__ import annotations

# Digits after the decimal point (ISO 4217 minor units): JPY has none, so its minor unit is the yen.
MINOR_DIGITS: dict[str, int] = {"USD": 2, "CAD": 2, "GBP": 2, "EUR": 2, "JPY": 0}


def minor_digits(currency: str) -> int:
    return MINOR_DIGITS.get(currency, 2)


def decimal_string(minor: int, decimal_comma: bool = False, digits: int = 2) -> str:
    """1234 -> "12.34" (or "12,34"); with digits=0 (JPY: ISO 4217 has no minor unit) 1234 -> "1234".
    Exact, never through a float."""
    sign = "-" if minor < 0 else ""
    if digits == 0:
        return f"{sign}{abs(minor)}"
    units, fraction = divmod(abs(minor), 10**digits)
    return f"{sign}{units}{',' if decimal_comma else '.'}{fraction:0{digits}d}"
