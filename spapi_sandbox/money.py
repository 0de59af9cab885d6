"""Minor units (int cents) to the decimal strings Amazon and the truth file write."""

from __future__ import annotations


def decimal_string(minor: int, decimal_comma: bool = False) -> str:
    """1234 -> "12.34" (or "12,34"); exact, never through a float."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{sign}{units}{',' if decimal_comma else '.'}{cents:02d}"
