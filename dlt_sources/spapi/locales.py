"""How Amazon writes numbers and dates in flat files, and which marketplace a name in a file means.

Settlement reports use local formats, and the date style and the number style are independent (real
files described in the issue): Amazon.de `95,00` with `11.10.2024 08:59:52 UTC`; Amazon.co.uk
`253.43` with `15.11.2024 08:59:45 UTC`; Amazon.com `1977.17` with `2024-10-09 14:28:38 UTC`; older
files ISO-8601 `2025-06-05T22:07:18+00:00`; Amazon.co.jp V2 files `2026/09/07 00:20:09 UTC` with whole yen
(`-115`, no decimal mark: JPY has no minor unit), as a Japanese seller's public ingest code reads them
(apps/warehouse/amazon-settlement-v2.js, `v2DateTimeToV1`). Most other reports write ISO-8601. A `Locale` is one
(number style, date style) pair; the parser tries its formats first and ISO-8601 after them, so a
report that mixes both still parses. `detect_locale` reads each style on its own.

Day-first and month-first dates with '/' cannot be told apart from the text, so a locale never
guesses between them: a '/' date is read day-first, and a column that is month-first in every
marketplace (the inventory ledger's `Date`) says so in its column spec.

Marketplaces: the ids are Amazon's, from the "Marketplace IDs" page
(https://developer-docs.amazon.com/sp-api/docs/marketplace-ids, also `settings.MARKETPLACE_REGIONS`);
the names are the storefronts as settlement lines print them in `marketplace-name` (`Amazon.fr`), and
Multi-Channel Fulfilment lines print `Non-Amazon <country>` (`Non-Amazon US`, `Non-Amazon UK`,
`Non-Amazon CA` in real files): those belong to that country's marketplace. This table is the one place
a name becomes a marketplace id; dbt takes `marketplace_id` from the loaded lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ISO_DATE = "%Y-%m-%d"
# Arrow's %z accepts "Z", "+0000" and "+00:00".
ISO_DATETIMES = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z")

# Zone abbreviations Amazon prints after local times (listings' open-date, older reports), as UTC offsets
# in seconds. CST is North America's Central time: the only marketplaces that print it are NA ones.
ZONE_OFFSETS: dict[str, int] = {
    "UTC": 0, "GMT": 0, "Z": 0, "BST": 3600, "CET": 3600, "MET": 3600, "MEZ": 3600, "CEST": 7200,
    "MEST": 7200, "MESZ": 7200, "PST": -8 * 3600, "PDT": -7 * 3600, "MST": -7 * 3600, "MDT": -6 * 3600,
    "CST": -6 * 3600, "CDT": -5 * 3600, "EST": -5 * 3600, "EDT": -4 * 3600, "JST": 9 * 3600,
}


@dataclass(frozen=True)
class Locale:
    """A flat-file convention: the decimal separator and the date order of one marketplace family."""

    code: str
    decimal_comma: bool
    date_format: str  # strptime format of a date, e.g. "%d.%m.%Y"

    @property
    def datetime_format(self) -> str:
        """Settlement reports print times as `<date> HH:MM:SS UTC`."""
        return self.date_format + " %H:%M:%S UTC"

    def date_formats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.date_format, ISO_DATE)))

    def datetime_formats(self) -> tuple[str, ...]:
        return (self.datetime_format, *ISO_DATETIMES)


US = Locale("US", decimal_comma=False, date_format="%Y-%m-%d")
CA = Locale("CA", decimal_comma=False, date_format="%Y-%m-%d")
UK = Locale("UK", decimal_comma=False, date_format="%d.%m.%Y")  # a real Amazon.co.uk file: 15.11.2024, 253.43
DE = Locale("DE", decimal_comma=True, date_format="%d.%m.%Y")
# Amazon.co.jp: year-first with slashes; amounts are whole yen, so the file never shows its decimal mark (a
# point is assumed, as Japan writes it).
JP = Locale("JP", decimal_comma=False, date_format="%Y/%m/%d")
ISO = Locale("ISO", decimal_comma=False, date_format=ISO_DATE)  # reports that write ISO-8601 everywhere

LOCALES: dict[str, Locale] = {loc.code: loc for loc in (US, CA, UK, DE, JP, ISO)}
LOCALES["GB"] = UK

# (marketplace id, country code, storefront name), from Amazon's Marketplace IDs page (see above).
MARKETPLACES: tuple[tuple[str, str, str], ...] = (
    # North America
    ("A2EUQ1WTGCTBG2", "CA", "Amazon.ca"), ("ATVPDKIKX0DER", "US", "Amazon.com"),
    ("A1AM78C64UM0Y8", "MX", "Amazon.com.mx"), ("A2Q3Y263D00KWC", "BR", "Amazon.com.br"),
    # Europe
    ("A28R8C7NBKEWEA", "IE", "Amazon.ie"), ("A1RKKUPIHCS9HS", "ES", "Amazon.es"),
    ("A1F83G8C2ARO7P", "UK", "Amazon.co.uk"), ("A13V1IB3VIYZZH", "FR", "Amazon.fr"),
    ("AMEN7PMS3EDWL", "BE", "Amazon.com.be"), ("A1805IZSGTT6HS", "NL", "Amazon.nl"),
    ("A1PA6795UKMFR9", "DE", "Amazon.de"), ("APJ6JRA9NG5V4", "IT", "Amazon.it"),
    ("A2NODRKZP88ZB9", "SE", "Amazon.se"), ("AE08WJ6YKNBMC", "ZA", "Amazon.co.za"),
    ("A1C3SOZRARQ6R3", "PL", "Amazon.pl"), ("ARBP9OOSHTCHU", "EG", "Amazon.eg"),
    ("A33AVAJ2PDY3EV", "TR", "Amazon.com.tr"), ("A17E79C6D8DWNP", "SA", "Amazon.sa"),
    ("A2VIGQ35RCS4UG", "AE", "Amazon.ae"), ("A21TJRUUN4KGV", "IN", "Amazon.in"),
    # Far East
    ("A19VAU5U5O7RUS", "SG", "Amazon.sg"), ("A39IBJ37TRP1C6", "AU", "Amazon.com.au"),
    ("A1VC38T7YXB528", "JP", "Amazon.co.jp"),
)

# The styles of the marketplaces whose files we have seen (real files): a fallback when a file's own
# summary row does not tell (a JPY total never shows a decimal mark), and the name of a detected style.
MARKETPLACE_LOCALES: dict[str, Locale] = {
    "ATVPDKIKX0DER": US, "A2EUQ1WTGCTBG2": CA, "A1F83G8C2ARO7P": UK, "A1PA6795UKMFR9": DE,
    "A1VC38T7YXB528": JP,
}
MARKETPLACE_IDS_BY_CODE: dict[str, str] = {code: mid for mid, code, _ in MARKETPLACES}
MARKETPLACE_IDS_BY_CODE["GB"] = MARKETPLACE_IDS_BY_CODE["UK"]
# marketplace-name (settlements) and sales-channel (all orders) -> marketplace id. Matched ignoring case.
MARKETPLACE_NAMES: dict[str, str] = {name: mid for mid, _, name in MARKETPLACES}
MARKETPLACE_NAMES.update({f"Non-Amazon {code}": mid for code, mid in MARKETPLACE_IDS_BY_CODE.items()})


def resolve_locale(value: str | Locale | None) -> Locale | None:
    """A Locale from a locale, a country code ("DE") or a marketplace id; None stays None."""
    if value is None or isinstance(value, Locale):
        return value
    found = LOCALES.get(value.upper()) or MARKETPLACE_LOCALES.get(value)
    if found is None:
        raise ValueError(f"unknown locale or marketplace {value!r}; known: {sorted(LOCALES)}")
    return found


_DATE_STYLES = (
    (re.compile(r"^\d{2}\.\d{2}\.\d{4}(?!\d)"), "%d.%m.%Y"),
    (re.compile(r"^\d{2}/\d{2}/\d{4}(?!\d)"), "%d/%m/%Y"),
    (re.compile(r"^\d{4}/\d{2}/\d{2}(?!\d)"), "%Y/%m/%d"),  # Amazon.co.jp
    (re.compile(r"^\d{4}-\d{2}-\d{2}(?!\d)"), ISO_DATE),  # also ISO-8601 (`2025-06-05T22:07:18+00:00`)
)
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d{1,2}$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d+\.\d{1,2}$")


def date_style(text: str) -> str | None:
    """The strptime date format a settlement date is written in, or None if it is none we know."""
    text = text.strip()
    return next((fmt for pattern, fmt in _DATE_STYLES if pattern.match(text)), None)


def number_style(*amounts: str) -> bool | None:
    """True for a decimal comma, False for a decimal point: the first amount that shows one decides."""
    for amount in amounts:
        text = (amount or "").strip()
        if _COMMA_DECIMAL.match(text):
            return True
        if _DOT_DECIMAL.match(text):
            return False
    return None


def detect_locale(date_text: str, amount_text: str = "", amounts: tuple[str, ...] = (),
                  fallback: Locale | None = None) -> Locale | None:
    """A settlement's convention from its summary row: the date style from its start date, the number
    style from its total (or, for a total like `0`, the first line amounts that show a decimal mark).

    Each style is read on its own; a style the file does not show comes from `fallback` (the
    marketplace's), else a point. The result is named after a known locale with the same styles
    (`fallback` first, so a Canadian file is CA, not US), else after its styles (`dd.mm.yyyy-point`).
    None if the date matches no style.
    """
    date_format = date_style(date_text)
    if date_format is None:
        return None
    comma = number_style(amount_text, *amounts)
    if comma is None:
        comma = fallback.decimal_comma if fallback is not None else False
    for known in (fallback, *LOCALES.values()):
        if known is not None and (known.decimal_comma, known.date_format) == (comma, date_format):
            return known
    name = {"%d.%m.%Y": "dd.mm.yyyy", "%d/%m/%Y": "dd/mm/yyyy", "%Y/%m/%d": "yyyy/mm/dd",
            ISO_DATE: "yyyy-mm-dd"}[date_format]
    return Locale(f"{name}-{'comma' if comma else 'point'}", comma, date_format)
